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

        guard let modelObject = root["model"] as? [String: Any] else { throw f.invalid("model", "missing or not an object") }
        let model = try Self.model(modelObject, fields: f)

        var normalizer: Normalizer? = nil
        if let n = root["normalizer"], !(n is NSNull) {
            normalizer = try Self.normalizer(n, path: "normalizer", fields: f)
        }
        // BERT's and MPNet's tokenizer classes rebuild the BERT normaliser from tokenizer_config.json.
        if let config, let cls = config["tokenizer_class"] as? String,
           ["BertTokenizer", "BertTokenizerFast", "MPNetTokenizer", "MPNetTokenizerFast"].contains(cls), case .bert = normalizer {
            let c = Fields(file: configFile)
            normalizer = .bert(BertNormalizer(cleanText: true,
                                              handleChineseChars: try c.bool(config, "tokenize_chinese_chars", in: "", default: true),
                                              stripAccents: try c.optionalBool(config, "strip_accents", in: ""),
                                              lowercase: try c.bool(config, "do_lower_case", in: "", default: true)))
        }

        var preTokenizer: PreTokenizer? = nil
        if let p = root["pre_tokenizer"], !(p is NSNull) {
            preTokenizer = try Self.preTokenizer(p, path: "pre_tokenizer", fields: f)
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
            post = try Self.postProcessor(p, path: "post_processor", fields: f)
        }

        let truncation = try Self.truncation(root["truncation"], fields: f)
        let padding = try Self.padding(root["padding"], fields: f)
        let maxLength = config.flatMap { Fields(file: configFile).int($0["model_max_length"] as Any) }
        self.init(normalizer: normalizer, preTokenizer: preTokenizer, model: model, postProcessor: post,
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

    private static func postProcessor(_ p: [String: Any], path: String, fields f: Fields) throws(TokenizerError) -> PostProcessor {
        let type = p["type"] as? String ?? "unknown"
        switch type {
        case "BertProcessing", "RobertaProcessing":
            func pair(_ key: String) throws(TokenizerError) -> Int {
                guard let v = p[key] as? [Any], v.count == 2, let id = f.tokenID(v[1]) else {
                    throw f.invalid("\(path).\(key)", "expected [token, id]")
                }
                return id
            }
            if type == "BertProcessing" { return .bert(cls: try pair("cls"), sep: try pair("sep")) }
            var post = PostProcessor.roberta(cls: try pair("cls"), sep: try pair("sep"))
            // trim_offsets (default true) moves offsets off the spaces byte-level tokens carry;
            // WordPiece tokens carry none, so MPNet is unaffected.
            if try f.bool(p, "trim_offsets", in: path, default: true) {
                post.offsetTrimming = OffsetTrimming(addPrefixSpace: try f.bool(p, "add_prefix_space", in: path, default: true))
            }
            return post
        case "ByteLevel":
            var post = PostProcessor.none
            if try f.bool(p, "trim_offsets", in: path, default: true) {
                post.offsetTrimming = OffsetTrimming(addPrefixSpace: try f.bool(p, "add_prefix_space", in: path, default: true))
            }
            return post
        case "Sequence":
            // The real files chain a ByteLevel offset trimming with one template: that is what is supported.
            guard let list = p["processors"] as? [Any] else { throw f.invalid("\(path).processors", "missing or not a list") }
            var result = PostProcessor.none
            var templates = 0
            for (i, item) in list.enumerated() {
                let inner = "\(path).processors[\(i)]"
                guard let o = item as? [String: Any] else { throw f.invalid(inner, "not an object") }
                guard (o["type"] as? String) != "Sequence" else { throw f.invalid(inner, "a Sequence inside a Sequence is not supported") }
                let processor = try postProcessor(o, path: inner, fields: f)
                if (o["type"] as? String) == "ByteLevel" {
                    if let t = processor.offsetTrimming { result.offsetTrimming = t }
                    continue
                }
                guard result.offsetTrimming == nil || processor.offsetTrimming == nil, templates == 0 else {
                    throw f.invalid(inner, "only one template (with at most one offset trimming) is supported in a Sequence")
                }
                templates += 1
                let trimming = result.offsetTrimming ?? processor.offsetTrimming
                result = processor
                result.offsetTrimming = trimming
            }
            return result
        case "TemplateProcessing":
            var specials: [String: [Int]] = [:]
            if let s = p["special_tokens"] as? [String: Any] {
                for (name, value) in s {
                    guard let v = value as? [String: Any], let ids = v["ids"] as? [Any] else {
                        throw f.invalid("\(path).special_tokens.\(name)", "expected an object with ids")
                    }
                    var list: [Int] = []
                    for x in ids {
                        guard let id = f.tokenID(x) else { throw f.invalid("\(path).special_tokens.\(name).ids", "not a token id") }
                        list.append(id)
                    }
                    specials[name] = list
                }
            }
            func template(_ key: String) throws(TokenizerError) -> [PostProcessor.Piece] {
                guard let items = p[key] as? [Any] else { throw f.invalid("\(path).\(key)", "missing or not a list") }
                var out: [PostProcessor.Piece] = []
                for (i, item) in items.enumerated() {
                    let where_ = "\(path).\(key)[\(i)]"
                    guard let o = item as? [String: Any] else { throw f.invalid(where_, "not an object") }
                    if let s = o["SpecialToken"] as? [String: Any] {
                        guard let name = s["id"] as? String, let ids = specials[name] else {
                            throw f.invalid(where_, "special token not listed in special_tokens")
                        }
                        out.append(.special(ids: ids, typeID: try f.typeID(s["type_id"], where_ + ".type_id")))
                    } else if let s = o["Sequence"] as? [String: Any] {
                        let which = (s["id"] as? String) == "B" ? 1 : 0
                        out.append(.sequence(which, typeID: try f.typeID(s["type_id"], where_ + ".type_id")))
                    } else {
                        throw f.invalid(where_, "expected SpecialToken or Sequence")
                    }
                }
                return out
            }
            return PostProcessor(single: try template("single"), pair: try template("pair"))
        default:
            throw .unsupported(file: f.file, component: path, type: type)
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

    /// `data` with every U+FEFF after the first byte written as the escape `\ufeff`: Foundation's
    /// parser drops the character at the start of a string (a Unigram piece "\u{FEFF}" came out
    /// empty), and keeps it when escaped. Raw, it may only appear inside strings, where the escape
    /// means the same.
    static func escapingByteOrderMarks(_ data: Data) -> Data {
        let bytes = [UInt8](data)
        guard bytes.count > 3 else { return data }
        var out: [UInt8] = []
        var i = 0
        var changed = false
        while i < bytes.count {
            if i > 0 && i + 2 < bytes.count && bytes[i] == 0xEF && bytes[i + 1] == 0xBB && bytes[i + 2] == 0xBF {
                if !changed { out.reserveCapacity(bytes.count + 16); out.append(contentsOf: bytes[0..<i]); changed = true }
                out.append(contentsOf: Array("\\ufeff".utf8))
                i += 3
                continue
            }
            if changed { out.append(bytes[i]) }
            i += 1
        }
        return changed ? Data(out) : data
    }

    static func parseObject(_ data: Data, file: String) throws(TokenizerError) -> [String: Any] {
        guard String(validating: data, as: UTF8.self) != nil else { throw .invalidJSON(file: file, reason: "not valid UTF-8") }
        let value: Any
        do { value = try JSONSerialization.jsonObject(with: escapingByteOrderMarks(data)) } catch {
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
