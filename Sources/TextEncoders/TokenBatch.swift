import Tokenizers

/// Encodings of several inputs laid out for the model: padded to the longest (`maxLength`
/// columns) for the differentiable path, with each row's true length.
public struct TokenBatch: Sendable {
    /// Row-major `[count, maxLength]` token ids, padding id 0.
    public let ids: [Int]
    /// Row-major `[count, maxLength]` token types, 0 on padding.
    public let typeIDs: [Int]
    /// The number of real tokens of each row.
    public let lengths: [Int]
    public let maxLength: Int

    public var count: Int { lengths.count }

    public init(_ encodings: [Encoding]) {
        let t = encodings.map(\.count).max() ?? 0
        var ids = [Int](repeating: 0, count: encodings.count * t)
        var types = [Int](repeating: 0, count: encodings.count * t)
        for (r, e) in encodings.enumerated() {
            for j in 0..<e.count {
                ids[r * t + j] = e.ids[j]
                types[r * t + j] = e.typeIDs[j]
            }
        }
        self.ids = ids
        typeIDs = types
        lengths = encodings.map { e in e.attentionMask.reduce(0, +) }
        maxLength = t
    }
}
