/// The model of `tokenizer.json` (`model`): how a word becomes token ids.
public enum TokenizerModel: Sendable {
    /// `WordPiece` (BERT, MPNet).
    case wordPiece(WordPiece)
    /// `BPE` (GPT-2, RoBERTa, ModernBERT).
    case bpe(BytePairEncoding)
    /// `Unigram` (XLM-R and other SentencePiece models).
    case unigram(Unigram)

    /// The token ↔ id map.
    public var vocabulary: Vocabulary {
        switch self {
        case .wordPiece(let m): m.vocabulary
        case .bpe(let m): m.vocabulary
        case .unigram(let m): m.vocabulary
        }
    }

    /// The WordPiece model, when it is one.
    public var wordPiece: WordPiece? {
        if case .wordPiece(let m) = self { return m }
        return nil
    }

    /// Appends the tokens of one word, each with its range of word scalars.
    func appendTokens(_ word: AlignedText, bytes: inout [UInt8], to out: inout [ModelToken]) {
        switch self {
        case .wordPiece(let m): m.appendTokens(word, bytes: &bytes, to: &out)
        case .bpe(let m): m.appendTokens(word, to: &out)
        case .unigram(let m): m.appendTokens(word, to: &out)
        }
    }
}
