import CKernels

/// Brute-force search over int8 codes (``ScalarQuantizer``), then exact float rescoring of a
/// shortlist: a quarter of the memory traffic of ``ExactIndex`` for nearly its recall.
///
/// ```swift
/// let index = try ScalarQuantizedIndex(vectors: x, dimension: 384, metric: .cosine)
/// let hits = try index.search(query, k: 10, rescore: 4)   // 40 candidates rescored
/// ```
/// Build once, search from any number of threads.
public struct ScalarQuantizedIndex: Sendable {
    /// The ranges the codes were made with (needed to encode queries the same way).
    public let quantizer: ScalarQuantizer
    let rows: QuantizedRows
    let codes: [UInt8]

    /// Components per vector.
    public var dimension: Int { rows.dimension }
    /// How closeness is measured (and how the float rescoring scores).
    public var metric: Metric { rows.metric }
    /// Number of vectors.
    public var count: Int { rows.count }
    /// The caller's id of each vector, in row order.
    public var ids: [UInt64] { rows.ids }
    /// True when the float vectors are kept, so that shortlists are rescored exactly.
    public var keepsOriginals: Bool { rows.canRescore }

    /// Quantises row-major `vectors` (normalised first under cosine).
    ///
    /// - Parameters:
    ///   - vectors: `count × dimension` floats, row-major; finite, and not all zeros under cosine.
    ///   - ids: One distinct id per vector, or nil for 0, 1, 2, … (default nil).
    ///   - dimension: Components per vector.
    ///   - metric: How closeness is measured.
    ///   - quantizer: ranges to use; by default calibrated on these vectors.
    ///   - keepOriginals: keep the float vectors for rescoring (the usual choice); without
    ///     them, results carry approximate scores.
    /// - Throws: ``IndexError`` for a ragged or invalid vector, an id problem or a quantiser of another dimension.
    public init(vectors: [Float], ids: [UInt64]? = nil, dimension: Int, metric: Metric, quantizer: ScalarQuantizer? = nil,
                keepOriginals: Bool = true) throws(IndexError) {
        let prepared = try QuantizedRows.prepare(vectors, dimension: dimension, metric: metric)
        let n = prepared.count / dimension
        let ids = try QuantizedRows.checkIDs(ids, count: n)
        let q: ScalarQuantizer
        if let quantizer { q = quantizer } else { q = try ScalarQuantizer.calibrate(prepared.isEmpty ? [Float](repeating: 0, count: dimension) : prepared, dimension: dimension) }
        guard q.dimension == dimension else { throw .dimensionMismatch(expected: dimension, got: q.dimension) }
        self.quantizer = q
        codes = q.encode(prepared)
        rows = QuantizedRows(dimension: dimension, metric: metric, ids: ids, originals: keepOriginals ? prepared : [])
    }

    init(quantizer: ScalarQuantizer, rows: QuantizedRows, codes: [UInt8]) {
        self.quantizer = quantizer
        self.rows = rows
        self.codes = codes
    }

    /// The `k` best matches: the `k·rescore` best by code, rescored with the float vectors.
    public func search(_ query: [Float], k: Int, rescore: Int = 4, filter: SearchFilter? = nil) throws(IndexError) -> [SearchResult] {
        guard k >= 1, rescore >= 1 else { throw .invalidArgument("k and rescore must be at least 1") }
        let q = try query.withUnsafeBufferPointer { (b) throws(IndexError) in try VectorPreparation.query(b, dimension: dimension, metric: metric) }
        return searchPrepared(q, k: k, rescore: rescore, mask: rows.mask(filter))
    }

    /// Many queries (row-major) on every thread.
    public func search(queries: [Float], k: Int, rescore: Int = 4, filter: SearchFilter? = nil) throws(IndexError) -> SearchResults {
        guard k >= 1, rescore >= 1 else { throw .invalidArgument("k and rescore must be at least 1") }
        let q = try queries.withUnsafeBufferPointer { (b) throws(IndexError) in try VectorPreparation.queries(b, dimension: dimension, metric: metric) }
        let mask = rows.mask(filter)
        let dim = dimension
        return QuantizedRows.batch(queries: q.count / dim, k: k) { i in
            searchPrepared(Array(q[(i * dim)..<((i + 1) * dim)]), k: k, rescore: rescore, mask: mask)
        }
    }

    private func searchPrepared(_ q: [Float], k: Int, rescore: Int, mask: [UInt8]?) -> [SearchResult] {
        let dim = dimension
        // Inner products: q·x ≈ q·min + Σ (q∘scale)·code; L2: ‖(q − min) − scale∘code‖².
        let scaled = (0..<dim).map { q[$0] * quantizer.scales[$0] }
        let shifted = (0..<dim).map { q[$0] - quantizer.minimums[$0] }
        let offset = (0..<dim).reduce(Float(0)) { $0 + q[$1] * quantizer.minimums[$1] }
        let isL2 = metric == .l2
        let list = codes.withUnsafeBufferPointer { cp in
            rows.shortlist(min(count, k * rescore), mask: mask) { start, n, out in
                let c = cp.baseAddress! + start * dim
                if isL2 {
                    ck_ix_u8_l2(shifted, quantizer.scales, c, Int64(n), Int64(dim), Int64(dim), out)
                    for j in 0..<n { out[j] = -out[j] }
                } else {
                    ck_ix_u8_dot(scaled, c, Int64(n), Int64(dim), Int64(dim), out)
                    for j in 0..<n { out[j] += offset }
                }
            }
        }
        return rows.finish(q, shortlist: list, k: k) { isL2 ? -$0 : $0 }
    }
}
