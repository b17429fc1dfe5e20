/// SentencePiece's Unigram model (Kudo 2018; XLM-R, T5, ALBERT): the segmentation of a word into
/// vocabulary pieces with the highest total log-probability, found by Viterbi — exactly as
/// HuggingFace `tokenizers` finds it.
///
/// Ties go to the path found first (pieces ending at the same place: the one starting earliest,
/// then the shortest). A character no piece covers becomes an unknown piece scored 10 below the
/// lowest score of the vocabulary, and consecutive unknown pieces are fused into one. With
/// ``byteFallback``, a fused unknown piece becomes its UTF-8 bytes as `<0xXX>` tokens when all exist.
public struct Unigram: Sendable {
    /// Piece ↔ id map (ids are positions in the vocabulary list).
    public let vocabulary: Vocabulary
    /// The log-probability of each piece, by id.
    public let scores: [Double]
    /// The id of the unknown piece (`unk_id`), or nil (unknown text is then dropped).
    public let unknownID: Int?
    /// Unknown text becomes `<0xXX>` byte tokens when the vocabulary has them all (`byte_fallback`).
    public let byteFallback: Bool

    private let unknownScore: Double
    private let maxPieceBytes: Int
    private let byteIDs: [Int?]

    /// The penalty below the lowest score given to an unknown character (SentencePiece's `kUnkPenalty`).
    static let unknownPenalty = 10.0

    /// Builds the model; throws when `unknownID` is not an id of the vocabulary.
    /// - Parameters:
    ///   - pieces: The vocabulary: each piece with its score, the position being the id.
    ///   - unknownID: The id of the unknown piece, or nil.
    ///   - byteFallback: Fall back to `<0xXX>` byte tokens (default false).
    ///   - file: The file's name in errors (default "<memory>").
    public init(pieces: [(piece: String, score: Double)], unknownID: Int?, byteFallback: Bool = false,
                file: String = "<memory>") throws(TokenizerError) {
        guard !pieces.isEmpty else { throw .invalidField(file: file, field: "model.vocab", reason: "the vocabulary is empty") }
        if let unknownID, !(0..<pieces.count).contains(unknownID) {
            throw .invalidField(file: file, field: "model.unk_id", reason: "\(unknownID) is not an id of the \(pieces.count)-piece vocabulary")
        }
        let vocabulary = Vocabulary(pieces.enumerated().map { ($1.piece, $0) })
        self.vocabulary = vocabulary
        scores = pieces.map(\.score)
        self.unknownID = unknownID
        self.byteFallback = byteFallback
        unknownScore = (scores.min() ?? 0) - Self.unknownPenalty
        maxPieceBytes = vocabulary.maxTokenBytes
        byteIDs = (0..<256).map { vocabulary.id(for: "<0x" + BytePairEncoding.hex($0) + ">") }
    }

    /// The ids of one word (already normalised and pre-tokenised).
    public func tokenize(_ word: String) -> [Int] {
        var out: [ModelToken] = []
        appendTokens(AlignedText(word.unicodeScalars.map(\.value)), to: &out)
        return out.map(\.id)
    }

    /// Appends the tokens of `word`, each with its range of word scalars.
    func appendTokens(_ word: AlignedText, to out: inout [ModelToken]) {
        let n = word.count
        guard n > 0 else { return }
        var bytes: [UInt8] = []
        var scalarStart: [Int] = []   // byte offset of each scalar, then the total
        scalarStart.reserveCapacity(n + 1)
        for c in word.scalars {
            scalarStart.append(bytes.count)
            Tokenizer.appendUTF8(c, to: &bytes)
        }
        scalarStart.append(bytes.count)
        // Best path ending at each scalar boundary: score, start boundary, piece id (nil: unknown).
        var bestScore = [Double](repeating: 0, count: n + 1)
        var bestStart = [Int](repeating: -1, count: n + 1)
        var bestID = [Int?](repeating: nil, count: n + 1)
        bestStart[0] = 0
        bytes.withUnsafeBufferPointer { all in
            for i in 0..<n where bestStart[i] >= 0 || i == 0 {
                let base = bestScore[i]
                var singleCovered = false
                var j = i + 1
                while j <= n && scalarStart[j] - scalarStart[i] <= maxPieceBytes {
                    let key = UnsafeBufferPointer(rebasing: all[scalarStart[i]..<scalarStart[j]])
                    if let id = vocabulary.id(forBytes: key) {
                        let candidate = base + scores[id]
                        if bestStart[j] < 0 || candidate > bestScore[j] {
                            bestScore[j] = candidate; bestStart[j] = i; bestID[j] = id
                        }
                        if j == i + 1 { singleCovered = true }
                    }
                    j += 1
                }
                if !singleCovered {
                    let candidate = base + unknownScore
                    if bestStart[i + 1] < 0 || candidate > bestScore[i + 1] {
                        bestScore[i + 1] = candidate; bestStart[i + 1] = i; bestID[i + 1] = nil
                    }
                }
            }
        }
        // Walk back, fusing runs of unknown pieces.
        var pieces: [(range: Range<Int>, id: Int?)] = []
        var end = n
        while end > 0 {
            let start = bestStart[end]
            let id = bestID[end]
            if id == nil || id == unknownID, let last = pieces.last, last.id == nil || last.id == unknownID, last.range.lowerBound == end {
                pieces[pieces.count - 1] = (start..<last.range.upperBound, nil)
            } else {
                pieces.append((start..<end, id == unknownID ? nil : id))
            }
            end = start
        }
        for p in pieces.reversed() {
            if let id = p.id {
                out.append(ModelToken(id: id, range: p.range))
                continue
            }
            // An unknown run: the piece itself if the vocabulary has it, else bytes, else unknown.
            let key = bytes[scalarStart[p.range.lowerBound]..<scalarStart[p.range.upperBound]]
            if let id = Array(key).withUnsafeBufferPointer({ vocabulary.id(forBytes: $0) }) {
                out.append(ModelToken(id: id, range: p.range))
            } else if byteFallback, key.allSatisfy({ byteIDs[Int($0)] != nil }) {
                for b in key { if let id = byteIDs[Int(b)] { out.append(ModelToken(id: id, range: p.range)) } }
            } else if let unk = unknownID {
                out.append(ModelToken(id: unk, range: p.range))
            }
        }
    }
}
