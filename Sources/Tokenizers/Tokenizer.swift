import Foundation

/// A BERT-family tokeniser: added (special) tokens, ``BertNormalizer``, ``BertPreTokenizer``,
/// ``WordPiece``, then the ``PostProcessor`` template, with optional truncation and padding.
///
/// Gives the same ids as HuggingFace `tokenizers` (and `transformers`' `BertTokenizer`) for the
/// same `tokenizer.json` or `vocab.txt`:
///
/// ```swift
/// let tokenizer = try Tokenizer(folder: modelFolder)
/// let ids = tokenizer.encode("Hello, world!", maxLength: 256).ids   // [101, 7592, 1010, 2088, 999, 102]
/// ```
///
/// The value is immutable and `Sendable`: encode from any number of threads at once.
public struct Tokenizer: Sendable {
    /// The normaliser applied to text outside added tokens, or nil for none.
    public let normalizer: BertNormalizer?
    /// The pre-tokeniser splitting normalised text into words, or nil to treat the text as one word.
    public let preTokenizer: BertPreTokenizer?
    /// The WordPiece model turning words into ids.
    public let model: WordPiece
    /// The template adding special tokens and token types.
    public let postProcessor: PostProcessor
    /// Tokens matched in the text before normalisation / WordPiece (special tokens, user-added words).
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
    ///   - model: The WordPiece model.
    ///   - postProcessor: The special-token template.
    ///   - addedTokens: Tokens matched before normalisation or, with `normalized`, in the normalised text (default none).
    ///   - truncation: Truncation applied by `encode` (default none).
    ///   - padding: Padding applied by `encodeBatch` (default none).
    ///   - modelMaxLength: `model_max_length` from `tokenizer_config.json`, if any (default nil).
    public init(normalizer: BertNormalizer?, preTokenizer: BertPreTokenizer?, model: WordPiece, postProcessor: PostProcessor,
                addedTokens: [AddedToken] = [], truncation: Truncation? = nil, padding: Padding? = nil, modelMaxLength: Int? = nil) {
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.model = model
        self.postProcessor = postProcessor
        self.addedTokens = addedTokens
        self.truncation = truncation
        self.padding = padding
        self.modelMaxLength = modelMaxLength
        rawMatcher = AddedTokenMatcher(addedTokens.filter { !$0.normalized }, normalizer: nil)
        normalizedMatcher = AddedTokenMatcher(addedTokens.filter { $0.normalized }, normalizer: normalizer)
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
        var out: [Int] = []
        appendIDs(text, to: &out)
        return out
    }

    /// The word pieces of `text` as strings (no special tokens): for inspection.
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
        var a = ids(text)
        if let maxLength {
            let room = max(0, maxLength - postProcessor.addedTokens(pair: false))
            if a.count > room { a.removeSubrange(room...) }
        }
        return finish(a, nil)
    }

    /// One input or a pair, with the configured ``truncation`` (no padding: see
    /// ``encodeBatch(_:addSpecialTokens:)``).
    public func encode(_ text: String, pair: String? = nil, addSpecialTokens: Bool = true) -> Encoding {
        var a = ids(text)
        var b = pair.map(ids)
        if let t = truncation {
            let added = addSpecialTokens ? postProcessor.addedTokens(pair: b != nil) : 0
            Self.truncate(&a, &b, to: max(0, t.maxLength - added), strategy: t.strategy, fromLeft: t.fromLeft)
        }
        guard addSpecialTokens else {
            let ids = a + (b ?? [])
            return Encoding(ids: ids, typeIDs: [Int](repeating: 0, count: a.count) + [Int](repeating: 1, count: b?.count ?? 0),
                            attentionMask: [Int](repeating: 1, count: ids.count), specialTokensMask: [Bool](repeating: false, count: ids.count))
        }
        return finish(a, b)
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

    private func finish(_ a: [Int], _ b: [Int]?) -> Encoding {
        let (ids, types, special) = postProcessor.apply(a, b)
        return Encoding(ids: ids, typeIDs: types, attentionMask: [Int](repeating: 1, count: ids.count), specialTokensMask: special)
    }

    /// The library's truncation of one sequence or a pair to `limit` tokens (special tokens
    /// already subtracted). Longest-first keeps the shorter input whole when it fits in half.
    static func truncate(_ a: inout [Int], _ b: inout [Int]?, to limit: Int, strategy: Truncation.Strategy, fromLeft: Bool) {
        func cut(_ x: inout [Int], _ n: Int) {
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

    /// Appends the ids of `text` (no special tokens) to `out`.
    func appendIDs(_ text: String, to out: inout [Int]) {
        let scalars = Array(text.unicodeScalars.lazy.map(\.value))
        var normalized: [UInt32] = []
        var bytes: [UInt8] = []
        for piece in rawMatcher.split(scalars) {
            switch piece {
            case .token(let id):
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
                    case .token(let id): out.append(id)
                    case .text(let r): appendWords(normalized[r], bytes: &bytes, to: &out)
                    }
                }
            }
        }
    }

    private func appendWords(_ scalars: ArraySlice<UInt32>, bytes: inout [UInt8], to out: inout [Int]) {
        func word(_ range: Range<Int>) {
            bytes.removeAll(keepingCapacity: true)
            for c in scalars[range] { Self.appendUTF8(c, to: &bytes) }
            bytes.withUnsafeBufferPointer { model.appendIDs(utf8: $0, characterCount: range.count, to: &out) }
        }
        if let preTokenizer {
            preTokenizer.forEachWord(in: scalars, word)
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
