import Foundation

/// Retrieval metrics averaged over queries, with cosine similarity as the ranking score.
///
/// For each query, items whose label equals the query's are relevant (the query itself is excluded
/// in leave-one-out). With R relevant items and `rank_j` the 1-based rank of the j-th best relevant item:
/// - `precisionAt1`: the top item is relevant.
/// - `hitRateAtK`: some relevant item is in the top k (what metric-learning papers call Recall@K).
/// - `recallAtK`: the fraction of the R relevant items in the top k (the information-retrieval recall).
/// - `rPrecision`: the fraction of the top R that is relevant.
/// - `mapAtR`: MAP@R of Musgrave et al. (2020), (1/R) Σ_{rank_j ≤ R} j / rank_j.
/// - `mrrAtK`: 1 / rank_1 when rank_1 ≤ k, else 0.
/// - `ndcgAtK`: binary-relevance nDCG over the top k.
/// - `meanAveragePrecision`: average precision over the whole ranking.
///
/// Queries with no relevant item (a label that occurs once) have none of these defined; they are
/// skipped and counted in `skippedQueries`. Equal similarities are ordered by gallery index, lowest
/// first, so results do not depend on thread scheduling.
public struct RetrievalMetrics: Sendable, Equatable, Codable {
    /// The cut-off k of the @k metrics.
    public var k: Int
    /// Number of queries evaluated (those with at least one relevant item).
    public var queries: Int
    /// Number of queries skipped because no other item shares their label.
    public var skippedQueries: Int
    /// Share of queries whose top item is relevant.
    public var precisionAt1: Double
    /// Share of queries with a relevant item in the top k (papers' Recall@K).
    public var hitRateAtK: Double
    /// Mean fraction of the relevant items found in the top k.
    public var recallAtK: Double
    /// Mean fraction of the top R that is relevant, R the number of relevant items.
    public var rPrecision: Double
    /// Mean MAP@R (Musgrave et al. 2020).
    public var mapAtR: Double
    /// Mean reciprocal rank of the first relevant item, counted 0 when its rank is above k.
    public var mrrAtK: Double
    /// Mean binary-relevance nDCG over the top k.
    public var ndcgAtK: Double
    /// Mean average precision over the whole ranking.
    public var meanAveragePrecision: Double
}

/// Retrieval evaluation of embeddings by cosine similarity (see ``RetrievalMetrics`` for the metrics).
/// Both functions throw ``EvaluationError`` on a label/row count mismatch, k < 1 or an all-zero row.
public enum Retrieval {
    /// Leave-one-out retrieval: every item queries all the others.
    public static func leaveOneOut<L: Hashable>(_ embeddings: EmbeddingMatrix, labels: [L], k: Int = 10) throws(EvaluationError) -> RetrievalMetrics {
        guard labels.count == embeddings.rows else {
            throw EvaluationError("\(labels.count) labels for \(embeddings.rows) embedding rows")
        }
        guard embeddings.rows >= 2 else { throw EvaluationError("leave-one-out retrieval needs at least two items") }
        let ids = intern(labels, into: nil)
        let x = try embeddings.normalizedRows()
        return try evaluate(queries: x, queryIDs: ids.ids, gallery: x, galleryIDs: ids.ids, dim: embeddings.dim, k: k, excludeSelf: true)
    }

    /// Queries searched against a separate gallery.
    public static func queryGallery<L: Hashable>(queries: EmbeddingMatrix, queryLabels: [L], gallery: EmbeddingMatrix,
                                                 galleryLabels: [L], k: Int = 10) throws(EvaluationError) -> RetrievalMetrics {
        guard queryLabels.count == queries.rows else { throw EvaluationError("\(queryLabels.count) query labels for \(queries.rows) query rows") }
        guard galleryLabels.count == gallery.rows else { throw EvaluationError("\(galleryLabels.count) gallery labels for \(gallery.rows) gallery rows") }
        guard queries.dim == gallery.dim else { throw EvaluationError("queries have dimension \(queries.dim) but the gallery has \(gallery.dim)") }
        let g = intern(galleryLabels, into: nil)
        let q = intern(queryLabels, into: g.lookup)
        return try evaluate(queries: try queries.normalizedRows(), queryIDs: q.ids, gallery: try gallery.normalizedRows(),
                            galleryIDs: g.ids, dim: queries.dim, k: k, excludeSelf: false)
    }

    private static func intern<L: Hashable>(_ labels: [L], into existing: [L: Int]?) -> (ids: [Int], lookup: [L: Int]) {
        var lookup = existing ?? [:]
        var ids = [Int]()
        ids.reserveCapacity(labels.count)
        for l in labels {
            if let k = lookup[l] { ids.append(k) } else { lookup[l] = lookup.count; ids.append(lookup.count - 1) }
        }
        return (ids, lookup)
    }

    /// Per-query sums, in this order: p@1, hit@k, recall@k, R-precision, MAP@R, MRR@k, nDCG@k, AP, evaluated.
    private static let fields = 9

    private final class Results: @unchecked Sendable {
        let values: UnsafeMutableBufferPointer<Double>
        init(count: Int) { values = .allocate(capacity: count); values.initialize(repeating: 0) }
        deinit { values.deallocate() }
    }

