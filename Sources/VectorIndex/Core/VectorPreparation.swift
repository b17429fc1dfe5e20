import CKernels

/// Checking and normalising vectors on their way into an index or a search.
enum VectorPreparation {
    /// Copies `rows` vectors of `dimension` floats from `source` (contiguous) into `destination`
    /// (rows `stride` floats apart), L2-normalising them under cosine.
    ///
    /// Refuses NaN and ±Inf (they would poison every comparison) and, under cosine, all-zero
    /// vectors (they have no direction). `rowOffset` only shifts the row numbers in errors.
    static func copy(
        _ source: UnsafePointer<Float>, rows: Int, dimension: Int, metric: Metric,
        into destination: UnsafeMutablePointer<Float>, stride: Int, rowOffset: Int = 0
    ) throws(IndexError) {
        for r in 0..<rows {
            let src = source + r * dimension
            let dst = destination + r * stride
            guard ck_all_finite(src, Int64(dimension)) != 0 else {
                throw .invalidVector(row: rowOffset + r, reason: "contains NaN or infinity")
            }
            if metric == .cosine {
                let norm = ck_ix_dot(src, src, Int64(dimension)).squareRoot()
                guard norm > 0, norm.isFinite else {
                    throw .invalidVector(row: rowOffset + r, reason: norm > 0 ? "norm overflows" : "is all zeros (cosine needs a direction)")
                }
                let inv = 1 / norm
                for d in 0..<dimension { dst[d] = src[d] * inv }
            } else {
                dst.update(from: src, count: dimension)
            }
            if stride > dimension { (dst + dimension).update(repeating: 0, count: stride - dimension) }
        }
    }

    /// A query ready for the kernels: checked, and normalised under cosine (a zero query stays
    /// zero, so it scores 0 against everything rather than NaN).
    static func query(_ query: UnsafeBufferPointer<Float>, dimension: Int, metric: Metric) throws(IndexError) -> [Float] {
        guard query.count == dimension else { throw .dimensionMismatch(expected: dimension, got: query.count) }
        guard dimension == 0 || ck_all_finite(query.baseAddress!, Int64(dimension)) != 0 else {
            throw .invalidVector(row: 0, reason: "the query contains NaN or infinity")
        }
        var out = Array(query)
        if metric == .cosine, dimension > 0 {
            let norm = ck_ix_dot(query.baseAddress!, query.baseAddress!, Int64(dimension)).squareRoot()
            if norm > 0, norm.isFinite {
                let inv = 1 / norm
                for d in 0..<dimension { out[d] *= inv }
            }
        }
        return out
    }

    /// Many queries (row-major) prepared like ``query(_:dimension:metric:)``.
    static func queries(_ queries: UnsafeBufferPointer<Float>, dimension: Int, metric: Metric) throws(IndexError) -> [Float] {
        guard dimension > 0 else { throw .invalidArgument("dimension must be positive") }
        guard queries.count % dimension == 0 else { throw .ragged(count: queries.count, dimension: dimension) }
        let n = queries.count / dimension
        var out = Array(queries)
        for q in 0..<n {
            let row = queries.baseAddress! + q * dimension
            guard ck_all_finite(row, Int64(dimension)) != 0 else {
                throw .invalidVector(row: q, reason: "the query contains NaN or infinity")
            }
            if metric == .cosine {
                let norm = ck_ix_dot(row, row, Int64(dimension)).squareRoot()
                if norm > 0, norm.isFinite {
                    let inv = 1 / norm
                    for d in 0..<dimension { out[q * dimension + d] *= inv }
                }
            }
        }
        return out
    }
}
