import Foundation
import NN
import Tensors
import Tokenizers

/// A sentence-transformers bi-encoder: tokenizer, BERT, pooling, optional dense layers and
/// normalisation, loaded from and saved to the sentence-transformers folder format.
///
/// ```swift
/// let model = try SentenceTransformer(folder: URL(fileURLWithPath: "all-MiniLM-L6-v2"))
/// let embeddings = model.encode(["A man is eating food.", "A man is riding a horse."])   // [2, 384]
/// ```
///
/// ``encode(_:batchSize:precision:)`` runs the inference engine (packed sequences, no padding,
/// no autodiff graph, multithreaded); ``embed(_:)`` is the differentiable forward pass used for
/// fine-tuning. Both compute the same function.
///
/// As an `NN.Module` its parameters carry HuggingFace's BERT names
/// (`embeddings.word_embeddings.weight`, `encoder.layer.0.attention.self.query.weight`, …), and
/// dense layers `dense.K.linear.weight`, so optimisers, checkpoints and `WeightsIO` work on it.
public final class SentenceTransformer: Module {
    public let tokenizer: Tokenizer
    public let bert: BertModel
    public let pooling: Pooling
    public let dense: [DenseModule]
    /// Whether the last module L2-normalises the embedding.
    public let normalizes: Bool
    /// Inputs are cut to this many tokens, special tokens included (`max_seq_length`).
    public var maxSequenceLength: Int
    /// Lowercase inputs before tokenising (sentence_bert_config.json's `do_lower_case`).
    public var lowercasesInput: Bool
    /// Files copied unchanged when saving (tokenizer files, config.json), by name.
    var preservedFiles: [String: Data]
    /// The model's prompts (`config_sentence_transformers.json`), applied by ``encode(_:prompt:batchSize:precision:)``
    /// and, the default one, by ``encode(_:batchSize:precision:)``; saved with the folder as read.
    public var prompts = Prompts()

    public var isTraining = false {
        didSet {
            bert.isTraining = isTraining
            for d in dense { d.isTraining = isTraining }
        }
    }

    private let engineCache = EngineCache()

    public init(tokenizer: Tokenizer, bert: BertModel, pooling: Pooling, dense: [DenseModule] = [], normalizes: Bool = true,
                maxSequenceLength: Int? = nil, lowercasesInput: Bool = false, preservedFiles: [String: Data] = [:]) {
        ensure(pooling.dimension == bert.configuration.hiddenSize,
                     "SentenceTransformer: pooling dimension \(pooling.dimension) differs from the hidden size \(bert.configuration.hiddenSize)")
        self.tokenizer = tokenizer
        self.bert = bert
        self.pooling = pooling
        self.dense = dense
        self.normalizes = normalizes
        self.maxSequenceLength = min(maxSequenceLength ?? bert.configuration.maxSequenceLength, bert.configuration.maxSequenceLength)
        self.lowercasesInput = lowercasesInput
        self.preservedFiles = preservedFiles
    }

    /// The width of the embeddings ``encode(_:batchSize:precision:)`` returns: ``truncateDimension``
    /// when set, else ``fullDimension``.
    public var dimension: Int { truncateDimension ?? fullDimension }

    /// The width of the model's own output (and of ``embed(_:)``, which fine-tuning uses).
    public var fullDimension: Int { dense.last?.linear.outFeatures ?? pooling.outputDimension }

    /// Keep only the first N dimensions of encoded embeddings (a Matryoshka-trained model used at a
    /// smaller width): sentence-transformers' `truncate_dim`, read from and saved to
    /// `config_sentence_transformers.json`. A model that normalises renormalises the prefix, so its
    /// embeddings stay unit vectors (sentence-transformers leaves them unnormalised unless
    /// `normalize_embeddings=True`; cosine similarities are the same either way). nil: full width.
    public var truncateDimension: Int? {
        didSet {
            if let d = truncateDimension {
                ensure(d >= 1 && d <= fullDimension, "SentenceTransformer: truncate dimension \(d) is outside 1...\(fullDimension)")
            }
        }
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        bert.namedParameters + dense.enumerated().flatMap { scoped("dense.\($0.offset)", $0.element.namedParameters) }
    }

    public var namedBuffers: [(name: String, tensor: Tensor)] { bert.namedBuffers }

    public func setBuffer(_ name: String, _ value: Tensor) -> Bool { bert.setBuffer(name, value) }

    // MARK: Tokenising

    /// The model's tokenisation of one input: special tokens added, cut to ``maxSequenceLength``.
    public func tokenize(_ text: String) -> Encoding {
        Self.tokenize(text, tokenizer: tokenizer, lowercase: lowercasesInput, maxLength: maxSequenceLength)
    }

