/// Adds the special tokens around one sequence or a pair (`[CLS] A [SEP]`, `[CLS] A [SEP] B [SEP]`)
/// and assigns token types, as `TemplateProcessing` or `BertProcessing` in `tokenizer.json`.
public struct PostProcessor: Sendable, Equatable {
    /// One element of a template.
    public enum Piece: Sendable, Equatable {
        /// Fixed token ids, with their token type.
        case special(ids: [Int], typeID: Int)
        /// The first (`A`, 0) or second (`B`, 1) sequence, with its token type.
        case sequence(Int, typeID: Int)
    }

    /// Template for a single sequence.
    public var single: [Piece]
    /// Template for a pair of sequences.
    public var pair: [Piece]
    /// Offsets moved off the spaces byte-level tokens start or end with, before the template is
    /// applied (`ByteLevel` or `RobertaProcessing` with `trim_offsets`), or nil for none.
    public var offsetTrimming: OffsetTrimming?

    /// Creates a post-processor from its two templates.
    /// - Parameters:
    ///   - single: Template for one sequence (should contain `.sequence(0, …)`).
    ///   - pair: Template for a pair (should contain `.sequence(0, …)` and `.sequence(1, …)`).
    ///   - offsetTrimming: Byte-level offset trimming, or nil for none (default nil).
    public init(single: [Piece], pair: [Piece], offsetTrimming: OffsetTrimming? = nil) {
        self.single = single
        self.pair = pair
        self.offsetTrimming = offsetTrimming
    }

    /// BERT's `[CLS] A [SEP]` and `[CLS] A [SEP] B [SEP]` (B with token type 1).
    public static func bert(cls: Int, sep: Int) -> PostProcessor {
        PostProcessor(single: [.special(ids: [cls], typeID: 0), .sequence(0, typeID: 0), .special(ids: [sep], typeID: 0)],
                      pair: [.special(ids: [cls], typeID: 0), .sequence(0, typeID: 0), .special(ids: [sep], typeID: 0),
                             .sequence(1, typeID: 1), .special(ids: [sep], typeID: 1)])
    }

    /// RoBERTa's (and MPNet's) `<s> A </s>` and `<s> A </s> </s> B </s>`, as `RobertaProcessing`
    /// in `tokenizer.json` builds them: every token type 0 (these models have no token types; the
    /// `tokenizers` library gives 0 for the second part too).
    public static func roberta(cls: Int, sep: Int) -> PostProcessor {
        PostProcessor(single: [.special(ids: [cls], typeID: 0), .sequence(0, typeID: 0), .special(ids: [sep], typeID: 0)],
                      pair: [.special(ids: [cls], typeID: 0), .sequence(0, typeID: 0), .special(ids: [sep], typeID: 0),
                             .special(ids: [sep], typeID: 0), .sequence(1, typeID: 0), .special(ids: [sep], typeID: 0)])
    }

    /// No special tokens at all.
    public static let none = PostProcessor(single: [.sequence(0, typeID: 0)], pair: [.sequence(0, typeID: 0), .sequence(1, typeID: 1)])

    /// How many tokens the template adds around one sequence (`pair: false`) or a pair.
    public func addedTokens(pair isPair: Bool) -> Int {
        (isPair ? pair : single).reduce(0) { n, p in
            if case .special(let ids, _) = p { return n + ids.count }
            return n
        }
    }

    /// The encoding of one sequence or a pair: offsets trimmed, then the template applied.
    func finish(_ a: [TokenSpan], _ b: [TokenSpan]?, vocabulary: Vocabulary) -> Encoding {
        var a = a, b = b
        if let offsetTrimming {
            offsetTrimming.trim(&a, vocabulary: vocabulary)
            if var second = b {
                offsetTrimming.trim(&second, vocabulary: vocabulary)
                b = second
            }
        }
        let (ids, types, special) = apply(a.map(\.id), b?.map(\.id))
        var offsets: [Range<Int>] = []
        offsets.reserveCapacity(ids.count)
        for piece in b == nil ? single : pair {
            switch piece {
            case .special(let s, _): offsets.append(contentsOf: repeatElement(0..<0, count: s.count))
            case .sequence(let which, _): offsets.append(contentsOf: (which == 0 ? a : (b ?? [])).map(\.offsets))
            }
        }
        return Encoding(ids: ids, typeIDs: types, attentionMask: [Int](repeating: 1, count: ids.count), specialTokensMask: special,
                        offsets: offsets)
    }

    /// The final ids, token types and special-token mask of one sequence or a pair.
    func apply(_ a: [Int], _ b: [Int]?) -> (ids: [Int], typeIDs: [Int], special: [Bool]) {
        var ids: [Int] = [], types: [Int] = [], special: [Bool] = []
        let template = b == nil ? single : pair
        let total = a.count + (b?.count ?? 0) + addedTokens(pair: b != nil)
        ids.reserveCapacity(total); types.reserveCapacity(total); special.reserveCapacity(total)
        for piece in template {
            switch piece {
            case .special(let s, let t):
                ids.append(contentsOf: s)
                types.append(contentsOf: repeatElement(t, count: s.count))
                special.append(contentsOf: repeatElement(true, count: s.count))
            case .sequence(let which, let t):
                let seq = which == 0 ? a : (b ?? [])
                ids.append(contentsOf: seq)
                types.append(contentsOf: repeatElement(t, count: seq.count))
                special.append(contentsOf: repeatElement(false, count: seq.count))
            }
        }
        return (ids, types, special)
    }
}

/// The offset trimming of the library's byte-level post-processors (`trim_offsets`): a token's
/// offsets lose the spaces it starts or ends with (`Ġ` in byte-level vocabularies), except a
/// single leading space of the first token when the pre-tokeniser added it (`add_prefix_space`).
public struct OffsetTrimming: Sendable, Equatable {
    /// Whether the pre-tokeniser put a space before the text (`add_prefix_space` of the post-processor).
    public var addPrefixSpace: Bool

    /// Creates the trimming.
    /// - Parameters:
    ///   - addPrefixSpace: Keep one leading space of the first token, which the pre-tokeniser added.
    public init(addPrefixSpace: Bool) {
        self.addPrefixSpace = addPrefixSpace
    }

    private static func isSpace(_ c: Unicode.Scalar) -> Bool {
        c.value == ByteLevel.spaceScalar || c.properties.isWhitespace
    }

    func trim(_ tokens: inout [TokenSpan], vocabulary: Vocabulary) {
        for i in tokens.indices {
            let id = tokens[i].id
            guard let text = tokens[i].surface ?? (id < vocabulary.count ? vocabulary.tokens[id] : nil) else { continue }
            let scalars = text.unicodeScalars
            var leading = 0, trailing = 0
            for c in scalars { if Self.isSpace(c) { leading += 1 } else { break } }
            for c in scalars.reversed() { if Self.isSpace(c) { trailing += 1 } else { break } }
            guard leading > 0 || trailing > 0 else { continue }
            var start = tokens[i].offsets.lowerBound, end = tokens[i].offsets.upperBound
            if leading > 0 {
                if (i == 0 || start == 0) && addPrefixSpace && leading == 1 { leading = 0 }
                start = min(start + leading, end)
            }
            if trailing > 0 && end >= trailing { end = max(end - trailing, start) }
            tokens[i].offsets = start..<end
        }
    }
}
