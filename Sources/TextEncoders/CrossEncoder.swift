import Foundation
import NN
import SafeTensors
import Tensors
import Tokenizers

/// A sentence-transformers cross-encoder: both texts of a pair go through the transformer
/// together and a classification head scores them — slower than comparing two embeddings, and
/// more accurate, so it reranks the best hits of a bi-encoder search.
///
/// Reads the folder `CrossEncoder.save` writes (a HuggingFace `…ForSequenceClassification`
/// model with its tokenizer; sentence-transformers 4 and later add `modules.json` and the
/// activation in `config_sentence_transformers.json`, older versions keep it in `config.json`).
/// The head runs in the inference engine as a sentence encoder's dense layers: the first token's
/// vector, BERT's pooler (dense + tanh), the classifier (one output per label); then the activation
/// (the library's default: sigmoid for one label, none for more).
public final class CrossEncoder: @unchecked Sendable {
    /// What turns the classifier's outputs into scores (`activation_fn`): sigmoid (the default
    /// for one label), identity (for several), or any other activation sentence-transformers names.
    public typealias Activation = DenseModule.Activation

    /// Number of scores per pair (`num_labels`).
    public let labels: Int
    /// Applied to the classifier's outputs.
    public let activation: Activation
    /// Pairs are cut to this many tokens together, special tokens included (the longer text first).
    public let maxLength: Int
    /// Lowercase texts before tokenising (`do_lower_case` of sentence_bert_config.json).
    public let lowercasesInput: Bool
    /// The tokenizer, set to cut pairs at ``maxLength``.
    public let tokenizer: Tokenizer
    /// The transformer, the first-token pooling and the head as dense layers.
    public let engine: InferenceEngine

    /// The `…ForSequenceClassification` architecture `config.json` names, if any.
    static func classificationArchitecture(_ config: JSONFile) -> String? {
        (config.object["architectures"] as? [String])?.first { $0.hasSuffix("ForSequenceClassification") }
    }

