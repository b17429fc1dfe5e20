/// Error rates per group at one global threshold, and whether the differences look like bias.
///
/// The rule for the flag, applied to FAR and FRR separately: a pair of groups (a, b) is flagged when
/// **both**
/// 1. the point gap `rate(a) − rate(b)` exceeds the user's tolerance, and
/// 2. their 95% Wilson intervals do not overlap (`lower(a) > upper(b)`).
///
/// Condition 2 is what keeps a small group's noise from being called bias: two non-overlapping 95%
/// intervals correspond to a difference significant well beyond the 5% level, so a flag is
/// conservative. A gap over the tolerance whose intervals overlap is reported as *inconclusive*:
/// more data for those groups is needed to tell. Groups without impostor pairs have no FAR (and
/// without genuine pairs no FRR) and take no part in that rate's comparison.
public struct GroupAudit: Sendable, Equatable {
    /// One group's counts and rates.
    public struct Row: Sendable, Equatable {
        public let group: String
        public let counts: ConfusionCounts
        public var far: Double? { counts.far }
        public var frr: Double? { counts.frr }
        public let farInterval: ConfidenceInterval?
        public let frrInterval: ConfidenceInterval?
    }

    /// Verdict for one rate.
    public enum Status: String, Sendable, Codable {
        /// No gap above the tolerance.
        case ok
        /// A gap above the tolerance whose intervals overlap: could be noise.
        case inconclusive
        /// A gap above the tolerance with non-overlapping intervals.
        case flagged
    }

    /// Two groups compared: the one with the higher rate first.
    public struct GroupPair: Sendable, Equatable {
        public let high: String
        public let low: String
    }

    /// The largest gap for one rate and the verdict.
    public struct Gap: Sendable, Equatable {
        /// `"far"` or `"frr"`.
        public let metric: String
        /// Largest point difference between any two groups (0 with fewer than two comparable groups).
        public let largest: Double
        /// The groups with the highest and lowest rate.
        public let highestGroup: String?
        public let lowestGroup: String?
        public let status: Status
        /// The flagged pair with the largest gap (when `status == .flagged`).
        public let flaggedPair: GroupPair?
    }

    public let threshold: Double
    public let tolerance: Double
    /// Interval level used for the Wilson intervals.
    public let level: Double
    /// Rows in the order groups first appear in the data.
    public let rows: [Row]
    public let farGap: Gap
    public let frrGap: Gap

    /// Whether either rate is flagged.
    public var flagged: Bool { farGap.status == .flagged || frrGap.status == .flagged }

    /// Audits `pairs` (which must carry groups) at `threshold` with the given direction.
    public init(pairs: ScoredPairs, threshold: Double, direction: ScoreDirection, tolerance: Double, level: Double = 0.95) throws(EvaluationError) {
        guard let groupIndices = pairs.groupIndices else { throw EvaluationError("the pairs have no group column to audit") }
        guard pairs.count > 0 else { throw EvaluationError.empty("scored pairs") }
        guard tolerance >= 0, tolerance.isFinite else { throw EvaluationError("the tolerance must be a non-negative number, got \(tolerance)") }
        let g = pairs.groupNames.count
        var tp = [Int](repeating: 0, count: g), fp = tp, tn = tp, fn = tp
        for i in 0..<pairs.count {
            let k = Int(groupIndices[i])
            let accepted = direction.isSame(score: pairs.scores[i], threshold: threshold)
            switch (pairs.labels[i], accepted) {
            case (true, true): tp[k] += 1
            case (true, false): fn[k] += 1
            case (false, true): fp[k] += 1
            case (false, false): tn[k] += 1
            }
        }
        var rows = [Row]()
        for k in 0..<g {
            let c = ConfusionCounts(truePositives: tp[k], falsePositives: fp[k], trueNegatives: tn[k], falseNegatives: fn[k])
            rows.append(Row(group: pairs.groupNames[k], counts: c,
                            farInterval: ProportionInterval.wilson(successes: c.falsePositives, trials: c.impostor, level: level),
                            frrInterval: ProportionInterval.wilson(successes: c.falseNegatives, trials: c.genuine, level: level)))
        }
        self.threshold = threshold
        self.tolerance = tolerance
        self.level = level
        self.rows = rows
        self.farGap = Self.gap("far", rows.compactMap { r in r.far.map { (r.group, $0, r.farInterval!) } }, tolerance: tolerance)
        self.frrGap = Self.gap("frr", rows.compactMap { r in r.frr.map { (r.group, $0, r.frrInterval!) } }, tolerance: tolerance)
    }

    private static func gap(_ metric: String, _ entries: [(String, Double, ConfidenceInterval)], tolerance: Double) -> Gap {
        guard entries.count >= 2 else {
            return Gap(metric: metric, largest: 0, highestGroup: entries.first?.0, lowestGroup: entries.first?.0, status: .ok, flaggedPair: nil)
        }
        let high = entries.max { $0.1 < $1.1 }!, low = entries.min { $0.1 < $1.1 }!
        let largest = high.1 - low.1
        var best: (String, String, Double)? = nil
        for a in entries {
            for b in entries where a.1 - b.1 > tolerance && a.2.lower > b.2.upper {
                if best == nil || a.1 - b.1 > best!.2 { best = (a.0, b.0, a.1 - b.1) }
            }
        }
        let status: Status = best != nil ? .flagged : (largest > tolerance ? .inconclusive : .ok)
        return Gap(metric: metric, largest: largest, highestGroup: high.0, lowestGroup: low.0, status: status,
                   flaggedPair: best.map { GroupPair(high: $0.0, low: $0.1) })
    }
}
