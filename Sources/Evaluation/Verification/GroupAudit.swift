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
/// without genuine pairs no FRR) and take no part in that rate's comparison; nor do groups with
/// fewer than `minGroupSize` pairs, which are reported but never flagged.
public struct GroupAudit: Sendable, Equatable {
    /// One group's counts and rates.
    public struct Row: Sendable, Equatable {
        /// The group's value in the group column.
        public let group: String
        /// The group's confusion counts at the audit's threshold.
        public let counts: ConfusionCounts
        /// The group's false-accept rate; nil without impostor pairs.
        public var far: Double? { counts.far }
        /// The group's false-reject rate; nil without genuine pairs.
        public var frr: Double? { counts.frr }
        /// Wilson interval for ``far`` at the audit's level; nil without impostor pairs.
        public let farInterval: ConfidenceInterval?
        /// Wilson interval for ``frr`` at the audit's level; nil without genuine pairs.
        public let frrInterval: ConfidenceInterval?
        /// Fewer pairs than the audit's minimum group size: reported, left out of the comparison.
        public let small: Bool
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
        /// The group with the higher rate.
        public let high: String
        /// The group with the lower rate.
        public let low: String

        /// A pair of groups.
        ///
        /// - Parameters:
        ///   - high: the group with the higher rate.
        ///   - low: the group with the lower rate.
        public init(high: String, low: String) {
            self.high = high
            self.low = low
        }
    }

    /// The largest gap for one rate and the verdict.
    public struct Gap: Sendable, Equatable {
        /// `"far"` or `"frr"`.
        public let metric: String
        /// Largest point difference between any two groups (0 with fewer than two comparable groups).
        public let largest: Double
        /// The groups with the highest and lowest rate.
        public let highestGroup: String?
        /// The group with the lowest rate (nil with no comparable group).
        public let lowestGroup: String?
        /// The verdict for this rate.
        public let status: Status
        /// The flagged pair with the largest gap (when `status == .flagged`).
        public let flaggedPair: GroupPair?
        /// The gap a summary reports: the flagged pair's when a pair is flagged, else the largest.
        public var reportedGap: Double { flaggedGap ?? largest }
        /// The pair a summary names with ``reportedGap``: the flagged pair, else highest vs lowest.
        public var reportedPair: GroupPair? {
            flaggedPair ?? highestGroup.flatMap { h in lowestGroup.map { GroupPair(high: h, low: $0) } }
        }
        /// The flagged pair's own gap.
        public let flaggedGap: Double?
    }

    /// The global threshold all groups are measured at, in score units.
    public let threshold: Double
    /// Largest gap in a rate between two groups accepted before it can be flagged.
    public let tolerance: Double
    /// Groups with fewer pairs than this are reported but take no part in the comparison.
    public let minGroupSize: Int
    /// Interval level used for the Wilson intervals.
    public let level: Double
    /// Rows in the order groups first appear in the data.
    public let rows: [Row]
    /// The largest FAR gap and its verdict.
    public let farGap: Gap
    /// The largest FRR gap and its verdict.
    public let frrGap: Gap

    /// Whether either rate is flagged.
    public var flagged: Bool { farGap.status == .flagged || frrGap.status == .flagged }

    /// The rows, the group furthest from the best group first (the larger of its FAR and FRR
    /// distance to the lowest rate among the compared groups); small groups last, then by name.
    public var rowsByGap: [Row] {
        let compared = rows.filter { !$0.small }
        let farLow = compared.compactMap(\.far).min() ?? 0, frrLow = compared.compactMap(\.frr).min() ?? 0
        func key(_ r: Row) -> Double { max((r.far ?? farLow) - farLow, (r.frr ?? frrLow) - frrLow) }
        return rows.sorted { a, b in
            if a.small != b.small { return !a.small }
            let (ka, kb) = (key(a), key(b))
            return ka != kb ? ka > kb : a.group < b.group
        }
    }

    /// Audits `pairs` (which must carry groups) at `threshold` with the given direction.
    ///
    /// - Parameters:
    ///   - pairs: scored pairs with a group column.
    ///   - threshold: the global threshold the rates are measured at.
    ///   - direction: which way the scores point.
    ///   - tolerance: the largest gap accepted before a pair of groups is flagged.
    ///   - minGroupSize: groups with fewer pairs are reported but not compared (0: all compared).
    ///   - level: the Wilson intervals' level.
    public init(pairs: ScoredPairs, threshold: Double, direction: ScoreDirection, tolerance: Double, minGroupSize: Int = 0,
                level: Double = 0.95) throws(EvaluationError) {
        guard let groupIndices = pairs.groupIndices else { throw EvaluationError("the pairs have no group column to audit") }
        guard pairs.count > 0 else { throw EvaluationError.empty("scored pairs") }
        guard tolerance >= 0, tolerance.isFinite else { throw EvaluationError("the tolerance must be a non-negative number, got \(tolerance)") }
        guard minGroupSize >= 0 else { throw EvaluationError("the minimum group size must not be negative, got \(minGroupSize)") }
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
                            frrInterval: ProportionInterval.wilson(successes: c.falseNegatives, trials: c.genuine, level: level),
                            small: c.genuine + c.impostor < minGroupSize))
        }
        self.threshold = threshold
        self.tolerance = tolerance
        self.minGroupSize = minGroupSize
        self.level = level
        self.rows = rows
        let compared = rows.filter { !$0.small }
        self.farGap = Self.gap("far", compared.compactMap { r in r.far.map { (r.group, $0, r.farInterval!) } }, tolerance: tolerance)
        self.frrGap = Self.gap("frr", compared.compactMap { r in r.frr.map { (r.group, $0, r.frrInterval!) } }, tolerance: tolerance)
    }

    private static func gap(_ metric: String, _ entries: [(String, Double, ConfidenceInterval)], tolerance: Double) -> Gap {
        guard entries.count >= 2 else {
            return Gap(metric: metric, largest: 0, highestGroup: entries.first?.0, lowestGroup: entries.first?.0, status: .ok, flaggedPair: nil, flaggedGap: nil)
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
                   flaggedPair: best.map { GroupPair(high: $0.0, low: $0.1) }, flaggedGap: best?.2)
    }
}
