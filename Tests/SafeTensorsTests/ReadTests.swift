import Foundation
import Testing
@testable import SafeTensors
import Tensors

/// Reading files written by the Python `safetensors` library, and the reader's API.
@Suite struct ReadTests {
    @Test func readsEveryDTypeFromThePythonLibrary() throws {
        let file = try SafeTensorsFile(bytes: fixtureBytes(ReferenceFixtures.mixed), label: "mixed.safetensors")
        #expect(file.metadata == ["format": "pt"])
        #expect(Set(file.names) == Set(ReferenceFixtures.mixedExpected.keys))
        #expect(file.count == ReferenceFixtures.mixedExpected.count)
        for (name, expected) in ReferenceFixtures.mixedExpected {
            let info = try file.info(name)
            #expect(info.shape == expected.shape, "\(name)")
            let tensor = try file.tensor(named: name)
            #expect(tensor.shape == expected.shape, "\(name)")
            let got = tensor.scalars
            #expect(got.count == expected.floatBits.count, "\(name)")
            for (g, e) in zip(got, expected.floatBits) {
                let want = Float(bitPattern: e)
                if want.isNaN {
                    #expect(g.isNaN, "\(name)")
                } else {
                    #expect(g.bitPattern == e, "\(name): \(g) vs \(want)")
                }
            }
            if let ints = expected.integers {
                #expect(try file.integers(named: name) == ints, "\(name)")
            }
        }
        #expect(try file.info("special.bf16").dtype == .bfloat16)
        #expect(try file.info("special.f16").dtype == .float16)
        #expect(try file.info("embeddings.position_ids").dtype == .int64)
        #expect(try file.integers(named: "embeddings.position_ids") == (0..<8).map { Int64($0) })
    }

    @Test func namesFollowTheDataOrder() throws {
        let file = try SafeTensorsFile(bytes: fixtureBytes(ReferenceFixtures.mixed))
        let offsets = file.tensorInfos.map(\.dataOffsets)
        for k in 1..<offsets.count { #expect(offsets[k].lowerBound == offsets[k - 1].upperBound) }
        #expect(offsets.first?.lowerBound == 0)
        #expect(file.names == file.tensorInfos.map(\.name))
        #expect(file.fileSize == 8 + file.headerLength + (offsets.last?.upperBound ?? 0))
        #expect(file.headerLength % 8 == 0)
    }

    @Test func mappedFileAndInMemoryBytesAgree() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let bytes = fixtureBytes(ReferenceFixtures.mixed)
        let url = dir.file("mixed.safetensors")
        try Data(bytes).write(to: url)
        let mapped = try SafeTensorsFile(contentsOf: url)
        let memory = try SafeTensorsFile(bytes: bytes)
        #expect(mapped.path == url.path)
        #expect(mapped.tensorInfos == memory.tensorInfos)
        for name in mapped.names {
            #expect(try mapped.rawBytes(named: name) == memory.rawBytes(named: name))
        }
        let all = try SafeTensorsFile.load(url)
        #expect(all.count == mapped.count)
    }

    @Test func rawBytesAreTheStoredBytes() throws {
        let file = try SafeTensorsFile(bytes: fixtureBytes(ReferenceFixtures.mixed))
        let raw = try file.rawBytes(named: "ints.u16")
        #expect(raw == [0xFF, 0xFF, 0x01, 0x00])
        let sum = try file.withRawBytes(of: "ints.u8") { p in p.reduce(0) { $0 + Int($1) } }
        #expect(sum == 262)
        #expect(try file.withRawBytes(of: "empty.f32") { $0.count } == 0)
    }

    @Test func emptyFileFromPython() throws {
        let bytes = fixtureBytes(ReferenceFixtures.empty)
        #expect(bytes == [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32])
        let file = try SafeTensorsFile(bytes: bytes)
        #expect(file.count == 0)
        #expect(file.metadata.isEmpty)
        #expect(try file.tensors().isEmpty)
    }

