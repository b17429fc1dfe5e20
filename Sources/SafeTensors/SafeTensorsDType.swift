import Tensors

/// The element type of one tensor in a safetensors file, spelled in the header as its ``rawValue``
/// (`"F32"`, `"BF16"`, `"I64"`, …).
///
/// Every dtype that the reference implementation (huggingface/safetensors) defines is recognised,
/// so that any file it writes opens here and every tensor's bytes can be reached with
/// ``SafeTensorsFile/withRawBytes(of:_:)``. Conversion to Float32 (``SafeTensorsFile/tensor(named:)``)
/// covers the floating-point and integer types; the 8-, 6- and 4-bit float formats and complex
/// numbers are raw-only. Writing converts Float32 tensors to ``float32``, ``float16`` or ``bfloat16``;
/// any dtype can be written from raw bytes.
public enum SafeTensorsDType: String, CaseIterable, Sendable, Codable {
    case bool = "BOOL"
    /// 4-bit float (E2M1), two per byte; raw access only.
    case float4 = "F4"
    /// 6-bit float (E2M3); raw access only.
    case float6E2M3 = "F6_E2M3"
    /// 6-bit float (E3M2); raw access only.
    case float6E3M2 = "F6_E3M2"
    case uint8 = "U8"
    case int8 = "I8"
    /// 8-bit float (E5M2); raw access only.
    case float8E5M2 = "F8_E5M2"
    /// 8-bit float (E4M3, finite); raw access only.
    case float8E4M3 = "F8_E4M3"
    /// 8-bit power-of-two scale (E8M0); raw access only.
    case float8E8M0 = "F8_E8M0"
    /// 8-bit float (E4M3, finite, unsigned zero); raw access only.
    case float8E4M3FNUZ = "F8_E4M3FNUZ"
    /// 8-bit float (E5M2, finite, unsigned zero); raw access only.
    case float8E5M2FNUZ = "F8_E5M2FNUZ"
    case int16 = "I16"
    case uint16 = "U16"
    /// IEEE 754 binary16.
    case float16 = "F16"
    /// bfloat16: the upper half of a binary32.
    case bfloat16 = "BF16"
    case int32 = "I32"
    case uint32 = "U32"
    /// IEEE 754 binary32.
    case float32 = "F32"
    /// Complex number of two binary32 values; raw access only.
    case complex64 = "C64"
    /// IEEE 754 binary64.
    case float64 = "F64"
    case int64 = "I64"
    case uint64 = "U64"

    /// Bits per element (4 and 6 for the sub-byte floats, otherwise a multiple of 8).
    public var bitSize: Int {
        switch self {
        case .float4: 4
        case .float6E2M3, .float6E3M2: 6
        case .bool, .uint8, .int8, .float8E5M2, .float8E4M3, .float8E8M0, .float8E4M3FNUZ, .float8E5M2FNUZ: 8
        case .int16, .uint16, .float16, .bfloat16: 16
        case .int32, .uint32, .float32: 32
        case .complex64, .float64, .int64, .uint64: 64
        }
    }

    /// Bytes per element, or `nil` for the sub-byte formats.
    public var byteSize: Int? { bitSize % 8 == 0 ? bitSize / 8 : nil }

    /// Whether ``SafeTensorsFile/tensor(named:)`` can convert this dtype to Float32.
    public var convertsToFloat32: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64,
             .bool, .uint8, .int8, .int16, .uint16, .int32, .uint32, .int64, .uint64: true
        default: false
        }
    }

    /// Whether ``SafeTensorsFile/integers(named:)`` can read this dtype as `Int64`.
    public var isInteger: Bool {
        switch self {
        case .bool, .uint8, .int8, .int16, .uint16, .int32, .uint32, .int64, .uint64: true
        default: false
        }
    }

    /// Position in the reference implementation's `Dtype` enum, which is ordered by increasing
    /// alignment. Writers place tensors in decreasing order of this rank, then by name.
    var alignmentRank: Int {
        switch self {
        case .bool: 0
        case .float4: 1
        case .float6E2M3: 2
        case .float6E3M2: 3
        case .uint8: 4
        case .int8: 5
        case .float8E5M2: 6
        case .float8E4M3: 7
        case .float8E8M0: 8
        case .float8E4M3FNUZ: 9
        case .float8E5M2FNUZ: 10
        case .int16: 11
        case .uint16: 12
        case .float16: 13
        case .bfloat16: 14
        case .int32: 15
        case .uint32: 16
        case .float32: 17
        case .complex64: 18
        case .float64: 19
        case .int64: 20
        case .uint64: 21
        }
    }

    /// The safetensors dtype for a tensor-engine storage type (`int8` maps to ``int8``).
    /// - Parameters:
    ///   - dtype: The tensor engine's element type.
    public init(_ dtype: DType) {
        switch dtype {
        case .float32: self = .float32
        case .float16: self = .float16
        case .bfloat16: self = .bfloat16
        case .int8: self = .int8
        }
    }

    /// Bytes needed by `count` elements, or `nil` when the count overflows or (for the sub-byte
    /// formats) the bits do not fill whole bytes.
    func byteCount(elements count: Int) -> Int? {
        let (bits, overflow) = count.multipliedReportingOverflow(by: bitSize)
        guard !overflow, bits % 8 == 0 else { return nil }
        return bits / 8
    }
}

extension SafeTensorsDType: CustomStringConvertible {
    /// The format's own name (`"F32"`, `"BF16"`, …).
    public var description: String { rawValue }
}