    static func tokenize(_ text: String, tokenizer: Tokenizer, lowercase: Bool, maxLength: Int) -> Encoding {
        tokenizer.encode(lowercase ? text.lowercased() : text, maxLength: maxLength)
    }

    // MARK: Differentiable forward

    /// Embeddings `[texts.count, dimension]` through autodiff ops (gradients flow to the
    /// parameters); dropout is active in training mode.
    ///
    /// The texts run in groups of similar length, each padded only to its own longest, and the
    /// rows come back in input order: padding a batch of mixed lengths to its longest text would
    /// more than double the work of every layer (the padded rows are computed and thrown away).
    public func embed(_ texts: [String]) -> Tensor {
        let encodings = texts.map(tokenize)
        let groups = TokenBatch.lengthGroups(encodings.map(\.count))
        guard groups.count > 1 else { return embed(TokenBatch(encodings)) }
        let parts = groups.map { embed(TokenBatch($0.map { encodings[$0] })) }
        var position = [Int](repeating: 0, count: texts.count)
        for (row, index) in groups.joined().enumerated() { position[index] = row }
        return Tensor.concatenate(parts, axis: 0).indexSelect(position)
    }

    /// Embeddings of an already tokenised batch.
    public func embed(_ batch: TokenBatch) -> Tensor {
        var e = pooling(bert(batch), lengths: batch.lengths, columns: batch.maxLength)
        for d in dense { e = d(e) }
        return normalizes ? e.l2Normalized() : e
    }

    // MARK: Inference

    /// Embeddings `[texts.count, dimension]`, rows in input order, through the inference engine:
    /// inputs sorted by length and packed `batchSize` at a time without padding, no autodiff
    /// graph, on ``Threading/threadCount`` threads. With ``Precision/int8`` the encoder's linear
    /// layers run as dynamic int8.
    public func encode(_ texts: [String], batchSize: Int = 64, precision: Precision = .float32) -> Tensor {
        FrozenTextEncoder(self, engine: engineCache.engine(for: self, precision: precision)).encode(texts, batchSize: batchSize)
    }

    /// ``encode(_:batchSize:precision:)`` with the prompt `prompt` picks (see ``Prompts``).
    /// - Throws: a ``TextEncoderError`` for a prompt name the model does not have.
    public func encode(_ texts: [String], prompt: Prompts.Choice, batchSize: Int = 64, precision: Precision = .float32) throws(TextEncoderError) -> Tensor {
        try FrozenTextEncoder(self, engine: engineCache.engine(for: self, precision: precision)).encode(texts, prompt: prompt, batchSize: batchSize)
    }

    /// This model fixed for inference, holding no reference to the model: a caller that only
    /// encodes keeps it and lets the model go (see ``FrozenTextEncoder``).
    public func frozen(precision: Precision = .float32) -> FrozenTextEncoder {
        FrozenTextEncoder(self, engine: InferenceEngine(model: self, precision: precision, keepingSnapshot: false))
    }

    /// Tokenises on every thread: tokenising is a few percent of the work and needs no locks.
    static func tokenizeAll(_ texts: [String], tokenizer: Tokenizer, lowercase: Bool, maxLength: Int) -> [Encoding] {
        let box = ResultBox<Encoding>(count: texts.count)
        let chunk = 64
        let chunks = (texts.count + chunk - 1) / chunk
        Threading.parallelFor(chunks) { c in
            for i in (c * chunk)..<min(texts.count, (c + 1) * chunk) {
                box.set(i, Self.tokenize(texts[i], tokenizer: tokenizer, lowercase: lowercase, maxLength: maxLength))
            }
        }
        return box.values()
    }

    /// The inference engine for the current parameter values (rebuilt when they change).
    public func inferenceEngine(precision: Precision = .float32) -> InferenceEngine {
        engineCache.engine(for: self, precision: precision)
    }
}

/// Arithmetic used by the encoder's linear layers at inference.
public enum Precision: String, Sendable, CaseIterable {
    case float32
    /// Dynamic int8: weights quantised per output channel, activations per row at run time;
    /// embeddings, LayerNorm, attention, pooling stay in float32.
    case int8
}

/// Slots written by parallel workers, each index by exactly one of them (raw memory, so that
/// concurrent writes to different slots never touch shared bookkeeping).
final class ResultBox<T>: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<T?>
    private let count: Int
    init(count: Int) {
        self.count = count
        slots = .allocate(capacity: max(count, 1))
        slots.initialize(repeating: nil, count: count)
    }
    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }
    func set(_ i: Int, _ value: T) { slots[i] = value }
    func values() -> [T] { (0..<count).map { slots[$0]! } }
}
