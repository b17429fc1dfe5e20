import Foundation

/// Number formatting shared by the text summary and the HTML report.
enum Format {
    /// A rate as a percentage with precision that suits its size (1e-4 must not print as 0.00%).
    static func percent(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "n/a" }
        if v == 0 { return "0%" }
        let p = v * 100
        if p < 0.01 { return String(format: "%.4f%%", p) }
        if p < 0.1 { return String(format: "%.3f%%", p) }
        return String(format: "%.2f%%", p)
    }

    static func interval(_ ci: ConfidenceInterval?) -> String {
        guard let ci else { return "n/a" }
        return "[\(percent(ci.lower)), \(percent(ci.upper))]"
    }

    /// A plain number with up to six significant digits.
    static func number(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "n/a" }
        return String(format: "%.6g", v)
    }

    /// Round tick positions covering [lo, hi], about `count` of them.
    static func niceTicks(_ lo: Double, _ hi: Double, count: Int = 6) -> [(Double, String)] {
        guard hi > lo else { return [(lo, number(lo))] }
        let raw = (hi - lo) / Double(count)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var ticks = [(Double, String)]()
        var v = ceil(lo / step) * step
        // Bounded: where `step` is below the spacing of doubles near `v`, `v += step` stands still.
        while v <= hi + step * 1e-9 && ticks.count <= 4 * count {
            // Snap values like 0.30000000000000004 for the label.
            let label = String(format: "%.6g", (v / step).rounded() * step)
            ticks.append((v, label == "-0" ? "0" : label))
            v += step
        }
        return ticks
    }
}
