import Foundation

/// Building a ``Tokenizer`` from the files of a model folder.
extension Tokenizer {
    /// The tokenizer of a model folder: `tokenizer.json` when present, else `vocab.txt`; with
    /// `tokenizer_config.json` applied as `transformers` applies it (see
    /// ``init(tokenizerJSON:config:)``).
    /// - Parameters:
    ///   - folder: The model folder holding `tokenizer.json` or `vocab.txt`, and optionally `tokenizer_config.json`.
    public init(folder: URL) throws(TokenizerError) {
        let fm = FileManager.default
        let json = folder.appendingPathComponent("tokenizer.json")
        let vocab = folder.appendingPathComponent("vocab.txt")
        let configURL = folder.appendingPathComponent("tokenizer_config.json")
        let config = fm.fileExists(atPath: configURL.path) ? try Self.readJSONObject(configURL) : nil
        if fm.fileExists(atPath: json.path) {
            try self.init(tokenizerJSON: try Self.read(json), file: json.path, config: config, configFile: configURL.path)
        } else if fm.fileExists(atPath: vocab.path) {
            try self.init(vocabTXT: try Self.read(vocab), file: vocab.path, config: config, configFile: configURL.path)
        } else {
            throw .noTokenizerFiles(folder: folder.path)
        }
    }

