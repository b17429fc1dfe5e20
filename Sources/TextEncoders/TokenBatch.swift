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

    /// Rows to run together so that little work goes to padding: the indices of `lengths`, sorted
    /// by length and cut where a group's padded size (rows × its longest) plus `overhead` per
    /// extra group is least — an exact dynamic programme over the sorted lengths. `overhead`, in
    /// tokens, stands for what one more, smaller forward pass costs beyond its tokens.
    /// - Parameters:
    ///   - lengths: each row's token count.
    ///   - overhead: the cost of one more group, in padded tokens.
    ///   - maxGroup: the most rows in one group (bounds the programme's work to rows × maxGroup).
    public static func lengthGroups(_ lengths: [Int], overhead: Int = 1024, maxGroup: Int = 512) -> [[Int]] {
        let order = lengths.indices.sorted { (lengths[$0], $0) < (lengths[$1], $1) }
        let n = order.count
        guard n > 1 else { return [order] }
        // best[i]: least cost of the first i sorted rows; cut[i]: where its last group starts.
        var best = [Int](repeating: .max, count: n + 1), cut = [Int](repeating: 0, count: n + 1)
        best[0] = 0
        for i in 1...n {
            let longest = lengths[order[i - 1]]
            for j in max(0, i - maxGroup)..<i {
                let cost = best[j] + (i - j) * longest + overhead
                if cost < best[i] { best[i] = cost; cut[i] = j }
            }
        }
        var groups: [[Int]] = [], i = n
        while i > 0 { groups.append(Array(order[cut[i]..<i])); i = cut[i] }
        return groups.reversed()
    }
}

