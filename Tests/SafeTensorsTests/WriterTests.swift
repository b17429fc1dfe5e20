import Foundation
import Testing
@testable import SafeTensors
import Tensors

@Suite struct WriterTests {
    static func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor.randomNormal(shape, std: scale, generator: &g)
    }

    @Test func float32RoundTripIsExact() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let tensors: [String: Tensor] = [
            "encoder.weight": Self.randomTensor([17, 33], seed: 1),
            "encoder.bias": Self.randomTensor([33], seed: 2, scale: 1e-30),
            "scalar": Tensor(3.25),
            "empty": Tensor(shape: [0, 4], []),
            "specials": Tensor([.infinity, -.infinity, .nan, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]),
        ]
        let url = dir.file("model.safetensors")
        try SafeTensorsWriter.write(tensors, metadata: ["format": "pt", "epoch": "3"], to: url)
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.metadata == ["format": "pt", "epoch": "3"])
        #expect(Set(file.names) == Set(tensors.keys))
        for (name, t) in tensors {
            let back = try file.tensor(named: name)
            #expect(back.shape == t.shape)
            #expect(back.scalars.map(\.bitPattern) == t.scalars.map(\.bitPattern), "\(name)")
            #expect(try file.info(name).dtype == .float32)
        }
        #expect(try dir.contents() == ["model.safetensors"])
    }

    #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    @Test func float16RoundTripMatchesSwiftFloat16() throws {
        let t = Self.randomTensor([64, 50], seed: 3, scale: 300)
        var writer = SafeTensorsWriter()
        try writer.add("w", t, as: .float16)
        let file = try SafeTensorsFile(bytes: writer.serialized())
        #expect(try file.info("w").dtype == .float16)
        let back = try file.tensor(named: "w").scalars
        for (x, y) in zip(t.scalars, back) {
            #expect(y == Float(Float16(x)), "\(x)")
            // Within half an ulp of binary16 (relative 2⁻¹¹) for normal values.
            if abs(x) > 0x1p-14 && abs(x) < 65504 { #expect(abs(y - x) <= abs(x) * 0x1p-11) }
        }
    }
    #endif

    @Test func bfloat16RoundTripMatchesExactReference() throws {
        let t = Self.randomTensor([100, 30], seed: 4, scale: 1e20)
        var writer = SafeTensorsWriter()
        try writer.add("w", t, as: .bfloat16)
        let file = try SafeTensorsFile(bytes: writer.serialized())
        #expect(try file.info("w").dtype == .bfloat16)
        let raw = try file.rawBytes(named: "w")
        let back = try file.tensor(named: "w").scalars
        for (k, x) in t.scalars.enumerated() {
            let bits = UInt16(raw[2 * k]) | UInt16(raw[2 * k + 1]) << 8
            #expect(bits == HalfPrecisionTests.referenceBFloat16(x))
            #expect(abs(back[k] - x) <= abs(x) * 0x1p-8)
        }
    }

    /// The Swift writer reproduces the Python library's files byte for byte from the same floats:
    /// same order, JSON, padding, and the same rounding as numpy (F16) and ml_dtypes (BF16).
    @Test func byteIdenticalToThePythonWriter() throws {
        let source = try SafeTensorsFile(bytes: fixtureBytes(ReferenceFixtures.parityF32))
        let fixtures: [(SafeTensorsDType, String)] = [
            (.float32, ReferenceFixtures.parityF32), (.float16, ReferenceFixtures.parityF16), (.bfloat16, ReferenceFixtures.parityBF16),
        ]
        for (dtype, reference) in fixtures {
            var writer = SafeTensorsWriter(metadata: source.metadata)
            for name in source.names.reversed() { try writer.add(name, try source.tensor(named: name), as: dtype) }
            let ours = writer.serialized()
            let theirs = fixtureBytes(reference)
            #expect(ours.count == theirs.count, "\(dtype)")
            if ours != theirs {
                let first = zip(ours, theirs).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                Issue.record("\(dtype): first differing byte at \(first.map(String.init) ?? "end")")
            }
        }
    }

    @Test func orderFollowsTheReference() throws {
        var writer = SafeTensorsWriter()
        try writer.add("b", Tensor([1]))
        try writer.add("a", Tensor([1]), as: .float16)
        try writer.add("c", Tensor([1]), as: .bfloat16)
        try writer.add("Z", Tensor([1]))
        try writer.addRaw("ids", dtype: .int64, shape: [2], bytes: [UInt8](repeating: 0, count: 16))
        try writer.addRaw("mask", dtype: .bool, shape: [1], bytes: [1])
        try writer.addRaw("é", dtype: .float32, shape: [], bytes: floatBytes([2]))
        // Decreasing alignment (I64, F32, BF16, F16, BOOL), then byte-wise names ("Z" < "b" < "é").
        #expect(writer.names == ["ids", "Z", "b", "é", "c", "a", "mask"])
        let file = try SafeTensorsFile(bytes: writer.serialized())
        #expect(file.names == writer.names)
        #expect(try file.tensor(named: "é").scalars == [2])
    }

    @Test func headerIsPaddedToEightBytes() throws {
        for length in 0..<20 {
            var writer = SafeTensorsWriter()
            try writer.add(String(repeating: "n", count: length), Tensor([1, 2]))
            let bytes = writer.serialized()
            let n = Int(bytes[0]) | Int(bytes[1]) << 8
            #expect(n % 8 == 0)
            #expect(bytes[8 + n - 1] == UInt8(ascii: "}") || bytes[8 + n - 1] == UInt8(ascii: " "))
            #expect(try SafeTensorsFile(bytes: bytes).tensor(named: String(repeating: "n", count: length)).scalars == [1, 2])
        }
    }

    @Test func emptyWriterMatchesTheReference() {
        #expect(SafeTensorsWriter().serialized() == fixtureBytes(ReferenceFixtures.empty))
        // The reference crate's own test vector for metadata ["framework": "pt"].
        let expected: [UInt8] = [40, 0, 0, 0, 0, 0, 0, 0] + Array(#"{"__metadata__":{"framework":"pt"}}"#.utf8) + [32, 32, 32, 32, 32]
        #expect(SafeTensorsWriter(metadata: ["framework": "pt"]).serialized() == expected)
    }

    @Test func namesAndMetadataWithSpecialCharactersRoundTrip() throws {
        let names = ["quote\"d", "back\\slash", "new\nline", "tab\t", "ctl\u{01}\u{1F}", "uni😀é", "", " "]
        var writer = SafeTensorsWriter(metadata: ["k\"\n": "v\\\u{7F}", "emoji": "🧪"])
        for (k, name) in names.enumerated() { try writer.add(name, Tensor([Float(k)])) }
        let bytes = writer.serialized()
        let header = String(decoding: bytes[8..<(8 + Int(bytes[0]) + Int(bytes[1]) << 8)], as: UTF8.self)
        #expect(header.contains(#""ctl\u0001\u001f""#))
        #expect(header.contains(#""new\nline""#))
        let file = try SafeTensorsFile(bytes: bytes)
        #expect(file.metadata == ["k\"\n": "v\\\u{7F}", "emoji": "🧪"])
        for (k, name) in names.enumerated() { #expect(try file.tensor(named: name).scalars == [Float(k)]) }
    }

    @Test func writerRejectsBadInput() throws {
        var writer = SafeTensorsWriter()
        try writer.add("a", Tensor([1]))
        #expect(throws: SafeTensorsError.invalidWrite(file: nil, tensor: "a", reason: "a tensor of that name was already added")) {
            try writer.add("a", Tensor([2]))
        }
        #expect(throws: SafeTensorsError.invalidWrite(file: nil, tensor: "__metadata__", reason: "the name is reserved for the metadata")) {
            try writer.add("__metadata__", Tensor([2]))
        }
        #expect(throws: SafeTensorsError.invalidWrite(file: nil, tensor: "b", reason: "tensors are written as F32, F16 or BF16, not I8 (use addRaw for other dtypes)")) {
            try writer.add("b", Tensor([2]), as: .int8)
        }
        #expect(throws: SafeTensorsError.invalidWrite(file: nil, tensor: "r", reason: "I64 [3] needs 24 bytes, got 16")) {
            try writer.addRaw("r", dtype: .int64, shape: [3], bytes: [UInt8](repeating: 0, count: 16))
        }
        #expect(throws: SafeTensorsError.invalidWrite(file: nil, tensor: "r", reason: "negative dimension in shape [-1]")) {
            try writer.addRaw("r", dtype: .uint8, shape: [-1], bytes: [])
        }
        #expect(throws: SafeTensorsError.invalidWrite(file: nil, tensor: "r", reason: "F4 [3] needs a whole number of bytes, got 2")) {
            try writer.addRaw("r", dtype: .float4, shape: [3], bytes: [0, 0])
        }
        #expect(writer.count == 1)
    }

    @Test func rawEntriesRoundTrip() throws {
        var writer = SafeTensorsWriter()
        let ids: [Int64] = Array(0..<512)
        let bytes = ids.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        try writer.addRaw("embeddings.position_ids", dtype: .int64, shape: [1, 512], bytes: bytes)
        try writer.addRaw("fp8", dtype: .float8E5M2, shape: [2], bytes: [1, 2])
        let file = try SafeTensorsFile(bytes: writer.serialized())
        #expect(try file.integers(named: "embeddings.position_ids") == ids)
        #expect(try file.rawBytes(named: "fp8") == [1, 2])
    }

    @Test func tensorValueIsCapturedWhenAdded() throws {
        var t = Tensor([1, 2, 3])
        var writer = SafeTensorsWriter()
        try writer.add("t", t)
        t.withUnsafeMutableBufferPointer { $0[0] = 99 }
        #expect(try SafeTensorsFile(bytes: writer.serialized()).tensor(named: "t").scalars == [1, 2, 3])
    }

    @Test func orderedPairsAPI() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let url = dir.file("pairs.safetensors")
        try SafeTensorsWriter.write([("x", Tensor([1, 2])), ("y", Tensor([3]))], dtype: .float16, to: url)
        let loaded = try SafeTensorsFile.load(url)
        #expect(loaded["x"]?.scalars == [1, 2] && loaded["y"]?.scalars == [3])
        #expect(throws: SafeTensorsError.invalidWrite(file: nil, tensor: "x", reason: "a tensor of that name was already added")) {
            try SafeTensorsWriter.write([("x", Tensor([1])), ("x", Tensor([2]))], to: url)
        }
        #expect(try SafeTensorsFile.load(url)["x"]?.scalars == [1, 2])
    }
}