    /// A tokenizer from the bytes of a `tokenizer.json`.
    ///
    /// `config` is the parsed `tokenizer_config.json`, if any. When it names a BERT tokenizer class
    /// (`BertTokenizer`, `BertTokenizerFast`, and MPNet's), `transformers` rebuilds the normaliser from it —
    /// `do_lower_case` (default true), `strip_accents` (default nil) and `tokenize_chinese_chars`
    /// (default true) win over `tokenizer.json` — and so does this initialiser. Its
    /// `model_max_length` becomes ``modelMaxLength``.
    /// - Parameters:
    ///   - data: The bytes of `tokenizer.json`.
    ///   - file: The file's name in errors (default "<memory>").
    ///   - config: The parsed `tokenizer_config.json`, or nil (default nil).
    ///   - configFile: That file's name in errors (default "tokenizer_config.json").
    public init(tokenizerJSON data: Data, file: String = "<memory>", config: [String: Any]? = nil,
                configFile: String = "tokenizer_config.json") throws(TokenizerError) {
        let root = try Self.parseObject(data, file: file)
        let f = Fields(file: file)

        guard let model = root["model"] as? [String: Any] else { throw f.invalid("model", "missing or not an object") }
        let modelType = model["type"] as? String ?? (model["continuing_subword_prefix"] != nil ? "WordPiece" : "unknown")
        guard modelType == "WordPiece" else { throw .unsupported(file: file, component: "model", type: modelType) }
        guard let vocabObject = model["vocab"] as? [String: Any] else { throw f.invalid("model.vocab", "missing or not an object") }
        var entries: [(token: String, id: Int)] = []
        entries.reserveCapacity(vocabObject.count)
        for (token, value) in vocabObject {
            guard let id = f.int(value), id >= 0, id < 10_000_000 else { throw f.invalid("model.vocab[\"\(token)\"]", "not a valid token id") }
            entries.append((token, id))
        }
        // Deterministic order for equal keys (JSON objects have none).
        entries.sort { $0.id < $1.id }
        let unk = try f.string(model, "unk_token", in: "model", default: "[UNK]")
        let prefix = try f.string(model, "continuing_subword_prefix", in: "model", default: "##")
        let maxChars = try f.integer(model, "max_input_chars_per_word", in: "model", default: 100)
        let wordPiece = try WordPiece(vocabulary: Vocabulary(entries), unknownToken: unk, continuingSubwordPrefix: prefix,
                                      maxInputCharsPerWord: maxChars, file: file)

        var normalizer: BertNormalizer? = nil
        if let n = root["normalizer"], !(n is NSNull) {
            guard let n = n as? [String: Any] else { throw f.invalid("normalizer", "not an object") }
            let type = n["type"] as? String ?? "unknown"
            guard type == "BertNormalizer" else { throw .unsupported(file: file, component: "normalizer", type: type) }
            normalizer = BertNormalizer(cleanText: try f.bool(n, "clean_text", in: "normalizer", default: true),
                                        handleChineseChars: try f.bool(n, "handle_chinese_chars", in: "normalizer", default: true),
                                        stripAccents: try f.optionalBool(n, "strip_accents", in: "normalizer"),
                                        lowercase: try f.bool(n, "lowercase", in: "normalizer", default: true))
        }
        // MPNet's tokenizer classes rebuild the normaliser from the same keys as BERT's.
        if let config, let cls = config["tokenizer_class"] as? String,
           ["BertTokenizer", "BertTokenizerFast", "MPNetTokenizer", "MPNetTokenizerFast"].contains(cls), normalizer != nil {
            let c = Fields(file: configFile)
            normalizer = BertNormalizer(cleanText: true,
                                        handleChineseChars: try c.bool(config, "tokenize_chinese_chars", in: "", default: true),
                                        stripAccents: try c.optionalBool(config, "strip_accents", in: ""),
                                        lowercase: try c.bool(config, "do_lower_case", in: "", default: true))
        }

        var preTokenizer: BertPreTokenizer? = nil
        if let p = root["pre_tokenizer"], !(p is NSNull) {
            guard let p = p as? [String: Any] else { throw f.invalid("pre_tokenizer", "not an object") }
            let type = p["type"] as? String ?? "unknown"
            guard type == "BertPreTokenizer" else { throw .unsupported(file: file, component: "pre_tokenizer", type: type) }
            preTokenizer = BertPreTokenizer()
        }

        var added: [AddedToken] = []
        if let list = root["added_tokens"], !(list is NSNull) {
            guard let list = list as? [Any] else { throw f.invalid("added_tokens", "not a list") }
            for (i, item) in list.enumerated() {
                let where_ = "added_tokens[\(i)]"
                guard let t = item as? [String: Any] else { throw f.invalid(where_, "not an object") }
                guard let content = t["content"] as? String, !content.isEmpty else { throw f.invalid(where_ + ".content", "missing or empty") }
                guard let id = f.int(t["id"] as Any), id >= 0 else { throw f.invalid(where_ + ".id", "missing or not a token id") }
                added.append(AddedToken(content: content, id: id,
                                        singleWord: try f.bool(t, "single_word", in: where_, default: false),
                                        lstrip: try f.bool(t, "lstrip", in: where_, default: false),
                                        rstrip: try f.bool(t, "rstrip", in: where_, default: false),
                                        normalized: try f.bool(t, "normalized", in: where_, default: true),
                                        special: try f.bool(t, "special", in: where_, default: false)))
            }
        }

        var post = PostProcessor.none
        if let p = root["post_processor"], !(p is NSNull) {
            guard let p = p as? [String: Any] else { throw f.invalid("post_processor", "not an object") }
            post = try Self.postProcessor(p, fields: f)
        }

        let truncation = try Self.truncation(root["truncation"], fields: f)
        let padding = try Self.padding(root["padding"], fields: f)
        let maxLength = config.flatMap { Fields(file: configFile).int($0["model_max_length"] as Any) }
        self.init(normalizer: normalizer, preTokenizer: preTokenizer, model: wordPiece, postProcessor: post,
                  addedTokens: added, truncation: truncation, padding: padding,
                  modelMaxLength: maxLength.flatMap { $0 > 0 && $0 < 1_000_000 ? $0 : nil })
    }

