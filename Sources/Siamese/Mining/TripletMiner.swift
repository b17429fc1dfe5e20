import Tensors

/// One triplet of batch indices: `anchor` and `positive` share a label, `negative` has another.
public struct Triplet: Hashable, Sendable, CustomStringConvertible {
    public var anchor: Int
    public var positive: Int
    public var negative: Int

    public init(anchor: Int, positive: Int, negative: Int) {
        self.anchor = anchor
        self.positive = positive
        self.negative = negative
    }

    public var description: String { "(\(anchor), \(positive), \(negative))" }
}

/// How triplets are formed from a labelled batch.
public enum TripletMiningStrategy: String, Sendable, Codable, CaseIterable {
    /// Every valid triplet; the loss averages over those that violate the margin
    /// (Hermans, Beyer & Leibe 2017, "batch all").
    case batchAll = "batch-all"
    /// Per anchor, its farthest positive and its closest negative (Hermans, Beyer & Leibe,
    /// "In Defense of the Triplet Loss for Person Re-Identification", 2017).
    case batchHard = "batch-hard"
    /// Per anchor–positive pair, the closest negative that is still farther than the positive
    /// (Schroff et al., "FaceNet", 2015), with TF-addons' fallback to the farthest negative.
    case semiHard = "semi-hard"
}

/// Triplets mined from a matrix of pairwise distances and class labels.
///
/// Every function reads `distances` as an `[n, n]` matrix where smaller means more alike
/// (entry [i, j] is d(i, j); only rows are read, so it need not be symmetric) and takes one `Int`
/// label per row. A triplet is **valid** when anchor ≠ positive, label(anchor) = label(positive)
/// and label(negative) ≠ label(anchor). Selections are made on the values only (they are constant
/// for autodiff); the loss then gathers the chosen entries from the differentiable matrix.
///
/// Ties go to the lowest index, so mining is deterministic.
public enum TripletMiner {
    /// The number of valid triplets: Σ over anchors of (same-class count − 1) · (other-class count).
    public static func validTripletCount(labels: [Int]) -> Int {
        var classSize: [Int: Int] = [:]
        for l in labels { classSize[l, default: 0] += 1 }
        return labels.reduce(0) { total, l in
            let same = classSize[l]!
            return total + (same - 1) * (labels.count - same)
        }
    }

    /// Every valid triplet, ordered by anchor, then positive, then negative.
    public static func allTriplets(labels: [Int]) -> [Triplet] {
        var result: [Triplet] = []
        for a in labels.indices {
            for p in labels.indices where p != a && labels[p] == labels[a] {
                for n in labels.indices where labels[n] != labels[a] {
                    result.append(Triplet(anchor: a, positive: p, negative: n))
                }
            }
        }
        return result
    }

    /// Batch all: the valid triplets whose loss d(a, p) − d(a, n) + margin is positive, in the
    /// order of ``allTriplets(labels:)``.
    public static func batchAll(distances: Tensor, labels: [Int], margin: Float) -> [Triplet] {
        let n = checkedSize(distances, labels, op: "TripletMiner.batchAll")
        return distances.withUnsafeBufferPointer { d in
            var result: [Triplet] = []
            for a in 0..<n {
                let row = a * n
                for p in 0..<n where p != a && labels[p] == labels[a] {
                    let dap = d[row + p]
                    // Same operation order as the loss's `dap − dan + margin`, so that the count
                    // of active triplets is exactly the number of positive terms.
                    for k in 0..<n where labels[k] != labels[a] && dap - d[row + k] + margin > 0 {
                        result.append(Triplet(anchor: a, positive: p, negative: k))
                    }
                }
            }
            return result
        }
    }

    /// Batch hard: for every anchor that has a positive and a negative, the farthest positive and
    /// the closest negative. One triplet per such anchor, in anchor order.
    public static func batchHard(distances: Tensor, labels: [Int]) -> [Triplet] {
        let n = checkedSize(distances, labels, op: "TripletMiner.batchHard")
        return distances.withUnsafeBufferPointer { d in
            var result: [Triplet] = []
            for a in 0..<n {
                let row = a * n
                var hardestPositive = -1, hardestNegative = -1
                for j in 0..<n where j != a {
                    if labels[j] == labels[a] {
                        if hardestPositive < 0 || d[row + j] > d[row + hardestPositive] { hardestPositive = j }
                    } else {
                        if hardestNegative < 0 || d[row + j] < d[row + hardestNegative] { hardestNegative = j }
                    }
                }
                if hardestPositive >= 0 && hardestNegative >= 0 {
                    result.append(Triplet(anchor: a, positive: hardestPositive, negative: hardestNegative))
                }
            }
            return result
        }
    }

    /// Semi-hard: for every anchor–positive pair whose anchor has a negative, the closest negative
    /// that is strictly farther than the positive, d(a, n) > d(a, p) — FaceNet's semi-hard
    /// negative; it violates the margin exactly when d(a, n) < d(a, p) + margin, otherwise its loss
    /// is zero. When every negative is at least as close as the positive, the farthest negative is
    /// taken instead, as TF-addons' `triplet_semihard_loss` and sentence-transformers'
    /// `BatchSemiHardTripletLoss` do. One triplet per pair, ordered by anchor, then positive.
    public static func semiHard(distances: Tensor, labels: [Int]) -> [Triplet] {
        let n = checkedSize(distances, labels, op: "TripletMiner.semiHard")
        return distances.withUnsafeBufferPointer { d in
            var result: [Triplet] = []
            for a in 0..<n {
                let row = a * n
                let negatives = (0..<n).filter { labels[$0] != labels[a] }
                guard let first = negatives.first else { continue }
                // The farthest negative is the fallback for every positive of this anchor.
                var farthest = first
                for k in negatives where d[row + k] > d[row + farthest] { farthest = k }
                for p in 0..<n where p != a && labels[p] == labels[a] {
                    let dap = d[row + p]
                    var chosen = -1
                    for k in negatives where d[row + k] > dap && (chosen < 0 || d[row + k] < d[row + chosen]) { chosen = k }
                    result.append(Triplet(anchor: a, positive: p, negative: chosen >= 0 ? chosen : farthest))
                }
            }
            return result
        }
    }

    /// Triplets for `strategy`, with the count of valid candidates the strategy chose from (see
    /// ``TripletLossResult/validTriplets``).
    public static func mine(_ strategy: TripletMiningStrategy, distances: Tensor, labels: [Int], margin: Float)
        -> (triplets: [Triplet], valid: Int) {
        switch strategy {
        case .batchAll:
            return (batchAll(distances: distances, labels: labels, margin: margin), validTripletCount(labels: labels))
        case .batchHard:
            let t = batchHard(distances: distances, labels: labels)
            return (t, t.count)
        case .semiHard:
            let t = semiHard(distances: distances, labels: labels)
            return (t, t.count)
        }
    }

    private static func checkedSize(_ distances: Tensor, _ labels: [Int], op: String) -> Int {
        ensure(distances.rank == 2 && distances.shape[0] == distances.shape[1],
                     "\(op): needs an [n, n] distance matrix, got \(distances.shape)")
        ensure(labels.count == distances.shape[0], "\(op): \(labels.count) labels for \(distances.shape[0]) rows")
        return labels.count
    }
}
