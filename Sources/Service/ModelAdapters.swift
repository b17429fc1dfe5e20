import Evaluation
import FileSupport
import Foundation
import Siamese
import Tensors
import TextEncoders

/// A ``SiameseNetwork`` loaded from a model folder: inputs are feature rows, the score is the
/// network's own (its learned head, or its distance).
///
/// `@unchecked Sendable`: the network is only used from the service's inference thread.
public final class SiameseModelAdapter: ServedModel, @unchecked Sendable {
    public let name: String
    public let kind = ModelKind.vector
    public let inputDimension: Int?
    public let dimension: Int
    public let fingerprint: String
    public let calibration: ServedCalibration?
    public let network: SiameseNetwork
    /// Pairs to try the model with (the demo's); set before the model is shared with the service.
    public var examples: [ExamplePair] = []

    public init(network: SiameseNetwork, name: String, fingerprint: String, calibration: ServedCalibration?) {
        network.isTraining = false
        self.network = network
        self.name = name
        self.fingerprint = fingerprint
        self.calibration = calibration
        self.inputDimension = network.encoder.configuration.inputFeatures
        self.dimension = network.encoder.configuration.embeddingDimension
    }

    /// Loads `siamese.json` + `model.safetensors` (+ `calibration.json` when present); `name`
    /// defaults to the folder's.
    public convenience init(folder: URL, name: String? = nil) throws {
        let model = ModelFolder(folder)
        let (network, config) = try model.load()
        self.init(network: network, name: name ?? folder.lastPathComponent, fingerprint: config.weightsSHA256,
                  calibration: try ServedCalibration.load(from: folder, fingerprint: config.weightsSHA256,
                                                          higherIsSame: network.higherScoreMeansSame))
    }

    public var higherScoreMeansSame: Bool { network.higherScoreMeansSame }
    public var scoreName: String { network.head != nil ? "learned_head" : network.distance.rawValue }

    public func checkPrompt(_ prompt: Prompts.Choice) throws(APIError) {
        switch prompt {
        case .modelDefault, .role, .none: return
        case .named, .text: throw APIError(.invalidValue, "this model embeds feature arrays and takes no prompts", field: "prompt")
        }
    }

    public func embed(_ inputs: [ModelInput], prompt: Prompts.Choice) throws -> [[Float]] {
        guard !inputs.isEmpty else { return [] }
        let rows: [[Float]] = inputs.map { if case .vector(let v) = $0 { v } else { [] } }
        let out = withoutGradients { network.embed(Tensor(rows: rows)) }.scalars
        return (0..<rows.count).map { Array(out[($0 * dimension)..<(($0 + 1) * dimension)]) }
    }

    public func score(_ a: [Float], _ b: [Float]) -> Float {
        if let head = network.head {
            return withoutGradients { head(Tensor(shape: [1, a.count], a), Tensor(shape: [1, b.count], b)) }.scalars[0]
        }
        switch network.distance {
        case .cosine: return VectorMath.cosine(a, b)
        case .dot: return VectorMath.dot(a, b)
        case .squaredEuclidean: return VectorMath.squaredEuclidean(a, b)
        case .euclidean: return VectorMath.squaredEuclidean(a, b).squareRoot()
        }
    }
}

/// A sentence-transformers folder: inputs are texts, the score is the cosine similarity of
/// the embeddings (what the library's `util.cos_sim` gives).
///
/// `@unchecked Sendable`: the encoder is only used from the service's inference thread.
public final class TextModelAdapter: ServedModel, @unchecked Sendable {
    public let name: String
    public let kind = ModelKind.text
    public let inputDimension: Int? = nil
    public let dimension: Int
    public let fingerprint: String
    public let calibration: ServedCalibration?
    /// The model fixed for inference (the trainable copy of its weights is not kept).
    public let encoder: FrozenTextEncoder
    public let higherScoreMeansSame = true
    public let scoreName = "cosine"
    let batchSize: Int

    public init(folder: URL, batchSize: Int = 32) throws {
        encoder = try SentenceTransformer(folder: folder).frozen()
        name = folder.lastPathComponent
        dimension = encoder.dimension
        fingerprint = try Self.fingerprint(of: folder)
        calibration = try ServedCalibration.load(from: folder, fingerprint: fingerprint, higherIsSame: true)
        self.batchSize = batchSize
    }

    /// ``ModelFingerprint`` of the folder (the digests of every weights file, `modules.json` and
    /// `config.json`), so that a fine-tuned copy of a model never shares a store with its parent.
    static func fingerprint(of folder: URL) throws -> String {
        guard let fingerprint = try ModelFingerprint.of(folder) else { throw APIError(.modelUnavailable, "\(folder.path): no weights found") }
        return fingerprint
    }

    public func checkPrompt(_ prompt: Prompts.Choice) throws(APIError) {
        do { _ = try encoder.prompts.text(for: prompt) } catch { throw APIError(.invalidValue, error.message, field: "prompt") }
    }

    public func embed(_ inputs: [ModelInput], prompt: Prompts.Choice) throws -> [[Float]] {
        guard !inputs.isEmpty else { return [] }
        let texts: [String] = inputs.map { if case .text(let s) = $0 { s } else { "" } }
        let out = try encoder.encode(texts, prompt: prompt, batchSize: batchSize).scalars
        return (0..<texts.count).map { Array(out[($0 * dimension)..<(($0 + 1) * dimension)]) }
    }

    public func score(_ a: [Float], _ b: [Float]) -> Float { VectorMath.cosine(a, b) }
}

extension ServedCalibration {
    /// The `calibration.json` beside a model, as the service reports and applies it; one made
    /// for other weights or the other score direction is left out (the model is served
    /// uncalibrated) with a warning on stderr, since applying it could invert decisions.
    static func load(from folder: URL, fingerprint: String, higherIsSame: Bool) throws -> ServedCalibration? {
        let checked = try CalibrationRecord.load(fromModelDirectory: folder, fingerprint: fingerprint, higherIsSame: higherIsSame)
        if let warning = checked.warning { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        return checked.record.map(ServedCalibration.init)
    }

    init(_ record: CalibrationRecord) {
        self.init(threshold: record.threshold, scoreDirection: record.scoreDirection.rawValue,
                  rule: record.rule.kind, ruleTarget: record.rule.value)
    }
}

/// Loads whichever kind of model a folder holds.
public enum ModelLoader {
    /// A Siamese model folder (`siamese.json`) or a sentence-transformers folder (`modules.json`
    /// or `config.json`).
    public static func load(folder: URL) throws -> any ServedModel {
        let fm = FileManager.default
        if fm.fileExists(atPath: folder.appendingPathComponent(ModelFolder.configurationFile).path) {
            return try SiameseModelAdapter(folder: folder)
        }
        if fm.fileExists(atPath: folder.appendingPathComponent("modules.json").path)
            || fm.fileExists(atPath: folder.appendingPathComponent("config.json").path) {
            return try TextModelAdapter(folder: folder)
        }
        throw APIError(.modelUnavailable, "\(folder.path): neither a Siamese model folder (siamese.json) nor a sentence-transformers folder (modules.json)")
    }
}
