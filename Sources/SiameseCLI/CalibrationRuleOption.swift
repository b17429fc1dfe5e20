import ArgumentParser
import Evaluation
import FileSupport
import Foundation

/// The `--calibration RULE` option of `train` and `finetune`: which threshold rule the run ends
/// with on its validation pairs (`eer`, `far:RATE`, `frr:RATE`, `max-f1`, `max-accuracy`, or
/// `none` to leave the model uncalibrated).
enum CalibrationRuleOption {
    /// Help text shared by the commands.
    static let help = ArgumentHelp(
        "Threshold rule the run ends with on the validation pairs: eer, far:RATE (e.g. far:0.001), frr:RATE, max-f1, max-accuracy, or none.",
        valueName: "rule")

    /// The rule `text` names, or nil for `none`.
    static func parse(_ text: String) throws -> ThresholdRule? {
        let lower = text.lowercased()
        switch lower {
        case "none": return nil
        case "eer": return .equalErrorRate
        case "max-f1": return .maxF1
        case "max-accuracy": return .maxAccuracy
        default:
            let parts = lower.split(separator: ":", maxSplits: 1).map(String.init)
            if parts.count == 2, ["far", "frr"].contains(parts[0]) {
                guard let rate = Double(parts[1]), rate >= 0, rate <= 1 else {
                    throw ValidationError("--calibration \(text): the rate must be a number from 0 to 1")
                }
                return parts[0] == "far" ? .targetFAR(rate) : .targetFRR(rate)
            }
            throw ValidationError("--calibration must be eer, far:RATE, frr:RATE, max-f1, max-accuracy or none, got \(text)")
        }
    }

    /// Calibrates `pairs` scored in `direction` by `rule`, stamps the record with the weights now in
    /// `modelFolder` and saves it there as calibration.json (atomically).
    static func calibrate(_ pairs: ScoredPairs, direction: ScoreDirection, rule: ThresholdRule, modelFolder: URL) throws -> CalibrationRecord {
        let curve = try VerificationCurve(pairs, direction: direction)
        var record = try curve.calibrate(rule, pairs: pairs, bootstrap: BootstrapOptions(replicates: 200, level: 0.95, seed: 42))
        record.modelFingerprint = try ModelFingerprint.of(modelFolder)
        try record.save(toModelDirectory: modelFolder)
        return record
    }

    /// One line for people: the threshold, its error rates and where it was written.
    static func summary(_ record: CalibrationRecord, pairs: Int, direction: ScoreDirection, modelFolder: URL) -> String {
        String(format: "calibrated on %d validation pairs (%@): same when score %@ %.6f; FAR %.2f%%, FRR %.2f%%; wrote %@",
               pairs, record.rule.description, direction == .higherIsSame ? "≥" : "≤", record.threshold, 100 * record.far, 100 * record.frr,
               modelFolder.appendingPathComponent(CalibrationRecord.fileName).path)
    }
}
