extension VerificationReport {
    /// A few aligned lines for a terminal: the headline metrics, the threshold in use with its
    /// intervals, the audit verdict and any warnings.
    public var textSummary: String {
        let c = operatingPoint.counts
        var lines = [String]()
        lines.append("pairs       \(pairCount) (\(genuineCount) same, \(impostorCount) different), \((options.calibration?.scoreDirection ?? options.direction).rawValue)")
        lines.append("AUC         \(Format.number(auc))")
        lines.append("EER         \(Format.percent(eer.rate)) (nearest threshold \(Format.number(eer.threshold)): FAR \(Format.percent(eer.counts.far)), FRR \(Format.percent(eer.counts.frr)))")
        let source = thresholdSource == "calibration" ? "calibration \(options.calibrationSource ?? ""), \(operatingPoint.rule)" : "\(operatingPoint.rule)"
        lines.append("threshold   \(Format.number(operatingPoint.threshold)) (\(source))")
        lines.append("  FAR       \(Format.percent(c.far))  95% CI \(Format.interval(farBootstrap)) bootstrap, \(Format.interval(farWilson)) Wilson  (\(c.falsePositives)/\(c.impostor))")
        lines.append("  FRR       \(Format.percent(c.frr))  95% CI \(Format.interval(frrBootstrap)) bootstrap, \(Format.interval(frrWilson)) Wilson  (\(c.falseNegatives)/\(c.genuine))")
        lines.append("  accuracy  \(Format.percent(c.accuracy))  precision \(Format.percent(c.precision))  recall \(Format.percent(c.recall))  F1 \(Format.number(c.f1))  MCC \(Format.number(c.mcc))")
        if let audit {
            let small = audit.rows.filter(\.small).count
            lines.append("groups      \(audit.rows.count) in '\(options.groupColumn ?? "group")', tolerance \(Format.percent(audit.tolerance))"
                         + (small > 0 ? "; \(small) with fewer than \(audit.minGroupSize) pairs reported, not compared" : ""))
            for gap in [audit.farGap, audit.frrGap] {
                // The pair named is the pair the verdict is about (the flagged one when flagged).
                let pair = gap.reportedPair.map { "\($0.high) vs \($0.low)" } ?? "-"
                lines.append("  \(gap.metric.uppercased()) gap   \(Format.percent(gap.reportedGap)) (\(pair)): \(gap.status.rawValue)")
            }
            for row in audit.rowsByGap {
                lines.append("  \(row.group): FAR \(Format.percent(row.far)) (\(row.counts.falsePositives)/\(row.counts.impostor)), FRR \(Format.percent(row.frr)) (\(row.counts.falseNegatives)/\(row.counts.genuine))"
                             + (row.small ? ", small: not compared" : ""))
            }
        }
        for w in warnings { lines.append("warning: \(w)") }
        return lines.joined(separator: "\n")
    }
}
