/// The four counts of a same/different decision at one threshold, and the rates derived from them.
///
/// Rates whose denominator is zero are `nil` rather than 0 or NaN: "precision is undefined because
/// nothing was accepted" is a different statement from "precision is 0".
public struct ConfusionCounts: Sendable, Equatable, Codable {
    /// Same pairs accepted.
    public let truePositives: Int
    /// Different pairs accepted (false accepts).
    public let falsePositives: Int
    /// Different pairs rejected.
    public let trueNegatives: Int
    /// Same pairs rejected (false rejects).
    public let falseNegatives: Int

    /// Creates the counts of one decision.
    /// - Parameters:
    ///   - truePositives: Same pairs accepted.
    ///   - falsePositives: Different pairs accepted.
    ///   - trueNegatives: Different pairs rejected.
    ///   - falseNegatives: Same pairs rejected.
    public init(truePositives: Int, falsePositives: Int, trueNegatives: Int, falseNegatives: Int) {
        self.truePositives = truePositives
        self.falsePositives = falsePositives
        self.trueNegatives = trueNegatives
        self.falseNegatives = falseNegatives
    }

    /// Number of same (genuine) pairs: TP + FN.
    public var genuine: Int { truePositives + falseNegatives }
    /// Number of different (impostor) pairs: FP + TN.
    public var impostor: Int { falsePositives + trueNegatives }
    /// Number of pairs.
    public var total: Int { genuine + impostor }

    /// False-accept rate: different pairs accepted / different pairs.
    public var far: Double? { impostor == 0 ? nil : Double(falsePositives) / Double(impostor) }
    /// False-reject rate: same pairs rejected / same pairs.
    public var frr: Double? { genuine == 0 ? nil : Double(falseNegatives) / Double(genuine) }
    /// (TP + TN) / total; nil without pairs.
    public var accuracy: Double? { total == 0 ? nil : Double(truePositives + trueNegatives) / Double(total) }
    /// TP / (TP + FP), the share of accepted pairs that are same; nil when nothing was accepted.
    public var precision: Double? {
        truePositives + falsePositives == 0 ? nil : Double(truePositives) / Double(truePositives + falsePositives)
    }
    /// Recall, the true-accept rate (1 − FRR).
    public var recall: Double? { genuine == 0 ? nil : Double(truePositives) / Double(genuine) }
    /// F1 = 2TP / (2TP + FP + FN).
    public var f1: Double? {
        let d = 2 * truePositives + falsePositives + falseNegatives
        return d == 0 ? nil : Double(2 * truePositives) / Double(d)
    }
    /// Matthews correlation coefficient; `nil` when a row or column of the confusion matrix is empty.
    public var mcc: Double? {
        let tp = Double(truePositives), fp = Double(falsePositives), tn = Double(trueNegatives), fn = Double(falseNegatives)
        let d = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)
        return d == 0 ? nil : (tp * tn - fp * fn) / d.squareRoot()
    }
}
