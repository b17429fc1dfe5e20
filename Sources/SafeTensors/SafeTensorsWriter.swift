import Foundation
import Tensors
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds a safetensors file from tensors and writes it atomically.
///
/// ```swift
/// var writer = SafeTensorsWriter(metadata: ["format": "pt"])
/// try writer.add("dense.weight", weight)                      // F32
/// try writer.add("dense.bias", bias, as: .bfloat16)          // rounded to nearest even
/// try writer.addRaw("embeddings.position_ids", dtype: .int64, shape: [1, 512], bytes: idBytes)
/// try writer.write(to: url)
/// ```
///
/// **Layout.** The output is what the reference Python library (`safetensors.serialize`) writes
/// for the same tensors: entries ordered by decreasing dtype alignment (the reference's `Dtype`
/// order: 64-bit types first, then 32-bit, 16-bit, 8-bit, sub-byte, BOOL), then by name (byte-wise
/// UTF-8), data packed back to back in that order, and the compact JSON header padded with spaces to
/// a multiple of 8 bytes so that the data buffer starts 8-byte aligned. `__metadata__` comes first
/// with its keys sorted (the reference uses a hash map there, so its own key order varies) and is
/// left out when empty. Output is therefore deterministic; readers must not depend on the order.
///
/// **Atomicity.** ``write(to:)`` streams into a new temporary file in the destination's directory
/// (`.NAME.tmp-PID-RANDOM`), `fsync`s it, renames it over the destination and `fsync`s the
/// directory. A crash or kill at any moment leaves either the old file or the new one, both
/// complete; at worst a stray temporary file remains. On an error the temporary file is removed
/// and the destination is untouched. Readers that have the old file mapped keep reading it.
public struct SafeTensorsWriter: Sendable {
    /// The `__metadata__` strings to write.
    public var metadata: [String: String]

    private enum Payload: @unchecked Sendable {
        case tensor(Tensor)
        case raw([UInt8])
    }

    private struct Entry: Sendable {
        let name: String
        let dtype: SafeTensorsDType
        let shape: [Int]
        let byteCount: Int
        let payload: Payload
    }

    private var entries: [Entry] = []
    private var nameSet: Set<String> = []

    /// An empty writer.
    /// - Parameters:
    ///   - metadata: String pairs written as the header's `__metadata__` object (default none).
    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// Adds a Float32 tensor, stored as `dtype`: ``SafeTensorsDType/float32`` (exact),
    /// ``SafeTensorsDType/float16`` or ``SafeTensorsDType/bfloat16`` (round to nearest, ties to even;
    /// binary16 overflows to infinity beyond ±65504). The tensor is not copied: its current value is
    /// captured (copy-on-write).
    public mutating func add(_ name: String, _ tensor: Tensor, as dtype: SafeTensorsDType = .float32) throws(SafeTensorsError) {
        guard dtype == .float32 || dtype == .float16 || dtype == .bfloat16 else {
            throw SafeTensorsError.invalidWrite(file: nil, tensor: name, reason: "tensors are written as F32, F16 or BF16, not \(dtype) (use addRaw for other dtypes)")
        }
        guard tensor.dtype == .float32 else {
            throw SafeTensorsError.invalidWrite(file: nil, tensor: name, reason: "the tensor's storage is \(tensor.dtype), not float32")
        }
        try insert(Entry(name: name, dtype: dtype, shape: tensor.shape, byteCount: tensor.count * dtype.byteSize!,
                         payload: .tensor(tensor)))
    }

