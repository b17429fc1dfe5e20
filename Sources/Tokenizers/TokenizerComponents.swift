import Foundation

/// Reading the model, normaliser and pre-tokeniser objects of `tokenizer.json`.
extension Tokenizer {
    /// Nested `Sequence`s deeper than this are refused (no real file nests more than once).
    static let maxNesting = 16

    // MARK: Model

    static func model(_ m: [String: Any], fields f: Fields) throws(TokenizerError) -> TokenizerModel {
        // Old files omit the type: infer it from the fields present.
        let inferred = m["merges"] != nil ? "BPE" : (m["vocab"] is [Any] ? "Unigram" : (m["continuing_subword_prefix"] != nil ? "WordPiece" : "unknown"))
        let type = m["type"] as? String ?? inferred
        switch type {
        case "WordPiece": return .wordPiece(try wordPiece(m, fields: f))
        case "BPE": return .bpe(try bpe(m, fields: f))
        case "Unigram": return .unigram(try unigram(m, fields: f))
        default: throw .unsupported(file: f.file, component: "model", type: type)
        }
    }

    private static func vocabularyObject(_ m: [String: Any], fields f: Fields) throws(TokenizerError) -> Vocabulary {
        guard let vocabObject = m["vocab"] as? [String: Any] else { throw f.invalid("model.vocab", "missing or not an object") }
        var entries: [(token: String, id: Int)] = []
        entries.reserveCapacity(vocabObject.count)
        for (token, value) in vocabObject {
            guard let id = f.tokenID(value) else { throw f.invalid("model.vocab[\"\(token)\"]", "not a valid token id") }
            entries.append((token, id))
        }
        // Deterministic order for equal keys (JSON objects have none).
        entries.sort { $0.id < $1.id }
        return Vocabulary(entries)
    }

    private static func wordPiece(_ m: [String: Any], fields f: Fields) throws(TokenizerError) -> WordPiece {
        let vocabulary = try vocabularyObject(m, fields: f)
        let unk = try f.string(m, "unk_token", in: "model", default: "[UNK]")
        let prefix = try f.string(m, "continuing_subword_prefix", in: "model", default: "##")
        let maxChars = try f.integer(m, "max_input_chars_per_word", in: "model", default: 100)
        return try WordPiece(vocabulary: vocabulary, unknownToken: unk, continuingSubwordPrefix: prefix,
                             maxInputCharsPerWord: maxChars, file: f.file)
    }

    private static func optionalString(_ o: [String: Any], _ key: String, _ path: String, fields f: Fields) throws(TokenizerError) -> String? {
        guard let v = o[key], !(v is NSNull) else { return nil }
        guard let s = v as? String else { throw f.invalid(path, "expected a string or null") }
        return s
    }

