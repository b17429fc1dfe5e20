import CKernels
import Tensors

/// The search algorithms behind ``ExactIndex``, on raw rows.
struct ExactSearch {
    let storage: ExactStorage

    /// Rows per database tile of a batched search: one GEMM tile of `queries × tileRows` scores,
    /// sized so the tile stays in the last-level cache while the top-k scan reads it back.
    static let tileRows = 1024
    /// Queries per pass of a batched search (more queries run as further passes).
    static let queryBlock = 1024
    /// Rows per task of a single-query scan.
    static let scanRows = 8192

    var dimension: Int { storage.dimension }
    var metric: Metric { storage.metric }

    // MARK: - Filters

    /// The rows a filter allows: a short list when few pass (search those rows alone), else a
    /// byte mask for the scans. Predicates run on every thread (they are `@Sendable`).
    private func resolve(_ filter: SearchFilter) -> (rows: [Int]?, mask: [UInt8]?) {
        let n = storage.count
        if let explicit = filter.explicitCount, explicit * 16 < n, case .ids(let set) = filter.kind {
            return (set.compactMap { storage.rowOfID[$0] }.sorted(), nil)
        }
        var mask = [UInt8](repeating: 0, count: n)
        let ids = storage.ids
        let chunk = 16384
        mask.withUnsafeMutableBufferPointer { m in
            let out = Unchecked(m.baseAddress!)  // tasks write disjoint ranges; the loop ends before `mask` moves
            Threading.parallelFor((n + chunk - 1) / chunk) { c in
                for r in (c * chunk)..<min(n, (c + 1) * chunk) { out.value[r] = filter.allows(ids[r]) ? 1 : 0 }
            }
        }
        let allowed = mask.reduce(0) { $0 + Int($1) }
        if allowed * 16 < n { return ((0..<n).filter { mask[$0] != 0 }, nil) }
        return (nil, mask)
    }

    // MARK: - One query

    func searchOne(_ q: [Float], k: Int, filter: SearchFilter?) -> [SearchResult] {
        let n = storage.count
        guard n > 0 else { return [] }
        var rows: [Int]? = nil
        var mask: [UInt8]? = nil
        if let filter { (rows, mask) = resolve(filter) }
        var hits: [(score: Float, id: Int64)]
        if let rows {
            // Few allowed rows: score just those.
            var scored: [(score: Float, id: Int64)] = []
            scored.reserveCapacity(rows.count)
            q.withUnsafeBufferPointer { qp in
                for r in rows { scored.append((score(qp.baseAddress!, row: r), Int64(r))) }
            }
            scored.sort { $0.score > $1.score || ($0.score == $1.score && $0.id < $1.id) }
            hits = Array(scored.prefix(k))
        } else {
            hits = scan(q, k: k, mask: mask)
        }
        return finish(q, hits: hits, k: k, rowMap: nil)
    }

    /// Streams every row through `ck_ix_scores` and the top-k heaps; large indexes split the rows
    /// across threads and merge the partial heaps.
    private func scan(_ q: [Float], k: Int, mask: [UInt8]?) -> [(score: Float, id: Int64)] {
        let n = storage.count, dim = dimension
        let tasks = (n + Self.scanRows - 1) / Self.scanRows
        final class Scratch {
            let scores = AlignedBuffer<Float>(count: ExactSearch.scanRows, zeroed: false)
            let heaps: TopKHeaps
            init(k: Int) { heaps = TopKHeaps(rows: 1, k: k) }
        }
        let pool = ScratchPool { Scratch(k: k) }
        let kernelMetric = metric.kernel
        // Read-only for the tasks; the storage outlives the loop.
        let base = Unchecked(UnsafePointer(storage.vectors))
        q.withUnsafeBufferPointer { qp in
            let query = Unchecked(qp.baseAddress!)
            (mask ?? []).withUnsafeBufferPointer { mp in
                let m = Unchecked(mask == nil ? nil : mp.baseAddress)
                let work: @Sendable (Int) -> Void = { t in
                    let start = t * Self.scanRows, rows = min(Self.scanRows, n - start)
                    pool.with { s in
                        ck_ix_scores(kernelMetric, query.value, base.value + start * dim, Int64(rows), Int64(dim), Int64(dim), s.scores.pointer)
                        s.heaps.offerRows(s.scores.pointer, firstRow: 0, blockRows: 1, cols: rows, lds: rows, idBase: start,
                                          mask: m.value.map { $0 + start })
                    }
                }
                if tasks >= 4 { Threading.parallelFor(tasks, work) } else { for t in 0..<tasks { work(t) } }
            }
        }
        return TopKHeaps.merge(pool.all.map(\.heaps), row: 0, k: k)
    }

    /// A score computed the same way for every path (single, batched, filtered), so that results
    /// agree exactly whichever path found them.
    @inline(__always)
    private func score(_ q: UnsafePointer<Float>, row: Int) -> Float {
        let x = storage.vectors + row * dimension
        return metric == .l2 ? -ck_ix_l2sq(q, x, Int64(dimension)) : ck_ix_dot(q, x, Int64(dimension))
    }

