import Foundation
import Testing
@testable import SafeTensors
import Tensors

/// A fresh directory under the system temporary directory, removed by `cleanup()`.
struct TemporaryDirectory {
    let url: URL

    init(_ label: String = #function) throws {
        let safe = label.filter { $0.isLetter || $0.isNumber }
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("safetensors-tests-\(safe)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }

    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// Decodes a base64 fixture (line breaks ignored).
func fixtureBytes(_ base64: String) -> [UInt8] {
    [UInt8](Data(base64Encoded: base64, options: .ignoreUnknownCharacters)!)
}

/// A file image from a header given as JSON text and the data buffer; `length` overrides the
/// 8-byte header length.
func image(header json: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    let h = Array(json.utf8)
    return image(headerBytes: h, data: data, length: length)
}

func image(headerBytes h: [UInt8], data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    var out: [UInt8] = []
    let n = length ?? UInt64(h.count)
    for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(k)))) }
    out += h
    out += data
    return out
}

/// Opens in-memory bytes and returns the error, or `nil` when the bytes open.
func openError(_ bytes: [UInt8], label: String = "crafted.safetensors") -> SafeTensorsError? {
    do {
        _ = try SafeTensorsFile(bytes: bytes, label: label)
        return nil
    } catch {
        return error
    }
}

/// Little-endian bytes of Float32 values.
func floatBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
}

/// A deterministic generator for the tests (SplitMix64).
struct TestRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
}