    /// Adds a tensor of any dtype from its little-endian, row-major bytes, which must be exactly the
    /// shape's element count times the dtype size.
    public mutating func addRaw(_ name: String, dtype: SafeTensorsDType, shape: [Int], bytes: [UInt8]) throws(SafeTensorsError) {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw SafeTensorsError.invalidWrite(file: nil, tensor: name, reason: "negative dimension in shape \(shape)")
        }
        var elements = 1
        for d in shape {
            let (p, o) = elements.multipliedReportingOverflow(by: d)
            guard !o else { throw SafeTensorsError.invalidWrite(file: nil, tensor: name, reason: "shape \(shape) is too large") }
            elements = p
        }
        guard let expected = dtype.byteCount(elements: elements), expected == bytes.count else {
            throw SafeTensorsError.invalidWrite(file: nil, tensor: name, reason: "\(dtype) \(shape) needs \(dtype.byteCount(elements: elements).map { "\($0)" } ?? "a whole number of") bytes, got \(bytes.count)")
        }
        try insert(Entry(name: name, dtype: dtype, shape: shape, byteCount: bytes.count, payload: .raw(bytes)))
    }

    private mutating func insert(_ entry: Entry) throws(SafeTensorsError) {
        guard entry.name != "__metadata__" else {
            throw SafeTensorsError.invalidWrite(file: nil, tensor: entry.name, reason: "the name is reserved for the metadata")
        }
        guard nameSet.insert(entry.name).inserted else {
            throw SafeTensorsError.invalidWrite(file: nil, tensor: entry.name, reason: "a tensor of that name was already added")
        }
        entries.append(entry)
    }

    /// The tensor names, in the order they will appear in the file.
    public var names: [String] { ordered().map(\.name) }

    /// The number of tensors added.
    public var count: Int { entries.count }

    // MARK: Output

    /// The complete file as bytes (header length, header, data).
    public func serialized() -> [UInt8] {
        var sink = ArraySink(bytes: [])
        // An ArraySink never throws.
        try? emit(into: &sink)
        return sink.bytes
    }

    /// Writes the file atomically (see the type's documentation), replacing any file at `url`.
    public func write(to url: URL) throws(SafeTensorsError) {
        try write(to: url, interruption: nil)
    }

    /// Test hook: how a write is cut short (a full disk, or a kill that leaves the temporary file).
    typealias Interruption = DurableFileWriter.Interruption

    func write(to url: URL, interruption: Interruption?) throws(SafeTensorsError) {
        let path = url.path
        do throws(DurableWriteError) {
            let writer = try DurableFileWriter(path: path, interruption: interruption)
            var sink = FileSink(writer: writer)
            do { try emit(into: &sink) } catch {
                // The sink keeps the writer's own error; emit adds none of its own while writing.
                throw sink.failure ?? DurableWriteError(path: path, call: "write", code: EIO)
            }
            try writer.commit()
        } catch {
            // A test's simulated kill: the process would be gone, so nothing is reported.
            if case .abandonAfter? = interruption, error.code == 0 { return }
            throw SafeTensorsError.io(file: path, operation: error.call, message: error.systemMessage)
        }
    }

    /// Writes `tensors` as `dtype` (F32, F16 or BF16) to `url`, atomically.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:],
                             dtype: SafeTensorsDType = .float32, to url: URL) throws(SafeTensorsError) {
        var writer = SafeTensorsWriter(metadata: metadata)
        for (name, tensor) in tensors { try writer.add(name, tensor, as: dtype) }
        try writer.write(to: url)
    }

    /// Writes named tensors as `dtype` (F32, F16 or BF16) to `url`, atomically; names must be unique.
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String] = [:],
                             dtype: SafeTensorsDType = .float32, to url: URL) throws(SafeTensorsError) {
        var writer = SafeTensorsWriter(metadata: metadata)
        for (name, tensor) in tensors { try writer.add(name, tensor, as: dtype) }
        try writer.write(to: url)
    }

    // MARK: Encoding

    private func ordered() -> [Entry] {
        entries.sorted { a, b in
            if a.dtype.alignmentRank != b.dtype.alignmentRank { return a.dtype.alignmentRank > b.dtype.alignmentRank }
            return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
    }

    /// The JSON header padded with spaces to a multiple of 8 bytes, for tensors in `order`.
    private func header(for order: [Entry]) -> [UInt8] {
        var json: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        func separator() {
            if !first { json.append(UInt8(ascii: ",")) }
            first = false
        }
        if !metadata.isEmpty {
            separator()
            appendJSONString("__metadata__", to: &json)
            json.append(contentsOf: Array(":{".utf8))
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (k, key) in keys.enumerated() {
                if k > 0 { json.append(UInt8(ascii: ",")) }
                appendJSONString(key, to: &json)
                json.append(UInt8(ascii: ":"))
                appendJSONString(metadata[key]!, to: &json)
            }
            json.append(UInt8(ascii: "}"))
        }
        var offset = 0
        for e in order {
            separator()
            appendJSONString(e.name, to: &json)
            json.append(contentsOf: Array(":{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[".utf8))
            json.append(contentsOf: Array(e.shape.map(String.init).joined(separator: ",").utf8))
            json.append(contentsOf: Array("],\"data_offsets\":[\(offset),\(offset + e.byteCount)]}".utf8))
            offset += e.byteCount
        }
        json.append(UInt8(ascii: "}"))
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        return json
    }

    private func emit(into sink: inout some Sink) throws {
        let order = ordered()
        let header = header(for: order)
        var length = UInt64(header.count).littleEndian
        try withUnsafeBytes(of: &length) { (p) in try sink.write(p) }
        try header.withUnsafeBytes { (p) in try sink.write(p) }
        let chunkElements = 1 << 16
        var chunk = [UInt16](repeating: 0, count: chunkElements)
        for e in order {
            switch e.payload {
            case .raw(let bytes):
                try bytes.withUnsafeBytes { (p) in try sink.write(p) }
            case .tensor(let tensor):
                try tensor.withUnsafeBufferPointer { (floats) in
                    guard let base = floats.baseAddress, !floats.isEmpty else { return }
                    if e.dtype == .float32 {
                        // Little-endian hosts only (x86-64, arm64): the floats are the bytes.
                        try sink.write(UnsafeRawBufferPointer(floats))
                        return
                    }
                    var start = 0
                    while start < floats.count {
                        let n = min(chunkElements, floats.count - start)
                        try chunk.withUnsafeMutableBytes { (out) in
                            if e.dtype == .float16 {
                                HalfPrecision.convertFloatToFloat16(base + start, out.baseAddress!, count: n)
                            } else {
                                HalfPrecision.convertFloatToBFloat16(base + start, out.baseAddress!, count: n)
                            }
                            try sink.write(UnsafeRawBufferPointer(rebasing: out[0..<(2 * n)]))
                        }
                        start += n
                    }
                }
            }
        }
    }
}

