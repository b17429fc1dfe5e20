import FileSupport
import Foundation
import NN
import SafeTensors
import Tensors
import Tokenizers

/// Reading and writing the sentence-transformers folder format.
///
/// `modules.json` lists the modules in order; this implementation runs the BERT bi-encoder shape
/// of it: `Transformer` (BERT, MPNet, RoBERTa or XLM-RoBERTa), `Pooling`, any number of `Dense`,
/// and an optional final `Normalize`. Types are matched by their last name, so both the classic
/// (`sentence_transformers.models.Pooling`) and the current
/// (`sentence_transformers.sentence_transformer.modules.pooling.Pooling`) spellings load.
/// A folder without `modules.json` is read as a plain HuggingFace BERT with mean pooling, as the
/// Python library does.
extension SentenceTransformer {
    /// Loads the model in `folder`. Every problem throws a ``TextEncoderError`` naming the file:
    /// missing or truncated weights, shapes that do not match `config.json`, an unknown module type,
    /// a tokenizer whose ids exceed the embedding table.
    public convenience init(folder: URL) throws(TextEncoderError) {
        AtomicFolder.recover(folder)  // a save killed mid-swap left the folder under a hidden name
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TextEncoderError("\(folder.path): not a folder")
        }
        let modulesURL = folder.appendingPathComponent("modules.json")
        var entries: [(type: String, path: String)] = [("Transformer", ""), ("Pooling", "")]
        var explicitPooling = false
        if fm.fileExists(atPath: modulesURL.path) {
            entries = try Self.readModules(modulesURL)
            explicitPooling = true
        }
        guard let first = entries.first, first.type == "Transformer" else {
            throw TextEncoderError("\(modulesURL.path): the first module must be a Transformer, found \(entries.first?.type ?? "none")")
        }
        let transformerFolder = first.path.isEmpty ? folder : folder.appendingPathComponent(first.path)
        let (bert, tokenizer, maxLength, lowercase, preserved) = try Self.loadTransformer(transformerFolder)

