@_exported import FileSupport
import Core
import Foundation

/// Reading and writing NumPy `.npy` files (format versions 1.0, 2.0 and 3.0).
///
/// Handles little-endian float32, float64, int64 and int32 arrays in C order with one or two
/// dimensions: what embeddings (`rows × dim` float32) and ids (`n` int64) need. Reading checks every
/// length against the bytes actually present before allocating, so a truncated or crafted file
/// gives an ``NPYError`` rather than a crash or a huge allocation. Writing is atomic.
public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
    /// NumPy itself refuses headers over 10,000 bytes by default; ours are tiny, so anything
    /// much larger is a crafted file.
    static let maxHeaderLength = 1 << 20

    /// Reads a `.npy` file.
    public static func read(_ url: URL) throws(NPYError) -> NPYArray {
        let data: Data
        do {
            // Mapping keeps a large file from being copied twice; the typed array is the only copy.
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw NPYError(.io("cannot read: \(error.localizedDescription)"), file: url.path)
        }
        do {
            return try decode(data)
        } catch var e {
            e.file = url.path
            throw e
        }
    }

    /// Where a `.npy` file's values are and what they are, every length checked against the bytes
    /// present (shared by ``decode(_:)`` and ``NPYMatrixFile``).
    static func layout(of data: Data) throws(NPYError) -> (header: NPYHeader, elements: Int, itemSize: Int, dataStart: Int) {
        let count = data.count
        guard count >= 8 else {
            if count >= 6, !data.prefix(6).elementsEqual(magic) { throw NPYError(.badMagic, file: nil) }
            throw NPYError(.truncated("preamble"), file: nil)
        }
        guard data.prefix(6).elementsEqual(magic) else { throw NPYError(.badMagic, file: nil) }
        let base = data.startIndex
        let major = data[base + 6], minor = data[base + 7]
        let lengthBytes: Int
        switch (major, minor) {
        case (1, 0): lengthBytes = 2
        case (2, 0), (3, 0): lengthBytes = 4
        default: throw NPYError(.unsupportedVersion(major: major, minor: minor), file: nil)
        }
        guard count >= 8 + lengthBytes else { throw NPYError(.truncated("header length"), file: nil) }
        var headerLength = 0
        for k in 0..<lengthBytes { headerLength |= Int(data[base + 8 + k]) << (8 * k) }
        guard headerLength <= maxHeaderLength else {
            throw NPYError(.malformedHeader("header length \(headerLength) is implausibly large"), file: nil)
        }
        let headerStart = 8 + lengthBytes
        guard count - headerStart >= headerLength else { throw NPYError(.truncated("header"), file: nil) }
        let headerBytes = data[(base + headerStart)..<(base + headerStart + headerLength)]
        if major < 3 {
            // Versions 1 and 2 are latin-1; anything non-ASCII cannot belong to a dtype/shape header.
            guard headerBytes.allSatisfy({ $0 < 0x80 }) else { throw NPYError(.malformedHeader("non-ASCII bytes"), file: nil) }
        }
        let header = try NPYHeader.parse(headerBytes)
        guard !header.fortranOrder else { throw NPYError(.fortranOrder, file: nil) }
        guard header.shape.count == 1 || header.shape.count == 2 else { throw NPYError(.unsupportedShape(header.shape), file: nil) }

        var elements = 1
        for d in header.shape {
            let (p, o) = elements.multipliedReportingOverflow(by: d)
            guard !o else { throw NPYError(.shapeOverflow(header.shape), file: nil) }
            elements = p
        }
        let itemSize: Int
        switch header.descr {
        case "<f4", "<i4": itemSize = 4
        case "<f8", "<i8": itemSize = 8
        default: throw NPYError(.unsupportedDType(header.descr), file: nil)
        }
        let (expected, o) = elements.multipliedReportingOverflow(by: itemSize)
        guard !o else { throw NPYError(.shapeOverflow(header.shape), file: nil) }
        let dataStart = headerStart + headerLength
        let actual = count - dataStart
        // Compared before any allocation: a crafted shape cannot make us reserve memory the file lacks.
        guard actual == expected else {
            throw NPYError(.dataSizeMismatch(expectedBytes: expected, actualBytes: actual), file: nil)
        }
        return (header, elements, itemSize, dataStart)
    }

    /// Decodes the bytes of a `.npy` file.
    public static func decode(_ data: Data) throws(NPYError) -> NPYArray {
        let layout = try layout(of: data)
        let header = layout.header, elements = layout.elements
        let payload = data[(data.startIndex + layout.dataStart)...]
        let storage: NPYArray.Storage
        switch header.descr {
        case "<f4": storage = .float32(loadLittleEndian(payload, count: elements, as: UInt32.self).map { Float(bitPattern: $0) })
        case "<f8": storage = .float64(loadLittleEndian(payload, count: elements, as: UInt64.self).map { Double(bitPattern: $0) })
        case "<i8": storage = .int64(loadLittleEndian(payload, count: elements, as: Int64.self))
        default: storage = .int32(loadLittleEndian(payload, count: elements, as: Int32.self))
        }
        return try NPYArray(shape: header.shape, storage: storage)
    }

    /// Encodes an array as `.npy` bytes (version 1.0, or 2.0 when the header would not fit).
    public static func encode(_ array: NPYArray) -> Data {
        let dict = NPYHeader(descr: array.dtype, fortranOrder: false, shape: array.shape).dictLiteral
        var version: UInt8 = 1
        var lengthBytes = 2
        // The whole preamble is padded to a multiple of 64 bytes and ends in a newline, as NumPy does.
        func padded(_ lengthBytes: Int) -> Int {
            let unpadded = 8 + lengthBytes + dict.utf8.count + 1
            return dict.utf8.count + 1 + (64 - unpadded % 64) % 64
        }
        var headerLength = padded(lengthBytes)
        if headerLength > Int(UInt16.max) {
            version = 2
            lengthBytes = 4
            headerLength = padded(lengthBytes)
        }
        var out = Data()
        out.reserveCapacity(8 + lengthBytes + headerLength + array.storage.count * 8)
        out.append(contentsOf: magic)
        out.append(contentsOf: [version, 0])
        for k in 0..<lengthBytes { out.append(UInt8(truncatingIfNeeded: headerLength >> (8 * k))) }
        out.append(contentsOf: Array(dict.utf8))
        out.append(contentsOf: [UInt8](repeating: 0x20, count: headerLength - dict.utf8.count - 1))
        out.append(0x0A)
        switch array.storage {
        case .float32(let v): appendLittleEndian(v.map(\.bitPattern), to: &out)
        case .float64(let v): appendLittleEndian(v.map(\.bitPattern), to: &out)
        case .int64(let v): appendLittleEndian(v, to: &out)
        case .int32(let v): appendLittleEndian(v, to: &out)
        }
        return out
    }

    /// Writes an array atomically: a reader sees the old file or the complete new one, never a part.
    public static func write(_ array: NPYArray, to url: URL) throws(NPYError) {
        do {
            try AtomicFile.write(encode(array), to: url)
        } catch {
            throw NPYError(.io("cannot write: \(error)"), file: url.path)
        }
    }

    private static func loadLittleEndian<T: FixedWidthInteger>(_ bytes: Data.SubSequence, count: Int, as: T.Type) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { raw in
                for k in 0..<count {
                    buffer[k] = T(littleEndian: raw.loadUnaligned(fromByteOffset: k * MemoryLayout<T>.size, as: T.self))
                }
            }
            initialized = count
        }
    }

    private static func appendLittleEndian<T: FixedWidthInteger>(_ values: [T], to out: inout Data) {
        #if _endian(little)
        values.withUnsafeBytes { out.append(contentsOf: $0) }
        #else
        values.map(\.littleEndian).withUnsafeBytes { out.append(contentsOf: $0) }
        #endif
    }
}
