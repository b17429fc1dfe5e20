import Foundation

/// A two-sided confidence interval for a rate or a mean.
public struct ConfidenceInterval: Sendable, Equatable, Codable {
    /// Lower bound.
    public let lower: Double
    /// Upper bound.
    public let upper: Double
    /// Nominal coverage, for example 0.95.
    public let level: Double
    /// How it was computed: `"wilson"`, `"bootstrap-percentile"`, `"normal"`.
    public let method: String

    /// Creates an interval.
    /// - Parameters:
    ///   - lower: Lower bound.
    ///   - upper: Upper bound.
    ///   - level: Nominal coverage, for example 0.95.
    ///   - method: How it was computed (`"wilson"`, `"bootstrap-percentile"`, `"normal"`).
    public init(lower: Double, upper: Double, level: Double, method: String) {
        self.lower = lower
        self.upper = upper
        self.level = level
        self.method = method
    }

    /// Whether two intervals share at least one point.
    public func overlaps(_ other: ConfidenceInterval) -> Bool { lower <= other.upper && other.lower <= upper }
}

/// Intervals for a proportion `k / n`.
public enum ProportionInterval {
    /// The Wilson score interval. Unlike the normal approximation it stays inside [0, 1] and is not
    /// zero-width at k = 0, which matters for false-accept rates near zero; `nil` when n = 0.
    public static func wilson(successes k: Int, trials n: Int, level: Double = 0.95) -> ConfidenceInterval? {
        guard n > 0, k >= 0, k <= n else { return nil }
        let z = NormalDistribution.quantile(0.5 + level / 2)
        let nn = Double(n), p = Double(k) / nn, z2 = z * z
        let denominator = 1 + z2 / nn
        let center = (p + z2 / (2 * nn)) / denominator
        let half = z / denominator * (p * (1 - p) / nn + z2 / (4 * nn * nn)).squareRoot()
        // Clamp rounding residue at the ends: the exact interval starts at 0 when k = 0 and ends at 1 when k = n.
        let lower = k == 0 ? 0 : max(0, center - half)
        let upper = k == n ? 1 : min(1, center + half)
        return ConfidenceInterval(lower: lower, upper: upper, level: level, method: "wilson")
    }
}

/// Quantiles the way NumPy computes them by default (linear interpolation between order statistics).
enum Quantile {
    static func linear(sorted values: [Double], _ q: Double) -> Double {
        precondition(!values.isEmpty)
        let h = Double(values.count - 1) * q
        let lo = Int(h.rounded(.down))
        let hi = min(lo + 1, values.count - 1)
        return values[lo] + (h - Double(lo)) * (values[hi] - values[lo])
    }
}
