/// The byte-level pre-tokeniser of GPT-2 and RoBERTa (`ByteLevel` in `tokenizer.json`): optionally
/// a space before the text, a split with GPT-2's regular expression, then every UTF-8 byte written
/// as one printable character, so that a BPE vocabulary of 256 base symbols covers any text.
public struct ByteLevel: Sendable, Equatable {
    /// Put a space before text that does not start with one (`add_prefix_space`), so that the
    /// first word is encoded like the others.
    public var addPrefixSpace: Bool
    /// Move offsets off the spaces a token starts or ends with (`trim_offsets`; applied by the
    /// post-processor, see ``OffsetTrimming``).
    public var trimOffsets: Bool
    /// Split with GPT-2's regular expression first (`use_regex`); false: each piece is one word.
    public var useRegex: Bool

    /// Creates the pre-tokeniser.
    /// - Parameters:
    ///   - addPrefixSpace: Put a space before text not starting with one (default false, as RoBERTa).
    ///   - trimOffsets: Trim spaces from offsets in the post-processor (default true).
    ///   - useRegex: Split with GPT-2's pattern (default true).
    public init(addPrefixSpace: Bool = false, trimOffsets: Bool = true, useRegex: Bool = true) {
        self.addPrefixSpace = addPrefixSpace
        self.trimOffsets = trimOffsets
        self.useRegex = useRegex
    }

    /// The character standing for each byte: printable Latin-1 bytes stand for themselves, the
    /// others are moved to U+0100 and up (GPT-2's `bytes_to_unicode`).
    static let byteToScalar: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// The byte-level character of a space (`Ġ`).
    static let spaceScalar: UInt32 = byteToScalar[0x20]

    /// The words of `text`: each is its byte-level characters, every one with the span of the
    /// input scalar its byte came from.
    func words(_ text: AlignedText) -> [AlignedText] {
        guard !text.isEmpty else { return [] }
        var t = text
        if addPrefixSpace && t.scalars.first != 0x20 { t = t.prepending([0x20]) }
        let pieces = useRegex ? Self.gpt2Split(t.scalars) : [0..<t.count]
        var bytes: [UInt8] = []
        return pieces.map { range in
            var out = AlignedText(scalars: [], spans: [])
            for i in range {
                bytes.removeAll(keepingCapacity: true)
                Tokenizer.appendUTF8(t.scalars[i], to: &bytes)
                for b in bytes {
                    out.scalars.append(Self.byteToScalar[Int(b)])
                    out.spans.append(t.spans[i])
                }
            }
            return out
        }
    }

    // MARK: GPT-2's pattern

    @inline(__always) static func isLetter(_ c: UInt32) -> Bool {
        if c < 0x80 { return (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
        guard let u = Unicode.Scalar(c) else { return false }
        switch u.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    @inline(__always) static func isNumber(_ c: UInt32) -> Bool {
        if c < 0x80 { return c >= 0x30 && c <= 0x39 }
        guard let u = Unicode.Scalar(c) else { return false }
        switch u.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    @inline(__always) static func isSpace(_ c: UInt32) -> Bool { Normalizer.isWhitespace(c) }

    /// The pieces of GPT-2's pattern
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`, which
    /// matches every scalar, so the pieces cover the text.
    static func gpt2Split(_ s: [UInt32]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var i = 0
        let n = s.count
        func run(from j: Int, _ p: (UInt32) -> Bool) -> Int {
            var k = j
            while k < n && p(s[k]) { k += 1 }
            return k
        }
        func isOther(_ c: UInt32) -> Bool { !isSpace(c) && !isLetter(c) && !isNumber(c) }
        while i < n {
            let c = s[i]
            // Contractions (lowercase only, as the pattern is written).
            if c == 0x27, i + 1 < n {
                let a = s[i + 1], b: UInt32 = i + 2 < n ? s[i + 2] : 0
                var len = 0
                if a == 0x73 || a == 0x74 || a == 0x6D || a == 0x64 { len = 2 }                  // 's 't 'm 'd
                else if (a == 0x72 && b == 0x65) || (a == 0x76 && b == 0x65) || (a == 0x6C && b == 0x6C) { len = 3 }  // 're 've 'll
                if len > 0 { out.append(i..<(i + len)); i += len; continue }
            }
            let j = c == 0x20 && i + 1 < n ? i + 1 : i   // the optional leading space
            var matched = false
            for p in [isLetter, isNumber, isOther] as [(UInt32) -> Bool] {
                // ` ?X+`: with the space when X follows it, else without.
                if p(s[j]) { let e = run(from: j, p); out.append(i..<e); i = e; matched = true; break }
                if j != i && p(s[i]) { let e = run(from: i, p); out.append(i..<e); i = e; matched = true; break }
            }
            if matched { continue }
            // Whitespace: `\s+(?!\S)` leaves the last space of a run for the next word.
            let e = run(from: i, isSpace)
            if e > i {
                if e == n || e - i == 1 { out.append(i..<e); i = e } else { out.append(i..<(e - 1)); i = e - 1 }
                continue
            }
            // Unreachable for valid scalars; keep progress for anything else.
            out.append(i..<(i + 1))
            i += 1
        }
        return out
    }
}
