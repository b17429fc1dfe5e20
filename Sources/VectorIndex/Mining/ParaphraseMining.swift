import CKernels
import Tensors

/// Duplicate and paraphrase mining over a corpus of embeddings: every pair of items is compared
/// (exactly), in tiles, on every thread.
///
/// Two questions, as sentence-transformers asks them:
/// - ``topK(_:dimension:k:maxPairs:normalize:)``: each item's `k` most similar others, as
///   deduplicated pairs sorted by score (`paraphrase_mining`);
/// - ``pairs(_:dimension:threshold:normalize:band:_:)``: every pair at or above a threshold
///   (near-duplicate detection), streamed.
///
/// Memory stays bounded for corpora of a million items: one `tile × tile` score tile per
/// thread, plus the answer itself (`n·k` candidates, or the pairs of one band of rows at a time).
public enum ParaphraseMining {
    /// Two items (row numbers, `a < b`) and their similarity.
    public struct Pair: Sendable, Hashable, Codable, CustomStringConvertible {
        /// Row number of the first item (the smaller of the two).
        public var a: Int
        /// Row number of the second item (the larger of the two).
        public var b: Int
        /// Their similarity (cosine when the rows were normalised, else the inner product).
        public var score: Float

        /// Creates a pair.
        /// - Parameters:
        ///   - a: Row number of the first item (`a < b` by convention).
        ///   - b: Row number of the second item.
        ///   - score: Their similarity.
        public init(a: Int, b: Int, score: Float) {
            self.a = a
            self.b = b
            self.score = score
        }

        /// `"(a, b): score"`.
        public var description: String { "(\(a), \(b)): \(score)" }

        /// Highest score first, then by `a`, then by `b`: a total order, so output never depends on threads.
        static func before(_ x: Pair, _ y: Pair) -> Bool {
            x.score > y.score || (x.score == y.score && (x.a < y.a || (x.a == y.a && x.b < y.b)))
        }
    }

    /// Each item's `k` most similar other items, merged into unique pairs, best first, at most
    /// `maxPairs` of them (sentence-transformers' `paraphrase_mining_embeddings`).
    ///
    /// Each pair's similarity is computed once (the upper triangle of the product), then offered
    /// to both items' lists. Memory: the `n·k` candidate lists plus one tile per thread.
    ///
    /// - Parameter progress: called with the fraction of tiles done, from the worker threads.
    public static func topK(_ vectors: [Float], dimension: Int, k: Int = 100, maxPairs: Int = 500_000,
                            normalize: Bool = true, progress: (@Sendable (Double) -> Void)? = nil) throws(IndexError) -> [Pair] {
        guard k >= 1, maxPairs >= 1 else { throw .invalidArgument("k and maxPairs must be at least 1") }
        let blocks = try SimilarityBlocks(vectors, dimension: dimension, normalize: normalize)
        let n = blocks.count
        guard n >= 2 else { return [] }
        let kk = min(k, n - 1)
        let heaps = TopKHeaps(rows: n, k: kk)
        let locks = (0..<blocks.tiles).map { _ in PlainLock() }
        let pool = ScratchPool { SimilarityBlocks.TileScratch(tile: blocks.tile) }
        let pairs = blocks.tilePairs(band: 0..<blocks.tiles)
        let tile = blocks.tile
        let done = ProgressCounter(total: pairs.count, report: progress)
        Threading.parallelFor(pairs.count) { t in
            defer { done.increment() }
            let (i, j) = pairs[t]
            pool.with { s in
                let (m, cols) = blocks.compute(i, j, into: s.scores.pointer)
                if i == j {
                    // A row is not its own paraphrase.
                    for r in 0..<m { s.scores.pointer[r * tile + r] = -.infinity }
                }
                locks[i].withLock {
                    heaps.offerRows(s.scores.pointer, firstRow: i * tile, blockRows: m, cols: cols, lds: tile, idBase: j * tile)
                }
                if i != j {
                    locks[j].withLock {
                        heaps.offerColumns(s.scores.pointer, blockRows: m, cols: cols, lds: tile, firstRow: j * tile, idBase: i * tile)
                    }
                }
            }
        }
        // Unique pairs from both directions; the score is the same from either side (computed once).
        var seen = Set<UInt64>(minimumCapacity: n * kk)
        var out: [Pair] = []
        out.reserveCapacity(n * kk)
        for r in 0..<n {
            for e in 0..<Int(heaps.sizes.pointer[r]) {
                let other = Int(heaps.ids.pointer[r * kk + e])
                let score = heaps.scores.pointer[r * kk + e]
                guard score > -.infinity else { continue }
                let a = min(r, other), b = max(r, other)
                if seen.insert(UInt64(a) << 32 | UInt64(b)).inserted { out.append(Pair(a: a, b: b, score: score)) }
            }
        }
        out.sort(by: Pair.before)
        if out.count > maxPairs { out.removeSubrange(maxPairs...) }
        return out
    }