    /// A BERT tokenizer from the bytes of a `vocab.txt` (one token per line, the line number is the
    /// id), as `transformers`' `BertTokenizer` builds it: the BERT normaliser (settings from
    /// `config`, the parsed `tokenizer_config.json`: `do_lower_case` default true, `strip_accents`
    /// default nil, `tokenize_chinese_chars` default true), the BERT pre-tokeniser, WordPiece with
    /// `[UNK]`, `[CLS] A [SEP]`, and the special tokens matched in the text.
    /// - Parameters:
    ///   - data: The bytes of `vocab.txt`, one token per line, the line number being the id.
    ///   - file: The file's name in errors (default "<memory>").
    ///   - config: The parsed `tokenizer_config.json`, or nil (default nil).
    ///   - configFile: That file's name in errors (default "tokenizer_config.json").
    public init(vocabTXT data: Data, file: String = "<memory>", config: [String: Any]? = nil,
                configFile: String = "tokenizer_config.json") throws(TokenizerError) {
        guard let text = String(validating: data, as: UTF8.self) else {
            throw .invalidJSON(file: file, reason: "the vocabulary is not valid UTF-8")
        }
        // "\r\n" is one Character in Swift, so splitting on "\n" alone kept CRLF files as one line.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard !lines.isEmpty else { throw .invalidField(file: file, field: "vocabulary", reason: "the file is empty") }
        let vocabulary = Vocabulary(lines.enumerated().map { ($1, $0) })
        let c = Fields(file: configFile)
        let cfg = config ?? [:]
        let special = { (key: String, fallback: String) throws(TokenizerError) -> String in
            try c.string(cfg, key, in: "", default: fallback)
        }
        let unk = try special("unk_token", "[UNK]")
        let model = try WordPiece(vocabulary: vocabulary, unknownToken: unk, file: file)
        let clsToken = try special("cls_token", "[CLS]"), sepToken = try special("sep_token", "[SEP]")
        guard let cls = vocabulary.id(for: clsToken) else { throw .missingToken(file: file, token: clsToken) }
        guard let sep = vocabulary.id(for: sepToken) else { throw .missingToken(file: file, token: sepToken) }
        var added: [AddedToken] = []
        for (key, fallback) in [("pad_token", "[PAD]"), ("unk_token", "[UNK]"), ("cls_token", "[CLS]"), ("sep_token", "[SEP]"), ("mask_token", "[MASK]")] {
            let token = try special(key, fallback)
            if let id = vocabulary.id(for: token), !added.contains(where: { $0.content == token }) {
                added.append(AddedToken(content: token, id: id))
            }
        }
        let normalizer = BertNormalizer(cleanText: true,
                                        handleChineseChars: try c.bool(cfg, "tokenize_chinese_chars", in: "", default: true),
                                        stripAccents: try c.optionalBool(cfg, "strip_accents", in: ""),
                                        lowercase: try c.bool(cfg, "do_lower_case", in: "", default: true))
        let maxLength = c.int(cfg["model_max_length"] as Any)
        self.init(normalizer: normalizer, preTokenizer: BertPreTokenizer(), model: model,
                  postProcessor: .bert(cls: cls, sep: sep), addedTokens: added,
                  modelMaxLength: maxLength.flatMap { $0 > 0 && $0 < 1_000_000 ? $0 : nil })
    }

    // MARK: Pieces