    @Test func missingTensorNamesTheFileAndTensor() throws {
        let file = try SafeTensorsFile(bytes: fixtureBytes(ReferenceFixtures.mixed), label: "model.safetensors")
        #expect(throws: SafeTensorsError.tensorNotFound(file: "model.safetensors", tensor: "nope")) {
            try file.tensor(named: "nope")
        }
        let e = SafeTensorsError.tensorNotFound(file: "model.safetensors", tensor: "nope")
        #expect(e.description == "model.safetensors: no tensor named \"nope\"")
        #expect(!file.contains("nope") && file.contains("weight.f32"))
    }

    @Test func shapeCheckedRead() throws {
        let file = try SafeTensorsFile(bytes: fixtureBytes(ReferenceFixtures.mixed), label: "m")
        #expect(try file.tensor(named: "weight.f32", shape: [3, 4]).shape == [3, 4])
        #expect(throws: SafeTensorsError.shapeMismatch(file: "m", tensor: "weight.f32", expected: [4, 3], found: [3, 4])) {
            try file.tensor(named: "weight.f32", shape: [4, 3])
        }
    }

    @Test func conversionsThatDoNotApply() throws {
        let file = try SafeTensorsFile(bytes: fixtureBytes(ReferenceFixtures.mixed), label: "m")
        #expect(throws: SafeTensorsError.unsupportedConversion(file: "m", tensor: "weight.f32", dtype: .float32, target: "Int64")) {
            try file.integers(named: "weight.f32")
        }
        // FP8 tensors open and are reachable raw, but are not converted.
        let fp8 = image(header: #"{"q":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}"#, data: [0x38, 0xB8])
        let f = try SafeTensorsFile(bytes: fp8, label: "fp8")
        #expect(try f.rawBytes(named: "q") == [0x38, 0xB8])
        #expect(throws: SafeTensorsError.unsupportedConversion(file: "fp8", tensor: "q", dtype: .float8E4M3, target: "Float32")) {
            try f.tensor(named: "q")
        }
        // U64 above Int64.max.
        let big = image(header: #"{"u":{"dtype":"U64","shape":[1],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0xFF, count: 8))
        let g = try SafeTensorsFile(bytes: big, label: "u64")
        #expect(throws: SafeTensorsError.valueOutOfRange(file: "u64", tensor: "u", index: 0, reason: "U64 value 18446744073709551615 exceeds Int64.max")) {
            try g.integers(named: "u")
        }
        #expect(try g.tensor(named: "u").scalars == [0x1p64])
    }

    @Test func subByteDTypesAreSizedInBits() throws {
        // F4 packs two elements per byte: 6 elements = 3 bytes; an odd count is not whole bytes.
        let ok = image(header: #"{"a":{"dtype":"F4","shape":[2,3],"data_offsets":[0,3]}}"#, data: [1, 2, 3])
        #expect(try SafeTensorsFile(bytes: ok).info("a").dtype == .float4)
        let odd = image(header: #"{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}"#, data: [1, 2])
        #expect(openError(odd, label: "f") == .sizeMismatch(file: "f", tensor: "a", dtype: .float4, shape: [3], expectedBytes: nil, actualBytes: 2))
        let f6 = image(header: #"{"a":{"dtype":"F6_E2M3","shape":[4],"data_offsets":[0,3]}}"#, data: [1, 2, 3])
        #expect(openError(f6) == nil)
    }

    @Test func unsortedButContiguousOffsetsAreAccepted() throws {
        // The reference sorts entries by offset; the JSON order does not matter.
        let json = #"{"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#
        let file = try SafeTensorsFile(bytes: image(header: json, data: [9, 8, 7]))
        #expect(file.names == ["a", "b"])
        #expect(try file.integers(named: "b") == [8, 7])
    }

    @Test func jsonSyntaxThatIsValid() throws {
        // Whitespace everywhere, escapes in names, unicode, "__metadata__" anywhere, null metadata, -0.
        let json = "{ \"we\\u0069ght\\n\\u00e9\\ud83d\\ude00\" : { \"shape\" : [ 2 ] , \"data_offsets\" : [ 0 , 2 ] , \"dtype\" : \"I8\" } ,\t\"__metadata__\" : {\"k\\\"\" : \"v\\/\", \"ü\": \"ß\"}\r\n}   \n"
        let file = try SafeTensorsFile(bytes: image(header: json, data: [1, 255]))
        #expect(file.names == ["weight\né😀"])
        #expect(file.metadata == ["k\"": "v/", "ü": "ß"])
        #expect(try file.integers(named: "weight\né😀") == [1, -1])
        let nullMeta = image(header: #"{"__metadata__":null,"x":{"dtype":"U8","shape":[],"data_offsets":[-0,1]}}"#, data: [3])
        let g = try SafeTensorsFile(bytes: nullMeta)
        #expect(g.metadata.isEmpty)
        #expect(try g.tensor(named: "x").shape == [])
        #expect(try g.tensor(named: "x").scalars == [3])
    }

    @Test func zeroSizedTensors() throws {
        let json = #"{"e":{"dtype":"F32","shape":[0,1000000000000],"data_offsets":[0,0]},"s":{"dtype":"F16","shape":[],"data_offsets":[0,2]}}"#
        let file = try SafeTensorsFile(bytes: image(header: json, data: [0x00, 0x3C]))
        #expect(try file.tensor(named: "e").count == 0)
        #expect(try file.tensor(named: "s").scalars == [1])
    }

    @Test func fileSystemErrors() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let missing = dir.file("missing.safetensors")
        #expect(throws: SafeTensorsError.io(file: missing.path, operation: "open", message: "No such file or directory")) {
            try SafeTensorsFile(contentsOf: missing)
        }
        #expect(throws: SafeTensorsError.notARegularFile(file: dir.url.path)) {
            try SafeTensorsFile(contentsOf: dir.url)
        }
        let empty = dir.file("empty.safetensors")
        try Data().write(to: empty)
        #expect(throws: SafeTensorsError.fileTooSmall(file: empty.path, size: 0)) {
            try SafeTensorsFile(contentsOf: empty)
        }
    }

    @Test func errorDescriptionsNameFileAndTensor() {
        let cases: [SafeTensorsError] = [
            .sizeMismatch(file: "/m/model.safetensors", tensor: "w", dtype: .float32, shape: [2, 3], expectedBytes: 24, actualBytes: 20),
            .invalidOffsets(file: "/m/model.safetensors", tensor: "w", reason: "end 3 is before begin 4"),
            .unknownDType(file: "/m/model.safetensors", tensor: "w", dtype: "F128"),
            .invalidShape(file: "/m/model.safetensors", tensor: "w", reason: "dimension -1 is negative"),
        ]
        for c in cases {
            #expect(c.description.hasPrefix("/m/model.safetensors: tensor \"w\""), "\(c)")
            #expect(c.errorDescription == c.description)
        }
        #expect(SafeTensorsError.headerTooLarge(file: "f", length: 1 << 40).description.contains("exceeds the limit of 100000000 bytes"))
    }
}
