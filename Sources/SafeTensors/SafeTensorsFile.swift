import Foundation
import Tensors
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A safetensors file opened for reading: memory-mapped, with its whole header validated up front.
///
/// ```swift
/// let file = try SafeTensorsFile(contentsOf: url)
/// for name in file.names { print(name, try file.info(name)) }
/// let weight = try file.tensor(named: "encoder.layer.0.attention.self.query.weight", shape: [384, 384])
/// ```
///
/// Opening checks everything the format promises before any tensor is read: the 8-byte header
/// length (at most ``maxHeaderLength``, and inside the file), the header's UTF-8 and JSON, every
/// entry's dtype, shape and offsets, that the element count times the dtype size equals each
/// tensor's byte span without overflow, and that the tensors tile the data buffer exactly: sorted by
/// offset, each starts where the previous ends, and the last ends at the end of the file. After that,
/// every byte range handed out lies inside the mapping, so a truncated or crafted file gives a
/// ``SafeTensorsError`` naming the file and the tensor, never a crash or an out-of-bounds read.
///
/// Tensor data is read in place from the mapping: ``tensor(named:)`` converts to a Float32
/// ``Tensor`` (the only copy), and ``withRawBytes(of:_:)`` gives zero-copy access to the bytes.
///
/// The mapping is private and read-only and lives as long as this object. A file replaced by
/// ``SafeTensorsWriter`` (write to a temporary file, then rename) stays valid for readers that
/// mapped the old one; a file truncated in place by another program while mapped would fault on
/// access, as with any memory-mapped file, so do not overwrite files in place.
///
/// The object is immutable and can be shared between threads.
public final class SafeTensorsFile: @unchecked Sendable {
    /// The largest header length accepted, as in the reference implementation.
    public static let maxHeaderLength = 100_000_000

    /// The shape and type of one tensor, and where its bytes lie.
    public struct TensorInfo: Sendable, Equatable, CustomStringConvertible {
        /// The tensor's name in the file.
        public let name: String
        /// How its elements are stored.
        public let dtype: SafeTensorsDType
        /// Its dimensions, outermost first; `[]` for a scalar.
        public let shape: [Int]
        /// The product of the dimensions.
        public let elementCount: Int
        /// The byte range of its data, relative to the start of the data buffer (`data_offsets`).
        public let dataOffsets: Range<Int>

        /// `"name: DTYPE [shape]"`, for listings and messages.
        public var description: String { "\(name): \(dtype) \(shape)" }
    }

    /// The path of the file, or the label given for in-memory bytes; it starts every error message.
    public let path: String
    /// The `__metadata__` strings (empty when the header has none).
    public let metadata: [String: String]
    /// Every tensor, in the order of their data in the file.
    public let tensorInfos: [TensorInfo]
    /// The header length N from the first 8 bytes; the data buffer starts at byte 8 + N.
    public let headerLength: Int
    /// The size of the whole file in bytes.
    public let fileSize: Int

    private let backing: Backing
    private let index: [String: Int]

    /// The tensor names, in the order of their data in the file (see ``tensorInfos``).
    public var names: [String] { tensorInfos.map(\.name) }
    /// The number of tensors.
    public var count: Int { tensorInfos.count }
    /// Whether a tensor of that name exists.
    public func contains(_ name: String) -> Bool { index[name] != nil }

    // MARK: Opening

    /// Opens and memory-maps the file at `url` and validates its header.
    /// - Parameters:
    ///   - url: A local file; it stays mapped while this value lives.
    /// - Throws: ``SafeTensorsError`` when the file cannot be opened or mapped, or its header is invalid.
    public convenience init(contentsOf url: URL) throws(SafeTensorsError) {
        let path = url.path
        let backing = try Backing(mapping: path)
        try self.init(backing: backing, path: path)
    }

