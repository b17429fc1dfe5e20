/// The BERT pre-tokeniser of HuggingFace `tokenizers` (`BertPreTokenizer`): split on whitespace
/// (dropped) and make every punctuation character a word of its own.
///
/// Punctuation is ASCII punctuation (all of `!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~`, which includes
/// symbols such as `$` and `+`) and the Unicode punctuation categories, as the library's tables
/// define them.
public struct BertPreTokenizer: Sendable, Equatable {
    /// The pre-tokeniser has no settings.
    public init() {}

    /// The words of already-normalised text.
    public func split(_ text: String) -> [String] {
        let scalars = text.unicodeScalars.map(\.value)
        return words(in: scalars[...]).map { range in
            var s = String.UnicodeScalarView()
            for c in scalars[range] { if let u = Unicode.Scalar(c) { s.append(u) } }
            return String(s)
        }
    }

    /// Index ranges of the words in `scalars`, in order.
    func words(in scalars: ArraySlice<UInt32>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        forEachWord(in: scalars) { out.append($0) }
        return out
    }

    /// Calls `body` with the index range of each word, in order, without collecting them.
    @inline(__always)
    func forEachWord(in scalars: ArraySlice<UInt32>, _ body: (Range<Int>) -> Void) {
        let classes = UnicodeClasses.shared
        var start = scalars.startIndex
        var i = scalars.startIndex
        while i < scalars.endIndex {
            let f = classes.flags(scalars[i])
            if f.contains(.whitespace) {
                if start < i { body(start..<i) }
                start = i + 1
            } else if f.contains(.punctuation) {
                if start < i { body(start..<i) }
                body(i..<(i + 1))
                start = i + 1
            }
            i += 1
        }
        if start < scalars.endIndex { body(start..<scalars.endIndex) }
    }
}
