import FileSupport
import Foundation
import NPY

/// A decision threshold saved with a model: the threshold, the rule that chose it, what it achieved
/// on the calibration data, and a fingerprint of that data, so that verification uses the same
/// threshold from then on and anyone can tell which data it came from.
///
/// Stored as `calibration.json` in the model directory, written atomically.
public struct CalibrationRecord: Sendable, Equatable, Codable {
    /// The file name inside a model directory.
    public static let fileName = "calibration.json"
    /// Version of this record's layout; readers refuse versions they do not know.
    public static let currentFormatVersion = 1

    /// Layout version this record was written with (``currentFormatVersion`` for new records).
    public var formatVersion: Int
    /// Threshold in the score's own units.
    public var threshold: Double
    /// Whether higher scores mean "same" (similarities) or lower ones do (distances).
    public var scoreDirection: ScoreDirection
    /// The rule that chose ``threshold`` on the calibration data.
    public var rule: ThresholdRule
    /// FAR and FRR at the threshold on the calibration data.
    public var far: Double
    /// False-reject rate at the threshold on the calibration data.
    public var frr: Double
    /// Bootstrap intervals for ``far`` and ``frr`` (percentile, fixed seed).
    public var farInterval: ConfidenceInterval?
    /// Bootstrap interval for ``frr``, nil when there were no genuine pairs.
    public var frrInterval: ConfidenceInterval?
    /// Number of genuine (same) pairs in the calibration data.
    public var genuineCount: Int
    /// Number of impostor (different) pairs in the calibration data.
    public var impostorCount: Int
    /// `sha256:` + the hex digest of the scored pairs (see ``ScoredPairs/fingerprint()``).
    public var dataFingerprint: String
    /// When the calibration was made, ISO 8601 in UTC.
    public var created: String
    /// Optional Platt scaling fitted on the same data, to report P(same) next to the decision.
    public var platt: PlattScaling?
    /// The fingerprint of the weights the threshold was chosen for (``ModelFingerprint``: the
    /// SHA-256 of a Siamese model's `model.safetensors`). A model trained again into the same
    /// folder has other weights, maybe another score direction: its loaders refuse a calibration
    /// whose fingerprint differs. `nil` in records written before it was recorded (unverified).
    public var modelFingerprint: String?

    /// Creates a record of the current format version; ``modelFingerprint`` starts nil: the caller that knows the weights sets it.
    /// - Parameters:
    ///   - threshold: The decision threshold, in the score's own units.
    ///   - scoreDirection: Which way the scores point.
    ///   - rule: The rule that chose the threshold.
    ///   - far: False-accept rate at the threshold on the calibration data, in [0, 1].
    ///   - frr: False-reject rate at the threshold on the calibration data, in [0, 1].
    ///   - farInterval: Bootstrap interval for `far`, if computed.
    ///   - frrInterval: Bootstrap interval for `frr`, if computed.
    ///   - genuineCount: Number of same pairs in the calibration data.
    ///   - impostorCount: Number of different pairs in the calibration data.
    ///   - dataFingerprint: `sha256:` + hex digest of the scored pairs.
    ///   - created: When the calibration was made (default now); stored as ISO 8601 in UTC.
    ///   - platt: Platt scaling fitted on the same data, if any (default nil).
    public init(threshold: Double, scoreDirection: ScoreDirection, rule: ThresholdRule, far: Double, frr: Double,
                farInterval: ConfidenceInterval?, frrInterval: ConfidenceInterval?, genuineCount: Int, impostorCount: Int,
                dataFingerprint: String, created: Date = Date(), platt: PlattScaling? = nil) {
        self.formatVersion = Self.currentFormatVersion
        self.threshold = threshold
        self.scoreDirection = scoreDirection
        self.rule = rule
        self.far = far
        self.frr = frr
        self.farInterval = farInterval
        self.frrInterval = frrInterval
        self.genuineCount = genuineCount
        self.impostorCount = impostorCount
        self.dataFingerprint = dataFingerprint
        self.created = ISO8601DateFormatter().string(from: created)
        self.platt = platt
    }

    /// Whether a pair with this score is "same" under the stored threshold and direction.
    public func isSame(_ score: Double) -> Bool { scoreDirection.isSame(score: score, threshold: threshold) }

    /// The record's JSON, keys sorted so that the file diffs cleanly.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Writes `calibration.json` into `modelDirectory` atomically; the directory must exist.
    public func save(toModelDirectory modelDirectory: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: modelDirectory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InputError(file: modelDirectory.path, message: "not a model directory (it does not exist or is not a directory)")
        }
        var data = try jsonData()
        data.append(0x0A)
        try AtomicFile.write(data, to: modelDirectory.appendingPathComponent(Self.fileName))
    }

    /// Loads the calibration saved in `modelDirectory`, or returns `nil` if it has none; it is
    /// not checked against the model's weights (see ``load(fromModelDirectory:fingerprint:)``).
    public static func load(fromModelDirectory modelDirectory: URL) throws(InputError) -> CalibrationRecord? {
        AtomicFolder.recover(modelDirectory)
        let url = modelDirectory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try load(url)
    }

    /// Loads a calibration record from a file, checking its version and values.
    public static func load(_ url: URL) throws(InputError) -> CalibrationRecord {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw InputError(file: url.path, message: "cannot read: \(error.localizedDescription)")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let record: CalibrationRecord
        do {
            record = try decoder.decode(CalibrationRecord.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw InputError(file: url.path, field: key.stringValue, message: "missing field")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw InputError(file: url.path, field: context.codingPath.map(\.stringValue).joined(separator: "."), message: context.debugDescription)
        } catch let DecodingError.dataCorrupted(context) {
            throw InputError(file: url.path, field: context.codingPath.map(\.stringValue).joined(separator: "."), message: context.debugDescription)
        } catch {
            throw InputError(file: url.path, message: "not a calibration record: \(error)")
        }
        guard record.formatVersion == currentFormatVersion else {
            throw InputError(file: url.path, field: "format_version", message: "version \(record.formatVersion) is not supported (expected \(currentFormatVersion))")
        }
        guard record.threshold.isFinite else {
            throw InputError(file: url.path, field: "threshold", message: "the threshold must be a finite number")
        }
        return record
    }
}

extension VerificationCurve {
    /// Chooses a threshold by `rule` and packages it, with bootstrap intervals, as a record to save.
    public func calibrate(_ rule: ThresholdRule, pairs: ScoredPairs, bootstrap: BootstrapOptions = BootstrapOptions(),
                          created: Date = Date()) throws(ThresholdUnreachable) -> CalibrationRecord {
        let point = try select(rule)
        let c = point.counts
        return CalibrationRecord(
            threshold: point.threshold, scoreDirection: direction, rule: rule,
            far: c.far ?? 0, frr: c.frr ?? 0,
            farInterval: Bootstrap.rateInterval(errors: c.falsePositives, trials: c.impostor, options: bootstrap, stream: 1),
            frrInterval: Bootstrap.rateInterval(errors: c.falseNegatives, trials: c.genuine, options: bootstrap, stream: 2),
            genuineCount: genuineCount, impostorCount: impostorCount,
            dataFingerprint: pairs.fingerprint(), created: created)
    }
}
