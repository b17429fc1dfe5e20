/// A normaliser of `tokenizer.json` (`normalizer`): how text is cleaned up before it is split.
///
/// Each case does what the library's normaliser of the same name does, offsets included (see
/// ``AlignedText``).
public indirect enum Normalizer: Sendable, Equatable {
    /// `BertNormalizer`.
    case bert(BertNormalizer)
    /// `NFC`: canonical composition.
    case nfc
    /// `NFKC`: compatibility composition (full-width letters, ligatures, circled digits become plain ones).
    case nfkc
    /// `NFD`: canonical decomposition.
    case nfd
    /// `NFKD`: compatibility decomposition.
    case nfkd
    /// `Lowercase`: every scalar lowercased as Rust's `char::to_lowercase`.
    case lowercase
    /// `Strip`: whitespace removed at the start and/or the end.
    case strip(left: Bool, right: Bool)
    /// `Replace`: every match of a pattern replaced by `content`.
    case replace(ReplacePattern, content: String)
    /// `Prepend`: a string put before non-empty text.
    case prepend(String)
    /// `Precompiled`: SentencePiece's compiled rules.
    case precompiled(PrecompiledNormalizer)
    /// `Sequence`: the normalisers one after the other.
    case sequence([Normalizer])

    /// The normalised form of a string.
    public func normalize(_ text: String) -> String {
        apply(AlignedText(text.unicodeScalars.map(\.value))).string
    }

    /// `text` normalised, spans carried along.
    public func apply(_ text: AlignedText) -> AlignedText {
        switch self {
        case .bert(let b): return b.apply(text)
        case .nfc: var n = UnicodeNormalization(.nfc); return n.apply(text)
        case .nfkc: var n = UnicodeNormalization(.nfkc); return n.apply(text)
        case .nfd: var n = UnicodeNormalization(.nfd); return n.apply(text)
        case .nfkd: var n = UnicodeNormalization(.nfkd); return n.apply(text)
        case .lowercase:
            var t = AlignedTransform(text)
            var lowered: [UInt32] = []
            for c in text.scalars {
                lowered.removeAll(keepingCapacity: true)
                UnicodeClasses.shared.appendLowercase(c, to: &lowered)
                for (k, l) in lowered.enumerated() { t.emit(l, change: k == 0 ? 0 : 1) }
            }
            return t.result
        case .strip(let left, let right):
            var start = 0, end = text.count
            if left { while start < end && Self.isWhitespace(text.scalars[start]) { start += 1 } }
            if right { while end > start && Self.isWhitespace(text.scalars[end - 1]) { end -= 1 } }
            return text.slice(start..<end)
        case .replace(let pattern, let content):
            let matches = pattern.matches(in: text.scalars)
            guard !matches.isEmpty else { return text }
            let new = content.unicodeScalars.map(\.value)
            var t = AlignedTransform(text)
            var i = 0
            for m in matches {
                while i < m.lowerBound { t.emit(text.scalars[i], change: 0); i += 1 }
                // The library removes the match, then inserts the content: every new scalar
                // shares the span of the match's last scalar.
                t.skip(m.count)
                for c in new { t.emit(c, change: 1) }
                i = m.upperBound
            }
            while i < text.count { t.emit(text.scalars[i], change: 0); i += 1 }
            return t.result
        case .prepend(let s):
            return text.prepending(s.unicodeScalars.map(\.value))
        case .precompiled(let p):
            return p.apply(text)
        case .sequence(let list):
            var t = text
            for n in list { t = n.apply(t) }
            return t
        }
    }

    /// Rust's `char::is_whitespace`: the Unicode White_Space property.
    static func isWhitespace(_ c: UInt32) -> Bool {
        if c < 0x80 { return c == 0x20 || (c >= 0x09 && c <= 0x0D) }
        return Unicode.Scalar(c)?.properties.isWhitespace ?? false
    }
}

/// What `Replace` looks for: a literal string, or a regular expression from the small subset real
/// tokenizer files use (literal scalars, `\s`, `\d`, `.`, and the quantifiers `?`, `*`, `+`,
/// `{n}`, `{n,}`, `{n,m}`; greedy, with backtracking).
public struct ReplacePattern: Sendable, Equatable {
    enum Atom: Sendable, Equatable {
        case scalar(UInt32)
        case whitespace
        case digit
        case any
        func matches(_ c: UInt32) -> Bool {
            switch self {
            case .scalar(let s): return c == s
            case .whitespace: return Normalizer.isWhitespace(c)
            case .digit: return Unicode.Scalar(c)?.properties.numericType == .decimal
            case .any: return c != 0x0A
            }
        }
    }
    struct Item: Sendable, Equatable {
        let atom: Atom
        let min: Int
        let max: Int
    }
    let items: [Item]