    /// Loads the cross-encoder in `folder`.
    /// - Parameters:
    ///   - folder: A folder saved by sentence-transformers' `CrossEncoder.save` (or a HuggingFace
    ///     `BertForSequenceClassification` folder with its tokenizer).
    ///   - precision: The engine's arithmetic for the linear layers.
    /// - Throws: a ``TextEncoderError`` naming the file and field: not a sequence classifier, an
    ///   unknown activation, a head whose shapes do not match the configuration.
    public init(folder: URL, precision: Precision = .float32) throws(TextEncoderError) {
        let configURL = folder.appendingPathComponent("config.json")
        let config = try JSONFile(configURL)
        guard let architecture = Self.classificationArchitecture(config) else {
            throw TextEncoderError("\(configURL.path): architectures: a cross-encoder is a …ForSequenceClassification model (BertForSequenceClassification, …); found \((config.object["architectures"] as? [String])?.joined(separator: ", ") ?? "none")")
        }
        guard architecture == "BertForSequenceClassification" else {
            throw TextEncoderError("\(configURL.path): architectures: \(architecture) is not supported yet (BertForSequenceClassification is)")
        }
        let labels: Int
        if let names = config.object["id2label"] as? [String: Any] { labels = names.count } else {
            labels = try config.int("num_labels", default: 2, range: 1...100_000)
        }
        let (bert, tokenizer, maxLength, lowercase, preserved) = try SentenceTransformer.loadTransformer(folder, classifierHead: true)
        let h = bert.configuration.hiddenSize
        let weightsURL = folder.appendingPathComponent("model.safetensors")
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(contentsOf: weightsURL) } catch { throw TextEncoderError("\(error)") }
        func tensor(_ name: String, _ shape: [Int]) throws(TextEncoderError) -> Tensor {
            guard let stored = file.names.first(where: { $0 == name || $0.hasSuffix("." + name) }) else {
                throw TextEncoderError("\(weightsURL.path): tensor \(name) is missing (the \(architecture) head)")
            }
            let t: Tensor
            do { t = try file.tensor(named: stored) } catch { throw TextEncoderError("\(error)") }
            guard t.shape == shape else { throw TextEncoderError("\(weightsURL.path): tensor \(name) has shape \(t.shape), the configuration needs \(shape)") }
            guard t.allFinite else { throw TextEncoderError("\(weightsURL.path): tensor \(name) contains NaN or infinite values") }
            return t
        }
        let pooler = DenseModule(inFeatures: h, outFeatures: h, activation: .tanh)
        pooler.linear.weight.value = try tensor("pooler.dense.weight", [h, h])
        pooler.linear.bias!.value = try tensor("pooler.dense.bias", [h])
        let classifier = DenseModule(inFeatures: h, outFeatures: labels, activation: .identity)
        classifier.linear.weight.value = try tensor("classifier.weight", [labels, h])
        classifier.linear.bias!.value = try tensor("classifier.bias", [labels])
        let model = SentenceTransformer(tokenizer: tokenizer, bert: bert, pooling: Pooling(modes: [.cls], dimension: h),
                                        dense: [pooler, classifier], normalizes: false, maxSequenceLength: maxLength,
                                        lowercasesInput: lowercase, preservedFiles: preserved)
        self.labels = labels
        activation = try Self.activation(folder: folder, config: config, labels: labels)
        self.maxLength = model.maxSequenceLength
        lowercasesInput = lowercase
        var cutting = tokenizer
        cutting.truncation = Truncation(maxLength: model.maxSequenceLength, strategy: .longestFirst)
        self.tokenizer = cutting
        engine = InferenceEngine(model: model, precision: precision, keepingSnapshot: false)
    }

    /// The activation the folder names: `config_sentence_transformers.json`'s `activation_fn`
    /// (sentence-transformers 5 and later), `config.json`'s `sentence_transformers.activation_fn`
    /// (version 4) or `sbert_ce_default_activation_function` (older); else the library's default.
    static func activation(folder: URL, config: JSONFile, labels: Int) throws(TextEncoderError) -> Activation {
        var found: (name: String, file: String, field: String)?
        let st = folder.appendingPathComponent("config_sentence_transformers.json")
        if let data = try? Data(contentsOf: st), let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
           let name = object["activation_fn"] as? String {
            found = (name, st.path, "activation_fn")
        } else if let name = (config.object["sentence_transformers"] as? [String: Any])?["activation_fn"] as? String {
            found = (name, config.path, "sentence_transformers.activation_fn")
        } else if let name = config.object["sbert_ce_default_activation_function"] as? String {
            found = (name, config.path, "sbert_ce_default_activation_function")
        }
        guard let found else { return labels == 1 ? .sigmoid : .identity }
        guard let activation = Activation(rawValue: found.name) else {
            throw TextEncoderError("\(found.file): \(found.field): \"\(found.name)\" is not supported (\(Activation.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return activation
    }

    /// The pair as the model reads it: both texts with the special tokens between and around them,
    /// token types 0 and 1, cut to ``maxLength`` (the longer text loses tokens first).
    /// An empty second text still makes a pair (its separator stays), as the library's batched
    /// tokenisation of `CrossEncoder.predict` does.
    public func tokenize(_ a: String, _ b: String) -> Encoding {
        lowercasesInput ? tokenizer.encode(a.lowercased(), pair: b.lowercased()) : tokenizer.encode(a, pair: b)
    }

    /// Scores of each pair, in order: ``labels`` values per pair after the ``activation``
    /// (sentence-transformers' `CrossEncoder.predict`).
    /// - Parameters:
    ///   - pairs: The text pairs.
    ///   - batchSize: Pairs per forward pass (the engine packs them without padding).
    public func predict(_ pairs: [(String, String)], batchSize: Int = 32) -> [[Float]] {
        guard !pairs.isEmpty else { return [] }
        let logits = engine.encode(pairs.map { tokenize($0.0, $0.1) }, batchSize: max(1, batchSize)).scalars
        return (0..<pairs.count).map { i in
            logits[(i * labels)..<((i + 1) * labels)].map(activation.apply)
        }
    }

    /// One score per candidate for `query` (the first label's when the model has several), in
    /// the candidates' order.
    public func scores(query: String, candidates: [String], batchSize: Int = 32) -> [Float] {
        predict(candidates.map { (query, $0) }, batchSize: batchSize).map { $0[0] }
    }

    /// The order a rerank gives: the indices of the scored candidates by descending score (ties in
    /// input order), then those without a score (a search hit without text) in input order, at
    /// most `keep` of them. The one ordering of `rerank`, `search --rerank` and the service.
    /// - Parameters:
    ///   - scores: each candidate's score, nil for one that was not scored.
    ///   - keep: the most indices returned.
    public static func ranking(_ scores: [Float?], keep: Int = .max) -> [Int] {
        let scored = scores.indices.filter { scores[$0] != nil }.sorted { (scores[$0]!, $1) > (scores[$1]!, $0) }
        return Array((scored + scores.indices.filter { scores[$0] == nil }).prefix(max(0, keep)))
    }
}

