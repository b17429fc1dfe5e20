/// A token matched in the text before the model sees it (`[CLS]`, `[MASK]`, user-added words), as
/// the `added_tokens` of `tokenizer.json` describe it.
public struct AddedToken: Sendable, Equatable {
    /// The exact text to match.
    public var content: String
    /// The id it encodes to.
    public var id: Int
    /// Only match when not inside a word (neither side touches a word character).
    public var singleWord: Bool
    /// Also swallow the whitespace on the left / right of a match.
    public var lstrip: Bool
    /// Also swallow the whitespace on the right of a match.
    public var rstrip: Bool
    /// Match in the normalised text (true) or in the raw text (false, as BERT's special tokens).
    public var normalized: Bool
    /// A special token (`[CLS]`, `[SEP]`, …) rather than an ordinary added word, as `tokenizer.json` marks it.
    public var special: Bool

    /// Creates an added token; the defaults are those of a BERT special token.
    /// - Parameters:
    ///   - content: The exact text to match.
    ///   - id: The id it encodes to.
    ///   - singleWord: Match only outside words (default false).
    ///   - lstrip: Swallow whitespace on the left of a match (default false).
    ///   - rstrip: Swallow whitespace on the right of a match (default false).
    ///   - normalized: Match in the normalised text rather than the raw text (default false).
    ///   - special: Whether it is a special token (default true).
    public init(content: String, id: Int, singleWord: Bool = false, lstrip: Bool = false, rstrip: Bool = false,
                normalized: Bool = false, special: Bool = true) {
        self.content = content
        self.id = id
        self.singleWord = singleWord
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.normalized = normalized
        self.special = special
    }
}

/// Finds added tokens in a sequence of scalars: leftmost match first, the longest one when
/// several start at the same place (the library's Aho-Corasick `LeftmostLongest`).
struct AddedTokenMatcher: Sendable {
    struct Pattern: Sendable {
        let scalars: [UInt32]
        let token: AddedToken
    }

    /// One piece of the input: plain text to tokenise, or an added token's id with the range it
    /// covers (whitespace swallowed by `lstrip` / `rstrip` included, as in the library's offsets).
    enum Piece: Equatable {
        case text(Range<Int>)
        case token(Int, Range<Int>)
    }

    private let patterns: [Pattern]
    private let firstScalars: Set<UInt32>

    init(_ tokens: [AddedToken], normalizer: Normalizer?) {
        patterns = tokens.compactMap { t in
            var s = Array(t.content.unicodeScalars.map(\.value))
            if t.normalized, let normalizer { s = normalizer.apply(AlignedText(s)).scalars }
            return s.isEmpty ? nil : Pattern(scalars: s, token: t)
        }
        firstScalars = Set(patterns.map { $0.scalars[0] })
    }

    var isEmpty: Bool { patterns.isEmpty }

    /// Splits `text` into plain runs and added tokens; the runs cover everything not matched.
    func split(_ text: [UInt32]) -> [Piece] {
        guard !patterns.isEmpty else { return [.text(0..<text.count)] }
        var pieces: [Piece] = []
        var plainStart = 0
        var i = 0
        while i < text.count {
            guard firstScalars.contains(text[i]), let (pattern, length) = longestMatch(in: text, at: i) else {
                i += 1
                continue
            }
            var start = i, stop = i + length
            let token = pattern.token
            if token.singleWord {
                let before = start == 0 || !Self.isWordScalar(text[start - 1])
                let after = stop == text.count || !Self.isWordScalar(text[stop])
                if !(before && after) { i += 1; continue }
            }
            if token.lstrip {
                while start > plainStart && Self.isSpace(text[start - 1]) { start -= 1 }
            }
            if token.rstrip {
                while stop < text.count && Self.isSpace(text[stop]) { stop += 1 }
            }
            if plainStart < start { pieces.append(.text(plainStart..<start)) }
            pieces.append(.token(token.id, start..<stop))
            plainStart = stop
            i = stop
        }
        if plainStart < text.count { pieces.append(.text(plainStart..<text.count)) }
        return pieces
    }

    private func longestMatch(in text: [UInt32], at i: Int) -> (Pattern, Int)? {
        var best: Pattern? = nil
        for p in patterns where p.scalars.count > (best?.scalars.count ?? 0) && i + p.scalars.count <= text.count {
            var equal = true
            for (k, c) in p.scalars.enumerated() where text[i + k] != c { equal = false; break }
            if equal { best = p }
        }
        return best.map { ($0, $0.scalars.count) }
    }

    /// `\w` of the library's regex: letters, marks, decimal digits, connector punctuation, joiners.
    static func isWordScalar(_ c: UInt32) -> Bool {
        guard let u = Unicode.Scalar(c) else { return false }
        let p = u.properties
        if p.isAlphabetic || p.isJoinControl { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    /// `\s` of the library's regex: the Unicode White_Space property.
    static func isSpace(_ c: UInt32) -> Bool {
        Unicode.Scalar(c)?.properties.isWhitespace ?? false
    }
}
