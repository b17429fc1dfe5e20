import Foundation
import Testing
@testable import SafeTensors

/// One test per class of malformed input, each with the exact error expected.
@Suite struct MalformedTests {
    let f = "crafted.safetensors"

    /// A valid two-tensor file to derive broken ones from: "a" is F32 [2] at [0, 8), "b" U8 [3] at [8, 11).
    static let goodHeader = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}}"#
    static let goodData: [UInt8] = floatBytes([1, 2]) + [7, 8, 9]

    @Test func theBaseFileIsValid() throws {
        let file = try SafeTensorsFile(bytes: image(header: Self.goodHeader, data: Self.goodData))
        #expect(try file.tensor(named: "a").scalars == [1, 2])
    }

    @Test func fileShorterThanTheLengthField() {
        for n in 0..<8 {
            #expect(openError([UInt8](repeating: 0, count: n), label: f) == .fileTooSmall(file: f, size: n))
        }
    }

    @Test func hugeHeaderLength() {
        let bytes = image(header: Self.goodHeader, data: Self.goodData, length: UInt64.max)
        #expect(openError(bytes, label: f) == .headerTooLarge(file: f, length: UInt64.max))
        let justOver = image(header: "{}", length: 100_000_001)
        #expect(openError(justOver, label: f) == .headerTooLarge(file: f, length: 100_000_001))
        // 2^63 and friends must not wrap when added to 8.
        #expect(openError(image(header: "{}", length: 1 << 63), label: f) == .headerTooLarge(file: f, length: 1 << 63))
    }

    @Test func headerLengthPastTheEnd() {
        let bytes = image(header: Self.goodHeader, data: [], length: 100_000_000)
        #expect(openError(bytes, label: f) == .headerPastEnd(file: f, headerLength: 100_000_000, fileSize: bytes.count))
        let off = image(header: Self.goodHeader, data: Self.goodData, length: UInt64(Self.goodHeader.utf8.count + Self.goodData.count + 1))
        #expect(openError(off, label: f) == .headerPastEnd(file: f, headerLength: UInt64(Self.goodHeader.utf8.count + Self.goodData.count + 1), fileSize: off.count))
    }

    @Test func truncatedData() {
        let bytes = image(header: Self.goodHeader, data: Array(Self.goodData.dropLast(2)))
        #expect(openError(bytes, label: f) == .invalidOffsets(file: f, tensor: "b", reason: "ends at 11, past the end of the 9-byte data buffer (truncated file?)"))
    }

    @Test func trailingBytesAfterTheLastTensor() {
        let bytes = image(header: Self.goodHeader, data: Self.goodData + [0])
        #expect(openError(bytes, label: f) == .incompleteBuffer(file: f, coveredBytes: 11, bufferBytes: 12))
        #expect(SafeTensorsError.incompleteBuffer(file: f, coveredBytes: 11, bufferBytes: 12).description.contains("trailing bytes"))
    }

    @Test func offsetsPastTheEnd() {
        let json = #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[1],"data_offsets":[4,5]}}"#
        #expect(openError(image(header: json, data: [1, 2, 3]), label: f)
            == .invalidOffsets(file: f, tensor: "a", reason: "ends at 4, past the end of the 3-byte data buffer (truncated file?)"))
        let far = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[576460752303423488],"data_offsets":[1,576460752303423489]}}"#
        #expect(openError(image(header: far, data: [1, 2]), label: f)
            == .invalidOffsets(file: f, tensor: "b", reason: "ends at 576460752303423489, past the end of the 2-byte data buffer (truncated file?)"))
    }

    @Test func endBeforeBegin() {
        let json = #"{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"U8","shape":[1],"data_offsets":[0,-1]}}"#
        #expect(openError(image(header: json), label: f) == .invalidOffsets(file: f, tensor: "b", reason: "offset -1 is negative"))
        let reversed = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}}"#
        #expect(openError(image(header: reversed, data: [0]), label: f) == .invalidOffsets(file: f, tensor: "a", reason: "end 0 is before begin 1"))
    }

    @Test func overlappingOffsets() {
        let json = #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}"#
        #expect(openError(image(header: json, data: [1, 2, 3]), label: f)
            == .invalidOffsets(file: f, tensor: "b", reason: "begins at 1, overlapping the previous tensor, which ends at 2"))
        // Two tensors aliasing the same bytes.
        let alias = #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#
        #expect(openError(image(header: alias, data: [1, 2]), label: f)
            == .invalidOffsets(file: f, tensor: "b", reason: "begins at 0, overlapping the previous tensor, which ends at 2"))
    }

    @Test func gapBetweenTensors() {
        let json = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}"#
        #expect(openError(image(header: json, data: [1, 2, 3]), label: f)
            == .invalidOffsets(file: f, tensor: "b", reason: "begins at 2, leaving a gap after byte 1"))
        let leading = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#
        #expect(openError(image(header: leading, data: [1, 2]), label: f)
            == .invalidOffsets(file: f, tensor: "a", reason: "begins at 1, leaving a gap after byte 0"))
    }

    @Test func shapeAndDTypeDisagreeWithTheByteSpan() {
        let json = #"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#
        #expect(openError(image(header: json, data: [UInt8](repeating: 0, count: 20)), label: f)
            == .sizeMismatch(file: f, tensor: "a", dtype: .float32, shape: [2, 3], expectedBytes: 24, actualBytes: 20))
        let dtype = #"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}"#
        #expect(openError(image(header: dtype, data: [UInt8](repeating: 0, count: 8)), label: f)
            == .sizeMismatch(file: f, tensor: "a", dtype: .float16, shape: [2], expectedBytes: 4, actualBytes: 8))
    }

    @Test func negativeDimension() {
        let json = #"{"a":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,0]}}"#
        #expect(openError(image(header: json), label: f) == .invalidShape(file: f, tensor: "a", reason: "dimension -1 is negative"))
    }

    @Test func overflowingDimensions() {
        // Each fits in Int; the product does not.
        let json = #"{"a":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}}"#
        #expect(openError(image(header: json), label: f)
            == .invalidShape(file: f, tensor: "a", reason: "the element count of [4294967296, 4294967296, 0] overflows"))
        // The element count fits, the byte count does not.
        let bytes = #"{"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}}"#
        #expect(openError(image(header: bytes), label: f)
            == .sizeMismatch(file: f, tensor: "a", dtype: .float64, shape: [2305843009213693952], expectedBytes: nil, actualBytes: 0))
        // A dimension beyond Int64.
        let huge = #"{"a":{"dtype":"U8","shape":[99999999999999999999],"data_offsets":[0,0]}}"#
        #expect(openError(image(header: huge), label: f)
            == .invalidShape(file: f, tensor: "a", reason: "dimension 99999999999999999999 is too large"))
        let offset = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,18446744073709551616]}}"#
        #expect(openError(image(header: offset), label: f)
            == .invalidOffsets(file: f, tensor: "a", reason: "offset 18446744073709551616 is too large"))
    }

    @Test func nonIntegerNumbers() {
        let frac = #"{"a":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}}"#
        #expect(openError(image(header: frac, data: [0]), label: f) == .invalidShape(file: f, tensor: "a", reason: "dimension 1.0 is not an integer"))
        let exp = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1e0]}}"#
        #expect(openError(image(header: exp, data: [0]), label: f) == .invalidOffsets(file: f, tensor: "a", reason: "offset 1e0 is not an integer"))
        let str = #"{"a":{"dtype":"U8","shape":["1"],"data_offsets":[0,1]}}"#
        #expect(openError(image(header: str, data: [0]), label: f)
            == .invalidTensorEntry(file: f, tensor: "a", reason: "\"shape\" must contain only integers (at byte 28)"))
        let lead = #"{"a":{"dtype":"U8","shape":[01],"data_offsets":[0,1]}}"#
        guard case .invalidHeader(_, _, let reason)? = openError(image(header: lead, data: [0]), label: f) else {
            Issue.record("leading zero accepted"); return
        }
        #expect(reason.contains("leading zero"))
    }

    @Test func wrongNumberOfOffsets() {
        let json = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}"#
        #expect(openError(image(header: json, data: [0]), label: f) == .invalidOffsets(file: f, tensor: "a", reason: "expected [begin, end], found 3 numbers"))
    }

    @Test func invalidUTF8() {
        var header = Array(Self.goodHeader.utf8)
        header[3] = 0xFF  // inside the name "a"... replaced by a byte that is never UTF-8
        #expect(openError(image(headerBytes: header, data: Self.goodData), label: f)
            == .invalidHeader(file: f, byteOffset: 3, reason: "the header is not valid UTF-8"))
        // Overlong encoding of '/', an encoded surrogate, and a truncated sequence at the end.
        for bad: [UInt8] in [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x82]] {
            let h = Array(#"{"x":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}"#.utf8) + bad
            guard case .invalidHeader(_, let at, let reason)? = openError(image(headerBytes: h), label: f) else {
                Issue.record("accepted \(bad)"); continue
            }
            #expect(at == h.count - bad.count)
            #expect(reason == "the header is not valid UTF-8")
        }
    }

    @Test func invalidJSON() {
        let cases: [(String, String)] = [
            ("", "the header must start with '{'"),
            (" {}", "the header must start with '{'"),
            ("[]", "the header must start with '{'"),
            ("{", "expected a tensor name (a string)"),
            (#"{"a""#, "expected ':'"),
            (#"{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}"#, "expected ',' or '}' after the entry for \"a\""),
            (#"{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},}"#, "expected a tensor name (a string)"),
            ("{}x", "unexpected data after the closing '}'"),
            ("{}\0", "unexpected data after the closing '}'"),
            ("{} {}", "unexpected data after the closing '}'"),
            (#"{"a\q":1}"#, "invalid escape '\\q'"),
            (#"{"a\ud800":1}"#, "lone leading surrogate \\ud800"),
            (#"{"a\udc00":1}"#, "lone trailing surrogate \\udc00"),
            (#"{"a\u12":1}"#, "invalid hex digit in \\u escape"),
            ("{\"a\tb\":1}", "control character 0x9 inside a string"),
            (#"{"unterminated"#, "unterminated string"),
            (#"{'a':1}"#, "expected a tensor name (a string)"),
        ]
        for (json, expected) in cases {
            guard case .invalidHeader(let file, _, let reason)? = openError(image(header: json), label: f) else {
                Issue.record("accepted or wrong error for \(json): \(String(describing: openError(image(header: json))))"); continue
            }
            #expect(file == f)
            #expect(reason.hasPrefix(expected), "\(json): \(reason)")
        }
    }

    @Test func entryOfTheWrongShape() {
        let cases: [(String, String)] = [
            (#"{"a":1}"#, "expected an object at byte 5"),
            (#"{"a":{"shape":[0],"data_offsets":[0,0]}}"#, "missing field \"dtype\""),
            (#"{"a":{"dtype":"U8","data_offsets":[0,0]}}"#, "missing field \"shape\""),
            (#"{"a":{"dtype":"U8","shape":[0]}}"#, "missing field \"data_offsets\""),
            (#"{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0],"extra":1}}"#, "unknown field \"extra\""),
            (#"{"a":{"dtype":"U8","dtype":"U8","shape":[0],"data_offsets":[0,0]}}"#, "field \"dtype\" appears more than once"),
            (#"{"a":{"dtype":8,"shape":[0],"data_offsets":[0,0]}}"#, "\"dtype\" must be a string"),
            (#"{"a":{"dtype":"U8","shape":0,"data_offsets":[0,0]}}"#, "\"shape\" must be an array of integers"),
            (#"{"a":{"dtype":"U8","shape":[0],"data_offsets":{}}}"#, "\"data_offsets\" must be an array of integers"),
        ]
        for (json, expected) in cases {
            #expect(openError(image(header: json), label: f) == .invalidTensorEntry(file: f, tensor: "a", reason: expected), "\(json)")
        }
    }

    @Test func duplicateNames() {
        let json = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#
        #expect(openError(image(header: json, data: [1, 2]), label: f) == .duplicateName(file: f, tensor: "a"))
        // The same name spelled with an escape.
        let escaped = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"\u0061":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#
        #expect(openError(image(header: escaped, data: [1, 2]), label: f) == .duplicateName(file: f, tensor: "a"))
        // Two metadata blocks.
        guard case .invalidHeader(_, _, let reason)? = openError(image(header: #"{"__metadata__":{},"__metadata__":{}}"#), label: f) else {
            Issue.record("two __metadata__ accepted"); return
        }
        #expect(reason.hasPrefix("\"__metadata__\" appears more than once"))
    }

    @Test func unknownDType() {
        for dtype in ["F128", "f32", "FLOAT", "", "F8_E4M3FN"] {
            let json = #"{"a":{"dtype":"\#(dtype)","shape":[0],"data_offsets":[0,0]}}"#
            #expect(openError(image(header: json), label: f) == .unknownDType(file: f, tensor: "a", dtype: dtype))
        }
    }

    @Test func metadataWithNonStringValues() {
        for value in ["1", "true", "null", "[\"x\"]", "{\"y\":\"z\"}"] {
            let json = #"{"__metadata__":{"k":\#(value)}}"#
            guard case .invalidMetadata(let file, let key, let reason)? = openError(image(header: json), label: f) else {
                Issue.record("metadata value \(value) accepted"); continue
            }
            #expect(file == f && key == "k")
            #expect(reason.hasPrefix("the value must be a string"))
        }
        guard case .invalidMetadata(_, nil, _)? = openError(image(header: #"{"__metadata__":["a"]}"#), label: f) else {
            Issue.record("metadata array accepted"); return
        }
        #expect(openError(image(header: #"{"__metadata__":{"k":"1","k":"2"}}"#), label: f)
            == .invalidMetadata(file: f, key: "k", reason: "the key appears more than once"))
    }
}
