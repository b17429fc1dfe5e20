import Foundation
import NN
import Evaluation
import FileSupport
import SafeTensors
import Tensors

/// A trained Siamese model on disk: `siamese.json` (architecture, comparison, provenance) and
/// `model.safetensors` (weights by name); `calibration.json` is added by `siamese calibrate`.
///
/// The configuration records the SHA-256 of the weights file, so a folder whose weights were
/// replaced or half-copied is refused instead of silently giving different scores; the same digest
/// is the model's fingerprint, which stores and indexes use to refuse mixing vectors from
/// different models.
public struct ModelFolder: Sendable {
    public static let configurationFile = "siamese.json"
    public static let weightsFile = "model.safetensors"

    /// What `siamese.json` holds.
    public struct Configuration: Codable, Equatable, Sendable {
        public var format = "siamese-model"
        public var version = 1
        public var encoder: EncoderConfiguration
        public var distance: Distance
        /// The learned head's shape, when the model compares through one.
        public var head: HeadConfiguration?
        /// Names of the input columns the encoder reads, in order (CSV inputs are matched by name).
        public var featureColumns: [String]?
        /// Class names seen in training (for one-shot reports).
        public var classNames: [String]?
        public var training: TrainingConfiguration?
        /// Hex SHA-256 of `model.safetensors`.
        public var weightsSHA256: String
        public var created: String

        enum CodingKeys: String, CodingKey {
            case format, version, encoder, distance, head, training, created
            case featureColumns = "feature_columns", classNames = "class_names", weightsSHA256 = "weights_sha256"
        }
    }

    public struct HeadConfiguration: Codable, Equatable, Sendable {
        public var dimension: Int
        public var includesProduct: Bool
        enum CodingKeys: String, CodingKey { case dimension, includesProduct = "includes_product" }
    }

    public let url: URL
    public init(_ url: URL) { self.url = url }

    /// Writes the model as a whole folder: weights, `siamese.json` that vouches for them, and
    /// `calibration.json` when one is given (stamped with the new weights' fingerprint). The
    /// folder is replaced in one swap (``AtomicFolder``): a kill at any moment leaves the previous
    /// model or the new one, complete. A previous `calibration.json` is not kept — it was chosen
    /// for other weights — while other entries (checkpoints) are carried over.
    /// - Parameters:
    ///   - model: the network to save.
    ///   - featureColumns: names of the input columns, in order.
    ///   - classNames: class names seen in training.
    ///   - training: the training settings, for provenance.
    ///   - calibration: a threshold chosen for these weights, saved beside them.
    ///   - interruption: test hook that stops the swap at a point, as a kill would.
    @discardableResult
    public func save(_ model: SiameseNetwork, featureColumns: [String]? = nil, classNames: [String]? = nil,
                     training: TrainingConfiguration? = nil, calibration: CalibrationRecord? = nil,
                     interruption: AtomicFolder.Interruption? = nil) throws -> Configuration {
        var saved: Configuration?
        let replaced: Set<String> = [Self.configurationFile, Self.weightsFile, CalibrationRecord.fileName]
        try AtomicFolder.replace(url, carry: { !replaced.contains($0) }, interruption: interruption) { staging in
            let weights = staging.appendingPathComponent(Self.weightsFile)
            try WeightsIO.save(model, to: weights)
            let config = Configuration(
                encoder: model.encoder.configuration, distance: model.distance,
                head: model.head.map { HeadConfiguration(dimension: $0.dimension, includesProduct: $0.includesProduct) },
                featureColumns: featureColumns, classNames: classNames, training: training,
                weightsSHA256: try SHA256.hex(ofFile: weights),
                created: ISO8601DateFormatter().string(from: Date()))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try AtomicFile.write(try encoder.encode(config), to: staging.appendingPathComponent(Self.configurationFile))
            if var calibration {
                calibration.modelFingerprint = config.weightsSHA256
                try calibration.save(toModelDirectory: staging)
            }
            saved = config
        }
        return saved!
    }

    /// Reads the configuration, checks the weights against it, and rebuilds the model.
    public func load() throws -> (SiameseNetwork, Configuration) {
        AtomicFolder.recover(url)
        let configURL = url.appendingPathComponent(Self.configurationFile)
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw ModelFormatError("\(url.path): not a Siamese model folder (no \(Self.configurationFile))")
        }
        let config: Configuration
        do {
            config = try JSONDecoder().decode(Configuration.self, from: Data(contentsOf: configURL))
        } catch {
            throw ModelFormatError("\(configURL.path): unreadable model configuration (\(error))")
        }
        guard config.format == "siamese-model", config.version == 1 else {
            throw ModelFormatError("\(configURL.path): format \(config.format) version \(config.version) is not supported")
        }
        let weights = url.appendingPathComponent(Self.weightsFile)
        let digest = try SHA256.hex(ofFile: weights)
        guard digest == config.weightsSHA256 else {
            throw ModelFormatError("\(weights.path): weights do not match \(Self.configurationFile) (SHA-256 \(digest.prefix(12))…, expected \(config.weightsSHA256.prefix(12))…)")
        }
        // siamese.json is not covered by the digest: check every field against the weights'
        // shapes before building anything (a crafted size would trap or allocate terabytes).
        let file = try SafeTensorsFile(contentsOf: weights)
        try config.validate(against: file, path: configURL.path)
        var generator = SeededGenerator(seed: 0)
        let head = config.head.map { LearnedHead(dimension: $0.dimension, includesProduct: $0.includesProduct, generator: &generator) }
        let model = SiameseNetwork(encoder: config.encoder.makeEncoder(seed: 0), distance: config.distance, head: head)
        try WeightsIO.load(model, from: file)
        model.isTraining = false
        return (model, config)
    }

    /// The model's fingerprint: the SHA-256 of its weights.
    public func fingerprint() throws -> String {
        AtomicFolder.recover(url)
        return try SHA256.hex(ofFile: url.appendingPathComponent(Self.weightsFile))
    }
}
