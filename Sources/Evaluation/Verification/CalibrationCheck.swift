import FileSupport
import Foundation

extension CalibrationRecord {
    /// A model folder's calibration, checked against the model it sits beside.
    public struct Checked: Sendable {
        /// The record to apply, or `nil` when there is none or it was made for other weights.
        public let record: CalibrationRecord?
        /// Why the record was ignored, or that it could not be verified; for stderr or the log.
        public let warning: String?
    }

    /// Loads `calibration.json` from `modelDirectory` and checks it against the model's weights:
    /// a record made for other weights (`model_fingerprint` differs: the folder was trained again)
    /// or for the other score direction is ignored with a warning, since applying it could call
    /// identical inputs "different". A record without a fingerprint (written before it was
    /// recorded) is used, with a warning that it is unverified.
    /// - Parameters:
    ///   - modelDirectory: the model folder.
    ///   - fingerprint: the loaded weights' fingerprint (``ModelFingerprint``).
    ///   - higherIsSame: the model's own score direction, when it has one.
    public static func load(fromModelDirectory modelDirectory: URL, fingerprint: String,
                            higherIsSame: Bool?) throws(InputError) -> Checked {
        guard let record = try load(fromModelDirectory: modelDirectory) else { return Checked(record: nil, warning: nil) }
        let path = modelDirectory.appendingPathComponent(fileName).path
        let again = "run `siamese calibrate --model \(modelDirectory.path)` again"
        guard let made = record.modelFingerprint else {
            return Checked(record: record, warning: "\(path): records no model_fingerprint (written by an older version), so it is not checked against the weights; \(again)")
        }
        guard made == fingerprint else {
            return Checked(record: nil, warning: "\(path): ignored: made for weights \(made.prefix(12))…, but the model's weights are \(fingerprint.prefix(12))… (trained again?); \(again)")
        }
        if let higherIsSame, higherIsSame != (record.scoreDirection == .higherIsSame) {
            return Checked(record: nil, warning: "\(path): ignored: it is for \(record.scoreDirection.rawValue) scores, but the model's score is \(higherIsSame ? "higher" : "lower") for the same; \(again) with the right direction")
        }
        return Checked(record: record, warning: nil)
    }
}
