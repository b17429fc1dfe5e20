/// Everything `siamese evaluate` reports about scored pairs, computed once and rendered as text,
/// JSON and HTML from the same values.
public struct VerificationReport: Sendable {
    /// Settings for ``evaluate(_:options:)``.
    public struct Options: Sendable {
        /// Which way the scores point (ignored when ``calibration`` is set: its direction is used).
        public var direction: ScoreDirection
        /// How to choose the reported threshold; ignored when ``calibration`` is set.
        public var rule: ThresholdRule
        /// A saved calibration whose threshold (and direction) to use instead of choosing one.
        public var calibration: CalibrationRecord?
        /// Where the calibration came from, for the report.
        public var calibrationSource: String?
        /// Replicates, level and seed of the bootstrap intervals; the level also sets the Wilson intervals'.
        public var bootstrap: BootstrapOptions
        /// Largest per-group gap in FAR or FRR the user accepts (see ``GroupAudit``).
        public var groupTolerance: Double
        /// Groups with fewer pairs are reported but not compared (see ``GroupAudit``).
        public var minGroupSize: Int
        /// Number of equal-width bins of the score histogram.
        public var histogramBins: Int
        /// Upper bound on the points kept for the plotted ROC/DET curves.
        public var curvePoints: Int
        /// The input's name, shown in the report.
        public var source: String
        /// The group column's name, shown in the report.
        public var groupColumn: String?

        /// Creates report settings.
        /// - Parameters:
        ///   - direction: Which way the scores point (default higher is same).
        ///   - rule: How to choose the threshold (default the equal-error rate).
        ///   - calibration: A saved calibration to use instead of `rule` (default nil).
        ///   - calibrationSource: Where `calibration` came from, for the report (default nil).
        ///   - bootstrap: Bootstrap settings for the FAR/FRR intervals (default 1000 replicates, 95%, seed 42).
        ///   - groupTolerance: Largest accepted per-group gap in FAR or FRR, as a rate (default 0.01).
        ///   - histogramBins: Number of histogram bins (default 40).
        ///   - curvePoints: Most points kept for the plotted ROC/DET curves (default 600).
        ///   - source: The input's name, shown in the report (default "scored pairs").
        ///   - groupColumn: The group column's name, shown in the report (default nil).
        ///   - minGroupSize: Groups with fewer pairs are reported but not compared (default 0: all compared).
        public init(direction: ScoreDirection = .higherIsSame, rule: ThresholdRule = .equalErrorRate, calibration: CalibrationRecord? = nil,
                    calibrationSource: String? = nil, bootstrap: BootstrapOptions = BootstrapOptions(), groupTolerance: Double = 0.01,
                    histogramBins: Int = 40, curvePoints: Int = 600, source: String = "scored pairs", groupColumn: String? = nil,
                    minGroupSize: Int = 0) {
            self.direction = direction
            self.rule = rule
            self.calibration = calibration
            self.calibrationSource = calibrationSource
            self.bootstrap = bootstrap
            self.groupTolerance = groupTolerance
            self.minGroupSize = minGroupSize
            self.histogramBins = histogramBins
            self.curvePoints = curvePoints
            self.source = source
            self.groupColumn = groupColumn
        }
    }

    /// Genuine and impostor counts per score bin; bins are equal-width over the observed range.
    public struct Histogram: Sendable, Equatable {
        /// `bins + 1` edges, ascending.
        public let edges: [Double]
        /// Genuine pairs per bin.
        public let genuine: [Int]
        /// Impostor pairs per bin.
        public let impostor: [Int]
    }

    /// The settings the report was computed with.
    public let options: Options
    /// Number of scored pairs.
    public let pairCount: Int
    /// Number of genuine (same) pairs.
    public let genuineCount: Int
    /// Number of impostor (different) pairs.
    public let impostorCount: Int
    /// Number of distinct score values (the full ROC has one point per distinct score).
    public let distinctScores: Int
    /// Area under the ROC curve, in [0, 1] (ties counted half).
    public let auc: Double
    /// Average precision of the "same" class (area under the precision–recall steps).
    public let averagePrecision: Double
    /// The equal-error rate and its threshold.
    public let eer: EqualErrorRate
    /// The threshold in use and its counts.
    public let operatingPoint: OperatingPoint
    /// `"rule"` or `"calibration"`.
    public let thresholdSource: String
    /// Bootstrap interval for the FAR at the operating point; nil without impostor pairs.
    public let farBootstrap: ConfidenceInterval?
    /// Bootstrap interval for the FRR at the operating point; nil without genuine pairs.
    public let frrBootstrap: ConfidenceInterval?
    /// Wilson interval for the FAR at the operating point; still informative when no false accept occurred.
    public let farWilson: ConfidenceInterval?
    /// Wilson interval for the FRR at the operating point; still informative when no false reject occurred.
    public let frrWilson: ConfidenceInterval?
    /// Per-group rates and bias verdict, when the pairs carry groups; nil otherwise.
    public let audit: GroupAudit?
    /// Downsampled ROC for plots (the full curve has one point per distinct score).
    public let roc: ROCCurve
    /// Genuine and impostor score histogram.
    public let histogram: Histogram
    /// `sha256:` fingerprint of the scored pairs (see ``ScoredPairs/fingerprint()``).
    public let fingerprint: String
    /// Statements a reader must see next to the numbers (too few impostors for the target, …).
    public let warnings: [String]