    /// Recomputes the kept hits' scores exactly, orders them, and maps rows to ids.
    private func finish(_ q: [Float], hits: [(score: Float, id: Int64)], k: Int, rowMap: [Int]?) -> [SearchResult] {
        q.withUnsafeBufferPointer { qp in
            var exact = hits.map { h -> (score: Float, row: Int) in
                let row = rowMap.map { $0[Int(h.id)] } ?? Int(h.id)
                return (score(qp.baseAddress!, row: row), row)
            }
            exact.sort { $0.score > $1.score || ($0.score == $1.score && $0.row < $1.row) }
            return exact.prefix(k).map { SearchResult(id: storage.ids[$0.row], score: metric == .l2 ? -$0.score : $0.score) }
        }
    }

    // MARK: - Many queries

    func searchBatch(_ q: [Float], k: Int, filter: SearchFilter?) -> SearchResults {
        let dim = dimension
        let nq = q.count / dim
        var ids = [UInt64](repeating: SearchResults.missing, count: nq * k)
        var scores = [Float](repeating: .nan, count: nq * k)
        let n = storage.count
        guard n > 0, nq > 0 else { return SearchResults(queries: nq, k: k, ids: ids, scores: scores) }
        var rows: [Int]? = nil
        var mask: [UInt8]? = nil
        if let filter { (rows, mask) = resolve(filter) }

        // The rows searched: all of them in place, or a gathered copy of the few a filter allows.
        var gathered: AlignedBuffer<Float>? = nil
        var gatheredBias: [Float] = []
        if let rows {
            let g = AlignedBuffer<Float>(count: max(1, rows.count) * dim, zeroed: false)
            for (j, r) in rows.enumerated() { (g.pointer + j * dim).update(from: storage.vectors + r * dim, count: dim) }
            gathered = g
            if metric == .l2 { gatheredBias = rows.map { storage.negatedSquaredNorms[$0] } }
        }
        let baseRows = rows?.count ?? n
        if baseRows == 0 { return SearchResults(queries: nq, k: k, ids: ids, scores: scores) }
        let base = UnsafePointer(gathered?.pointer ?? storage.vectors)
        let bias: [Float] = metric == .l2 ? (rows == nil ? storage.negatedSquaredNorms : gatheredBias) : []

        q.withUnsafeBufferPointer { qp in
            bias.withUnsafeBufferPointer { bp in
                (mask ?? []).withUnsafeBufferPointer { mp in
                    var q0 = 0
                    while q0 < nq {
                        let qb = min(Self.queryBlock, nq - q0)
                        let partial = Self.blocked(queries: qp.baseAddress! + q0 * dim, count: qb, base: base, rows: baseRows, dimension: dim,
                                                   metric: metric, bias: metric == .l2 ? bp.baseAddress : nil,
                                                   mask: mask == nil ? nil : mp.baseAddress, k: k)
                        for j in 0..<qb {
                            let hits = TopKHeaps.merge(partial, row: j, k: k)
                            let query = Array(UnsafeBufferPointer(start: qp.baseAddress! + (q0 + j) * dim, count: dim))
                            let results = finish(query, hits: hits, k: k, rowMap: rows)
                            for (i, r) in results.enumerated() {
                                ids[(q0 + j) * k + i] = r.id
                                scores[(q0 + j) * k + i] = r.score
                            }
                        }
                        q0 += qb
                    }
                }
            }
        }
        withExtendedLifetime(gathered) {}
        return SearchResults(queries: nq, k: k, ids: ids, scores: scores)
    }

    /// Scores `count` queries against `rows` rows tile by tile (GEMM, then the SIMD top-k scan),
    /// tiles spread over the threads. Returns the partial heaps (one set per scratch used);
    /// `TopKHeaps.merge` gives each query's best `k` (ids are row numbers of `base`).
    static func blocked(queries: UnsafePointer<Float>, count nq: Int, base: UnsafePointer<Float>, rows n: Int, dimension dim: Int,
                        metric: Metric, bias: UnsafePointer<Float>?, mask: UnsafePointer<UInt8>?, k: Int) -> [TopKHeaps] {
        final class Scratch {
            let scores: AlignedBuffer<Float>
            let heaps: TopKHeaps
            init(queries: Int, k: Int) {
                scores = AlignedBuffer(count: queries * ExactSearch.tileRows, zeroed: false)
                heaps = TopKHeaps(rows: queries, k: k)
            }
        }
        let pool = ScratchPool { Scratch(queries: nq, k: k) }
        let tiles = (n + tileRows - 1) / tileRows
        let alpha: Float = metric == .l2 ? 2 : 1
        // All pointers are read-only for the tasks (each task writes only its own scratch), and
        // the caller keeps them alive until this function returns.
        let shared = Unchecked((queries, base, bias, mask))
        Threading.parallelFor(tiles) { t in
            let (queries, base, bias, mask) = shared.value
            let start = t * tileRows, cols = min(tileRows, n - start)
            pool.with { s in
                Kernels.sgemm(transposeA: false, transposeB: true, m: nq, n: cols, k: dim, alpha: alpha,
                              a: queries, lda: dim, b: base + start * dim, ldb: dim, c: s.scores.pointer, ldc: cols)
                s.heaps.offerRows(s.scores.pointer, firstRow: 0, blockRows: nq, cols: cols, lds: cols, idBase: start,
                                  bias: bias.map { $0 + start }, mask: mask.map { $0 + start })
            }
        }
        return pool.all.map(\.heaps)
    }
}