    /// A pattern matching `literal` exactly.
    /// - Parameters:
    ///   - literal: The string to find.
    public init(literal: String) {
        items = literal.unicodeScalars.map { Item(atom: .scalar($0.value), min: 1, max: 1) }
    }

    /// A pattern from a regular expression of the supported subset; nil for anything else.
    /// - Parameters:
    ///   - regex: The expression, as `{"Regex": …}` in `tokenizer.json` holds it.
    public init?(regex: String) {
        let s = regex.unicodeScalars.map(\.value)
        var items: [Item] = []
        var i = 0
        while i < s.count {
            var atom: Atom
            let c = s[i]
            i += 1
            switch c {
            case 0x5C:  // backslash
                guard i < s.count else { return nil }
                let e = s[i]
                i += 1
                switch e {
                case 0x73: atom = .whitespace                      // \s
                case 0x64: atom = .digit                           // \d
                case 0x6E: atom = .scalar(0x0A)                    // \n
                case 0x74: atom = .scalar(0x09)                    // \t
                case 0x72: atom = .scalar(0x0D)                    // \r
                default:
                    // Only escaped punctuation stands for itself.
                    guard let u = Unicode.Scalar(e), e < 0x80, !u.properties.isAlphabetic, !(0x30...0x39).contains(e) else { return nil }
                    atom = .scalar(e)
                }
            case 0x2E: atom = .any
            case 0x28, 0x29, 0x5B, 0x5D, 0x7C, 0x5E, 0x24, 0x7B, 0x7D, 0x2A, 0x2B, 0x3F: return nil  // ( ) [ ] | ^ $ { } * + ? unsupported here
            default: atom = .scalar(c)
            }
            var lo = 1, hi = 1
            if i < s.count {
                switch s[i] {
                case 0x3F: lo = 0; hi = 1; i += 1
                case 0x2A: lo = 0; hi = Int.max; i += 1
                case 0x2B: lo = 1; hi = Int.max; i += 1
                case 0x7B:
                    guard let close = s[i...].firstIndex(of: 0x7D) else { return nil }
                    let body = String(decoding: s[(i + 1)..<close].map { UInt8(truncatingIfNeeded: $0) }, as: UTF8.self)
                    let parts = body.split(separator: ",", omittingEmptySubsequences: false)
                    guard parts.count == 1 || parts.count == 2, let a = Int(parts[0]), a >= 0, a < 1000 else { return nil }
                    lo = a
                    if parts.count == 1 { hi = a } else if parts[1].isEmpty { hi = Int.max } else {
                        guard let b = Int(parts[1]), b >= a else { return nil }
                        hi = b
                    }
                    i = close + 1
                default: break
                }
            }
            if i < s.count, s[i] == 0x3F { return nil }  // lazy quantifiers: not supported
            items.append(Item(atom: atom, min: lo, max: hi))
        }
        // Backtracking over several open-ended repetitions could take polynomial time of high
        // degree on crafted input; real files use one.
        guard !items.isEmpty, items.count <= 64, items.filter({ $0.min != $0.max }).count <= 2 else { return nil }
        self.items = items
    }

    /// The end of a match of `items[k...]` starting at `i`, longest first (greedy with backtracking).
    private func match(_ text: [UInt32], _ i: Int, _ k: Int) -> Int? {
        guard k < items.count else { return i }
        let item = items[k]
        var n = 0
        while n < item.max && i + n < text.count && item.atom.matches(text[i + n]) { n += 1 }
        while n >= item.min {
            if let end = match(text, i + n, k + 1) { return end }
            n -= 1
        }
        return nil
    }

    /// Non-overlapping matches, left to right (empty matches are skipped).
    func matches(in text: [UInt32]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var i = 0
        while i < text.count {
            if let end = match(text, i, 0), end > i {
                out.append(i..<end)
                i = end
            } else {
                i += 1
            }
        }
        return out
    }
}
