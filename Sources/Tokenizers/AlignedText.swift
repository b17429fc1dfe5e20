/// Text being normalised and split, each scalar remembering which scalars of the input it came
/// from, so that tokens can report offsets into the text the caller gave.
///
/// Follows the alignment rules of HuggingFace `tokenizers` (`NormalizedString`): a scalar that
/// replaces another keeps that one's span, an inserted scalar shares the span of the scalar before
/// it, and a token's offsets run from the start of its first scalar's span to the end of its last.
public struct AlignedText: Sendable, Equatable {
    /// Unicode scalar values of the (normalised) text.
    public var scalars: [UInt32]
    /// For each scalar, the range of input scalars it stands for.
    public var spans: [Range<Int>]

    /// Text taken from the input unchanged: scalar `i` stands for input scalar `offset + i`.
    /// - Parameters:
    ///   - scalars: The scalars.
    ///   - offset: Index in the input of the first scalar (default 0).
    public init(_ scalars: some Collection<UInt32>, offset: Int = 0) {
        self.scalars = Array(scalars)
        spans = (0..<self.scalars.count).map { (offset + $0)..<(offset + $0 + 1) }
    }

    /// Text with explicit spans (both arrays of the same length).
    /// - Parameters:
    ///   - scalars: The scalars.
    ///   - spans: The input range of each scalar.
    public init(scalars: [UInt32], spans: [Range<Int>]) {
        self.scalars = scalars
        self.spans = spans
    }

    /// The text as a Swift string (for inspection and tests).
    public var string: String { Self.string(scalars) }

    /// Scalar values as a Swift string (values that are not scalars are left out).
    ///
    /// Take a part of a text's string with `AlignedText.string(text.scalars[range])`, never with
    /// `text.slice(range).string`: there the copied spans are never read, and Swift 6.3.1's
    /// optimiser (-O, `Tokenizer.tokens`) then released their new array buffer right after
    /// allocating it and still copied the spans into it — a write into freed heap memory on every
    /// added token found in normalised text (ASan: heap-use-after-free in `slice`). In normal
    /// builds the write lands in memory malloc may already have handed to another thread, or in
    /// the chunk headers it put there: the test process aborted in unrelated code with
    /// "corrupted size vs. prev_size" and the like.
    static func string(_ scalars: some Sequence<UInt32>) -> String {
        var s = String.UnicodeScalarView()
        for c in scalars { if let u = Unicode.Scalar(c) { s.append(u) } }
        return String(s)
    }

    /// Number of scalars.
    public var count: Int { scalars.count }
    /// Whether there is no text.
    public var isEmpty: Bool { scalars.isEmpty }

    /// The scalars `range` as a text of their own (spans kept).
    func slice(_ range: Range<Int>) -> AlignedText {
        AlignedText(scalars: Array(scalars[range]), spans: Array(spans[range]))
    }

    /// The input range covered by scalars `range` (first scalar's start to last scalar's end).
    func inputRange(_ range: Range<Int>) -> Range<Int> {
        guard !range.isEmpty else { return 0..<0 }
        let a = spans[range.lowerBound].lowerBound, b = spans[range.upperBound - 1].upperBound
        return a..<max(a, b)
    }

    /// `prefix` inserted at the start, sharing the span of the first scalar (as the library's
    /// `prepend`); nothing happens to empty text.
    func prepending(_ prefix: [UInt32]) -> AlignedText {
        guard let first = spans.first, !prefix.isEmpty else { return self }
        return AlignedText(scalars: prefix + scalars, spans: Array(repeating: first, count: prefix.count) + spans)
    }
}

/// Builds a new ``AlignedText`` from an old one the way the library's `NormalizedString::transform`
/// does: each new scalar comes with a change — 0 replaces the next old scalar, `-n` replaces it and
/// removes `n` more, `+1` is inserted and shares the span of the old scalar before it.
struct AlignedTransform {
    private let old: AlignedText
    private(set) var result = AlignedText(scalars: [], spans: [])
    /// The next old scalar not yet consumed.
    private(set) var position = 0

    init(_ old: AlignedText) {
        self.old = old
        result.scalars.reserveCapacity(old.count)
        result.spans.reserveCapacity(old.count)
    }

    /// Emits `c` with `change` (see the type's documentation).
    mutating func emit(_ c: UInt32, change: Int) {
        let span: Range<Int>
        if change > 0 {
            if position > 0 {
                span = old.spans[position - 1]
            } else {
                let start = old.spans.first?.lowerBound ?? 0
                span = start..<start
            }
        } else {
            span = position < old.count ? old.spans[position] : (old.spans.last.map { $0.upperBound..<$0.upperBound } ?? 0..<0)
            position = min(old.count, position + 1 - change)
        }
        result.scalars.append(c)
        result.spans.append(span)
    }

    /// Drops the next `n` old scalars without output.
    mutating func skip(_ n: Int) { position = min(old.count, position + n) }

    /// Replaces old scalars `count` scalars from `position` with `new` as the library replaces a
    /// chunk: the new scalars take the old ones' places, extra ones are inserted, and when fewer
    /// come out the last one also swallows the rest.
    mutating func replace(count: Int, with new: [UInt32]) {
        guard !new.isEmpty else {
            // The library folds a removal into the change of the scalar before; with none before,
            // the removal is lost and later scalars take earlier spans. Kept for identical offsets.
            if !result.isEmpty { skip(count) }
            return
        }
        let diff = new.count - count
        for (k, c) in new.enumerated() {
            var change = 0
            if diff > 0 && k >= new.count - diff { change = 1 }
            if diff < 0 && k == new.count - 1 { change = diff }
            emit(c, change: change)
        }
    }
}
