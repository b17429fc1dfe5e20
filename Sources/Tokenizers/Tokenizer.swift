import Foundation

/// A tokeniser as HuggingFace `tokenizers` runs one: added (special) tokens, a ``Normalizer``,
/// a ``PreTokenizer``, a model (``WordPiece``, ``BytePairEncoding`` or ``Unigram``), then the
/// ``PostProcessor`` template, with optional truncation and padding.
///
/// Gives the same ids, offsets and token types as the library (and `transformers`' fast
/// tokenizers) for the same `tokenizer.json` — BERT, MPNet, RoBERTa / GPT-2 byte-level BPE,
/// XLM-R SentencePiece — or `vocab.txt`:
///
/// ```swift
/// let tokenizer = try Tokenizer(folder: modelFolder)
/// let ids = tokenizer.encode("Hello, world!", maxLength: 256).ids   // [101, 7592, 1010, 2088, 999, 102]
/// ```
///
/// The value is immutable and `Sendable`: encode from any number of threads at once.
public struct Tokenizer: Sendable {
    /// The normaliser applied to text outside added tokens, or nil for none.
    public let textNormalizer: Normalizer?
    /// The pre-tokeniser splitting normalised text into words, or nil to treat the text as one word.
    public let wordSplitter: PreTokenizer?
    /// The model turning words into ids.
    public let model: TokenizerModel
    /// The template adding special tokens and token types.
    public let postProcessor: PostProcessor
    /// Tokens matched in the text before normalisation / the model (special tokens, user-added words).
    public let addedTokens: [AddedToken]
    /// Applied by ``encode(_:pair:addSpecialTokens:)`` (from `tokenizer.json`; nil: none).
    public var truncation: Truncation?
    /// Applied by ``encodeBatch(_:addSpecialTokens:)`` (from `tokenizer.json`; nil: none).
    public var padding: Padding?
    /// `model_max_length` of `tokenizer_config.json`, when given.
    public let modelMaxLength: Int?

    private let rawMatcher: AddedTokenMatcher
    private let normalizedMatcher: AddedTokenMatcher

    /// Assembles a tokeniser from its parts (the loaders build one from a model folder).
    /// - Parameters:
    ///   - normalizer: The normaliser, or nil for none.
    ///   - preTokenizer: The pre-tokeniser, or nil for none.
    ///   - model: The model.
    ///   - postProcessor: The special-token template.
    ///   - addedTokens: Tokens matched before normalisation or, with `normalized`, in the normalised text (default none).
    ///   - truncation: Truncation applied by `encode` (default none).
    ///   - padding: Padding applied by `encodeBatch` (default none).
    ///   - modelMaxLength: `model_max_length` from `tokenizer_config.json`, if any (default nil).
    public init(normalizer: Normalizer?, preTokenizer: PreTokenizer?, model: TokenizerModel, postProcessor: PostProcessor,
                addedTokens: [AddedToken] = [], truncation: Truncation? = nil, padding: Padding? = nil, modelMaxLength: Int? = nil) {
        textNormalizer = normalizer
        wordSplitter = preTokenizer
        self.model = model
        self.postProcessor = postProcessor
        self.addedTokens = addedTokens
        self.truncation = truncation
        self.padding = padding
        self.modelMaxLength = modelMaxLength
        rawMatcher = AddedTokenMatcher(addedTokens.filter { !$0.normalized }, normalizer: nil)
        normalizedMatcher = AddedTokenMatcher(addedTokens.filter { $0.normalized }, normalizer: normalizer)
    }

    /// Assembles a BERT-family tokeniser (WordPiece with the BERT normaliser and pre-tokeniser).
    /// - Parameters:
    ///   - normalizer: The BERT normaliser, or nil for none.
    ///   - preTokenizer: The BERT pre-tokeniser, or nil for none.
    ///   - model: The WordPiece model.
    ///   - postProcessor: The special-token template.
    ///   - addedTokens: Tokens matched before normalisation or, with `normalized`, in the normalised text (default none).
    ///   - truncation: Truncation applied by `encode` (default none).
    ///   - padding: Padding applied by `encodeBatch` (default none).
    ///   - modelMaxLength: `model_max_length` from `tokenizer_config.json`, if any (default nil).
    public init(normalizer: BertNormalizer?, preTokenizer: BertPreTokenizer?, model: WordPiece, postProcessor: PostProcessor,
                addedTokens: [AddedToken] = [], truncation: Truncation? = nil, padding: Padding? = nil, modelMaxLength: Int? = nil) {
        self.init(normalizer: normalizer.map(Normalizer.bert), preTokenizer: preTokenizer.map { _ in .bert }, model: .wordPiece(model),
                  postProcessor: postProcessor, addedTokens: addedTokens, truncation: truncation, padding: padding,
                  modelMaxLength: modelMaxLength)
    }

