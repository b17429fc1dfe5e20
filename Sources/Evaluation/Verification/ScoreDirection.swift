/// Which way a score points.
///
/// Similarities (cosine, a learned head's probability) are higher for a same pair; distances
/// (Euclidean, 1 − cosine) are lower. Everything in this module takes the direction explicitly,
/// because guessing it from the data silently inverts every metric when the guess is wrong.
public enum ScoreDirection: String, Codable, Sendable, CaseIterable {
    /// Decide "same" when `score >= threshold`.
    case higherIsSame = "higher_is_same"
    /// Decide "same" when `score <= threshold`.
    case lowerIsSame = "lower_is_same"

    /// Maps a score onto an axis where higher always means same; negation is exact in floating point.
    @inline(__always)
    func oriented(_ score: Double) -> Double { self == .higherIsSame ? score : -score }

    /// The decision rule for one score.
    @inline(__always)
    public func isSame(score: Double, threshold: Double) -> Bool {
        self == .higherIsSame ? score >= threshold : score <= threshold
    }

    /// The comparison written out, for messages and reports.
    public var comparison: String { self == .higherIsSame ? "score ≥ threshold" : "score ≤ threshold" }
}
