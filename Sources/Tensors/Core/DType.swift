/// The element type of a tensor's storage.
///
/// Every op computes in ``float32``. The other cases exist so that weights can be stored compactly
/// (half-precision checkpoints, int8-quantised linear layers) and converted to Float32 where they are used.
public enum DType: String, Sendable, Codable, CaseIterable {
    case float32
    case float16
    case bfloat16
    case int8

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float32: 4
        case .float16, .bfloat16: 2
        case .int8: 1
        }
    }
}