    /// The BERT normaliser, when the normaliser is one (nil for other normalisers or none).
    public var normalizer: BertNormalizer? {
        if case .bert(let b) = textNormalizer { return b }
        return nil
    }

    /// The BERT pre-tokeniser, when the pre-tokeniser is one.
    public var preTokenizer: BertPreTokenizer? {
        if case .bert = wordSplitter { return BertPreTokenizer() }
        return nil
    }

    /// The vocabulary of the model.
    public var vocabulary: Vocabulary { model.vocabulary }

    /// The id of a token (added tokens included).
    public func id(for token: String) -> Int? {
        addedTokens.first { $0.content == token }?.id ?? model.vocabulary.id(for: token)
    }

    // MARK: Encoding

    /// The ids of `text` without special tokens, truncation or padding.
    public func ids(_ text: String) -> [Int] {
        if isBertPipeline {
            var out: [Int] = []
            appendIDs(text, to: &out)
            return out
        }
        return tokens(text).map(\.id)
    }

    /// The tokens of `text` as strings (no special tokens): for inspection.
    public func tokenize(_ text: String) -> [String] {
        ids(text).map { id in
            addedTokens.first { $0.id == id }?.content ?? (id < model.vocabulary.count ? model.vocabulary.tokens[id] : "")
        }
    }

    /// One input as a sentence encoder needs it: special tokens added, cut to `maxLength` tokens
    /// (special tokens included; nil: no limit) from the end, no padding. This is what
    /// sentence-transformers asks the tokenizer for (`truncation="longest_first"`, its own
    /// `max_seq_length`), independent of the truncation stored in `tokenizer.json`.
    public func encode(_ text: String, maxLength: Int?) -> Encoding {
        var a = tokens(text)
        if let maxLength {
            let room = max(0, maxLength - postProcessor.addedTokens(pair: false))
            if a.count > room { a.removeSubrange(room...) }
        }
        return postProcessor.finish(a, nil, vocabulary: model.vocabulary)
    }

    /// One input or a pair, with the configured ``truncation`` (no padding: see
    /// ``encodeBatch(_:addSpecialTokens:)``).
    public func encode(_ text: String, pair: String? = nil, addSpecialTokens: Bool = true) -> Encoding {
        var a = tokens(text)
        var b = pair.map(tokens)
        if let t = truncation {
            let added = addSpecialTokens ? postProcessor.addedTokens(pair: b != nil) : 0
            Self.truncate(&a, &b, to: max(0, t.maxLength - added), strategy: t.strategy, fromLeft: t.fromLeft)
        }
        guard addSpecialTokens else {
            // Offsets are still trimmed (the library's post-processors do that with or without special tokens).
            var pp = postProcessor
            pp.single = [.sequence(0, typeID: 0)]
            pp.pair = [.sequence(0, typeID: 0), .sequence(1, typeID: 1)]
            return pp.finish(a, b, vocabulary: model.vocabulary)
        }
        return postProcessor.finish(a, b, vocabulary: model.vocabulary)
    }

    /// Inputs encoded one by one with the configured truncation, then padded as configured (to
    /// the longest of the batch, or a fixed length).
    public func encodeBatch(_ texts: [String], addSpecialTokens: Bool = true) -> [Encoding] {
        var out = texts.map { encode($0, addSpecialTokens: addSpecialTokens) }
        guard let p = padding else { return out }
        var length = p.fixedLength ?? (out.map(\.count).max() ?? 0)
        if let m = p.padToMultipleOf, m > 0, length % m != 0 { length += m - length % m }
        for i in out.indices { out[i].pad(to: length, padID: p.padID, padTypeID: p.padTypeID, left: p.left) }
        return out
    }

    /// The library's truncation of one sequence or a pair to `limit` tokens (special tokens
    /// already subtracted). Longest-first keeps the shorter input whole when it fits in half.
    static func truncate<T>(_ a: inout [T], _ b: inout [T]?, to limit: Int, strategy: Truncation.Strategy, fromLeft: Bool) {
        func cut(_ x: inout [T], _ n: Int) {
            guard x.count > n else { return }
            if fromLeft { x.removeFirst(x.count - n) } else { x.removeSubrange(n...) }
        }
        guard var second = b else {
            if strategy != .onlySecond { cut(&a, limit) }
            return
        }
        defer { b = second }
        guard a.count + second.count > limit else { return }
        switch strategy {
        case .onlyFirst: cut(&a, max(0, limit - second.count))
        case .onlySecond: cut(&second, max(0, limit - a.count))
        case .longestFirst:
            var n1 = a.count, n2 = second.count
            let swap = n1 > n2
            if swap { Swift.swap(&n1, &n2) }
            n2 = n1 > limit ? n1 : max(n1, limit - n1)
            if n1 + n2 > limit {
                n1 = limit / 2
                n2 = n1 + limit % 2
            }
            if swap { Swift.swap(&n1, &n2) }
            cut(&a, n1)
            cut(&second, n2)
        }
    }