    /// Reads safetensors bytes already in memory (they are copied once). `label` names the source
    /// in error messages.
    /// - Parameters:
    ///   - bytes: The whole file's bytes.
    ///   - label: The name used in error messages (default "<memory>").
    /// - Throws: ``SafeTensorsError`` when the header is invalid.
    public convenience init(bytes: some Collection<UInt8>, label: String = "<memory>") throws(SafeTensorsError) {
        try self.init(backing: Backing(copying: bytes), path: label)
    }

    private init(backing: Backing, path: String) throws(SafeTensorsError) {
        self.backing = backing
        self.path = path
        self.fileSize = backing.count
        let buffer = UnsafeRawBufferPointer(start: backing.base, count: backing.count)
        let layout = try Self.validate(buffer, file: path)
        self.headerLength = layout.headerLength
        self.metadata = layout.metadata
        self.tensorInfos = layout.infos
        var index: [String: Int] = [:]
        index.reserveCapacity(layout.infos.count)
        for (k, info) in layout.infos.enumerated() { index[info.name] = k }
        self.index = index
    }

    /// Parses and checks the header of a whole file image; on success every info's byte range lies
    /// inside `buffer` after the header.
    static func validate(_ buffer: UnsafeRawBufferPointer, file: String) throws(SafeTensorsError)
        -> (headerLength: Int, metadata: [String: String], infos: [TensorInfo]) {
        let size = buffer.count
        guard size >= 8 else { throw SafeTensorsError.fileTooSmall(file: file, size: size) }
        let n = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard n <= UInt64(maxHeaderLength) else { throw SafeTensorsError.headerTooLarge(file: file, length: n) }
        let headerLength = Int(n)
        guard headerLength <= size - 8 else {
            throw SafeTensorsError.headerPastEnd(file: file, headerLength: n, fileSize: size)
        }
        let header = try HeaderParser.parse(UnsafeRawBufferPointer(rebasing: buffer[8..<(8 + headerLength)]), file: file)
        let bufferBytes = size - 8 - headerLength

        // Sorted by offsets, the tensors must tile [0, bufferBytes) exactly (the reference sorts the
        // same way, so files written in any order are accepted).
        let entries = header.entries.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var infos: [TensorInfo] = []
        infos.reserveCapacity(entries.count)
        var position = 0
        for e in entries {
            guard e.end >= e.begin else {
                throw SafeTensorsError.invalidOffsets(file: file, tensor: e.name, reason: "end \(e.end) is before begin \(e.begin)")
            }
            if e.begin != position {
                let what = e.begin < position
                    ? "begins at \(e.begin), overlapping the previous tensor, which ends at \(position)"
                    : "begins at \(e.begin), leaving a gap after byte \(position)"
                throw SafeTensorsError.invalidOffsets(file: file, tensor: e.name, reason: what)
            }
            var elements = 1
            for d in e.shape {
                let (p, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else {
                    throw SafeTensorsError.invalidShape(file: file, tensor: e.name, reason: "the element count of \(e.shape) overflows")
                }
                elements = p
            }
            let actual = e.end - e.begin
            let expected = e.dtype.byteCount(elements: elements)
            guard let expected, expected == actual else {
                throw SafeTensorsError.sizeMismatch(file: file, tensor: e.name, dtype: e.dtype, shape: e.shape,
                                                    expectedBytes: expected, actualBytes: actual)
            }
            guard e.end <= bufferBytes else {
                throw SafeTensorsError.invalidOffsets(
                    file: file, tensor: e.name,
                    reason: "ends at \(e.end), past the end of the \(bufferBytes)-byte data buffer (truncated file?)")
            }
            infos.append(TensorInfo(name: e.name, dtype: e.dtype, shape: e.shape, elementCount: elements,
                                    dataOffsets: e.begin..<e.end))
            position = e.end
        }
        guard position == bufferBytes else {
            throw SafeTensorsError.incompleteBuffer(file: file, coveredBytes: position, bufferBytes: bufferBytes)
        }
        return (headerLength, header.metadata, infos)
    }

    // MARK: Reading

    /// The dtype, shape and byte range of a tensor.
    public func info(_ name: String) throws(SafeTensorsError) -> TensorInfo {
        guard let k = index[name] else { throw SafeTensorsError.tensorNotFound(file: path, tensor: name) }
        return tensorInfos[k]
    }

    /// The tensor converted to Float32.
    ///
    /// F32 is copied exactly; F16, BF16 and F64 are converted (the first two exactly, F64 rounded
    /// to nearest); integer and BOOL tensors are converted value by value (exact up to 2²⁴ in
    /// magnitude, rounded beyond). The 8-, 6- and 4-bit float formats and C64 throw
    /// ``SafeTensorsError/unsupportedConversion(file:tensor:dtype:target:)``.
    public func tensor(named name: String) throws(SafeTensorsError) -> Tensor {
        let info = try info(name)
        guard info.dtype.convertsToFloat32 else {
            throw SafeTensorsError.unsupportedConversion(file: path, tensor: name, dtype: info.dtype, target: "Float32")
        }
        var tensor = Tensor(shape: info.shape)
        let source = dataStart + info.dataOffsets.lowerBound
        let n = info.elementCount
        tensor.withUnsafeMutableBufferPointer { out in
            guard let dst = out.baseAddress, n > 0 else { return }
            Self.convertToFloat(source, info.dtype, dst, count: n)
        }
        return tensor
    }

    /// The tensor converted to Float32, after checking that it has the shape the caller needs.
    public func tensor(named name: String, shape expected: [Int]) throws(SafeTensorsError) -> Tensor {
        let info = try info(name)
        guard info.shape == expected else {
            throw SafeTensorsError.shapeMismatch(file: path, tensor: name, expected: expected, found: info.shape)
        }
        return try tensor(named: name)
    }

    /// Every tensor, converted to Float32 (throws if any cannot be converted).
    public func tensors() throws(SafeTensorsError) -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        result.reserveCapacity(count)
        for info in tensorInfos { result[info.name] = try tensor(named: info.name) }
        return result
    }