    private static func evaluate(queries: [Float], queryIDs: [Int], gallery: [Float], galleryIDs: [Int], dim: Int, k: Int,
                                 excludeSelf: Bool) throws(EvaluationError) -> RetrievalMetrics {
        guard k >= 1 else { throw EvaluationError("k must be at least 1, got \(k)") }
        let nq = queryIDs.count, ng = galleryIDs.count
        let block = 32
        let blocks = (nq + block - 1) / block
        let results = Results(count: nq * fields)
        queries.withUnsafeBufferPointer { qp in
            gallery.withUnsafeBufferPointer { gp in
                let qAddress = UInt(bitPattern: qp.baseAddress), gAddress = UInt(bitPattern: gp.baseAddress)
                let qCount = qp.count, gCount = gp.count
                DispatchQueue.concurrentPerform(iterations: blocks) { b in
                    let qp = UnsafeBufferPointer(start: UnsafePointer<Float>(bitPattern: qAddress), count: qCount)
                    let gp = UnsafeBufferPointer(start: UnsafePointer<Float>(bitPattern: gAddress), count: gCount)
                    let q0 = b * block, count = min(block, nq - q0)
                    let sims = UnsafeMutableBufferPointer<Float>.allocate(capacity: count * ng)
                    defer { sims.deallocate() }
                    BlockedDot.similarities(queries: qp, q0: q0, count: count, gallery: gp, galleryRows: ng, dim: dim, into: sims)
                    var relevant = [(Float, Int)]()
                    var before = [Int]()
                    for q in 0..<count {
                        let row = UnsafeBufferPointer(rebasing: sims[(q * ng)..<((q + 1) * ng)])
                        scoreQuery(row, query: q0 + q, queryID: queryIDs[q0 + q], galleryIDs: galleryIDs, k: k, excludeSelf: excludeSelf,
                                   relevant: &relevant, before: &before,
                                   out: UnsafeMutableBufferPointer(rebasing: results.values[((q0 + q) * fields)..<((q0 + q + 1) * fields)]))
                    }
                }
            }
        }
        var sums = [Double](repeating: 0, count: fields)
        for q in 0..<nq { for f in 0..<fields { sums[f] += results.values[q * fields + f] } }
        let evaluated = Int(sums[8])
        let d = Double(max(evaluated, 1))
        return RetrievalMetrics(k: k, queries: evaluated, skippedQueries: nq - evaluated,
                                precisionAt1: sums[0] / d, hitRateAtK: sums[1] / d, recallAtK: sums[2] / d, rPrecision: sums[3] / d,
                                mapAtR: sums[4] / d, mrrAtK: sums[5] / d, ndcgAtK: sums[6] / d, meanAveragePrecision: sums[7] / d)
    }

    /// Ranks only what the metrics need: the relevant items' ranks, found by counting for each
    /// non-relevant item how many relevant ones it beats (a binary search), O(n log R) per query.
    private static func scoreQuery(_ sims: UnsafeBufferPointer<Float>, query: Int, queryID: Int, galleryIDs: [Int], k: Int, excludeSelf: Bool,
                                   relevant: inout [(Float, Int)], before: inout [Int], out: UnsafeMutableBufferPointer<Double>) {
        relevant.removeAll(keepingCapacity: true)
        for j in 0..<sims.count where galleryIDs[j] == queryID && !(excludeSelf && j == query) {
            relevant.append((sims[j], j))
        }
        let r = relevant.count
        guard r > 0 else { return }
        // Rank order: higher similarity first, then lower index.
        relevant.sort { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        before.removeAll(keepingCapacity: true)
        before.append(contentsOf: repeatElement(0, count: r + 1))
        for j in 0..<sims.count where galleryIDs[j] != queryID && !(excludeSelf && j == query) {
            let s = sims[j]
            // Number of relevant items ranked ahead of item j.
            var lo = 0, hi = r
            while lo < hi {
                let mid = (lo + hi) >> 1
                let (rs, ri) = relevant[mid]
                if rs > s || (rs == s && ri < j) { lo = mid + 1 } else { hi = mid }
            }
            before[lo] += 1
        }
        var nonRelevantAhead = 0
        var p1 = 0.0, hit = 0.0, recall = 0.0, rPrecision = 0.0, mapR = 0.0, mrr = 0.0, dcg = 0.0, ap = 0.0
        for j in 0..<r {
            nonRelevantAhead += before[j]
            let rank = j + 1 + nonRelevantAhead
            let precision = Double(j + 1) / Double(rank)
            if j == 0 {
                if rank == 1 { p1 = 1 }
                if rank <= k { hit = 1; mrr = 1 / Double(rank) }
            }
            if rank <= k { recall += 1; dcg += 1 / log2(Double(rank) + 1) }
            if rank <= r { rPrecision += 1; mapR += precision }
            ap += precision
        }
        var idealDCG = 0.0
        for i in 1...min(r, k) { idealDCG += 1 / log2(Double(i) + 1) }
        out[0] = p1; out[1] = hit; out[2] = recall / Double(r); out[3] = rPrecision / Double(r)
        out[4] = mapR / Double(r); out[5] = mrr; out[6] = dcg / idealDCG; out[7] = ap / Double(r); out[8] = 1
    }
}
