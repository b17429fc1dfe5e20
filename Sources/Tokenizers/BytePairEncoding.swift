/// The byte-pair-encoding model (Sennrich et al. 2016; GPT-2, RoBERTa, ModernBERT): a word starts
/// as its characters and the merge of lowest rank among adjacent pairs is applied, leftmost first,
/// until none applies — exactly as HuggingFace `tokenizers` (`BPE`, no dropout).
public struct BytePairEncoding: Sendable {
    struct Merge: Sendable {
        let rank: Int
        let id: Int
    }

    /// Token ↔ id map.
    public let vocabulary: Vocabulary
    /// The token of characters the vocabulary lacks, or nil to drop them.
    public let unknownToken: String?
    /// Prefix of a piece that does not start a word (`continuing_subword_prefix`), if any.
    public let continuingSubwordPrefix: String?
    /// Suffix of a piece that ends a word (`end_of_word_suffix`), if any.
    public let endOfWordSuffix: String?
    /// Consecutive unknown characters become one unknown token (`fuse_unk`).
    public let fuseUnknown: Bool
    /// Characters the vocabulary lacks become their UTF-8 bytes as `<0xXX>` tokens when all exist (`byte_fallback`).
    public let byteFallback: Bool
    /// A word that is a token of its own is that token, without merges (`ignore_merges`).
    public let ignoreMerges: Bool

    private let unknownID: Int?
    private let merges: [UInt64: Merge]
    private let byteIDs: [Int?]

    /// Builds the model; throws when a merge names a token that is not in the vocabulary.
    /// - Parameters:
    ///   - vocabulary: The token ↔ id map.
    ///   - merges: The merges, highest priority first.
    ///   - unknownToken: Token for characters the vocabulary lacks, or nil (default nil; byte-level vocabularies need none).
    ///   - continuingSubwordPrefix: Prefix of non-initial pieces, or nil (default nil).
    ///   - endOfWordSuffix: Suffix of final pieces, or nil (default nil).
    ///   - fuseUnknown: Fuse consecutive unknown characters (default false).
    ///   - byteFallback: Fall back to `<0xXX>` byte tokens (default false).
    ///   - ignoreMerges: Take whole-word tokens directly (default false).
    ///   - file: The file's name in errors (default "<memory>").
    public init(vocabulary: Vocabulary, merges: [(String, String)], unknownToken: String? = nil, continuingSubwordPrefix: String? = nil,
                endOfWordSuffix: String? = nil, fuseUnknown: Bool = false, byteFallback: Bool = false, ignoreMerges: Bool = false,
                file: String = "<memory>") throws(TokenizerError) {
        self.vocabulary = vocabulary
        byteIDs = (0..<256).map { vocabulary.id(for: "<0x" + Self.hex($0) + ">") }
        self.unknownToken = unknownToken
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.endOfWordSuffix = endOfWordSuffix
        self.fuseUnknown = fuseUnknown
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        if let unknownToken {
            guard let id = vocabulary.id(for: unknownToken) else { throw .missingToken(file: file, token: unknownToken) }
            unknownID = id
        } else {
            unknownID = nil
        }
        let prefixLength = continuingSubwordPrefix?.utf8.count ?? 0
        var table: [UInt64: Merge] = [:]
        table.reserveCapacity(merges.count)
        for (rank, (a, b)) in merges.enumerated() {
            guard let ai = vocabulary.id(for: a) else { throw .invalidField(file: file, field: "model.merges[\(rank)]", reason: "\"\(a)\" is not in the vocabulary") }
            guard let bi = vocabulary.id(for: b) else { throw .invalidField(file: file, field: "model.merges[\(rank)]", reason: "\"\(b)\" is not in the vocabulary") }
            // The merged token drops the second part's continuation prefix.
            let bBytes = Array(b.utf8)
            guard bBytes.count >= prefixLength else {
                throw .invalidField(file: file, field: "model.merges[\(rank)]", reason: "\"\(b)\" is shorter than the continuing subword prefix")
            }
            let merged = Array(a.utf8) + bBytes[prefixLength...]
            guard let id = merged.withUnsafeBufferPointer({ vocabulary.id(forBytes: $0) }) else {
                throw .invalidField(file: file, field: "model.merges[\(rank)]",
                                    reason: "the merged token \"\(String(decoding: merged, as: UTF8.self))\" is not in the vocabulary")
            }
            // A repeated pair keeps its last rank, as the library's map does.
            table[Self.key(ai, bi)] = Merge(rank: rank, id: id)
        }
        self.merges = table
    }

    @inline(__always) static func key(_ a: Int, _ b: Int) -> UInt64 { UInt64(UInt32(truncatingIfNeeded: a)) << 32 | UInt64(UInt32(truncatingIfNeeded: b)) }

