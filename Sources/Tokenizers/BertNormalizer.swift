/// The BERT normaliser of HuggingFace `tokenizers` (`BertNormalizer`): clean the text, space out
/// CJK ideographs, strip accents, lowercase — in that order, scalar by scalar.
///
/// `stripAccents == nil` follows `lowercase`, as in the library (and as BERT's uncased models were
/// trained): uncased models strip accents unless told otherwise, cased ones keep them.
public struct BertNormalizer: Sendable, Equatable {
    /// Remove control characters and turn every kind of whitespace into a space.
    public var cleanText: Bool
    /// Surround each CJK ideograph with spaces, so that each becomes a word of its own.
    public var handleChineseChars: Bool
    /// Decompose (NFD) and drop nonspacing marks; nil: as ``lowercase``.
    public var stripAccents: Bool?
    /// Lowercase every scalar.
    public var lowercase: Bool

    /// Creates a normaliser; the defaults are those of an uncased BERT.
    /// - Parameters:
    ///   - cleanText: Remove control characters and map whitespace to spaces (default true).
    ///   - handleChineseChars: Space out CJK ideographs (default true).
    ///   - stripAccents: Strip accents; nil follows `lowercase` (default nil).
    ///   - lowercase: Lowercase every scalar (default true).
    public init(cleanText: Bool = true, handleChineseChars: Bool = true, stripAccents: Bool? = nil, lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
        self.stripAccents = stripAccents
        self.lowercase = lowercase
    }

    /// Whether accents are stripped, with the library's default applied.
    public var stripsAccents: Bool { stripAccents ?? lowercase }

    /// The normalised form of `text`.
    public func normalize(_ text: String) -> String {
        var out: [UInt32] = []
        normalize(Array(text.unicodeScalars.map(\.value)), into: &out)
        var s = String.UnicodeScalarView()
        for c in out { if let u = Unicode.Scalar(c) { s.append(u) } }
        return String(s)
    }

    /// Appends the normalised scalars of `input` to `out`.
    func normalize(_ input: some Collection<UInt32>, into out: inout [UInt32]) {
        var none: [Range<Int>] = []
        normalize(input, into: &out, spans: &none, inputSpans: nil)
    }

    /// `text` normalised, each output scalar keeping the span of the input scalar it came from
    /// (the library's alignments: removed scalars leave no trace, added ones share their source's).
    func apply(_ text: AlignedText) -> AlignedText {
        var out: [UInt32] = []
        var spans: [Range<Int>] = []
        out.reserveCapacity(text.count)
        spans.reserveCapacity(text.count)
        normalize(text.scalars, into: &out, spans: &spans, inputSpans: text.spans)
        return AlignedText(scalars: out, spans: spans)
    }

    /// With `inputSpans`, also appends to `spans` the span of the input scalar each output came from.
    private func normalize(_ input: some Collection<UInt32>, into out: inout [UInt32], spans: inout [Range<Int>],
                           inputSpans: [Range<Int>]?) {
        let classes = UnicodeClasses.shared
        let strip = stripsAccents
        var spaced: [UInt32] = []
        var stripped: [UInt32] = []
        var index = -1
        for var c in input {
            index += 1
            if let inputSpans, index > 0 {
                // Give every scalar appended since the previous input scalar that one's span.
                while spans.count < out.count { spans.append(inputSpans[index - 1]) }
            }
            // Printable ASCII other than capital letters passes every stage unchanged.
            if c < 128 && !(c < 32 || c == 127 || (c >= 65 && c <= 90)) {
                out.append(c)
                continue
            }
            let f = classes.flags(c)
            if cleanText {
                if c == 0 || c == 0xFFFD || f.contains(.removedByClean) { continue }
                if f.contains(.cleanSpace) { c = 0x20 }
            }
            spaced.removeAll(keepingCapacity: true)
            if handleChineseChars && f.contains(.chinese) {
                spaced.append(0x20); spaced.append(c); spaced.append(0x20)
            } else {
                spaced.append(c)
            }
            stripped.removeAll(keepingCapacity: true)
            if strip {
                for s in spaced { classes.appendStripped(s, to: &stripped) }
            } else {
                stripped.append(contentsOf: spaced)
            }
            if lowercase {
                for s in stripped { classes.appendLowercase(s, to: &out) }
            } else {
                out.append(contentsOf: stripped)
            }
        }
        if let inputSpans, index >= 0 {
            while spans.count < out.count { spans.append(inputSpans[index]) }
        }
    }
}
