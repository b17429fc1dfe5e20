import Foundation
import TextEncoders

/// One input to a served model: a text (for text encoders) or a feature vector (for Siamese
/// networks over feature rows).
public enum ModelInput: Sendable, Equatable {
    case text(String)
    case vector([Float])
}

/// What a served model takes as input.
public enum ModelKind: String, Sendable, Codable {
    /// Strings (a sentence-transformers encoder).
    case text
    /// Feature rows of a fixed length (a Siamese network's encoder).
    case vector
}

/// A model behind the HTTP service: it embeds inputs and compares embeddings.
///
/// Adapters exist per model family (``SiameseModelAdapter``, ``TextModelAdapter``); the
/// service only sees this protocol. Implementations need not be thread-safe: the service calls
/// ``embed(_:)`` and ``score(_:_:)`` from one inference thread at a time (``EmbedBatcher``).
public protocol ServedModel: AnyObject, Sendable {
    /// A short name for `/v1/models` (the folder name, or `demo`).
    var name: String { get }
    var kind: ModelKind { get }
    /// Input vector length for ``ModelKind/vector`` models (nil for text models).
    var inputDimension: Int? { get }
    /// Embedding length.
    var dimension: Int { get }
    /// Identifies the weights; stored with every vector so stores never mix models.
    var fingerprint: String { get }
    /// The saved decision threshold, when the model was calibrated.
    var calibration: ServedCalibration? { get }
    /// True when larger scores from ``score(_:_:)`` mean "same".
    var higherScoreMeansSame: Bool { get }
    /// The comparison behind ``score(_:_:)``, for clients (`cosine`, `dot`, `euclidean`, `head`…).
    var scoreName: String { get }
    /// Embeddings of already validated inputs, one row per input, with the prompt `prompt` picks
    /// before each text (a model without prompts takes none; see ``checkPrompt(_:)``).
    func embed(_ inputs: [ModelInput], prompt: Prompts.Choice) throws -> [[Float]]
    /// Refuses a prompt choice the model cannot follow (a name it does not have; a name or text
    /// for a model that takes no texts) with a 400 naming the field `prompt`; the default and
    /// the roles suit every model (without prompts they add nothing).
    func checkPrompt(_ prompt: Prompts.Choice) throws(APIError)
    /// The model's score for a pair of embeddings.
    func score(_ a: [Float], _ b: [Float]) -> Float
    /// Pairs to try the model with, listed by `/v1/models` and used by the web page (may be empty).
    var examples: [ExamplePair] { get }
}

extension ServedModel {
    public var examples: [ExamplePair] { [] }

    /// Embeddings with the model's default prompt (if it has one).
    public func embed(_ inputs: [ModelInput]) throws -> [[Float]] { try embed(inputs, prompt: .modelDefault) }
}

/// A model's saved threshold and the rule that chose it.
public struct ServedCalibration: Sendable, Equatable {
    public var threshold: Double
    /// `higher_is_same` or `lower_is_same`.
    public var scoreDirection: String
    /// The rule's short name (`eer`, `target_far`, …) and its target, when it has one.
    public var rule: String
    public var ruleTarget: Double?

    public init(threshold: Double, scoreDirection: String, rule: String, ruleTarget: Double?) {
        self.threshold = threshold
        self.scoreDirection = scoreDirection
        self.rule = rule
        self.ruleTarget = ruleTarget
    }

    /// The decision for a score under this calibration.
    public func isSame(_ score: Double) -> Bool {
        scoreDirection == "lower_is_same" ? score <= threshold : score >= threshold
    }
}

extension ServedModel {
    /// Checks that every input fits the model (kind, length, finite values); the error names
    /// the offending input by its JSON path (`field`).
    func validate(_ inputs: [ModelInput], field: String) throws(APIError) {
        for (i, input) in inputs.enumerated() {
            try validate(input, field: "\(field)[\(i)]")
        }
    }

    func validate(_ input: ModelInput, field: String) throws(APIError) {
        switch (input, kind) {
        case (.text, .text):
            // Any string, the empty one included: sentence-transformers embeds it as [CLS][SEP].
            break
        case (.text, .vector):
            throw APIError(.inputKindMismatch, "\(field): this model takes arrays of \(inputDimension ?? 0) numbers, not text", field: field)
        case (.vector, .text):
            throw APIError(.inputKindMismatch, "\(field): this model takes text, not arrays of numbers", field: field)
        case (.vector(let v), .vector):
            guard v.count == inputDimension else {
                throw APIError(.wrongDimension, "\(field): expected \(inputDimension ?? 0) numbers, got \(v.count)", field: field)
            }
            guard v.allSatisfy(\.isFinite) else {
                throw APIError(.nonFinite, "\(field): numbers must be finite (no NaN, no infinity, within float range)", field: field)
            }
        }
    }
}

/// Plain-Swift comparisons of two embeddings (no tensor machinery for one pair).
enum VectorMath {
    static func dot(_ a: [Float], _ b: [Float]) -> Float {
        var s: Float = 0
        for i in 0..<min(a.count, b.count) { s += a[i] * b[i] }
        return s
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        let na = dot(a, a).squareRoot(), nb = dot(b, b).squareRoot()
        guard na > 0, nb > 0 else { return 0 }
        return dot(a, b) / (na * nb)
    }

    static func squaredEuclidean(_ a: [Float], _ b: [Float]) -> Float {
        var s: Float = 0
        for i in 0..<min(a.count, b.count) { let d = a[i] - b[i]; s += d * d }
        return s
    }
}
