/// SentencePiece's treatment of spaces (`Metaspace` in `tokenizer.json`): every space becomes
/// `▁` (or another replacement), a `▁` may be put before the text, and the text is split before
/// each `▁`, which stays with the word that follows it.
public struct Metaspace: Sendable, Equatable {
    /// When a replacement character is put before the text (`prepend_scheme`).
    public enum PrependScheme: String, Sendable, Equatable {
        /// Before every piece of text (the default; XLM-R).
        case always
        /// Only before the piece that starts the input.
        case first
        /// Never.
        case never
    }

    /// The scalar that stands for a space (`▁`, U+2581).
    public var replacement: UInt32
    /// When a replacement is put in front.
    public var prependScheme: PrependScheme
    /// Split before each replacement character (`split`).
    public var split: Bool

    /// Creates the pre-tokeniser.
    /// - Parameters:
    ///   - replacement: The scalar standing for a space (default `▁`).
    ///   - prependScheme: When to put one before the text (default always).
    ///   - split: Split before each replacement (default true).
    public init(replacement: Unicode.Scalar = "\u{2581}", prependScheme: PrependScheme = .always, split: Bool = true) {
        self.replacement = replacement.value
        self.prependScheme = prependScheme
        self.split = split
    }

    /// The words of `text` (a piece of the input, or a word of an earlier pre-tokeniser).
    func words(_ text: AlignedText) -> [AlignedText] {
        guard !text.isEmpty else { return [] }
        var t = text
        for i in t.scalars.indices where t.scalars[i] == 0x20 { t.scalars[i] = replacement }
        if t.scalars.first != replacement {
            switch prependScheme {
            case .always: t = t.prepending([replacement])
            // The library checks that the piece starts at the start of the input.
            case .first: if t.spans.first?.lowerBound == 0 { t = t.prepending([replacement]) }
            case .never: break
            }
        }
        guard split else { return [t] }
        var out: [AlignedText] = []
        var start = 0
        for i in t.scalars.indices where t.scalars[i] == replacement && i > start {
            out.append(t.slice(start..<i))
            start = i
        }
        if start < t.count { out.append(t.slice(start..<t.count)) }
        return out
    }
}
