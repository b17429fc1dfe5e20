import Tensors
/// Selection of hard pairs in a batch of labelled pairs, for ``OnlineContrastiveLoss``.
///
/// The rule is sentence-transformers' `OnlineContrastiveLoss`:
/// - a **hard negative** is a different pair (label 0) closer than the farthest same pair
///   (label 1);
/// - a **hard positive** is a same pair farther than the closest different pair.
///
/// When the batch holds no same pair, negatives are compared with the mean negative distance
/// instead (the closer half is hard); with no different pair, positives are compared with the mean
/// positive distance. Comparisons are strict. Labels other than exactly 0 or 1 are ignored.
public enum PairMiner {
    /// Indices into the batch of the selected pairs, in increasing order.
    public struct HardPairs: Equatable, Sendable {
        public var positives: [Int]
        public var negatives: [Int]

        public init(positives: [Int], negatives: [Int]) {
            self.positives = positives
            self.negatives = negatives
        }

        /// Number of selected pairs.
        public var count: Int { positives.count + negatives.count }
    }

    /// The hard pairs among `distances[i]` (smaller = more alike) with `labels[i]`.
    public static func hardPairs(distances: [Float], labels: [Float]) -> HardPairs {
        ensure(distances.count == labels.count,
                     "PairMiner.hardPairs: \(distances.count) distances for \(labels.count) labels")
        let positives = labels.indices.filter { labels[$0] == 1 }
        let negatives = labels.indices.filter { labels[$0] == 0 }
        // Means are accumulated in Double: they are thresholds, and the order of summation should
        // not decide which pairs count.
        func mean(_ idx: [Int]) -> Double { idx.reduce(0.0) { $0 + Double(distances[$1]) } / Double(idx.count) }
        var result = HardPairs(positives: [], negatives: [])
        if !negatives.isEmpty {
            let threshold = positives.isEmpty ? mean(negatives) : Double(positives.map { distances[$0] }.max()!)
            result.negatives = negatives.filter { Double(distances[$0]) < threshold }
        }
        if !positives.isEmpty {
            let threshold = negatives.isEmpty ? mean(positives) : Double(negatives.map { distances[$0] }.min()!)
            result.positives = positives.filter { Double(distances[$0]) > threshold }
        }
        return result
    }
}