    /// The elements of an integer or BOOL tensor (for example BERT's `position_ids`, I64).
    /// A `U64` value above `Int64.max` throws ``SafeTensorsError/valueOutOfRange(file:tensor:index:reason:)``.
    public func integers(named name: String) throws(SafeTensorsError) -> [Int64] {
        let info = try info(name)
        guard info.dtype.isInteger else {
            throw SafeTensorsError.unsupportedConversion(file: path, tensor: name, dtype: info.dtype, target: "Int64")
        }
        let p = UnsafeRawPointer(dataStart + info.dataOffsets.lowerBound)
        let n = info.elementCount
        var result = [Int64](repeating: 0, count: n)
        for k in 0..<n {
            switch info.dtype {
            case .bool: result[k] = p.load(fromByteOffset: k, as: UInt8.self) != 0 ? 1 : 0
            case .uint8: result[k] = Int64(p.load(fromByteOffset: k, as: UInt8.self))
            case .int8: result[k] = Int64(p.load(fromByteOffset: k, as: Int8.self))
            case .int16: result[k] = Int64(Int16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * k, as: Int16.self)))
            case .uint16: result[k] = Int64(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self)))
            case .int32: result[k] = Int64(Int32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * k, as: Int32.self)))
            case .uint32: result[k] = Int64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self)))
            case .int64: result[k] = Int64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * k, as: Int64.self))
            case .uint64:
                let v = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self))
                guard let s = Int64(exactly: v) else {
                    throw SafeTensorsError.valueOutOfRange(file: path, tensor: name, index: k, reason: "U64 value \(v) exceeds Int64.max")
                }
                result[k] = s
            default: break  // excluded by isInteger
            }
        }
        return result
    }

    /// Zero-copy access to a tensor's bytes, exactly as stored (little-endian, row-major).
    ///
    /// The buffer is valid only inside `body`; it may be unaligned for the element type (the format
    /// guarantees no alignment), so read it with `loadUnaligned` or copy it.
    public func withRawBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let info = try info(name)
        return try withExtendedLifetime(self) {
            try body(UnsafeRawBufferPointer(start: dataStart + info.dataOffsets.lowerBound, count: info.dataOffsets.count))
        }
    }

    /// A copy of a tensor's bytes, exactly as stored.
    public func rawBytes(named name: String) throws(SafeTensorsError) -> [UInt8] {
        let info = try info(name)
        return Array(UnsafeRawBufferPointer(start: dataStart + info.dataOffsets.lowerBound, count: info.dataOffsets.count))
    }

    /// Opens `url` and converts every tensor to Float32.
    public static func load(_ url: URL) throws(SafeTensorsError) -> [String: Tensor] {
        try SafeTensorsFile(contentsOf: url).tensors()
    }

    // MARK: Internals

    /// The first byte of the data buffer.
    private var dataStart: UnsafeRawPointer { backing.base + 8 + headerLength }

    static func convertToFloat(_ p: UnsafeRawPointer, _ dtype: SafeTensorsDType, _ dst: UnsafeMutablePointer<Float>, count n: Int) {
        switch dtype {
        case .float32:
            // Little-endian hosts only (x86-64, arm64): the bytes are the floats.
            UnsafeMutableRawPointer(dst).copyMemory(from: p, byteCount: 4 * n)
        case .float16: HalfPrecision.convertFloat16ToFloat(p, dst, count: n)
        case .bfloat16: HalfPrecision.convertBFloat16ToFloat(p, dst, count: n)
        case .float64:
            for k in 0..<n { dst[k] = Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self)))) }
        case .bool:
            for k in 0..<n { dst[k] = p.load(fromByteOffset: k, as: UInt8.self) != 0 ? 1 : 0 }
        case .uint8:
            for k in 0..<n { dst[k] = Float(p.load(fromByteOffset: k, as: UInt8.self)) }
        case .int8:
            for k in 0..<n { dst[k] = Float(p.load(fromByteOffset: k, as: Int8.self)) }
        case .int16:
            for k in 0..<n { dst[k] = Float(Int16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * k, as: Int16.self))) }
        case .uint16:
            for k in 0..<n { dst[k] = Float(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self))) }
        case .int32:
            for k in 0..<n { dst[k] = Float(Int32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * k, as: Int32.self))) }
        case .uint32:
            for k in 0..<n { dst[k] = Float(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self))) }
        case .int64:
            for k in 0..<n { dst[k] = Float(Int64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * k, as: Int64.self))) }
        case .uint64:
            for k in 0..<n { dst[k] = Float(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self))) }
        default:
            preconditionFailure("SafeTensorsFile: \(dtype) has no Float32 conversion")
        }
    }
}

