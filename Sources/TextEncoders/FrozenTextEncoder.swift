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
    /// The model's prompts.
    public let prompts: Prompts

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
        prompts = model.prompts
    }

    /// Embeddings `[texts.count, dimension]`, rows in input order (see
    /// ``SentenceTransformer/encode(_:batchSize:precision:)``).
    /// The model's default prompt, if it names one, goes before each text.
    public func encode(_ texts: [String], batchSize: Int = 64) -> Tensor {
        encode(texts, promptText: (try? prompts.text(for: .modelDefault)) ?? nil, batchSize: batchSize)
    }

    /// Embeddings with the prompt `prompt` picks before each text (see ``Prompts``).
    /// - Throws: a ``TextEncoderError`` for a prompt name the model does not have.
    public func encode(_ texts: [String], prompt: Prompts.Choice, batchSize: Int = 64) throws(TextEncoderError) -> Tensor {
        encode(texts, promptText: try prompts.text(for: prompt), batchSize: batchSize)
    }

    /// Tokens the pooling leaves out of each input when `prompt` goes before it: none when the
    /// pooling includes prompts, else the prompt's own tokenisation without its trailing special
    /// token (the leading one, `[CLS]`, is left out with it), as sentence-transformers counts them.
    func promptTokens(_ prompt: String?) -> Int {
        guard let prompt, !engine.pooling.includePrompt else { return 0 }
        let e = SentenceTransformer.tokenize(prompt, tokenizer: tokenizer, lowercase: lowercasesInput, maxLength: maxSequenceLength)
        return e.count - (e.specialTokensMask.last == true ? 1 : 0)
    }

    private func encode(_ texts: [String], promptText: String?, batchSize: Int) -> Tensor {
        let inputs = promptText.map { p in texts.map { p + $0 } } ?? texts
        let encodings = SentenceTransformer.tokenizeAll(inputs, tokenizer: tokenizer, lowercase: lowercasesInput, maxLength: maxSequenceLength)
        let full = engine.encode(encodings, batchSize: max(1, batchSize), poolingSkip: promptTokens(promptText))
        guard let d = truncateDimension, d < engine.dimension else { return full }
        let prefix = full.slice(axis: 1, 0..<d)
        return normalizes ? prefix.l2Normalized() : prefix
    }
}