    /// The tokens of `text` (no special tokens) with their offsets in `text`'s Unicode scalars.
    func tokens(_ text: String) -> [TokenSpan] {
        let scalars = Array(text.unicodeScalars.lazy.map(\.value))
        var out: [TokenSpan] = []
        var pieces: [ModelToken] = []
        var bytes: [UInt8] = []
        for piece in rawMatcher.split(scalars) {
            switch piece {
            case .token(let id, let range):
                out.append(TokenSpan(id: id, offsets: range, surface: AlignedText.string(scalars[range])))
            case .text(let range):
                var t = AlignedText(scalars[range], offset: range.lowerBound)
                if let textNormalizer { t = textNormalizer.apply(t) }
                for inner in normalizedMatcher.split(t.scalars) {
                    switch inner {
                    case .token(let id, let r):
                        // Not `t.slice(r).string`: see `AlignedText.string(_:)` (a miscompile wrote into freed memory).
                        out.append(TokenSpan(id: id, offsets: t.inputRange(r), surface: AlignedText.string(t.scalars[r])))
                    case .text(let r):
                        let part = r.count == t.count ? t : t.slice(r)
                        for word in wordSplitter?.words(part) ?? [part] where !word.isEmpty {
                            pieces.removeAll(keepingCapacity: true)
                            model.appendTokens(word, bytes: &bytes, to: &pieces)
                            for p in pieces { out.append(TokenSpan(id: p.id, offsets: word.inputRange(p.range))) }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Whether the tokeniser is BERT's (WordPiece, BERT normaliser and pre-tokeniser or none):
    /// ``ids(_:)`` then takes a path without offsets.
    private var isBertPipeline: Bool {
        guard case .wordPiece = model else { return false }
        switch textNormalizer { case nil, .bert: break; default: return false }
        switch wordSplitter { case nil, .bert: return true; default: return false }
    }

    /// Appends the ids of `text` (no special tokens) to `out` (BERT pipelines only).
    func appendIDs(_ text: String, to out: inout [Int]) {
        guard case .wordPiece(let wordPiece) = model else { return }
        let normalizer = self.normalizer
        let scalars = Array(text.unicodeScalars.lazy.map(\.value))
        var normalized: [UInt32] = []
        var bytes: [UInt8] = []
        for piece in rawMatcher.split(scalars) {
            switch piece {
            case .token(let id, _):
                out.append(id)
            case .text(let range):
                normalized.removeAll(keepingCapacity: true)
                if let normalizer {
                    normalizer.normalize(scalars[range], into: &normalized)
                } else {
                    normalized.append(contentsOf: scalars[range])
                }
                for inner in normalizedMatcher.split(normalized) {
                    switch inner {
                    case .token(let id, _): out.append(id)
                    case .text(let r): appendWords(normalized[r], wordPiece: wordPiece, bytes: &bytes, to: &out)
                    }
                }
            }
        }
    }

    private func appendWords(_ scalars: ArraySlice<UInt32>, wordPiece: WordPiece, bytes: inout [UInt8], to out: inout [Int]) {
        func word(_ range: Range<Int>) {
            bytes.removeAll(keepingCapacity: true)
            for c in scalars[range] { Self.appendUTF8(c, to: &bytes) }
            bytes.withUnsafeBufferPointer { wordPiece.appendIDs(utf8: $0, characterCount: range.count, to: &out) }
        }
        if case .bert = wordSplitter {
            BertPreTokenizer().forEachWord(in: scalars, word)
        } else if !scalars.isEmpty {
            word(scalars.startIndex..<scalars.endIndex)
        }
    }

    @inline(__always)
    static func appendUTF8(_ c: UInt32, to out: inout [UInt8]) {
        switch c {
        case 0..<0x80:
            out.append(UInt8(c))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (c >> 6))); out.append(UInt8(0x80 | (c & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (c >> 12))); out.append(UInt8(0x80 | ((c >> 6) & 0x3F))); out.append(UInt8(0x80 | (c & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (c >> 18))); out.append(UInt8(0x80 | ((c >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((c >> 6) & 0x3F))); out.append(UInt8(0x80 | (c & 0x3F)))
        }
    }
}
