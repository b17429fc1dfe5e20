/// How a decision threshold is chosen.
public enum ThresholdRule: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The most permissive threshold whose false-accept rate is at most the target
    /// (maximises true accepts subject to FAR ≤ target).
    case targetFAR(Double)
    /// The strictest threshold whose false-reject rate is at most the target
    /// (minimises false accepts subject to FRR ≤ target).
    case targetFRR(Double)
    /// The threshold with the highest accuracy.
    case maxAccuracy
    /// The threshold with the highest F1 score.
    case maxF1
    /// The operating point closest to the equal-error rate (see ``EqualErrorRate``).
    case equalErrorRate
    /// A threshold given by the user.
    case fixed(Double)

    /// The short name used in JSON and on the command line.
    public var kind: String {
        switch self {
        case .targetFAR: "target_far"
        case .targetFRR: "target_frr"
        case .maxAccuracy: "max_accuracy"
        case .maxF1: "max_f1"
        case .equalErrorRate: "eer"
        case .fixed: "fixed"
        }
    }

    /// The target rate or fixed threshold, when the rule has one.
    public var value: Double? {
        switch self {
        case .targetFAR(let v), .targetFRR(let v), .fixed(let v): v
        case .maxAccuracy, .maxF1, .equalErrorRate: nil
        }
    }

    /// Human-readable form for reports ("target FAR ≤ 0.001").
    public var description: String {
        switch self {
        case .targetFAR(let v): "target FAR ≤ \(v)"
        case .targetFRR(let v): "target FRR ≤ \(v)"
        case .maxAccuracy: "maximum accuracy"
        case .maxF1: "maximum F1"
        case .equalErrorRate: "equal error rate"
        case .fixed(let v): "fixed threshold \(v)"
        }
    }

    private enum CodingKeys: String, CodingKey { case kind, target, threshold }

    /// Decodes `{"kind": ..., "target": ...}` or `{"kind": "fixed", "threshold": ...}`.
    /// - Throws: `DecodingError` for an unknown `kind` or a missing value.
    /// - Parameters:
    ///   - decoder: The decoder holding the rule's keyed container.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try c.decode(String.self, forKey: .kind)
        switch kind {
        case "target_far": self = .targetFAR(try c.decode(Double.self, forKey: .target))
        case "target_frr": self = .targetFRR(try c.decode(Double.self, forKey: .target))
        case "max_accuracy": self = .maxAccuracy
        case "max_f1": self = .maxF1
        case "eer": self = .equalErrorRate
        case "fixed": self = .fixed(try c.decode(Double.self, forKey: .threshold))
        default:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown threshold rule '\(kind)'")
        }
    }

    /// Encodes ``kind`` plus `target` (target rules) or `threshold` (fixed).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        switch self {
        case .targetFAR(let v), .targetFRR(let v): try c.encode(v, forKey: .target)
        case .fixed(let v): try c.encode(v, forKey: .threshold)
        case .maxAccuracy, .maxF1, .equalErrorRate: break
        }
    }
}

/// No threshold satisfies the rule: returned instead of a number that would not mean what it says.
public struct ThresholdUnreachable: Error, Sendable, Equatable, CustomStringConvertible {
    /// The rule that could not be met.
    public let rule: ThresholdRule
    /// The best rate any threshold reaches for what the rule constrains (for example the lowest FAR
    /// at which at least one same pair is still accepted).
    public let bestAchievable: Double
    /// Why no threshold fits, in words, for the error message.
    public let explanation: String

    /// "no threshold meets RULE: EXPLANATION".
    public var description: String {
        "no threshold meets \(rule): \(explanation)"
    }
}

/// A threshold with the rule that chose it and the counts it produces.
public struct OperatingPoint: Sendable, Equatable {
    /// Threshold in original score units.
    public let threshold: Double
    /// The rule that chose the threshold.
    public let rule: ThresholdRule
    /// The confusion counts at the threshold.
    public let counts: ConfusionCounts
}
