/// A pre-tokeniser of `tokenizer.json` (`pre_tokenizer`): how normalised text is cut into the
/// words the model encodes one by one.
public indirect enum PreTokenizer: Sendable, Equatable {
    /// `BertPreTokenizer`: whitespace dropped, punctuation alone.
    case bert
    /// `ByteLevel`: GPT-2's split and byte-level characters.
    case byteLevel(ByteLevel)
    /// `Metaspace`: spaces as `▁`, split before each.
    case metaspace(Metaspace)
    /// `WhitespaceSplit`: split on whitespace, which is dropped.
    case whitespaceSplit
    /// `Sequence`: each pre-tokeniser splits the words of the one before.
    case sequence([PreTokenizer])

    /// The words of a string, as strings (for inspection and tests).
    public func split(_ text: String) -> [String] {
        words(AlignedText(text.unicodeScalars.map(\.value))).map(\.string)
    }

    /// The words of `text`, spans kept.
    public func words(_ text: AlignedText) -> [AlignedText] {
        switch self {
        case .bert:
            var out: [AlignedText] = []
            BertPreTokenizer().forEachWord(in: text.scalars[...]) { out.append(text.slice($0)) }
            return out
        case .byteLevel(let b): return b.words(text)
        case .metaspace(let m): return m.words(text)
        case .whitespaceSplit:
            var out: [AlignedText] = []
            var start = 0
            for i in text.scalars.indices where Normalizer.isWhitespace(text.scalars[i]) {
                if start < i { out.append(text.slice(start..<i)) }
                start = i + 1
            }
            if start < text.count { out.append(text.slice(start..<text.count)) }
            return out
        case .sequence(let list):
            var words = [text]
            for p in list { words = words.flatMap { p.words($0) } }
            return words
        }
    }
}
