/// Genuine and impostor scores sorted once, from which every verification metric is read.
///
/// Scores are stored on an "oriented" axis where higher always means same (distances are negated,
/// which is exact), each class in its own ascending array. Sorting the two classes separately needs
/// no index array; counting at any threshold is then a binary search and walking every distinct
/// threshold is one merge pass, so ten million pairs cost two sorts and a few linear passes, with
/// no per-threshold arrays unless a caller asks for the full curve.
public struct VerificationCurve: Sendable {
    /// How the original scores point.
    public let direction: ScoreDirection
    /// Oriented genuine scores, ascending.
    let genuine: [Double]
    /// Oriented impostor scores, ascending.
    let impostor: [Double]

    /// Sorts the scores of `pairs`; throws on empty input or when only one class is present.
    /// - Parameters:
    ///   - pairs: The scored pairs (groups are ignored).
    ///   - direction: Which way the scores point.
    public init(_ pairs: ScoredPairs, direction: ScoreDirection) throws(EvaluationError) {
        try self.init(scores: pairs.scores, labels: pairs.labels, direction: direction)
    }

    /// Sorts `scores` by label; throws on empty input, a single class, or non-finite scores.
    /// - Parameters:
    ///   - scores: One score per pair, in original units.
    ///   - labels: `true` for a same pair; same length as `scores`.
    ///   - direction: Which way the scores point; distances are negated so higher always means same.
    public init(scores: [Double], labels: [Bool], direction: ScoreDirection) throws(EvaluationError) {
        guard scores.count == labels.count else { throw EvaluationError("\(scores.count) scores but \(labels.count) labels") }
        guard !scores.isEmpty else { throw EvaluationError.empty("scored pairs") }
        let positives = labels.reduce(0) { $0 + ($1 ? 1 : 0) }
        guard positives > 0, positives < scores.count else {
            throw EvaluationError.singleClass(genuine: positives, impostor: scores.count - positives)
        }
        var g = [Double](), i = [Double]()
        g.reserveCapacity(positives)
        i.reserveCapacity(scores.count - positives)
        for k in scores.indices {
            let s = scores[k]
            guard s.isFinite else { throw EvaluationError("score \(k) is \(s): scores must be finite numbers") }
            // Adding 0.0 turns -0.0 into 0.0, so a negated zero ties with zero everywhere.
            let o = direction.oriented(s) + 0.0
            if labels[k] { g.append(o) } else { i.append(o) }
        }
        FastSort.sortAscending(&g)
        FastSort.sortAscending(&i)
        self.direction = direction
        self.genuine = g
        self.impostor = i
    }

    /// Number of genuine (same) pairs.
    public var genuineCount: Int { genuine.count }
    /// Number of impostor (different) pairs.
    public var impostorCount: Int { impostor.count }

    /// Lowest and highest score, in original units.
    public var scoreRange: ClosedRange<Double> {
        let lo = min(genuine[0], impostor[0]), hi = max(genuine[genuine.count - 1], impostor[impostor.count - 1])
        return direction == .higherIsSame ? lo...hi : (-hi)...(-lo)
    }

    /// Converts between oriented and original units (negation is its own inverse).
    @inline(__always) func original(_ oriented: Double) -> Double { direction == .higherIsSame ? oriented : -oriented }

    /// The confusion counts when pairs are accepted by `direction`'s rule at `threshold` (original units).
    public func counts(at threshold: Double) -> ConfusionCounts {
        let v = direction.oriented(threshold)
        let tp = genuine.count - Self.lowerBound(genuine, v)
        let fp = impostor.count - Self.lowerBound(impostor, v)
        return ConfusionCounts(truePositives: tp, falsePositives: fp, trueNegatives: impostor.count - fp, falseNegatives: genuine.count - tp)
    }

    /// First index whose value is ≥ v.
    static func lowerBound(_ a: [Double], _ v: Double) -> Int {
        var lo = 0, hi = a.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if a[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Calls `body(orientedThreshold, falsePositives, truePositives)` for every distinct score, from
    /// the highest oriented score down: the operating point "accept when oriented score ≥ threshold".
    /// Tied scores form one point, which is what makes the curve exact under ties.
    @inline(__always)
    func forEachOperatingPoint(_ body: (Double, Int, Int) -> Void) {
        genuine.withUnsafeBufferPointer { g in
            impostor.withUnsafeBufferPointer { im in
                var gi = g.count - 1, ii = im.count - 1
                var tp = 0, fp = 0
                while gi >= 0 || ii >= 0 {
                    let v: Double
                    if gi < 0 { v = im[ii] } else if ii < 0 { v = g[gi] } else { v = max(g[gi], im[ii]) }
                    while gi >= 0 && g[gi] == v { tp += 1; gi -= 1 }
                    while ii >= 0 && im[ii] == v { fp += 1; ii -= 1 }
                    body(v, fp, tp)
                }
            }
        }
    }

    /// Number of distinct scores, i.e. of operating points on the full ROC curve after its origin.
    public var distinctScoreCount: Int {
        var n = 0
        forEachOperatingPoint { _, _, _ in n += 1 }
        return n
    }
}