/// Appends a JSON string literal the way serde_json (the reference writer) does: `"` and `\`
/// escaped, control characters as `\b \f \n \r \t` or `\u00xx`, everything else (including
/// non-ASCII UTF-8) verbatim.
func appendJSONString(_ s: String, to out: inout [UInt8]) {
    let hex = Array("0123456789abcdef".utf8)
    out.append(UInt8(ascii: "\""))
    for b in s.utf8 {
        switch b {
        case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
        case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
        case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0..<0x20:
            out.append(contentsOf: Array("\\u00".utf8))
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0xF)])
        default: out.append(b)
        }
    }
    out.append(UInt8(ascii: "\""))
}

// MARK: - Sinks

private protocol Sink {
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(SafeTensorsError)
}

private struct ArraySink: Sink {
    var bytes: [UInt8]
    mutating func write(_ p: UnsafeRawBufferPointer) throws(SafeTensorsError) { bytes.append(contentsOf: p) }
}

private struct FileSink: Sink {
    let writer: DurableFileWriter
    var failure: DurableWriteError?

    mutating func write(_ p: UnsafeRawBufferPointer) throws(SafeTensorsError) {
        do { try writer.write(p) } catch {
            failure = error
            throw SafeTensorsError.io(file: writer.path, operation: error.call, message: error.reason)
        }
    }
}
