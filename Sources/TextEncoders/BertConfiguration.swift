import Foundation

/// The shape of a BERT-style encoder, as `config.json` of a HuggingFace model folder describes it:
/// BERT itself, MPNet or RoBERTa / XLM-RoBERTa (``Family-swift.enum``).
public struct BertConfiguration: Sendable, Equatable {
    /// The encoder families this configuration describes. They share the post-LN transformer
    /// layer; MPNet differs in its tensor names, in having no token-type table, in position ids
    /// that start after the padding id, and in a learned relative position bias added to every
    /// layer's attention scores (one bucketed table shared by all layers). RoBERTa is BERT with
    /// MPNet's position ids (and, as checkpoints have it, a one-row token-type table).
    public enum Family: String, Sendable, CaseIterable {
        /// `model_type` "bert" (`BertModel`, `BertForMaskedLM`, …).
        case bert
        /// `model_type` "mpnet" (`MPNetModel`, `MPNetForMaskedLM`, …).
        case mpnet
        /// `model_type` "roberta" or "xlm-roberta" (`RobertaModel`, `XLMRobertaModel`,
        /// `…ForMaskedLM`): BERT's layers and tensor names, position ids from `pad_token_id + 1`.
        /// XLM-RoBERTa is the same network; only its tokenizer (SentencePiece Unigram) differs, and
        /// that comes from `tokenizer.json`.
        case roberta

        /// The family of a `config.json` `model_type`, nil for one this encoder cannot run.
        /// - Parameter modelType: The `model_type` string, as transformers writes it.
        public init?(modelType: String) {
            // Two model types, one network: XLM-R's config class is RoBERTa's under another name.
            self.init(rawValue: modelType == "xlm-roberta" ? "roberta" : modelType)
        }

        /// Every `model_type` this encoder runs.
        public static let modelTypes = ["bert", "mpnet", "roberta", "xlm-roberta"]
    }

    /// The feed-forward activation (`hidden_act`).
    public enum Activation: String, Sendable {
        /// Exact GELU with erf (`gelu`), as BERT.
        case gelu
        /// GELU's tanh approximation (`gelu_new`, `gelu_pytorch_tanh`).
        case geluTanh = "gelu_new"
        case relu
    }

    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var typeVocabularySize: Int
    public var layerNormEpsilon: Float
    public var activation: Activation
    public var hiddenDropout: Float
    public var attentionDropout: Float
    /// BERT, MPNet or RoBERTa.
    public var family: Family = .bert
    /// Rows of MPNet's relative position bias table (`relative_attention_num_buckets`). HF
    /// transformers buckets positions into 32 whatever this says (its encoder calls the bucket
    /// function with the default), so it must be at least 32 and rows past 32 go unused.
    public var relativeAttentionBuckets = 32
    /// MPNet's and RoBERTa's padding id (`pad_token_id`): their position ids start at `paddingID + 1`.
    public var paddingID = 1

