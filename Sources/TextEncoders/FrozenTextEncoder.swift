import Tensors
import Tokenizers

/// A sentence-transformers model fixed for inference: its tokenizer and an ``InferenceEngine``,
/// without the trainable parameters.
///
/// The engine packs each linear layer's weights in its own layout; the ``SentenceTransformer``
/// keeps its unpacked copy for training. A process that only encodes (the service, `store
/// import`) holds this instead and lets the model go, so those weights are in memory once, not
/// twice (all-MiniLM-L6-v2: 42 MB less; the embedding tables are shared, never copied).
public struct FrozenTextEncoder: Sendable {
    /// Runs the transformer, pooling, dense layers and normalisation.
    public let engine: InferenceEngine
    /// Turns texts into token ids.
    public let tokenizer: Tokenizer
    /// Lowercase inputs before tokenising (the model's `do_lower_case`).
    public let lowercasesInput: Bool
    /// Inputs are cut to this many tokens, special tokens included.
    public let maxSequenceLength: Int
    /// Keep only the first N dimensions (sentence-transformers' `truncate_dim`); nil: all.
    public let truncateDimension: Int?
    /// Whether embeddings are unit vectors (a truncated prefix is renormalised).
    public let normalizes: Bool

    /// The width of the embeddings ``encode(_:batchSize:)`` returns.
    public var dimension: Int { truncateDimension.map { min($0, engine.dimension) } ?? engine.dimension }

    /// An encoder running `model` through `engine` (built from that model).
    /// - Parameters:
    ///   - model: The model whose tokenizer and input settings apply.
    ///   - engine: An inference engine built from `model`'s current parameters.
    init(_ model: SentenceTransformer, engine: InferenceEngine) {
        self.engine = engine
        tokenizer = model.tokenizer
        lowercasesInput = model.lowercasesInput
        maxSequenceLength = model.maxSequenceLength
        truncateDimension = model.truncateDimension
        normalizes = model.normalizes
    }

    /// Embeddings `[texts.count, dimension]`, rows in input order (see
    /// ``SentenceTransformer/encode(_:batchSize:precision:)``).
    public func encode(_ texts: [String], batchSize: Int = 64) -> Tensor {
        let encodings = SentenceTransformer.tokenizeAll(texts, tokenizer: tokenizer, lowercase: lowercasesInput, maxLength: maxSequenceLength)
        let full = engine.encode(encodings, batchSize: max(1, batchSize))
        guard let d = truncateDimension, d < engine.dimension else { return full }
        let prefix = full.slice(axis: 1, 0..<d)
        return normalizes ? prefix.l2Normalized() : prefix
    }
}
