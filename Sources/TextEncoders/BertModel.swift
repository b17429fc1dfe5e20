import NN
import Tensors

/// BERT's embeddings: word + position + token type, then LayerNorm and dropout.
///
/// Parameter names follow HuggingFace's `BertModel` (`word_embeddings.weight`, `LayerNorm.bias`, …)
/// so that a checkpoint's tensors map one to one. MPNet's are the same without the token-type
/// table (``tokenTypeEmbeddings`` is nil); RoBERTa's are BERT's, with a one-row token-type table.
public final class BertEmbeddings: Module {
    public let wordEmbeddings: Embedding
    public let positionEmbeddings: Embedding
    /// BERT's token-type table; nil for MPNet, which has none.
    public let tokenTypeEmbeddings: Embedding?
    public let layerNorm: LayerNorm
    public var isTraining = false

    init(_ c: BertConfiguration, initializer: Initializer, generator: inout SeededGenerator) {
        wordEmbeddings = Embedding(c.vocabularySize, c.hiddenSize, initializer: initializer, generator: &generator)
        positionEmbeddings = Embedding(c.maxPositions, c.hiddenSize, initializer: initializer, generator: &generator)
        tokenTypeEmbeddings = c.family == .mpnet ? nil
            : Embedding(c.typeVocabularySize, c.hiddenSize, initializer: initializer, generator: &generator)
        layerNorm = LayerNorm(c.hiddenSize, epsilon: c.layerNormEpsilon)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        scoped("word_embeddings", wordEmbeddings.namedParameters) + scoped("position_embeddings", positionEmbeddings.namedParameters)
            + scoped("token_type_embeddings", tokenTypeEmbeddings?.namedParameters ?? []) + scoped("LayerNorm", layerNorm.namedParameters)
    }
}

/// One transformer layer: multi-head self-attention and a feed-forward block, each followed by
/// dropout, a residual connection and LayerNorm (post-LN, as BERT).
public final class BertLayer: Module {
    public let query: Linear, key: Linear, value: Linear
    public let attentionOutput: Linear
    public let attentionLayerNorm: LayerNorm
    public let intermediate: Linear
    public let output: Linear
    public let outputLayerNorm: LayerNorm
    public var isTraining = false
    /// HF's names differ by family: `attention.self.query` (BERT, RoBERTa) or `attention.attn.q` (MPNet).
    let family: BertConfiguration.Family

    init(_ c: BertConfiguration, initializer: Initializer, generator: inout SeededGenerator) {
        family = c.family
        let h = c.hiddenSize, i = c.intermediateSize
        func linear(_ input: Int, _ out: Int) -> Linear {
            Linear(input, out, weightInit: initializer, biasInit: .zeros, generator: &generator)
        }
        query = linear(h, h); key = linear(h, h); value = linear(h, h)
        attentionOutput = linear(h, h)
        attentionLayerNorm = LayerNorm(h, epsilon: c.layerNormEpsilon)
        intermediate = linear(h, i)
        output = linear(i, h)
        outputLayerNorm = LayerNorm(h, epsilon: c.layerNormEpsilon)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        if family == .mpnet {
            return scoped("attention.attn.q", query.namedParameters) + scoped("attention.attn.k", key.namedParameters)
                + scoped("attention.attn.v", value.namedParameters) + scoped("attention.attn.o", attentionOutput.namedParameters)
                + scoped("attention.LayerNorm", attentionLayerNorm.namedParameters)
                + scoped("intermediate.dense", intermediate.namedParameters)
                + scoped("output.dense", output.namedParameters) + scoped("output.LayerNorm", outputLayerNorm.namedParameters)
        }
        return scoped("attention.self.query", query.namedParameters) + scoped("attention.self.key", key.namedParameters)
            + scoped("attention.self.value", value.namedParameters)
            + scoped("attention.output.dense", attentionOutput.namedParameters)
            + scoped("attention.output.LayerNorm", attentionLayerNorm.namedParameters)
            + scoped("intermediate.dense", intermediate.namedParameters)
            + scoped("output.dense", output.namedParameters) + scoped("output.LayerNorm", outputLayerNorm.namedParameters)
    }
}

/// A BERT encoder (HuggingFace `BertModel` without its pooler head): token ids in, one hidden
/// vector per token out.
///
/// This is the differentiable path, built from autodiff ops for fine-tuning; inference goes
/// through ``InferenceEngine``, which computes the same function on packed sequences without
/// padding or a graph.
public final class BertModel: Module {
    public let configuration: BertConfiguration
    public let embeddings: BertEmbeddings
    public let layers: [BertLayer]
    /// MPNet's relative position bias `[buckets, heads]` (`encoder.relative_attention_bias`),
    /// shared by all layers; nil for BERT.
    public let relativeAttentionBias: Embedding?
    /// The pooler of the checkpoint (`pooler.dense.*`), unused by sentence encoders but kept so
    /// that saving gives back a complete `BertModel`: buffers, not trained.
    public private(set) var pooler: [(name: String, tensor: Tensor)] = []
    /// Draws the dropout masks in training mode (reproducible from the seed).
    public var dropoutGenerator: SeededGenerator
    public var isTraining = false {
        didSet {
            embeddings.isTraining = isTraining
            for l in layers { l.isTraining = isTraining }
        }
    }