    /// A configuration given field by field (BERT; set ``family`` for MPNet or RoBERTa).
    /// - Parameters:
    ///   - vocabularySize: Rows of the word embedding table.
    ///   - hiddenSize: Width of every token vector.
    ///   - layers: Transformer layers.
    ///   - heads: Attention heads (they must divide `hiddenSize`).
    ///   - intermediateSize: Width of the feed-forward block.
    ///   - maxPositions: Rows of the position table.
    ///   - typeVocabularySize: Rows of the token-type table (BERT).
    ///   - layerNormEpsilon: LayerNorm's epsilon.
    ///   - activation: The feed-forward activation.
    ///   - hiddenDropout: Dropout after embeddings and sublayers, in training.
    ///   - attentionDropout: Dropout of attention probabilities, in training.
    public init(vocabularySize: Int, hiddenSize: Int, layers: Int, heads: Int, intermediateSize: Int, maxPositions: Int = 512,
                typeVocabularySize: Int = 2, layerNormEpsilon: Float = 1e-12, activation: Activation = .gelu,
                hiddenDropout: Float = 0.1, attentionDropout: Float = 0.1) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.heads = heads
        self.intermediateSize = intermediateSize
        self.maxPositions = maxPositions
        self.typeVocabularySize = typeVocabularySize
        self.layerNormEpsilon = layerNormEpsilon
        self.activation = activation
        self.hiddenDropout = hiddenDropout
        self.attentionDropout = attentionDropout
    }

    /// The width of one attention head.
    public var headSize: Int { hiddenSize / heads }

    /// The position id of the token at index `j` of a sequence: `j` for BERT; `paddingID + 1 + j`
    /// for MPNet and RoBERTa, whose ids count from just past the padding id.
    public var positionOffset: Int { family == .bert ? 0 : paddingID + 1 }

    /// The position ids of one sequence's tokens. BERT: `0, 1, 2, …`. MPNet and RoBERTa, as HF
    /// transformers' `create_position_ids_from_input_ids`: each token that is not the padding id
    /// gets `paddingID` + the number of such tokens up to it; a padding id inside the text (the
    /// literal `<pad>`) gets `paddingID` and does not advance the count.
    public func positionIDs(_ ids: ArraySlice<Int>) -> [Int] {
        guard family != .bert else { return Array(0..<ids.count) }
        var count = 0
        return ids.map { id in
            if id == paddingID { return paddingID }
            count += 1
            return paddingID + count
        }
    }

    /// The longest sequence the position table can take.
    public var maxSequenceLength: Int { maxPositions - positionOffset }

    /// MPNet's bucket of a relative position `memory − context` (key index minus query index), as
    /// HF transformers' `MPNetEncoder.relative_position_bucket` computes it: half the buckets for
    /// each sign; distances below a quarter of the buckets exact, larger ones logarithmic up to
    /// `maxDistance`, the last bucket beyond. Computed in Float32 like the PyTorch original, so
    /// that distances on a bucket boundary fall the same side.
    public static func relativePositionBucket(_ relative: Int, buckets: Int = 32, maxDistance: Int = 128) -> Int {
        let half = buckets / 2
        let n = -relative
        var bucket = n < 0 ? half : 0
        let distance = abs(n)
        let maxExact = half / 2
        if distance < maxExact { return bucket + distance }
        let ratio = Float(distance) / Float(maxExact)
        let scale = Float(log(Double(maxDistance) / Double(maxExact)))
        let large = maxExact + Int(log(ratio) / scale * Float(half - maxExact))
        bucket += min(large, half - 1)
        return bucket
    }

    /// Reads `config.json`; anything this encoder cannot run (another architecture, relative
    /// positions, a hidden size the heads do not divide) throws.
    init(_ file: JSONFile) throws(TextEncoderError) {
        let type = try file.string("model_type", default: "bert")
        guard let family = Family(modelType: type) else {
            let supported = Family.modelTypes.map { "\"\($0)\"" }.joined(separator: ", ")
            throw file.error("model_type", "\"\(type)\" is not supported (supported: \(supported))")
        }
        if family == .mpnet {
            try self.init(mpnet: file)
            return
        }
        let positions = try file.string("position_embedding_type", default: "absolute")
        guard positions == "absolute" else {
            throw TextEncoderError("\(file.path): position_embedding_type \"\(positions)\" is not supported (only absolute)")
        }
        let act = try file.string("hidden_act", default: "gelu")
        let activation: Activation
        switch act {
        case "gelu": activation = .gelu
        case "gelu_new", "gelu_pytorch_tanh": activation = .geluTanh
        case "relu": activation = .relu
        default: throw file.error("hidden_act", "activation \"\(act)\" is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu are)")
        }
        let hidden = try file.int("hidden_size", range: 1...65536)
        let heads = try file.int("num_attention_heads", range: 1...1024)
        guard hidden % heads == 0 else { throw file.error("num_attention_heads", "\(heads) heads do not divide hidden_size \(hidden)") }
        self.init(vocabularySize: try file.int("vocab_size", range: 1...10_000_000), hiddenSize: hidden,
                  layers: try file.int("num_hidden_layers", range: 0...1000), heads: heads,
                  intermediateSize: try file.int("intermediate_size", range: 1...1_000_000),
                  maxPositions: try file.int("max_position_embeddings", default: 512, range: 1...1_000_000),
                  typeVocabularySize: try file.int("type_vocab_size", default: 2, range: 1...1000),
                  layerNormEpsilon: try file.float("layer_norm_eps", default: 1e-12), activation: activation,
                  hiddenDropout: try file.float("hidden_dropout_prob", default: 0.1),
                  attentionDropout: try file.float("attention_probs_dropout_prob", default: 0.1))
        guard (0..<1).contains(hiddenDropout), (0..<1).contains(attentionDropout) else {
            throw TextEncoderError("\(file.path): dropout probabilities must be in [0, 1)")
        }
        if family == .roberta {
            // RobertaConfig's fields are BertConfig's (same defaults); only the position ids differ.
            self.family = .roberta
            paddingID = try file.int("pad_token_id", default: 1, range: 0...10_000_000)
            guard maxPositions > positionOffset else {
                throw file.error("max_position_embeddings", "\(maxPositions) leaves no position after the padding offset \(positionOffset)")
            }
        }
    }

    /// MPNet's `config.json` (`MPNetForMaskedLM` / `MPNetModel`): no token types, LayerNorm
    /// epsilon 1e-5 by default, `relative_attention_num_buckets` and `pad_token_id`.
    private init(mpnet file: JSONFile) throws(TextEncoderError) {
        let act = try file.string("hidden_act", default: "gelu")
        guard let activation: Activation = ["gelu": .gelu, "gelu_new": .geluTanh, "gelu_pytorch_tanh": .geluTanh, "relu": .relu][act] else {
            throw file.error("hidden_act", "activation \"\(act)\" is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu are)")
        }
        let hidden = try file.int("hidden_size", range: 1...65536)
        let heads = try file.int("num_attention_heads", range: 1...1024)
        guard hidden % heads == 0 else { throw file.error("num_attention_heads", "\(heads) heads do not divide hidden_size \(hidden)") }
        self.init(vocabularySize: try file.int("vocab_size", range: 1...10_000_000), hiddenSize: hidden,
                  layers: try file.int("num_hidden_layers", range: 0...1000), heads: heads,
                  intermediateSize: try file.int("intermediate_size", range: 1...1_000_000),
                  maxPositions: try file.int("max_position_embeddings", default: 514, range: 1...1_000_000),
                  typeVocabularySize: 1, layerNormEpsilon: try file.float("layer_norm_eps", default: 1e-5), activation: activation,
                  hiddenDropout: try file.float("hidden_dropout_prob", default: 0.1),
                  attentionDropout: try file.float("attention_probs_dropout_prob", default: 0.1))
        family = .mpnet
        relativeAttentionBuckets = try file.int("relative_attention_num_buckets", default: 32, range: 1...4096)
        guard relativeAttentionBuckets >= 32 else {
            throw file.error("relative_attention_num_buckets", "\(relativeAttentionBuckets) is fewer than the 32 buckets MPNet's encoder uses")
        }
        paddingID = try file.int("pad_token_id", default: 1, range: 0...10_000_000)
        guard maxPositions > positionOffset else {
            throw file.error("max_position_embeddings", "\(maxPositions) leaves no position after the padding offset \(positionOffset)")
        }
        guard (0..<1).contains(hiddenDropout), (0..<1).contains(attentionDropout) else {
            throw TextEncoderError("\(file.path): dropout probabilities must be in [0, 1)")
        }
    }

    /// The `config.json` fields that fix the shape of parameter `name` (HF's name, no prefix), so
    /// that a weight file that disagrees with the configuration is reported against both.
    func shapeFields(of name: String) -> [String] {
        if name.hasPrefix("embeddings.word_embeddings.") { return ["vocab_size", "hidden_size"] }
        if name.hasPrefix("embeddings.position_embeddings.") { return ["max_position_embeddings", "hidden_size"] }
        if name.hasPrefix("embeddings.token_type_embeddings.") { return ["type_vocab_size", "hidden_size"] }
        if name.hasPrefix("encoder.relative_attention_bias.") { return ["relative_attention_num_buckets", "num_attention_heads"] }
        // The feed-forward block's two matrices (not the attention's `attention.output.dense`).
        if name.contains(".intermediate.dense.") || (name.contains(".output.dense.") && !name.contains(".attention.")) {
            return ["intermediate_size", "hidden_size"]
        }
        return ["hidden_size"]
    }

    /// `config.json` for this configuration, as `transformers` writes it for a `BertModel`, an
    /// `MPNetModel` or a `RobertaModel`.
    var jsonObject: [String: Any] {
        if family == .mpnet {
            return ["architectures": ["MPNetModel"], "model_type": "mpnet", "vocab_size": vocabularySize, "hidden_size": hiddenSize,
                    "num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": intermediateSize,
                    "max_position_embeddings": maxPositions, "layer_norm_eps": Double(layerNormEpsilon),
                    "hidden_act": activation == .geluTanh ? "gelu_new" : activation.rawValue,
                    "hidden_dropout_prob": Double(hiddenDropout), "attention_probs_dropout_prob": Double(attentionDropout),
                    "relative_attention_num_buckets": relativeAttentionBuckets, "pad_token_id": paddingID,
                    "bos_token_id": 0, "eos_token_id": 2, "initializer_range": 0.02]
        }
        let roberta = family == .roberta
        return ["architectures": [roberta ? "RobertaModel" : "BertModel"], "model_type": roberta ? "roberta" : "bert",
         "vocab_size": vocabularySize, "hidden_size": hiddenSize,
         "num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": intermediateSize,
         "max_position_embeddings": maxPositions, "type_vocab_size": typeVocabularySize,
         "layer_norm_eps": Double(layerNormEpsilon), "hidden_act": activation == .geluTanh ? "gelu_new" : activation.rawValue,
         "hidden_dropout_prob": Double(hiddenDropout), "attention_probs_dropout_prob": Double(attentionDropout),
         "position_embedding_type": "absolute", "pad_token_id": roberta ? paddingID : 0, "initializer_range": 0.02]
    }
}
