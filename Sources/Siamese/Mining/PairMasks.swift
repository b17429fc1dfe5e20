import Tensors

/// The ordered pairs (a, j) of a labelled batch that a pair loss uses, as two constant n×n 0/1
/// matrices in row-major order: positives (same label, a ≠ j) and negatives (different labels).
///
/// ``all(labels:)`` gives every pair, as pytorch-metric-learning does when a loss gets labels and no
/// miner; ``MultiSimilarityMiner`` keeps a subset.
public struct PairMasks: Sendable, Equatable {
    /// Batch size n.
    public let count: Int
    /// 1 where (a, j) is a positive pair taking part, row a, column j.
    public var positive: [Float]
    /// 1 where (a, j) is a negative pair taking part.
    public var negative: [Float]

    /// Masks over `count` items with no pair selected.
    public init(count: Int) {
        self.count = count
        positive = [Float](repeating: 0, count: count * count)
        negative = positive
    }

    /// Every positive and every negative pair of the batch.
    public static func all(labels: [Int]) -> PairMasks {
        let n = labels.count
        var masks = PairMasks(count: n)
        for a in 0..<n {
            for j in 0..<n where j != a {
                if labels[a] == labels[j] { masks.positive[a * n + j] = 1 } else { masks.negative[a * n + j] = 1 }
            }
        }
        return masks
    }

    /// Selected positive pairs (ordered: (a, j) and (j, a) count twice).
    public var positivePairs: Int { positive.reduce(0) { $1 != 0 ? $0 + 1 : $0 } }
    /// Selected negative pairs (ordered).
    public var negativePairs: Int { negative.reduce(0) { $1 != 0 ? $0 + 1 : $0 } }

    /// Whether row `a` has at least one selected entry in `mask`.
    static func rowHasAny(_ mask: [Float], _ a: Int, _ n: Int) -> Bool {
        (0..<n).contains { mask[a * n + $0] != 0 }
    }
}
