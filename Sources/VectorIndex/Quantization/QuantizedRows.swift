import CKernels
import Tensors

/// What the quantised indexes share: ids, the optional float vectors kept for rescoring, and the
/// shortlist-then-rescore search.
struct QuantizedRows: Sendable {
    let dimension: Int
    let metric: Metric
    let ids: [UInt64]
    /// Prepared float vectors (normalised under cosine), `count × dimension`, or empty.
    let originals: [Float]

    var count: Int { ids.count }
    var canRescore: Bool { !originals.isEmpty }

    /// The allowed rows of a filter, as a byte mask (nil: all rows).
    func mask(_ filter: SearchFilter?) -> [UInt8]? {
        guard let filter else { return nil }
        return ids.map { filter.allows($0) ? 1 : 0 }
    }

    /// Streams approximate scores (larger is better) of every row, chunk by chunk, through a
    /// top-`shortlist` heap. `fill(start, rows, out)` writes the scores of rows `start ..< start+rows`.
    func shortlist(_ count: Int, mask: [UInt8]?, fill: (Int, Int, UnsafeMutablePointer<Float>) -> Void) -> [(score: Float, id: Int64)] {
        let chunk = 4096
        let heaps = TopKHeaps(rows: 1, k: count)
        let buffer = AlignedBuffer<Float>(count: chunk, zeroed: false)
        (mask ?? []).withUnsafeBufferPointer { mp in
            var start = 0
            while start < ids.count {
                let rows = min(chunk, ids.count - start)
                fill(start, rows, buffer.pointer)
                heaps.offerRows(buffer.pointer, firstRow: 0, blockRows: 1, cols: rows, lds: rows, idBase: start,
                                mask: mask == nil ? nil : mp.baseAddress! + start)
                start += rows
            }
        }
        return TopKHeaps.merge([heaps], row: 0, k: count)
    }

    /// The best `k` of a shortlist, rescored with the float vectors when they are kept (else the
    /// approximate scores, mapped back to the metric's scale by `approximateScore`).
    func finish(_ q: [Float], shortlist: [(score: Float, id: Int64)], k: Int, approximateScore: (Float) -> Float) -> [SearchResult] {
        guard canRescore else {
            return shortlist.prefix(k).map { SearchResult(id: ids[Int($0.id)], score: approximateScore($0.score)) }
        }
        return q.withUnsafeBufferPointer { qp in
            originals.withUnsafeBufferPointer { op in
                var exact = shortlist.map { h -> (score: Float, row: Int) in
                    let x = op.baseAddress! + Int(h.id) * dimension
                    let s = metric == .l2 ? -ck_ix_l2sq(qp.baseAddress!, x, Int64(dimension)) : ck_ix_dot(qp.baseAddress!, x, Int64(dimension))
                    return (s, Int(h.id))
                }
                exact.sort { $0.score > $1.score || ($0.score == $1.score && $0.row < $1.row) }
                return exact.prefix(k).map { SearchResult(id: ids[$0.row], score: metric == .l2 ? -$0.score : $0.score) }
            }
        }
    }

    /// Runs `one` for every query on every thread and packs the results.
    static func batch(queries nq: Int, k: Int, _ one: @Sendable (Int) -> [SearchResult]) -> SearchResults {
        var ids = [UInt64](repeating: SearchResults.missing, count: nq * k)
        var scores = [Float](repeating: .nan, count: nq * k)
        ids.withUnsafeMutableBufferPointer { ip in
            scores.withUnsafeMutableBufferPointer { sp in
                // Each task writes only its own query's row; the arrays outlive the loop.
                let out = Unchecked((ip.baseAddress!, sp.baseAddress!))
                let tasks = (nq + 7) / 8
                Threading.parallelFor(tasks) { t in
                    for q in (t * 8)..<min(nq, t * 8 + 8) {
                        for (j, r) in one(q).enumerated() {
                            out.value.0[q * k + j] = r.id
                            out.value.1[q * k + j] = r.score
                        }
                    }
                }
            }
        }
        return SearchResults(queries: nq, k: k, ids: ids, scores: scores)
    }

    /// Prepares row-major vectors (checked; normalised under cosine).
    static func prepare(_ vectors: [Float], dimension: Int, metric: Metric) throws(IndexError) -> [Float] {
        guard dimension > 0 else { throw .invalidArgument("dimension must be positive") }
        guard vectors.count % dimension == 0 else { throw .ragged(count: vectors.count, dimension: dimension) }
        var out = [Float](repeating: 0, count: vectors.count)
        try vectors.withUnsafeBufferPointer { (src) throws(IndexError) in
            try out.withUnsafeMutableBufferPointer { (dst) throws(IndexError) in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                try VectorPreparation.copy(s, rows: vectors.count / dimension, dimension: dimension, metric: metric, into: d, stride: dimension)
            }
        }
        return out
    }

    static func checkIDs(_ ids: [UInt64]?, count: Int) throws(IndexError) -> [UInt64] {
        let ids = ids ?? (0..<count).map { UInt64($0) }
        guard ids.count == count else { throw .idCountMismatch(vectors: count, ids: ids.count) }
        var seen = Set<UInt64>(minimumCapacity: count)
        for id in ids where !seen.insert(id).inserted { throw .duplicateID(id) }
        return ids
    }
}
