import Foundation

/// The shape of a BERT encoder, as `config.json` of a HuggingFace model folder describes it.
public struct BertConfiguration: Sendable, Equatable {
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

    /// Reads `config.json`; anything this encoder cannot run (another architecture, relative
    /// positions, a hidden size the heads do not divide) throws.
    init(_ file: JSONFile) throws(TextEncoderError) {
        let type = try file.string("model_type", default: "bert")
        guard type == "bert" else {
            throw TextEncoderError("\(file.path): model_type \"\(type)\" is not supported (only BERT encoders are)")
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
    }

    /// `config.json` for this configuration, as `transformers` writes it for a `BertModel`.
    var jsonObject: [String: Any] {
        ["architectures": ["BertModel"], "model_type": "bert", "vocab_size": vocabularySize, "hidden_size": hiddenSize,
         "num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": intermediateSize,
         "max_position_embeddings": maxPositions, "type_vocab_size": typeVocabularySize,
         "layer_norm_eps": Double(layerNormEpsilon), "hidden_act": activation == .geluTanh ? "gelu_new" : activation.rawValue,
         "hidden_dropout_prob": Double(hiddenDropout), "attention_probs_dropout_prob": Double(attentionDropout),
         "position_embedding_type": "absolute", "pad_token_id": 0, "initializer_range": 0.02]
    }
}
