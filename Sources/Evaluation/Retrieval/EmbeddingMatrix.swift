/// A `rows × dim` matrix of float embeddings in row-major order (what a `.npy` file holds).
public struct EmbeddingMatrix: Sendable, Equatable {
    public let rows: Int
    public let dim: Int
    public let values: [Float]

    /// Checks the shape; throws on a count mismatch, an empty matrix or a non-finite value.
    public init(rows: Int, dim: Int, values: [Float]) throws(EvaluationError) {
        guard rows > 0, dim > 0 else { throw EvaluationError.empty("embeddings") }
        guard rows * dim == values.count else { throw EvaluationError("\(values.count) values do not form a \(rows)×\(dim) matrix") }
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw EvaluationError("embedding row \(i / dim), column \(i % dim) is \(values[i]); embeddings must be finite")
        }
        self.rows = rows
        self.dim = dim
        self.values = values
    }

    /// Rows scaled to unit length, so that dot products are cosine similarities.
    /// A zero row has no direction and is an error rather than a silent similarity of 0.
    func normalizedRows() throws(EvaluationError) -> [Float] {
        var out = values
        for r in 0..<rows {
            var sum: Double = 0
            for c in 0..<dim { let v = Double(values[r * dim + c]); sum += v * v }
            guard sum > 0 else { throw EvaluationError("embedding row \(r) is all zeros; cosine similarity is undefined for it") }
            let scale = Float(1 / sum.squareRoot())
            for c in 0..<dim { out[r * dim + c] *= scale }
        }
        return out
    }
}

/// Dot products between blocks of rows, the one kernel retrieval needs. A plain SIMD loop over a
/// block of queries against every gallery row keeps each gallery row in cache while the block uses it.
enum BlockedDot {
    /// `out[q * galleryRows + j] = dot(queries[q0 + q], gallery[j])` for `q` in `0..<count`.
    static func similarities(queries: UnsafeBufferPointer<Float>, q0: Int, count: Int, gallery: UnsafeBufferPointer<Float>,
                             galleryRows: Int, dim: Int, into out: UnsafeMutableBufferPointer<Float>) {
        let vectorDim = dim & ~7
        for j in 0..<galleryRows {
            let g = gallery.baseAddress! + j * dim
            for q in 0..<count {
                let a = queries.baseAddress! + (q0 + q) * dim
                var acc = SIMD8<Float>.zero
                var c = 0
                while c < vectorDim {
                    let x = UnsafeRawPointer(a + c).loadUnaligned(as: SIMD8<Float>.self)
                    let y = UnsafeRawPointer(g + c).loadUnaligned(as: SIMD8<Float>.self)
                    acc += x * y
                    c += 8
                }
                var s = acc.sum()
                while c < dim { s += a[c] * g[c]; c += 1 }
                out[q * galleryRows + j] = s
            }
        }
    }
}
