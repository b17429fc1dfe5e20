import Tensors

extension ParaphraseMining {
    /// The best `limit` pairs at or above a threshold, and how many pairs were at or above it.
    public struct BoundedPairs: Sendable, Equatable {
        /// At most `limit` pairs, sorted by score (highest first), then `a`, then `b`.
        public var pairs: [Pair]
        /// Every pair at or above the threshold, counted (not kept): `pairs` holds all of them
        /// exactly when `total == pairs.count`.
        public var total: Int
    }

    /// The best `limit` pairs with similarity at or above `threshold`, in the order of
    /// ``pairs(_:dimension:threshold:normalize:)`` (which it equals, cut to `limit`), with the
    /// number of all such pairs.
    ///
    /// Unlike the collecting variant, memory is bounded by the request, not by the corpus:
    /// one `tile × tile` score tile and one heap of `limit` pairs per thread, plus the answer.
    /// A threshold of −1 over 10,000 items compares 50 million pairs but keeps only `limit`.
    ///
    /// - Parameters:
    ///   - limit: the most pairs kept (at least 1).
    ///   - band: tiles of rows scanned between two looks at `shouldStop`.
    ///   - shouldStop: asked before every tile; once it answers true, the scan stops and this
    ///     throws `CancellationError` (a request that timed out, or whose client left).
    public static func topPairs(_ vectors: [Float], dimension: Int, threshold: Float, limit: Int, normalize: Bool = true,
                                band: Int = 1, shouldStop: @Sendable () -> Bool = { false }) throws -> BoundedPairs {
        guard threshold.isFinite else { throw IndexError.invalidArgument("threshold must be finite") }
        guard limit >= 1 else { throw IndexError.invalidArgument("limit must be at least 1") }
        let blocks = try SimilarityBlocks(vectors, dimension: dimension, normalize: normalize)
        let pool = ScratchPool { SimilarityBlocks.TileScratch(tile: blocks.tile) }
        let tile = blocks.tile
        let merged = MergedHeap(limit: limit)
        var start = 0
        while start < blocks.tiles {
            if shouldStop() { throw CancellationError() }
            let tilePairs = blocks.tilePairs(band: start..<min(blocks.tiles, start + max(1, band)))
            Threading.parallelFor(tilePairs.count) { t in
                if shouldStop() { return }
                let (i, j) = tilePairs[t]
                pool.with { s in
                    let (m, cols) = blocks.compute(i, j, into: s.scores.pointer)
                    var heap = PairHeap(limit: limit)
                    var count = 0
                    let scores = s.scores.pointer
                    for r in 0..<m {
                        // A diagonal tile holds each pair twice and every row against itself: keep c > r.
                        let first = i == j ? r + 1 : 0
                        guard first < cols else { continue }
                        let row = scores + r * tile
                        for c in first..<cols where row[c] >= threshold {
                            count += 1
                            heap.offer(Pair(a: i * tile + r, b: j * tile + c, score: row[c]))
                        }
                    }
                    merged.add(heap, count: count)
                }
            }
            start += max(1, band)
        }
        if shouldStop() { throw CancellationError() }
        return merged.result()
    }

    /// The `limit` best pairs seen so far (by ``Pair``'s order), in a binary heap whose root is
    /// the worst of them, so that a pair worse than the root is refused in one comparison.
    struct PairHeap: Sendable {
        let limit: Int
        private(set) var items: [Pair] = []

        init(limit: Int) { self.limit = limit }

        /// `x` is worse than `y` (comes after it in the answer).
        @inline(__always) static func worse(_ x: Pair, _ y: Pair) -> Bool { Pair.before(y, x) }

        mutating func offer(_ p: Pair) {
            if items.count < limit {
                items.append(p)
                siftUp(items.count - 1)
            } else if Pair.before(p, items[0]) {
                items[0] = p
                siftDown(0)
            }
        }

        private mutating func siftUp(_ start: Int) {
            var i = start
            while i > 0 {
                let parent = (i - 1) / 2
                guard Self.worse(items[i], items[parent]) else { return }
                items.swapAt(i, parent)
                i = parent
            }
        }

        private mutating func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var worst = i
                if l < items.count, Self.worse(items[l], items[worst]) { worst = l }
                if r < items.count, Self.worse(items[r], items[worst]) { worst = r }
                if worst == i { return }
                items.swapAt(i, worst)
                i = worst
            }
        }

        /// The kept pairs, best first.
        func sorted() -> [Pair] { items.sorted(by: Pair.before) }
    }

    /// The threads' heaps merged under a lock.
    /// `@unchecked Sendable`: every access holds `lock`.
    final class MergedHeap: @unchecked Sendable {
        private let lock = PlainLock()
        private var heap: PairHeap
        private var total = 0

        init(limit: Int) { heap = PairHeap(limit: limit) }

        func add(_ other: PairHeap, count: Int) {
            lock.withLock {
                total += count
                for p in other.items { heap.offer(p) }
            }
        }

        func result() -> BoundedPairs { lock.withLock { BoundedPairs(pairs: heap.sorted(), total: total) } }
    }
}