    /// Computes the report. Throws ``EvaluationError`` for empty or single-class input and
    /// ``ThresholdUnreachable`` when the rule cannot be met.
    public static func evaluate(_ pairs: ScoredPairs, options: Options) throws -> VerificationReport {
        let direction = options.calibration?.scoreDirection ?? options.direction
        let curve = try VerificationCurve(pairs, direction: direction)
        let range = curve.scoreRange
        // Plots and bins need the span of the scores as a number: ±1e308 are finite, their span is not.
        guard (range.upperBound - range.lowerBound).isFinite else {
            throw EvaluationError("the scores span \(range.lowerBound) to \(range.upperBound), a range wider than a Double can hold; rescale the scores (e.g. divide them by 1e10)")
        }
        let point: OperatingPoint
        if let calibration = options.calibration {
            point = OperatingPoint(threshold: calibration.threshold, rule: calibration.rule, counts: curve.counts(at: calibration.threshold))
        } else {
            point = try curve.select(options.rule)
        }
        let c = point.counts
        var warnings = [String]()
        if let calibration = options.calibration, calibration.scoreDirection != options.direction {
            warnings.append("the calibration says scores are \(calibration.scoreDirection.rawValue.replacingOccurrences(of: "_", with: " ")); that direction was used")
        }
        if case .targetFAR(let target) = point.rule, target * Double(curve.impostorCount) < 3 {
            warnings.append("only \(curve.impostorCount) different pairs: a FAR of \(target) cannot be estimated reliably (with zero errors the 95% upper bound is about 3/\(curve.impostorCount) = \(3 / Double(curve.impostorCount)))")
        }
        if c.falsePositives == 0 || c.falseNegatives == 0 {
            warnings.append("the bootstrap interval of a rate with no errors is [0, 0]; see the Wilson interval for an honest upper bound")
        }
        var audit: GroupAudit? = nil
        if pairs.groupIndices != nil {
            audit = try GroupAudit(pairs: pairs, threshold: point.threshold, direction: direction, tolerance: options.groupTolerance,
                                   minGroupSize: options.minGroupSize, level: options.bootstrap.level)
        }
        return VerificationReport(
            options: options, pairCount: pairs.count, genuineCount: curve.genuineCount, impostorCount: curve.impostorCount,
            distinctScores: curve.distinctScoreCount, auc: curve.auc(), averagePrecision: curve.averagePrecision(), eer: curve.equalErrorRate(), operatingPoint: point,
            thresholdSource: options.calibration == nil ? "rule" : "calibration",
            farBootstrap: Bootstrap.rateInterval(errors: c.falsePositives, trials: c.impostor, options: options.bootstrap, stream: 1),
            frrBootstrap: Bootstrap.rateInterval(errors: c.falseNegatives, trials: c.genuine, options: options.bootstrap, stream: 2),
            farWilson: ProportionInterval.wilson(successes: c.falsePositives, trials: c.impostor, level: options.bootstrap.level),
            frrWilson: ProportionInterval.wilson(successes: c.falseNegatives, trials: c.genuine, level: options.bootstrap.level),
            audit: audit, roc: curve.downsampledROC(maxPoints: options.curvePoints),
            histogram: histogram(pairs, range: curve.scoreRange, bins: options.histogramBins, threshold: point.threshold, direction: direction),
            fingerprint: pairs.fingerprint(), warnings: warnings)
    }

    /// Equal-width bins over the observed scores. When the threshold lies inside the range, the bins
    /// are shifted so that it falls on an edge and every bar is wholly on the accepted or the rejected
    /// side: a bar straddling the threshold line would misstate which pairs it accepts.
    static func histogram(_ pairs: ScoredPairs, range: ClosedRange<Double>, bins: Int, threshold: Double,
                          direction: ScoreDirection) -> Histogram {
        var bins = max(1, bins)
        var lo = range.lowerBound, hi = range.upperBound
        if hi <= lo { lo -= 0.5; hi += 0.5 }
        // A span too narrow to divide (subnormal) gets bins of the smallest width that is not 0.
        let width = max((hi - lo) / Double(bins), Double.leastNormalMagnitude)
        /// Bins from `lo` to `x`, clamped to `0...limit` (never converts an infinite or NaN value).
        func binsTo(_ x: Double, _ rounding: FloatingPointRoundingRule, limit: Int) -> Int {
            let n = ((x - lo) / width).rounded(rounding)
            return n.isNaN || n <= 0 ? 0 : n >= Double(limit) ? limit : Int(n)
        }
        var edgeIndex: Int? = nil
        if threshold > lo, threshold <= hi {
            let below = binsTo(threshold, .up, limit: bins)
            lo = threshold - Double(below) * width
            bins = binsTo(hi, .down, limit: bins + 1) + 1
            edgeIndex = below
        }
        var g = [Int](repeating: 0, count: bins), im = g
        for i in 0..<pairs.count {
            let s = pairs.scores[i]
            var b = binsTo(s, .down, limit: bins - 1)
            if let k = edgeIndex {
                // Rounding must not move a score across the threshold edge.
                if direction.isSame(score: s, threshold: threshold) == (direction == .higherIsSame) { b = max(b, k) } else { b = min(b, k - 1) }
            }
            if pairs.labels[i] { g[b] += 1 } else { im[b] += 1 }
        }
        return Histogram(edges: (0...bins).map { lo + Double($0) * width }, genuine: g, impostor: im)
    }