    static func hex(_ b: Int) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[b >> 4], digits[b & 15]])
    }

    /// The ids of one word (already normalised and pre-tokenised).
    public func tokenize(_ word: String) -> [Int] {
        var out: [ModelToken] = []
        appendTokens(AlignedText(word.unicodeScalars.map(\.value)), to: &out)
        return out.map(\.id)
    }

    fileprivate struct Symbol {
        var id: Int
        var start: Int   // word scalar range
        var end: Int
    }

    /// Appends the tokens of `word`, each with its range of word scalars.
    func appendTokens(_ word: AlignedText, to out: inout [ModelToken]) {
        let n = word.count
        guard n > 0 else { return }
        var bytes: [UInt8] = []
        if ignoreMerges {
            for c in word.scalars { Tokenizer.appendUTF8(c, to: &bytes) }
            if let id = bytes.withUnsafeBufferPointer({ vocabulary.id(forBytes: $0) }) {
                out.append(ModelToken(id: id, range: 0..<n))
                return
            }
        }
        let prefix = Array((continuingSubwordPrefix ?? "").utf8), suffix = Array((endOfWordSuffix ?? "").utf8)
        var symbols: [Symbol] = []
        symbols.reserveCapacity(n)
        var unknown: Symbol? = nil
        for i in 0..<n {
            bytes.removeAll(keepingCapacity: true)
            if i > 0 { bytes.append(contentsOf: prefix) }
            Tokenizer.appendUTF8(word.scalars[i], to: &bytes)
            if i == n - 1 { bytes.append(contentsOf: suffix) }
            if let id = bytes.withUnsafeBufferPointer({ vocabulary.id(forBytes: $0) }) {
                if let u = unknown { symbols.append(u); unknown = nil }
                symbols.append(Symbol(id: id, start: i, end: i + 1))
                continue
            }
            if byteFallback {
                let ids = bytes.map { byteIDs[Int($0)] }
                if ids.allSatisfy({ $0 != nil }) {
                    // Byte tokens of a character share its span.
                    for id in ids { if let id { symbols.append(Symbol(id: id, start: i, end: i + 1)) } }
                    continue
                }
            }
            if let unk = unknownID {
                if var u = unknown {
                    if fuseUnknown { u.end = i + 1; unknown = u; continue }
                    symbols.append(u)
                }
                unknown = Symbol(id: unk, start: i, end: i + 1)
            }
        }
        if let u = unknown { symbols.append(u) }
        if symbols.count > 1 { mergeAll(&symbols) }
        for s in symbols { out.append(ModelToken(id: s.id, range: s.start..<s.end)) }
    }
}

extension BytePairEncoding {
    /// A candidate merge in the queue: lowest rank first, then leftmost (the library's order).
    private struct Candidate: Comparable {
        let rank: Int
        let pos: Int
        let id: Int
        static func < (a: Candidate, b: Candidate) -> Bool { a.rank != b.rank ? a.rank < b.rank : a.pos < b.pos }
    }

    /// Applies merges until none applies: a priority queue of candidate pairs over a linked list of
    /// symbols, O(n log n) in the word's length (long words without a pre-tokeniser stay fast).
    /// A popped candidate whose pair has changed since it was queued is skipped.
    private func mergeAll(_ symbols: inout [Symbol]) {
        let n = symbols.count
        var next = Array(1...n)           // n: none
        var prev = Array(-1..<(n - 1))
        var alive = [Bool](repeating: true, count: n)
        var heap = MinHeap<Candidate>()
        for p in 0..<(n - 1) {
            if let m = merges[Self.key(symbols[p].id, symbols[p + 1].id)] { heap.push(Candidate(rank: m.rank, pos: p, id: m.id)) }
        }
        while let top = heap.pop() {
            let p = top.pos
            guard alive[p], next[p] < n else { continue }
            let q = next[p]
            guard let m = merges[Self.key(symbols[p].id, symbols[q].id)], m.id == top.id else { continue }
            symbols[p] = Symbol(id: m.id, start: symbols[p].start, end: symbols[q].end)
            alive[q] = false
            next[p] = next[q]
            if next[q] < n { prev[next[q]] = p }
            if prev[p] >= 0, let left = merges[Self.key(symbols[prev[p]].id, symbols[p].id)] {
                heap.push(Candidate(rank: left.rank, pos: prev[p], id: left.id))
            }
            if next[p] < n, let right = merges[Self.key(symbols[p].id, symbols[next[p]].id)] {
                heap.push(Candidate(rank: right.rank, pos: p, id: right.id))
            }
        }
        var kept: [Symbol] = []
        kept.reserveCapacity(n)
        var i = 0
        while i < n { kept.append(symbols[i]); i = next[i] }
        symbols = kept
    }
}

/// A binary min-heap.
struct MinHeap<Element: Comparable> {
    private var items: [Element] = []

    mutating func push(_ x: Element) {
        items.append(x)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i] < items[parent] else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Element? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        guard !items.isEmpty else { return first }
        items[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count && items[l] < items[m] { m = l }
            if r < items.count && items[r] < items[m] { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return first
    }
}

/// A token produced by a model: its id and the range of the word's scalars it covers.
struct ModelToken: Sendable, Equatable {
    var id: Int
    var range: Range<Int>
}