/// The bytes of an open file: a private read-only mapping, or an owned heap copy.
private final class Backing {
    let base: UnsafeRawPointer
    let count: Int
    private let mapped: Bool

    /// Maps a regular file read-only.
    init(mapping path: String) throws(SafeTensorsError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SafeTensorsError.io(file: path, operation: "open", message: errnoString()) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SafeTensorsError.io(file: path, operation: "fstat", message: errnoString()) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw SafeTensorsError.notARegularFile(file: path) }
        let size = Int(st.st_size)
        guard size >= 8 else { throw SafeTensorsError.fileTooSmall(file: path, size: size) }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw SafeTensorsError.io(file: path, operation: "mmap", message: errnoString())
        }
        base = UnsafeRawPointer(p)
        count = size
        mapped = true
    }

    /// Copies bytes into an owned allocation of exactly their size (so that any overrun would be
    /// caught by the address sanitizer in fuzzing builds).
    init(copying bytes: some Collection<UInt8>) {
        let n = bytes.count
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1), alignment: 16)
        _ = UnsafeMutableRawBufferPointer(start: p, count: n).initializeMemory(as: UInt8.self, from: bytes)
        base = UnsafeRawPointer(p)
        count = n
        mapped = false
    }

    deinit {
        if mapped {
            munmap(UnsafeMutableRawPointer(mutating: base), count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }
}

func errnoString(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}
