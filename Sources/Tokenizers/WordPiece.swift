/// The WordPiece model (Schuster & Nakajima 2012; BERT's tokeniser): each word becomes the longest
/// vocabulary prefix, then the longest continuation (written with the `##` prefix), and so on; a
/// word with any part that matches nothing, or longer than ``maxInputCharsPerWord`` characters,
/// becomes the single unknown token.
///
/// Greedy longest-match-first over UTF-8 bytes, stepping back one character at a time, exactly as
/// HuggingFace `tokenizers`.
public struct WordPiece: Sendable {
    /// Token ↔ id map, continuation pieces included with their prefix.
    public let vocabulary: Vocabulary
    /// The token a word becomes when it cannot be split (`[UNK]`).
    public let unknownToken: String
    /// The id of ``unknownToken``.
    public let unknownID: Int
    /// The prefix marking a piece that continues a word (`##`).
    public let continuingSubwordPrefix: String
    /// Words longer than this many characters become ``unknownToken`` whole (100 in BERT).
    public let maxInputCharsPerWord: Int
    /// Continuation pieces keyed without their prefix, so a lookup needs no concatenation.
    private let continuations: Vocabulary
    private let continuationIDs: [Int]

    /// Throws when the unknown token is not in the vocabulary (every word could otherwise fail).
    /// - Parameters:
    ///   - vocabulary: The token ↔ id map.
    ///   - unknownToken: The unknown token; it must be in `vocabulary` (default "[UNK]").
    ///   - continuingSubwordPrefix: Prefix of continuation pieces (default "##").
    ///   - maxInputCharsPerWord: Longer words become the unknown token (default 100).
    ///   - file: The vocabulary's file name, for errors (default "<memory>").
    public init(vocabulary: Vocabulary, unknownToken: String = "[UNK]", continuingSubwordPrefix: String = "##",
                maxInputCharsPerWord: Int = 100, file: String = "<memory>") throws(TokenizerError) {
        guard let unk = vocabulary.id(for: unknownToken) else { throw .missingToken(file: file, token: unknownToken) }
        self.vocabulary = vocabulary
        self.unknownToken = unknownToken
        unknownID = unk
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.maxInputCharsPerWord = maxInputCharsPerWord
        var entries: [(token: String, id: Int)] = []
        var ids: [Int] = []
        let prefix = Array(continuingSubwordPrefix.utf8)
        for (id, t) in vocabulary.tokens.enumerated() where vocabulary.id(for: t) == id {
            let b = Array(t.utf8)
            if b.count >= prefix.count && b.starts(with: prefix) {
                entries.append((String(decoding: b[prefix.count...], as: UTF8.self), ids.count))
                ids.append(id)
            }
        }
        continuations = Vocabulary(entries)
        continuationIDs = ids
    }

    /// The ids of one word (already normalised and pre-tokenised).
    public func tokenize(_ word: String) -> [Int] {
        var out: [Int] = []
        var w = word
        w.withUTF8 { appendIDs(utf8: $0, characterCount: word.unicodeScalars.count, to: &out) }
        return out
    }

    /// Appends the tokens of `word`, each with its range of word scalars (`bytes` is scratch space).
    func appendTokens(_ word: AlignedText, bytes: inout [UInt8], to out: inout [ModelToken]) {
        bytes.removeAll(keepingCapacity: true)
        for c in word.scalars { Tokenizer.appendUTF8(c, to: &bytes) }
        var ends: [Int] = []
        bytes.withUnsafeBufferPointer { appendIDs(utf8: $0, characterCount: word.count, to: &ends, pieceEnds: true) }
        guard ends.count > 1 || ends.first != -1 else {
            if !word.isEmpty { out.append(ModelToken(id: unknownID, range: 0..<word.count)) }
            return
        }
        // Piece ends are byte offsets: turn them into scalar indices.
        var scalarAt: [Int] = []
        scalarAt.reserveCapacity(bytes.count + 1)
        for (i, c) in word.scalars.enumerated() {
            let n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4
            for _ in 0..<n { scalarAt.append(i) }
        }
        scalarAt.append(word.count)
        var start = 0
        for k in stride(from: 0, to: ends.count, by: 2) {
            let id = ends[k], end = scalarAt[min(ends[k + 1], bytes.count)]
            out.append(ModelToken(id: id, range: start..<max(start, end)))
            start = end
        }
    }

    /// Appends the ids of the word whose UTF-8 bytes are `word` (`characterCount` scalars) to `out`;
    /// with `pieceEnds`, each id is followed by the byte offset where its piece ends, and a word
    /// that is one unknown token gives `[-1]`.
    func appendIDs(utf8 word: UnsafeBufferPointer<UInt8>, characterCount: Int, to out: inout [Int], pieceEnds: Bool = false) {
        if characterCount > maxInputCharsPerWord {
            out.append(pieceEnds ? -1 : unknownID)
            return
        }
        let n = word.count
        let first = out.count
        var start = 0
        while start < n {
            let table = start == 0 ? vocabulary : continuations
            // Substrings longer than the longest token cannot match: start below that length, on a
            // character boundary (the library starts at the end of the word; the result is the same).
            var end = min(n, start + table.maxTokenBytes)
            while end < n && end > start && word[end] & 0xC0 == 0x80 { end -= 1 }
            var found: Int? = nil
            while start < end {
                if let id = table.id(forBytes: UnsafeBufferPointer(rebasing: word[start..<end])) {
                    found = start == 0 ? id : continuationIDs[id]
                    break
                }
                // Back by one character.
                end -= 1
                while end > start && word[end] & 0xC0 == 0x80 { end -= 1 }
            }
            guard let id = found else {
                out.removeSubrange(first...)
                out.append(pieceEnds ? -1 : unknownID)
                return
            }
            out.append(id)
            if pieceEnds { out.append(end) }
            start = end
        }
    }
}
