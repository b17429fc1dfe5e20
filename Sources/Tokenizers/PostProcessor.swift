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

    /// Creates a post-processor from its two templates.
    /// - Parameters:
    ///   - single: Template for one sequence (should contain `.sequence(0, …)`).
    ///   - pair: Template for a pair (should contain `.sequence(0, …)` and `.sequence(1, …)`).
    public init(single: [Piece], pair: [Piece]) {
        self.single = single
        self.pair = pair
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
