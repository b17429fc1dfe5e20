import Evaluation
import FileSupport
import Foundation
import Siamese
import TextEncoders

/// Labelled text pairs held out from fine-tuning: scored after every epoch, and the set the
/// final threshold is calibrated on.
struct ValidationPairs {
    let file: String
    let pairs: [PairRecord]
    let labels: [Bool]

    /// Reads `file` (CSV with a header or JSON lines, columns a, b, label); both classes must be present.
    init(file: String) throws {
        self.file = file
        pairs = try PairsFile.read(URL(fileURLWithPath: file), columns: .init(labelRequired: true))
        labels = pairs.map { $0.label! }
        guard labels.contains(true), labels.contains(false) else {
            throw InputError(file: file, field: "label", message: "validation pairs need both labels, 1 (same) and 0 (different)")
        }
    }

    /// AUC (the score early stopping and best-epoch keeping compare) and EER of `encoder` on the pairs.
    func result(of encoder: SentenceTransformer) throws -> ValidationResult {
        let curve = try VerificationCurve(scores: PairScorer.textScores(encoder, pairs), labels: labels, direction: .higherIsSame)
        let auc = curve.auc()
        return ValidationResult(score: auc, metrics: ["auc": auc, "eer": curve.equalErrorRate().rate])
    }

    /// Calibrates `encoder` by `rule` on the pairs and saves the record, naming the weights in
    /// `modelFolder`, into that folder.
    func calibrate(_ encoder: SentenceTransformer, rule: ThresholdRule, modelFolder: URL) throws -> CalibrationRecord {
        let scored = try ScoredPairs(scores: PairScorer.textScores(encoder, pairs), labels: labels)
        return try CalibrationRuleOption.calibrate(scored, direction: .higherIsSame, rule: rule, modelFolder: modelFolder)
    }
}
