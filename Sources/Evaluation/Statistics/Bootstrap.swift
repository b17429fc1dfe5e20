import Core

/// Bootstrap settings: the number of replicates, the interval level and the seed, so that two runs
/// on the same data print the same intervals.
public struct BootstrapOptions: Sendable, Equatable, Codable {
    /// Number of bootstrap resamples; 0 disables the bootstrap intervals.
    public var replicates: Int
    /// Nominal coverage of the intervals, in (0, 1).
    public var level: Double
    /// Seed of the resampling, so that intervals repeat from run to run.
    public var seed: UInt64

    /// Creates bootstrap settings.
    /// - Parameters:
    ///   - replicates: Number of resamples (default 1000).
    ///   - level: Nominal coverage, in (0, 1) (default 0.95).
    ///   - seed: Resampling seed (default 42).
    public init(replicates: Int = 1000, level: Double = 0.95, seed: UInt64 = 42) {
        self.replicates = replicates
        self.level = level
        self.seed = seed
    }
}

/// Percentile-bootstrap intervals for the error rates at a fixed threshold.
public enum Bootstrap {
    /// A percentile interval for the rate k / n under resampling of the n items with replacement.
    ///
    /// Each replicate's count is drawn as Binomial(n, k/n), which is exactly the distribution of the
    /// count in a resample (see `Binomial`). The interval collapses to a point when k = 0 or k = n:
    /// resampling cannot show errors that never occurred, so callers also report a Wilson interval.
    public static func rateInterval(errors k: Int, trials n: Int, options: BootstrapOptions, stream: UInt64 = 0) -> ConfidenceInterval? {
        guard n > 0, options.replicates > 0 else { return nil }
        var rng = SeededGenerator(seed: options.seed &+ stream &* 0x9E37_79B9_7F4A_7C15)
        let p = Double(k) / Double(n)
        var rates = [Double]()
        rates.reserveCapacity(options.replicates)
        for _ in 0..<options.replicates {
            rates.append(Double(Binomial.sample(trials: n, probability: p, using: &rng)) / Double(n))
        }
        rates.sort()
        let alpha = (1 - options.level) / 2
        return ConfidenceInterval(
            lower: Quantile.linear(sorted: rates, alpha),
            upper: Quantile.linear(sorted: rates, 1 - alpha),
            level: options.level, method: "bootstrap-percentile")
    }
}