        var pooling: Pooling? = nil
        var dense: [DenseModule] = []
        var normalizes = false
        for (position, entry) in entries.enumerated().dropFirst() {
            let where_ = "\(modulesURL.path): module \(position) (\(entry.type))"
            if normalizes { throw TextEncoderError("\(where_): only Normalize may come last, nothing after it") }
            let path = folder.appendingPathComponent(entry.path)
            switch entry.type {
            case "Pooling":
                guard pooling == nil, position == 1 else { throw TextEncoderError("\(where_): Pooling must directly follow the Transformer") }
                if explicitPooling {
                    pooling = try Pooling(JSONFile(path.appendingPathComponent("config.json")))
                } else {
                    pooling = Pooling(modes: [.mean], dimension: bert.configuration.hiddenSize)
                }
            case "Dense":
                guard pooling != nil else { throw TextEncoderError("\(where_): Dense before Pooling is not supported") }
                dense.append(try DenseModule.load(path))
            case "Normalize":
                normalizes = true
            default:
                throw TextEncoderError("\(where_): module type not supported (Transformer, Pooling, Dense, Normalize are)")
            }
        }
        guard let pooling else { throw TextEncoderError("\(modulesURL.path): no Pooling module") }
        guard pooling.dimension == bert.configuration.hiddenSize else {
            throw TextEncoderError("\(folder.path)/\(entries[1].path)/config.json: pooling dimension \(pooling.dimension) differs from hidden_size \(bert.configuration.hiddenSize)")
        }
        var width = pooling.outputDimension
        for (i, d) in dense.enumerated() {
            guard d.linear.inFeatures == width else {
                throw TextEncoderError("\(folder.path): Dense module \(i) takes \(d.linear.inFeatures) inputs, the module before it gives \(width)")
            }
            width = d.linear.outFeatures
        }
        var files = preserved
        var truncate: Int? = nil
        var prompts = Prompts()
        let stConfig = folder.appendingPathComponent("config_sentence_transformers.json")
        if let data = try? Data(contentsOf: stConfig) {
            files["config_sentence_transformers.json"] = data
            truncate = try Self.truncateDimension(in: data, file: stConfig, width: width)
            prompts = try Prompts((try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:], file: stConfig)
        }
        self.init(tokenizer: tokenizer, bert: bert, pooling: pooling, dense: dense, normalizes: normalizes,
                  maxSequenceLength: maxLength, lowercasesInput: lowercase, preservedFiles: files)
        truncateDimension = truncate
        self.prompts = prompts
    }

    /// `truncate_dim` of config_sentence_transformers.json: nil when absent or null, else an
    /// integer in 1...width (sentence-transformers saves it for a model meant to be used truncated).
    static func truncateDimension(in data: Data, file: URL, width: Int) throws(TextEncoderError) -> Int? {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw TextEncoderError("\(file.path): expected a JSON object")
        }
        guard let value = object["truncate_dim"], !(value is NSNull) else { return nil }
        guard let d = JSONFile.int(value), (1...width).contains(d) else {
            throw TextEncoderError("\(file.path): truncate_dim: must be an integer in 1...\(width) (the embedding width) or null, got \(value)")
        }
        return d
    }

    /// Module types in order, by the last component of their Python name.
    static func readModules(_ url: URL) throws(TextEncoderError) -> [(type: String, path: String)] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw TextEncoderError("\(url.path): cannot read (\(error.localizedDescription))") }
        guard let list = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw TextEncoderError("\(url.path): expected a JSON list of module objects")
        }
        var modules: [(idx: Int, type: String, path: String)] = []
        for (i, m) in list.enumerated() {
            guard let type = m["type"] as? String else { throw TextEncoderError("\(url.path): module \(i) has no type") }
            let path = m["path"] as? String ?? ""
            guard !path.contains(".."), !path.hasPrefix("/") else { throw TextEncoderError("\(url.path): module \(i) has path \"\(path)\" outside the folder") }
            let name = String(type.split(separator: ".").last ?? "")
            guard type.hasPrefix("sentence_transformers.") else {
                throw TextEncoderError("\(url.path): module \(i) has type \(type), which is not a sentence-transformers module")
            }
            modules.append((JSONFile.int(m["idx"]) ?? i, name, path))
        }
        guard !modules.isEmpty else { throw TextEncoderError("\(url.path): no modules") }
        return modules.sorted { $0.idx < $1.idx }.map { ($0.type, $0.path) }
    }

    static let tokenizerFileNames = ["tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json", "added_tokens.json"]

    /// BERT, tokenizer, max_seq_length, do_lower_case and the files to keep, from the
    /// Transformer module's folder.
    static func loadTransformer(_ folder: URL, classifierHead: Bool = false) throws(TextEncoderError)
        -> (BertModel, Tokenizer, Int, Bool, [String: Data]) {
        let configURL = folder.appendingPathComponent("config.json")
        let configFile = try JSONFile(configURL)
        if !classifierHead, let head = CrossEncoder.classificationArchitecture(configFile) {
            throw TextEncoderError("\(configURL.path): architectures: \(head) is a cross-encoder (it scores pairs of texts, it makes no embeddings): use it with `siamese rerank`")
        }
        let configuration = try BertConfiguration(configFile)
        let tokenizer: Tokenizer
        do { tokenizer = try Tokenizer(folder: folder) } catch { throw TextEncoderError("\(error)") }
        guard tokenizer.vocabulary.count <= configuration.vocabularySize,
              tokenizer.addedTokens.allSatisfy({ $0.id < configuration.vocabularySize }) else {
            throw TextEncoderError("\(folder.path): the tokenizer has ids up to \(max(tokenizer.vocabulary.count - 1, tokenizer.addedTokens.map(\.id).max() ?? 0)), the model's vocab_size is \(configuration.vocabularySize)")
        }
        let weights = folder.appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: weights.path) else {
            throw TextEncoderError("\(folder.path): no model.safetensors (PyTorch .bin weights are not read; save the model with safe_serialization=True)")
        }
        let bert = BertModel(configuration, initializer: .zeros, seed: 0)
        let file = try WeightLoading.load(bert.namedParameters, from: weights) { name in
            // Heads of pre-training checkpoints (BERT's `cls.`, MPNet's and RoBERTa's `lm_head.`) are not part of the encoder.
            name == "embeddings.position_ids" || name.hasPrefix("pooler.") || name.hasPrefix("cls.") || name.hasPrefix("lm_head.")
                || (classifierHead && name.hasPrefix("classifier."))
        } source: { name in
            "\(configURL.path) (\(configuration.shapeFields(of: name).joined(separator: ", ")))"
        }
        for name in file.names where name.hasSuffix("pooler.dense.weight") || name.hasSuffix("pooler.dense.bias") {
            let short = String(name[name.range(of: "pooler.")!.lowerBound...])
            do { _ = bert.setBuffer(short, try file.tensor(named: name)) } catch { throw TextEncoderError("\(error)") }
        }

        var maxLength = configuration.maxPositions
        var lowercase = false
        let sbert = folder.appendingPathComponent("sentence_bert_config.json")
        if FileManager.default.fileExists(atPath: sbert.path) {
            let f = try JSONFile(sbert)
            if f.has("max_seq_length") {
                maxLength = try f.int("max_seq_length", range: 1...1_000_000)
            } else if let m = tokenizer.modelMaxLength {
                maxLength = m
            }
            lowercase = try f.bool("do_lower_case", default: false)
        } else if let m = tokenizer.modelMaxLength {
            maxLength = m
        }
        maxLength = min(maxLength, configuration.maxSequenceLength)

        var preserved: [String: Data] = ["config.json": (try? Data(contentsOf: configURL)) ?? Data()]
        for name in tokenizerFileNames {
            if let data = try? Data(contentsOf: folder.appendingPathComponent(name)) { preserved[name] = data }
        }
        return (bert, tokenizer, maxLength, lowercase, preserved)
    }

    // MARK: Saving

    /// Writes the model as a sentence-transformers folder that the Python library loads
    /// (`SentenceTransformer(path)`) and that gives the same embeddings there: `modules.json`,
    /// `config.json`, `model.safetensors` (HuggingFace BERT names, `format: pt`), the tokenizer
    /// files, `sentence_bert_config.json`, `1_Pooling/config.json` and each Dense module's folder.
    ///
    /// The folder is written whole under a staging name beside `folder`, every file synced, and
    /// swapped in (``AtomicFolder``): a kill at any moment leaves the previous folder or the new
    /// one complete, and the next load finishes an interrupted swap. An existing folder of that
    /// name is replaced (a `calibration.json` in it, made for the old weights, is not kept).
    public func save(to folder: URL) throws(TextEncoderError) {
        do {
            try AtomicFolder.replace(folder) { staging in try writeFolder(staging) }
        } catch let e as TextEncoderError {
            throw e
        } catch {
            throw TextEncoderError("\(folder.path): cannot save (\(error))")
        }
    }

    private func writeFolder(_ dir: URL) throws {
        func write(_ data: Data, _ name: String) throws {
            let url = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url)
        }
        var modules: [[String: Any]] = [["idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"],
                                        ["idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"]]
        for (k, d) in dense.enumerated() {
            let i = 2 + k, path = "\(i)_Dense"
            modules.append(["idx": i, "name": "\(i)", "path": path, "type": "sentence_transformers.models.Dense"])
            try write(try jsonData(d.configObject), "\(path)/config.json")
            var w = SafeTensorsWriter(metadata: ["format": "pt"])
            for (name, p) in d.namedParameters { try w.add(name, p.value.detached()) }
            try w.write(to: dir.appendingPathComponent("\(path)/model.safetensors"))
        }
        if normalizes {
            let i = modules.count
            modules.append(["idx": i, "name": "\(i)", "path": "\(i)_Normalize", "type": "sentence_transformers.models.Normalize"])
        }
        try write(try JSONSerialization.data(withJSONObject: modules, options: [.prettyPrinted, .withoutEscapingSlashes]), "modules.json")
        try write(try jsonData(pooling.jsonObject), "1_Pooling/config.json")
        try write(try jsonData(["max_seq_length": maxSequenceLength, "do_lower_case": lowercasesInput] as [String: Any]),
                  "sentence_bert_config.json")

        let config = try preservedFiles["config.json"].flatMap { $0.isEmpty ? nil : $0 } ?? jsonData(bert.configuration.jsonObject)
        try write(config, "config.json")
        try write(try sentenceTransformersConfig(), "config_sentence_transformers.json")
        let tokenizerFiles = Self.tokenizerFileNames.filter { preservedFiles[$0] != nil }
        if tokenizerFiles.isEmpty {
            // A tokenizer built in code: its vocabulary and settings, as BertTokenizer reads them.
            try write(Data((tokenizer.vocabulary.tokens.joined(separator: "\n") + "\n").utf8), "vocab.txt")
            let n = tokenizer.normalizer
            var cfg: [String: Any] = ["tokenizer_class": "BertTokenizer", "do_lower_case": n?.lowercase ?? false,
                                      "tokenize_chinese_chars": n?.handleChineseChars ?? true, "model_max_length": maxSequenceLength]
            cfg["strip_accents"] = n?.stripAccents.map { $0 as Any } ?? NSNull()
            try write(try jsonData(cfg), "tokenizer_config.json")
        } else {
            for name in tokenizerFiles { try write(preservedFiles[name]!, name) }
        }

        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for (name, p) in bert.namedParameters { try writer.add(name, p.value.detached()) }
        for (name, t) in bert.namedBuffers { try writer.add(name, t) }
        try writer.write(to: dir.appendingPathComponent("model.safetensors"))
    }

    /// config_sentence_transformers.json: the loaded file unchanged when its `truncate_dim` is the
    /// model's ``truncateDimension``, else with `truncate_dim` set (or removed).
    private func sentenceTransformersConfig() throws -> Data {
        let preserved = preservedFiles["config_sentence_transformers.json"]
        var object = preserved.flatMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] }
            ?? ["prompts": [String: String](), "default_prompt_name": NSNull(), "similarity_fn_name": "cosine"]
        let saved = object["truncate_dim"].flatMap { JSONFile.int($0) }
        if let preserved, saved == truncateDimension { return preserved }
        object["truncate_dim"] = truncateDimension.map { $0 as Any } ?? nil
        return try jsonData(object)
    }
}