    /// A randomly initialised encoder (BERT's initialisation: N(0, 0.02) weights, zero biases,
    /// LayerNorm scale 1).
    public convenience init(_ configuration: BertConfiguration, seed: UInt64 = 0) {
        self.init(configuration, initializer: .normal(std: 0.02), seed: seed)
    }

    /// `initializer` for the weight matrices and embedding tables; zeros when the weights are
    /// about to be loaded (drawing 22 million normal numbers would cost more than reading them).
    init(_ configuration: BertConfiguration, initializer: Initializer, seed: UInt64) {
        self.configuration = configuration
        var g = SeededGenerator(seed: seed)
        embeddings = BertEmbeddings(configuration, initializer: initializer, generator: &g)
        layers = (0..<configuration.layers).map { _ in BertLayer(configuration, initializer: initializer, generator: &g) }
        relativeAttentionBias = configuration.family == .mpnet
            ? Embedding(configuration.relativeAttentionBuckets, configuration.heads, initializer: initializer, generator: &g) : nil
        dropoutGenerator = SeededGenerator(seed: seed &+ 0x5EED)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        scoped("embeddings", embeddings.namedParameters)
            + layers.enumerated().flatMap { scoped("encoder.layer.\($0.offset)", $0.element.namedParameters) }
            + scoped("encoder.relative_attention_bias", relativeAttentionBias?.namedParameters ?? [])
    }

    public var namedBuffers: [(name: String, tensor: Tensor)] { pooler }

    public func setBuffer(_ name: String, _ value: Tensor) -> Bool {
        guard name.hasPrefix("pooler.") else { return false }
        if let i = pooler.firstIndex(where: { $0.name == name }) { pooler[i].tensor = value } else { pooler.append((name, value)) }
        return true
    }

    /// Hidden states `[count·maxLength, hidden]` of a padded batch (rows of padding included; they
    /// never influence real tokens, whose attention to them is masked out).
    public func callAsFunction(_ batch: TokenBatch) -> Tensor {
        let c = configuration
        let b = batch.count, t = batch.maxLength
        ensure(t <= c.maxSequenceLength, "BertModel: \(t) tokens exceed the \(c.maxSequenceLength) positions of the model")
        // Padding columns take the padding id's position (BERT: any position); they are masked.
        let padPosition = c.positionOffset == 0 ? 0 : c.paddingID
        var positions: [Int] = []
        positions.reserveCapacity(b * t)
        for r in 0..<b {
            let length = batch.lengths[r], start = r * t
            positions += c.positionIDs(batch.ids[start..<(start + length)])
            positions += repeatElement(padPosition, count: t - length)
        }
        var x = embeddings.wordEmbeddings(batch.ids) + embeddings.positionEmbeddings(positions)
        if let types = embeddings.tokenTypeEmbeddings { x = x + types(batch.typeIDs) }
        x = dropout(embeddings.layerNorm(x), c.hiddenDropout)
        // Additive mask [b, 1, 1, t]: a large negative score for padded keys (exp underflows to 0).
        var bias = [Float](repeating: 0, count: b * t)
        for r in 0..<b { for j in batch.lengths[r]..<t { bias[r * t + j] = -1e30 } }
        var mask = Tensor(shape: [b, 1, 1, t], bias)
        // MPNet: the relative position bias [1, heads, t, t] joins the mask (computed once, used by
        // every layer, so its gradient sums over the layers as in the PyTorch model).
        if let table = relativeAttentionBias {
            var buckets = [Int](repeating: 0, count: t * t)
            for i in 0..<t { for j in 0..<t { buckets[i * t + j] = BertConfiguration.relativePositionBucket(j - i) } }
            let positionBias = table(buckets).reshaped([t, t, c.heads]).permuted([2, 0, 1]).reshaped([1, c.heads, t, t])
            mask = positionBias + mask
        }
        for layer in layers { x = self.layer(layer, x, mask: mask, rows: b, columns: t) }
        return x
    }

    private func layer(_ l: BertLayer, _ x: Tensor, mask: Tensor, rows b: Int, columns t: Int) -> Tensor {
        let c = configuration
        let heads = c.heads, d = c.headSize
        func split(_ y: Tensor) -> Tensor { y.reshaped([b, t, heads, d]).permuted([0, 2, 1, 3]) }
        let q = split(l.query(x)), k = split(l.key(x)), v = split(l.value(x))
        var scores = Tensor.matmul(q, k, transposeB: true) * (1 / Float(d).squareRoot())
        scores = scores + mask
        let probabilities = dropout(scores.softmax(axis: -1), c.attentionDropout)
        let context = Tensor.matmul(probabilities, v).permuted([0, 2, 1, 3]).reshaped([b * t, c.hiddenSize])
        let attended = l.attentionLayerNorm(dropout(l.attentionOutput(context), c.hiddenDropout) + x)
        var inner = l.intermediate(attended)
        switch c.activation {
        case .gelu: inner = inner.gelu()
        case .geluTanh: inner = inner.gelu(approximation: .tanh)
        case .relu: inner = inner.relu()
        }
        return l.outputLayerNorm(dropout(l.output(inner), c.hiddenDropout) + attended)
    }

    private func dropout(_ x: Tensor, _ p: Float) -> Tensor {
        guard isTraining, p > 0 else { return x }
        return x.dropout(probability: p, training: true, generator: &dropoutGenerator)
    }
}