    /// Every pair with similarity at or above `threshold`, handed to `body` one band of rows at
    /// a time (each band's pairs sorted by ``Pair``'s order: score, then a, then b), on the
    /// calling thread. Memory: one tile per thread plus one band's pairs.
    ///
    /// - Parameter band: tiles of rows per band (1,024 rows per tile).
    public static func pairs(_ vectors: [Float], dimension: Int, threshold: Float, normalize: Bool = true, band: Int = 8,
                             progress: (@Sendable (Double) -> Void)? = nil, _ body: ([Pair]) throws -> Void) throws {
        guard threshold.isFinite else { throw IndexError.invalidArgument("threshold must be finite") }
        let blocks = try SimilarityBlocks(vectors, dimension: dimension, normalize: normalize)
        try SimilarityScan.above(blocks, threshold: threshold, band: max(1, band), progress: progress) { found in
            var pairs = found.map { Pair(a: $0.a, b: $0.b, score: $0.score) }
            pairs.sort(by: Pair.before)
            try body(pairs)
        }
    }

    /// Every pair with similarity at or above `threshold`, sorted (score, then a, then b).
    public static func pairs(_ vectors: [Float], dimension: Int, threshold: Float, normalize: Bool = true,
                             progress: (@Sendable (Double) -> Void)? = nil) throws(IndexError) -> [Pair] {
        var all: [Pair] = []
        do {
            try pairs(vectors, dimension: dimension, threshold: threshold, normalize: normalize, progress: progress) { all.append(contentsOf: $0) }
        } catch let e as IndexError {
            throw e
        } catch {
            throw .invalidArgument("\(error)")
        }
        all.sort(by: Pair.before)
        return all
    }
}

/// Threshold scans over the tiles, band by band.
enum SimilarityScan {
    struct Found: Sendable {
        var a: Int
        var b: Int
        var score: Float
    }

    /// Calls `body` with every pair (a < b) at or above `threshold`, one band of row tiles at a time.
    static func above(_ blocks: SimilarityBlocks, threshold: Float, band: Int, progress: (@Sendable (Double) -> Void)? = nil,
                      _ body: ([Found]) throws -> Void) rethrows {
        let pool = ScratchPool { SimilarityBlocks.TileScratch(tile: blocks.tile) }
        let tile = blocks.tile
        let done = ProgressCounter(total: blocks.tiles * (blocks.tiles + 1) / 2, report: progress)
        var start = 0
        while start < blocks.tiles {
            let pairs = blocks.tilePairs(band: start..<min(blocks.tiles, start + band))
            let lock = PlainLock()
            let collected = Collected()
            Threading.parallelFor(pairs.count) { t in
                defer { done.increment() }
                let (i, j) = pairs[t]
                pool.with { s in
                    let (m, cols) = blocks.compute(i, j, into: s.scores.pointer)
                    var capacity = 1024
                    while true {
                        var a = [Int64](repeating: 0, count: capacity), b = a
                        var sc = [Float](repeating: 0, count: capacity)
                        let n = Int(ck_ix_pairs_above(s.scores.pointer, Int64(m), Int64(cols), Int64(tile), threshold,
                                                      Int64(i * tile), Int64(j * tile), i == j ? 1 : 0, &a, &b, &sc, Int64(capacity)))
                        if n > capacity {
                            capacity = n
                            continue
                        }
                        if n > 0 {
                            let found = (0..<n).map { Found(a: Int(a[$0]), b: Int(b[$0]), score: sc[$0]) }
                            lock.withLock { collected.items.append(contentsOf: found) }
                        }
                        break
                    }
                }
            }
            try body(collected.items)
            start += band
        }
    }

    /// `@unchecked Sendable`: appended to only under the scan's lock; read after the loop.
    final class Collected: @unchecked Sendable {
        var items: [Found] = []
    }
}

/// Counts finished units of parallel work and reports the fraction done to an optional callback.
/// `@unchecked Sendable`: the count is guarded by the lock.
final class ProgressCounter: @unchecked Sendable {
    private let lock = PlainLock()
    private var done = 0
    private let total: Int
    private let report: (@Sendable (Double) -> Void)?

    init(total: Int, report: (@Sendable (Double) -> Void)?) {
        self.total = max(1, total)
        self.report = report
    }

    func increment() {
        guard let report else { return }
        let fraction = lock.withLock { () -> Double in
            done += 1
            return Double(done) / Double(total)
        }
        report(fraction)
    }
}