    private static func postProcessor(_ p: [String: Any], fields f: Fields) throws(TokenizerError) -> PostProcessor {
        let type = p["type"] as? String ?? "unknown"
        switch type {
        case "BertProcessing", "RobertaProcessing":
            func pair(_ key: String) throws(TokenizerError) -> Int {
                guard let v = p[key] as? [Any], v.count == 2, let id = f.tokenID(v[1]) else {
                    throw f.invalid("post_processor.\(key)", "expected [token, id]")
                }
                return id
            }
            // RobertaProcessing's trim_offsets and add_prefix_space only move offsets around the
            // spaces a byte-level pre-tokenizer keeps; WordPiece's offsets hold no spaces.
            return type == "BertProcessing" ? .bert(cls: try pair("cls"), sep: try pair("sep"))
                : .roberta(cls: try pair("cls"), sep: try pair("sep"))
        case "TemplateProcessing":
            var specials: [String: [Int]] = [:]
            if let s = p["special_tokens"] as? [String: Any] {
                for (name, value) in s {
                    guard let v = value as? [String: Any], let ids = v["ids"] as? [Any] else {
                        throw f.invalid("post_processor.special_tokens.\(name)", "expected an object with ids")
                    }
                    var list: [Int] = []
                    for x in ids {
                        guard let id = f.tokenID(x) else { throw f.invalid("post_processor.special_tokens.\(name).ids", "not a token id") }
                        list.append(id)
                    }
                    specials[name] = list
                }
            }
            func template(_ key: String) throws(TokenizerError) -> [PostProcessor.Piece] {
                guard let items = p[key] as? [Any] else { throw f.invalid("post_processor.\(key)", "missing or not a list") }
                var out: [PostProcessor.Piece] = []
                for (i, item) in items.enumerated() {
                    let path = "post_processor.\(key)[\(i)]"
                    guard let o = item as? [String: Any] else { throw f.invalid(path, "not an object") }
                    if let s = o["SpecialToken"] as? [String: Any] {
                        guard let name = s["id"] as? String, let ids = specials[name] else {
                            throw f.invalid(path, "special token not listed in special_tokens")
                        }
                        out.append(.special(ids: ids, typeID: try f.typeID(s["type_id"], path + ".type_id")))
                    } else if let s = o["Sequence"] as? [String: Any] {
                        let which = (s["id"] as? String) == "B" ? 1 : 0
                        out.append(.sequence(which, typeID: try f.typeID(s["type_id"], path + ".type_id")))
                    } else {
                        throw f.invalid(path, "expected SpecialToken or Sequence")
                    }
                }
                return out
            }
            return PostProcessor(single: try template("single"), pair: try template("pair"))
        default:
            throw .unsupported(file: f.file, component: "post_processor", type: type)
        }
    }

    private static func truncation(_ value: Any?, fields f: Fields) throws(TokenizerError) -> Truncation? {
        guard let value, !(value is NSNull) else { return nil }
        guard let t = value as? [String: Any] else { throw f.invalid("truncation", "not an object") }
        guard let max = f.int(t["max_length"] as Any), max >= 0 else { throw f.invalid("truncation.max_length", "missing or negative") }
        let name = t["strategy"] as? String ?? "LongestFirst"
        guard let strategy = Truncation.Strategy(rawValue: name) else { throw f.invalid("truncation.strategy", "unknown strategy \(name)") }
        return Truncation(maxLength: max, strategy: strategy, fromLeft: (t["direction"] as? String) == "Left")
    }

    private static func padding(_ value: Any?, fields f: Fields) throws(TokenizerError) -> Padding? {
        guard let value, !(value is NSNull) else { return nil }
        guard let p = value as? [String: Any] else { throw f.invalid("padding", "not an object") }
        // Every encoding of a batch is padded to these lengths, so a crafted number must not make
        // each one allocate petabytes: no model reads more than `maxPaddedLength` tokens.
        var fixed: Int? = nil
        if let s = p["strategy"] as? [String: Any] {
            guard let n = f.int(s["Fixed"] as Any), (0...Fields.maxPaddedLength).contains(n) else {
                throw f.invalid("padding.strategy", "expected {\"Fixed\": n} with n from 0 to \(Fields.maxPaddedLength)")
            }
            fixed = n
        } else if let s = p["strategy"] as? String, s != "BatchLongest" {
            throw f.invalid("padding.strategy", "unknown strategy \(s)")
        }
        var multiple: Int? = nil
        if let m = p["pad_to_multiple_of"], !(m is NSNull) {
            guard let n = f.int(m), (0...Fields.maxPaddedLength).contains(n) else {
                throw f.invalid("padding.pad_to_multiple_of", "expected an integer from 0 to \(Fields.maxPaddedLength)")
            }
            multiple = n
        }
        // Ids index embedding tables: negative ones are refused rather than passed on.
        var padID = 0
        if let v = p["pad_id"], !(v is NSNull) {
            guard let id = f.tokenID(v) else { throw f.invalid("padding.pad_id", "not a token id") }
            padID = id
        }
        return Padding(fixedLength: fixed, padID: padID, padTypeID: try f.typeID(p["pad_type_id"], "padding.pad_type_id"),
                       padToMultipleOf: multiple, left: (p["direction"] as? String) == "Left")
    }