    /// The numbers as JSON: `auc`, `eer`, `eer_threshold`, the threshold with its metrics and
    /// intervals, `groups` keyed by group name (each with `far` and `frr` at the threshold), the
    /// audit verdict, and the plotted curves.
    public var json: JSONValue {
        let c = operatingPoint.counts
        var top: [(String, JSONValue)] = [
            ("input", .object([
                ("source", .string(options.source)), ("pairs", .int(pairCount)), ("genuine", .int(genuineCount)),
                ("impostor", .int(impostorCount)), ("distinct_scores", .int(distinctScores)), ("fingerprint", .string(fingerprint)),
            ])),
            ("score_direction", .string((options.calibration?.scoreDirection ?? options.direction).rawValue)),
            ("auc", .number(auc)),
            ("average_precision", .number(averagePrecision)),
            ("eer", .number(eer.rate)),
            ("eer_threshold", .number(eer.threshold)),
            ("eer_operating_point", .object([("far", .optional(eer.counts.far)), ("frr", .optional(eer.counts.frr))])),
            ("threshold", .number(operatingPoint.threshold)),
            ("threshold_rule", operatingPoint.rule.json),
            ("threshold_source", .string(thresholdSource)),
            ("calibration_file", options.calibrationSource.map { .string($0) } ?? .null),
            ("far", .optional(c.far)),
            ("frr", .optional(c.frr)),
            ("at_threshold", c.json),
            ("intervals", .object([
                ("far_bootstrap", farBootstrap.json), ("frr_bootstrap", frrBootstrap.json),
                ("far_wilson", farWilson.json), ("frr_wilson", frrWilson.json),
                ("bootstrap_replicates", .int(options.bootstrap.replicates)), ("bootstrap_seed", .int(Int(truncatingIfNeeded: options.bootstrap.seed))),
            ])),
        ]
        if let audit {
            top.append(("groups", .object(audit.rows.map { row in
                (row.group, .object([
                    ("far", .optional(row.far)), ("frr", .optional(row.frr)),
                    ("far_interval", row.farInterval.json), ("frr_interval", row.frrInterval.json),
                    ("genuine", .int(row.counts.genuine)), ("impostor", .int(row.counts.impostor)), ("small", .bool(row.small)),
                    ("false_accepts", .int(row.counts.falsePositives)), ("false_rejects", .int(row.counts.falseNegatives)),
                ]))
            })))
            func gap(_ g: GroupAudit.Gap) -> JSONValue {
                .object([
                    ("largest_gap", .number(g.largest)), ("highest_group", g.highestGroup.map { .string($0) } ?? .null),
                    ("lowest_group", g.lowestGroup.map { .string($0) } ?? .null), ("status", .string(g.status.rawValue)),
                    ("flagged_pair", g.flaggedPair.map { .array([.string($0.high), .string($0.low)]) } ?? .null),
                    ("flagged_gap", g.flaggedGap.map { .number($0) } ?? .null),
                ])
            }
            top.append(("group_audit", .object([
                ("column", options.groupColumn.map { .string($0) } ?? .null), ("tolerance", .number(audit.tolerance)),
                ("min_group_size", .int(audit.minGroupSize)),
                ("interval", .string("wilson")), ("level", .number(audit.level)),
                ("rule", .string("flagged when the gap exceeds the tolerance and the two groups' intervals do not overlap; inconclusive when the gap exceeds the tolerance but the intervals overlap")),
                ("far", gap(audit.farGap)), ("frr", gap(audit.frrGap)), ("flagged", .bool(audit.flagged)),
            ])))
        }
        top.append(("roc", .object([
            ("downsampled", .bool(roc.far.count < distinctScores + 1)),
            ("far", .array(roc.far.map { .number($0) })), ("tar", .array(roc.tar.map { .number($0) })),
            // FAR against FRR is the DET curve the report draws.
            ("frr", .array(roc.frr.map { .number($0) })),
            ("thresholds", .array(roc.thresholds.map { .optional($0) })),
        ])))
        top.append(("histogram", .object([
            ("edges", .array(histogram.edges.map { .number($0) })),
            ("genuine", .array(histogram.genuine.map { .int($0) })), ("impostor", .array(histogram.impostor.map { .int($0) })),
        ])))
        top.append(("warnings", .array(warnings.map { .string($0) })))
        return .object(top)
    }
}
