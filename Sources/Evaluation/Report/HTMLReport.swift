import Foundation

/// Renders a ``VerificationReport`` as one self-contained HTML page: inline CSS and SVG, no
/// scripts and no external resources, so it opens offline and can be attached to a review.
public enum HTMLReport {
    static let genuineColor = "#1b9e77"
    static let impostorColor = "#d95f02"
    static let curveColor = "#3949ab"
    static let thresholdColor = "#c2185b"

    /// The page for `report`, as one HTML string.
    /// - Parameters:
    ///   - report: The report to render.
    ///   - title: The page title, HTML-escaped (default "Siamese verification report").
    public static func render(_ report: VerificationReport, title: String = "Siamese verification report") -> String {
        let c = report.operatingPoint.counts
        let direction = report.options.calibration?.scoreDirection ?? report.options.direction
        var h = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTML.escape(title))</title>
        <style>
        body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #222; margin: 24px auto; max-width: 1120px; padding: 0 16px; }
        h1 { font-size: 24px; margin: 0 0 4px; }
        h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
        .sub { color: #666; margin: 0 0 16px; }
        .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 10px; }
        .card { border: 1px solid #ddd; border-radius: 6px; padding: 10px 12px; background: #fafafa; }
        .card .k { color: #666; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
        .card .v { font-size: 22px; font-weight: 600; }
        .card .ci { color: #666; font-size: 12px; }
        .plots { display: flex; flex-wrap: wrap; gap: 12px; }
        .plot { border: 1px solid #eee; border-radius: 6px; max-width: 100%; height: auto; }
        .plot .grid { stroke: #eee; }
        .plot .tick { font-size: 11px; fill: #555; }
        .plot .axis-label, .plot .plot-title { font-size: 13px; fill: #222; }
        .plot .plot-title { font-weight: 600; }
        .plot .legend, .plot .marker-label { font-size: 12px; }
        .plot .note-text { font-size: 12px; fill: #777; }
        table { border-collapse: collapse; margin: 6px 0 10px; }
        th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: right; }
        th { background: #f3f3f3; }
        td:first-child, th:first-child { text-align: left; }
        tr.flag td { background: #fde8e8; }
        .status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; font-size: 13px; }
        .status.ok { background: #e3f4ea; color: #1b5e20; }
        .status.inconclusive { background: #fff5d6; color: #7a5b00; }
        .status.flagged { background: #fde0e0; color: #b71c1c; }
        .warn { background: #fff8e1; border-left: 4px solid #f9a825; padding: 6px 10px; margin: 6px 0; }
        .note { color: #555; font-size: 13px; }
        code { background: #f3f3f3; padding: 0 3px; border-radius: 3px; }
        </style>
        </head>
        <body>
        <h1>\(HTML.escape(title))</h1>
        <p class="sub">\(HTML.escape(report.options.source)) · \(report.pairCount) pairs (\(report.genuineCount) same, \(report.impostorCount) different) · \(HTML.escape(direction.rawValue.replacingOccurrences(of: "_", with: " "))) · accept when \(HTML.escape(direction.comparison))</p>

        """
        for w in report.warnings { h += "<p class=\"warn\">\(HTML.escape(w))</p>\n" }

        let ruleText = report.thresholdSource == "calibration"
            ? "from \(report.options.calibrationSource ?? "calibration") (\(report.operatingPoint.rule))"
            : "\(report.operatingPoint.rule)"
        h += "<div class=\"cards\" id=\"metrics\">\n"
        h += card("AUC", Format.number(report.auc))
        h += card("EER", Format.percent(report.eer.rate), "at threshold \(Format.number(report.eer.threshold))")
        h += card("Threshold", Format.number(report.operatingPoint.threshold), ruleText)
        h += card("FAR", Format.percent(c.far), "95% bootstrap \(Format.interval(report.farBootstrap))", "95% Wilson \(Format.interval(report.farWilson))")
        h += card("FRR", Format.percent(c.frr), "95% bootstrap \(Format.interval(report.frrBootstrap))", "95% Wilson \(Format.interval(report.frrWilson))")
        h += card("Accuracy", Format.percent(c.accuracy))
        h += card("Precision", Format.percent(c.precision))
        h += card("Recall", Format.percent(c.recall))
        h += card("F1", Format.number(c.f1))
        h += card("MCC", Format.number(c.mcc))
        h += "</div>\n"

        h += "<h2>Curves</h2>\n<div class=\"plots\">\n"
        h += rocPlot(report).render() + "\n"
        h += detPlot(report).render() + "\n"
        h += histogramPlot(report).render() + "\n"
        h += "</div>\n"
        h += "<p class=\"note\">ROC: false-accept rate on a log scale against true-accept rate; points with a FAR of 0 sit on the left edge. DET: FAR against FRR on normal-deviate scales; the dashed diagonal is FAR = FRR, where it meets the curve is the EER. Histogram: share of each class per score bin, with the threshold in use.</p>\n"

        if let audit = report.audit {
            h += "<h2>Per-group audit</h2>\n"
            h += "<p>Group column <code>\(HTML.escape(report.options.groupColumn ?? "group"))</code> at the global threshold \(HTML.escape(Format.number(audit.threshold))); tolerance \(HTML.escape(Format.percent(audit.tolerance))); \(Int(audit.level * 100))% Wilson intervals.</p>\n"
            h += "<p>FAR gap \(HTML.escape(Format.percent(audit.farGap.reportedGap))) \(status(audit.farGap)) · FRR gap \(HTML.escape(Format.percent(audit.frrGap.reportedGap))) \(status(audit.frrGap))</p>\n"
            let flagged = Set([audit.farGap.flaggedPair?.high, audit.farGap.flaggedPair?.low, audit.frrGap.flaggedPair?.high, audit.frrGap.flaggedPair?.low].compactMap { $0 })
            h += "<table id=\"groups\">\n<tr><th>Group</th><th>Same pairs</th><th>Different pairs</th><th>FAR</th><th>FAR interval</th><th>FRR</th><th>FRR interval</th></tr>\n"
            for row in audit.rowsByGap {
                h += "<tr\(flagged.contains(row.group) ? " class=\"flag\"" : "")><td>\(HTML.escape(row.group))\(row.small ? " <small>(small: not compared)</small>" : "")</td><td>\(row.counts.genuine)</td><td>\(row.counts.impostor)</td>"
                h += "<td>\(Format.percent(row.far))</td><td>\(Format.interval(row.farInterval))</td><td>\(Format.percent(row.frr))</td><td>\(Format.interval(row.frrInterval))</td></tr>\n"
            }
            h += "</table>\n"
            h += "<p class=\"note\">A gap is <b>flagged</b> when it exceeds the tolerance and the two groups' intervals do not overlap; it is <b>inconclusive</b> when it exceeds the tolerance but the intervals overlap (more data is needed to tell bias from noise).</p>\n"
        }

        h += "<h2>Counts at the threshold</h2>\n<table id=\"confusion\">\n"
        h += "<tr><th></th><th>Accepted as same</th><th>Rejected</th></tr>\n"
        h += "<tr><td>Same pairs</td><td>\(c.truePositives)</td><td>\(c.falseNegatives)</td></tr>\n"
        h += "<tr><td>Different pairs</td><td>\(c.falsePositives)</td><td>\(c.trueNegatives)</td></tr>\n</table>\n"
        h += "<p class=\"note\">Data fingerprint <code>\(HTML.escape(report.fingerprint))</code> · \(report.options.bootstrap.replicates) bootstrap replicates, seed \(report.options.bootstrap.seed) · \(report.distinctScores) distinct scores, \(report.roc.far.count) curve points plotted.</p>\n"
        h += "</body>\n</html>\n"
        return h
    }

    private static func card(_ key: String, _ value: String, _ details: String...) -> String {
        "<div class=\"card\"><div class=\"k\">\(HTML.escape(key))</div><div class=\"v\">\(HTML.escape(value))</div>"
            + details.map { "<div class=\"ci\">\(HTML.escape($0))</div>" }.joined() + "</div>\n"
    }

    private static func status(_ gap: GroupAudit.Gap) -> String {
        var text = gap.status.rawValue
        if let pair = gap.reportedPair, gap.status != .ok { text += ": \(pair.high) vs \(pair.low)" }
        return "<span class=\"status \(gap.status.rawValue)\">\(HTML.escape(text))</span>"
    }

    /// Smallest power of ten at or below the finest non-zero rate the data can show.
    private static func floorPower(_ n: Int) -> Double { pow(10, floor(log10(1 / Double(max(n, 1))))) }

    static func rocPlot(_ r: VerificationReport) -> SVGPlot {
        let xmin = min(0.1, floorPower(r.impostorCount))
        var ticks = [(Double, String)]()
        var v = xmin
        while v <= 1.0000001 { ticks.append((v, v >= 0.01 ? Format.number(v) : String(format: "1e%d", Int(log10(v).rounded())))); v *= 10 }
        var plot = SVGPlot(title: "ROC", x: .init(label: "False-accept rate (log scale)", scale: .log10, min: xmin, max: 1, ticks: ticks),
                           y: .init(label: "True-accept rate", scale: .linear, min: 0, max: 1, ticks: Format.niceTicks(0, 1, count: 5)))
        // FAR = 0 cannot sit on a log axis; those points are drawn at the axis' left edge.
        // The chance line TAR = FAR is a curve on a log axis: sample it densely.
        let chance = (0...60).map { k in pow(10, log10(xmin) * (1 - Double(k) / 60)) }
        plot.series.append(.init(name: "", color: "#bbb", style: .dashed, points: chance.map { ($0, $0) }))
        plot.series.append(.init(name: "ROC (AUC \(Format.number(r.auc)))", color: curveColor, style: .line,
                                 points: zip(r.roc.far, r.roc.tar).map { ($0 == 0 ? xmin : $0, $1) }))
        let c = r.operatingPoint.counts
        if let far = c.far, let recall = c.recall {
            plot.dots.append((max(far, xmin), recall, "threshold \(Format.number(r.operatingPoint.threshold))", thresholdColor))
        }
        return plot
    }

    static func detPlot(_ r: VerificationReport) -> SVGPlot {
        let pmin = max(1e-5, min(0.01, floorPower(max(r.impostorCount, r.genuineCount))))
        let pmax = 0.95
        let candidates = [1e-5, 1e-4, 1e-3, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95]
        let ticks = candidates.filter { $0 >= pmin && $0 <= pmax }.map { ($0, String(format: "%g%%", $0 * 100)) }
        var plot = SVGPlot(title: "DET", x: .init(label: "False-accept rate", scale: .probit, min: pmin, max: pmax, ticks: ticks),
                           y: .init(label: "False-reject rate", scale: .probit, min: pmin, max: pmax, ticks: ticks))
        plot.series.append(.init(name: "", color: "#bbb", style: .dashed, points: [(pmin, pmin), (pmax, pmax)]))
        // Rates of 0 lie at minus infinity on a probit axis: only points inside the frame are drawn,
        // because clamping them to the edges would draw error rates the system does not have.
        let inside = pmin...pmax
        let points = zip(r.roc.far, r.roc.tar).map { ($0, 1 - $1) }.filter { inside.contains($0.0) && inside.contains($0.1) }
        plot.series.append(.init(name: "DET (EER \(Format.percent(r.eer.rate)))", color: curveColor, style: .line, points: points))
        if points.count < 2 {
            plot.notes = ["Every operating point has a FAR or FRR of 0 or above 95%,", "which a normal-deviate scale cannot show."]
        }
        let c = r.operatingPoint.counts
        if let far = c.far, let frr = c.frr, inside.contains(far), inside.contains(frr) {
            plot.dots.append((far, frr, "threshold \(Format.number(r.operatingPoint.threshold))", thresholdColor))
        }
        return plot
    }

    static func histogramPlot(_ r: VerificationReport) -> SVGPlot {
        let hist = r.histogram
        let g = Double(max(1, r.genuineCount)), im = Double(max(1, r.impostorCount))
        let gShare = hist.genuine.map { Double($0) / g }, iShare = hist.impostor.map { Double($0) / im }
        let top = max(gShare.max() ?? 0, iShare.max() ?? 0, 1e-9) * 1.1
        let lo = hist.edges.first!, hi = hist.edges.last!
        var plot = SVGPlot(title: "Score distributions", width: 1064, height: 360, x: .init(label: "Score", scale: .linear, min: lo, max: hi, ticks: Format.niceTicks(lo, hi)),
                           y: .init(label: "Share of class per bin", scale: .linear, min: 0, max: top, ticks: Format.niceTicks(0, top, count: 5)))
        func steps(_ share: [Double]) -> [(Double, Double)] { share.indices.map { (hist.edges[$0], share[$0]) } + [(hist.edges.last!, 0)] }
        plot.series.append(.init(name: "different (\(r.impostorCount))", color: impostorColor, style: .filledSteps, points: steps(iShare)))
        plot.series.append(.init(name: "same (\(r.genuineCount))", color: genuineColor, style: .filledSteps, points: steps(gShare)))
        plot.markers.append(.init(x: r.operatingPoint.threshold, label: "threshold \(Format.number(r.operatingPoint.threshold))", color: thresholdColor))
        return plot
    }
}
