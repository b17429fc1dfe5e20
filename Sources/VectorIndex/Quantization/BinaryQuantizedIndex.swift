import CKernels

/// Brute-force Hamming search over 1-bit codes (``BinaryQuantizer``), then exact float
/// rescoring of a shortlist: 32 times less memory to scan than ``ExactIndex``. Binary codes rank
/// coarsely, so give a larger `rescore` than for int8 (10 is a good start).
/// Build once, search from any number of threads.
public struct BinaryQuantizedIndex: Sendable {
    /// The thresholds the codes were made with (needed to encode queries the same way).
    public let quantizer: BinaryQuantizer
    let rows: QuantizedRows
    let codes: [UInt64]

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

    /// Encodes row-major `vectors` (normalised first under cosine); thresholds default to the
    /// per-dimension medians of these vectors.
    /// - Parameters:
    ///   - vectors: `count × dimension` floats, row-major; finite, and not all zeros under cosine.
    ///   - ids: One distinct id per vector, or nil for 0, 1, 2, … (default nil).
    ///   - dimension: Components per vector.
    ///   - metric: How closeness is measured.
    ///   - quantizer: Thresholds to use, or nil to take the medians of `vectors` (default nil).
    ///   - keepOriginals: Keep the float vectors for exact rescoring (default true); without them,
    ///     results carry approximate scores.
    /// - Throws: ``IndexError`` for a ragged or invalid vector, an id problem or a quantiser of another dimension.
    public init(vectors: [Float], ids: [UInt64]? = nil, dimension: Int, metric: Metric, quantizer: BinaryQuantizer? = nil,
                keepOriginals: Bool = true) throws(IndexError) {
        let prepared = try QuantizedRows.prepare(vectors, dimension: dimension, metric: metric)
        let n = prepared.count / dimension
        let ids = try QuantizedRows.checkIDs(ids, count: n)
        let q: BinaryQuantizer
        if let quantizer { q = quantizer } else if n == 0 { q = try BinaryQuantizer.signs(dimension: dimension) } else { q = try BinaryQuantizer.calibrate(prepared, dimension: dimension) }
        guard q.dimension == dimension else { throw .dimensionMismatch(expected: dimension, got: q.dimension) }
        self.quantizer = q
        codes = q.encode(prepared)
        rows = QuantizedRows(dimension: dimension, metric: metric, ids: ids, originals: keepOriginals ? prepared : [])
    }

    init(quantizer: BinaryQuantizer, rows: QuantizedRows, codes: [UInt64]) {
        self.quantizer = quantizer
        self.rows = rows
        self.codes = codes
    }

    /// The `k` best matches: the `k·rescore` nearest codes by Hamming distance, rescored with the
    /// float vectors (without them, scores are negated Hamming distances).
    public func search(_ query: [Float], k: Int, rescore: Int = 10, filter: SearchFilter? = nil) throws(IndexError) -> [SearchResult] {
        guard k >= 1, rescore >= 1 else { throw .invalidArgument("k and rescore must be at least 1") }
        let q = try query.withUnsafeBufferPointer { (b) throws(IndexError) in try VectorPreparation.query(b, dimension: dimension, metric: metric) }
        return searchPrepared(q, k: k, rescore: rescore, mask: rows.mask(filter))
    }

    /// Many queries (row-major) on every thread.
    public func search(queries: [Float], k: Int, rescore: Int = 10, filter: SearchFilter? = nil) throws(IndexError) -> SearchResults {
        guard k >= 1, rescore >= 1 else { throw .invalidArgument("k and rescore must be at least 1") }
        let q = try queries.withUnsafeBufferPointer { (b) throws(IndexError) in try VectorPreparation.queries(b, dimension: dimension, metric: metric) }
        let mask = rows.mask(filter)
        let dim = dimension
        return QuantizedRows.batch(queries: q.count / dim, k: k) { i in
            searchPrepared(Array(q[(i * dim)..<((i + 1) * dim)]), k: k, rescore: rescore, mask: mask)
        }
    }

    private func searchPrepared(_ q: [Float], k: Int, rescore: Int, mask: [UInt8]?) -> [SearchResult] {
        let code = quantizer.encode(q)
        let words = quantizer.words
        let distances = UnsafeMutablePointer<Int32>.allocate(capacity: 4096)
        defer { distances.deallocate() }
        let list = codes.withUnsafeBufferPointer { cp in
            rows.shortlist(min(count, k * rescore), mask: mask) { start, n, out in
                ck_ix_hamming(code, cp.baseAddress! + start * words, Int64(n), Int64(words), distances)
                for j in 0..<n { out[j] = -Float(distances[j]) }
            }
        }
        return rows.finish(q, shortlist: list, k: k) { $0 }
    }
}
