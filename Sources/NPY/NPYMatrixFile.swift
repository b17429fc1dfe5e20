import Foundation

/// A `rows × cols` float matrix in a `.npy` file, read a block of rows at a time from the mapped
/// file instead of decoded whole.
///
/// For loads of millions of vectors (`siamese store import` of a `.npy`): ``NPY/read(_:)`` makes
/// the whole matrix an array (1,000,000 × 384 float32 is 1.5 GB, and the kernel zeroes every page
/// of it before the copy), where a load needs one batch at a time. The header is checked exactly
/// as ``NPY/decode(_:)`` checks it, before anything is read.
public struct NPYMatrixFile: Sendable {
    /// The array's shape as the header gives it (one or two dimensions).
    public let shape: [Int]
    /// Rows of the matrix (the length of a 1-D array).
    public let rows: Int
    /// Columns (1 for a 1-D array, read as one column).
    public let cols: Int
    private let data: Data
    private let start: Int
    private let isFloat64: Bool

    /// Maps `url` and checks its header: float32 or float64, one or two dimensions.
    /// - Parameters:
    ///   - url: The `.npy` file.
    public init(_ url: URL) throws(NPYError) {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw NPYError(.io("cannot read: \(error.localizedDescription)"), file: url.path)
        }
        do {
            try self.init(data: data)
        } catch var e {
            e.file = url.path
            throw e
        }
    }

    /// The matrix in the bytes of a `.npy` file (for tests; ``init(_:)`` maps a file).
    /// - Parameters:
    ///   - data: The file's bytes.
    public init(data: Data) throws(NPYError) {
        let layout = try NPY.layout(of: data)
        switch layout.header.descr {
        case "<f4": isFloat64 = false
        case "<f8": isFloat64 = true
        default: throw NPYError(.wrongDType(expected: "float32 or float64", found: layout.header.descr), file: nil)
        }
        shape = layout.header.shape
        rows = shape[0]
        cols = shape.count == 2 ? shape[1] : 1
        self.data = data
        start = layout.dataStart
    }

    /// The position (counted from the first value of rows `range`, row after row) of the first value
    /// that is NaN or infinite as a float32 — float64 values are narrowed first, as ``values(rows:)``
    /// gives them — or nil when all are finite. Read in place, without a copy: checking a
    /// 1,000,000 × 384 file before a load took a third of a second more through ``values(rows:)``.
    public func firstNonFinite(rows range: Range<Int>) -> Int? {
        let r = range.clamped(to: 0..<rows)
        let count = r.count * cols
        guard count > 0 else { return nil }
        let width = isFloat64 ? 8 : 4
        let offset = start + r.lowerBound * cols * width
        let isFloat64 = self.isFloat64
        return data.withUnsafeBytes { raw -> Int? in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + count * width)])
            if isFloat64 {
                for k in 0..<count where !Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self)))).isFinite {
                    return k
                }
                return nil
            }
            // A float32 is NaN or infinite when its exponent bits are all ones; adding one to the
            // exponent field then carries into the sign bit. OR-ed over a block without branches
            // (vectorised), the block is searched only when some value set the bit.
            var k = 0
            while k < count {
                let n = Swift.min(4096, count - k)
                var carry: UInt32 = 0
                for j in k..<(k + n) {
                    carry |= (UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * j, as: UInt32.self)) & 0x7F80_0000) &+ 0x0080_0000
                }
                if carry & 0x8000_0000 != 0 {
                    for j in k..<(k + n) where !Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * j, as: UInt32.self))).isFinite {
                        return j
                    }
                }
                k += n
            }
            return nil
        }
    }

    /// The values of rows `range` (clamped to the matrix), row after row; float64 narrowed to float32.
    public func values(rows range: Range<Int>) -> [Float] {
        let r = range.clamped(to: 0..<rows)
        let count = r.count * cols
        guard count > 0 else { return [] }
        let width = isFloat64 ? 8 : 4
        let offset = start + r.lowerBound * cols * width
        let isFloat64 = self.isFloat64
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            data.withUnsafeBytes { raw in
                let bytes = UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + count * width)])
                if isFloat64 {
                    for k in 0..<count {
                        out[k] = Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self))))
                    }
                } else {
                    #if _endian(little)
                    // The file's bytes are the floats' own: one copy (a per-element loop was a sixth of a load's time).
                    UnsafeMutableRawPointer(out.baseAddress!).copyMemory(from: bytes.baseAddress!, byteCount: 4 * count)
                    #else
                    for k in 0..<count {
                        out[k] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self)))
                    }
                    #endif
                }
            }
            initialized = count
        }
    }
}