    private static func bpe(_ m: [String: Any], fields f: Fields) throws(TokenizerError) -> BytePairEncoding {
        if let d = m["dropout"], !(d is NSNull) {
            throw f.invalid("model.dropout", "only null is supported (dropout makes encoding random)")
        }
        let vocabulary = try vocabularyObject(m, fields: f)
        guard let list = m["merges"] as? [Any] else { throw f.invalid("model.merges", "missing or not a list") }
        var merges: [(String, String)] = []
        merges.reserveCapacity(list.count)
        for (i, item) in list.enumerated() {
            if let s = item as? String {
                // The older form: "a b".
                let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw f.invalid("model.merges[\(i)]", "expected \"a b\" with one space") }
                merges.append((String(parts[0]), String(parts[1])))
            } else if let pair = item as? [Any], pair.count == 2, let a = pair[0] as? String, let b = pair[1] as? String {
                merges.append((a, b))
            } else {
                throw f.invalid("model.merges[\(i)]", "expected \"a b\" or [a, b]")
            }
        }
        return try BytePairEncoding(
            vocabulary: vocabulary, merges: merges,
            unknownToken: try optionalString(m, "unk_token", "model.unk_token", fields: f),
            continuingSubwordPrefix: try optionalString(m, "continuing_subword_prefix", "model.continuing_subword_prefix", fields: f),
            endOfWordSuffix: try optionalString(m, "end_of_word_suffix", "model.end_of_word_suffix", fields: f),
            fuseUnknown: try f.bool(m, "fuse_unk", in: "model", default: false),
            byteFallback: try f.bool(m, "byte_fallback", in: "model", default: false),
            ignoreMerges: try f.bool(m, "ignore_merges", in: "model", default: false), file: f.file)
    }

    private static func unigram(_ m: [String: Any], fields f: Fields) throws(TokenizerError) -> Unigram {
        guard let list = m["vocab"] as? [Any] else { throw f.invalid("model.vocab", "missing or not a list of [piece, score]") }
        guard list.count < 10_000_000 else { throw f.invalid("model.vocab", "more than 10 million pieces") }
        var pieces: [(piece: String, score: Double)] = []
        pieces.reserveCapacity(list.count)
        for (i, item) in list.enumerated() {
            guard let pair = item as? [Any], pair.count == 2, let piece = pair[0] as? String,
                  let score = (pair[1] as? NSNumber)?.doubleValue, score.isFinite else {
                throw f.invalid("model.vocab[\(i)]", "expected [piece, finite score]")
            }
            pieces.append((piece, score))
        }
        var unk: Int? = nil
        if let v = m["unk_id"], !(v is NSNull) {
            guard let id = f.int(v), id >= 0 else { throw f.invalid("model.unk_id", "expected a piece id or null") }
            unk = id
        }
        return try Unigram(pieces: pieces, unknownID: unk, byteFallback: try f.bool(m, "byte_fallback", in: "model", default: false),
                           file: f.file)
    }

    // MARK: Normalizer

    static func normalizer(_ value: Any, path: String, fields f: Fields, depth: Int = 0) throws(TokenizerError) -> Normalizer {
        guard let n = value as? [String: Any] else { throw f.invalid(path, "not an object") }
        guard depth < maxNesting else { throw f.invalid(path, "nested more than \(maxNesting) deep") }
        let type = n["type"] as? String ?? "unknown"
        switch type {
        case "BertNormalizer":
            return .bert(BertNormalizer(cleanText: try f.bool(n, "clean_text", in: path, default: true),
                                        handleChineseChars: try f.bool(n, "handle_chinese_chars", in: path, default: true),
                                        stripAccents: try f.optionalBool(n, "strip_accents", in: path),
                                        lowercase: try f.bool(n, "lowercase", in: path, default: true)))
        case "NFC": return .nfc
        case "NFKC": return .nfkc
        case "NFD": return .nfd
        case "NFKD": return .nfkd
        case "Lowercase": return .lowercase
        case "Strip":
            return .strip(left: try f.bool(n, "strip_left", in: path, default: true), right: try f.bool(n, "strip_right", in: path, default: true))
        case "Prepend":
            guard let s = n["prepend"] as? String else { throw f.invalid("\(path).prepend", "missing or not a string") }
            return .prepend(s)
        case "Replace":
            guard let content = n["content"] as? String else { throw f.invalid("\(path).content", "missing or not a string") }
            guard let pattern = n["pattern"] as? [String: Any] else { throw f.invalid("\(path).pattern", "missing or not an object") }
            if let s = pattern["String"] as? String {
                guard !s.isEmpty else { throw f.invalid("\(path).pattern.String", "empty") }
                return .replace(ReplacePattern(literal: s), content: content)
            }
            if let r = pattern["Regex"] as? String {
                guard let p = ReplacePattern(regex: r) else {
                    throw f.invalid("\(path).pattern.Regex", "unsupported regular expression \"\(r)\" (supported: literal characters, \\s, \\d, ., and the quantifiers ?, *, +, {n}, {n,}, {n,m})")
                }
                return .replace(p, content: content)
            }
            throw f.invalid("\(path).pattern", "expected {\"String\": …} or {\"Regex\": …}")
        case "Precompiled":
            guard let v = n["precompiled_charsmap"], !(v is NSNull) else { return .sequence([]) }  // no rules: the identity
            guard let s = v as? String, let data = Data(base64Encoded: s) else {
                throw f.invalid("\(path).precompiled_charsmap", "expected a base64 string")
            }
            return .precompiled(try PrecompiledNormalizer(charsmap: Array(data), file: f.file, field: "\(path).precompiled_charsmap"))
        case "Sequence":
            guard let list = n["normalizers"] as? [Any] else { throw f.invalid("\(path).normalizers", "missing or not a list") }
            var out: [Normalizer] = []
            for (i, item) in list.enumerated() {
                out.append(try normalizer(item, path: "\(path).normalizers[\(i)]", fields: f, depth: depth + 1))
            }
            return .sequence(out)
        default:
            throw .unsupported(file: f.file, component: path, type: type)
        }
    }

    // MARK: Pre-tokenizer

    static func preTokenizer(_ value: Any, path: String, fields f: Fields, depth: Int = 0) throws(TokenizerError) -> PreTokenizer {
        guard let p = value as? [String: Any] else { throw f.invalid(path, "not an object") }
        guard depth < maxNesting else { throw f.invalid(path, "nested more than \(maxNesting) deep") }
        let type = p["type"] as? String ?? "unknown"
        switch type {
        case "BertPreTokenizer": return .bert
        case "WhitespaceSplit": return .whitespaceSplit
        case "ByteLevel":
            return .byteLevel(ByteLevel(addPrefixSpace: try f.bool(p, "add_prefix_space", in: path, default: true),
                                        trimOffsets: try f.bool(p, "trim_offsets", in: path, default: true),
                                        useRegex: try f.bool(p, "use_regex", in: path, default: true)))
        case "Metaspace":
            var replacement: Unicode.Scalar = "\u{2581}"
            if let v = p["replacement"], !(v is NSNull) {
                guard let s = v as? String, s.unicodeScalars.count == 1, let c = s.unicodeScalars.first else {
                    throw f.invalid("\(path).replacement", "expected a single character")
                }
                replacement = c
            }
            var scheme = Metaspace.PrependScheme.always
            if let v = p["prepend_scheme"], !(v is NSNull) {
                guard let s = v as? String, let parsed = Metaspace.PrependScheme(rawValue: s) else {
                    throw f.invalid("\(path).prepend_scheme", "expected \"always\", \"first\" or \"never\"")
                }
                scheme = parsed
            } else if let add = try f.optionalBool(p, "add_prefix_space", in: path) {
                // Files older than prepend_scheme.
                scheme = add ? .always : .never
            }
            return .metaspace(Metaspace(replacement: replacement, prependScheme: scheme, split: try f.bool(p, "split", in: path, default: true)))
        case "Sequence":
            guard let list = p["pretokenizers"] as? [Any] else { throw f.invalid("\(path).pretokenizers", "missing or not a list") }
            var out: [PreTokenizer] = []
            for (i, item) in list.enumerated() {
                out.append(try preTokenizer(item, path: "\(path).pretokenizers[\(i)]", fields: f, depth: depth + 1))
            }
            return .sequence(out)
        default:
            throw .unsupported(file: f.file, component: path, type: type)
        }
    }
}