    // MARK: Files and JSON

    static func read(_ url: URL) throws(TokenizerError) -> Data {
        do { return try Data(contentsOf: url) } catch { throw .unreadable(file: url.path, reason: error.localizedDescription) }
    }

    static func readJSONObject(_ url: URL) throws(TokenizerError) -> [String: Any] {
        try parseObject(try read(url), file: url.path)
    }

    static func parseObject(_ data: Data, file: String) throws(TokenizerError) -> [String: Any] {
        guard String(validating: data, as: UTF8.self) != nil else { throw .invalidJSON(file: file, reason: "not valid UTF-8") }
        let value: Any
        do { value = try JSONSerialization.jsonObject(with: data) } catch {
            throw .invalidJSON(file: file, reason: "\(error.localizedDescription)")
        }
        guard let object = value as? [String: Any] else { throw .invalidJSON(file: file, reason: "the top level is not an object") }
        return object
    }
}

/// Typed access to JSON fields with errors that name the file and the field.
struct Fields {
    let file: String

    func invalid(_ field: String, _ reason: String) -> TokenizerError {
        .invalidField(file: file, field: field, reason: reason)
    }

    /// An integer from a JSON number (integral values only).
    /// The longest fixed padding or padding multiple a tokenizer file may ask for.
    static let maxPaddedLength = 1 << 17

    /// A token id: a non-negative integer below the vocabulary bound of `model.vocab`.
    func tokenID(_ value: Any) -> Int? {
        guard let id = int(value), id >= 0, id < 10_000_000 else { return nil }
        return id
    }

    /// A token type id (absent: 0); negative ones are refused.
    func typeID(_ value: Any?, _ field: String) throws(TokenizerError) -> Int {
        guard let value, !(value is NSNull) else { return 0 }
        guard let id = int(value), id >= 0, id < 1 << 16 else { throw invalid(field, "expected a non-negative type id") }
        return id
    }

    func int(_ value: Any) -> Int? {
        if let i = value as? Int { return i }
        guard let d = value as? Double, d.isFinite, d == d.rounded(), abs(d) < 9e15 else { return nil }
        return Int(d)
    }

    private func path(_ parent: String, _ key: String) -> String { parent.isEmpty ? key : parent + "." + key }

    func string(_ o: [String: Any], _ key: String, in parent: String, default d: String) throws(TokenizerError) -> String {
        guard let v = o[key], !(v is NSNull) else { return d }
        if let s = v as? String { return s }
        // tokenizer_config.json may hold an AddedToken object for special tokens.
        if let obj = v as? [String: Any], let s = obj["content"] as? String { return s }
        throw invalid(path(parent, key), "expected a string")
    }

    func integer(_ o: [String: Any], _ key: String, in parent: String, default d: Int) throws(TokenizerError) -> Int {
        guard let v = o[key], !(v is NSNull) else { return d }
        guard let n = int(v), n >= 0 else { throw invalid(path(parent, key), "expected a non-negative integer") }
        return n
    }

    func bool(_ o: [String: Any], _ key: String, in parent: String, default d: Bool) throws(TokenizerError) -> Bool {
        try optionalBool(o, key, in: parent) ?? d
    }

    func optionalBool(_ o: [String: Any], _ key: String, in parent: String) throws(TokenizerError) -> Bool? {
        guard let v = o[key], !(v is NSNull) else { return nil }
        guard let b = v as? Bool else { throw invalid(path(parent, key), "expected true, false or null") }
        return b
    }
}
