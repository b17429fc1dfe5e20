/// A `rows × dim` matrix of float embeddings in row-major order (what a `.npy` file holds).
public struct EmbeddingMatrix: Sendable, Equatable {
    /// Number of embeddings (rows), at least 1.
    public let rows: Int
    /// Length of each embedding (columns), at least 1.
    public let dim: Int
    /// The `rows × dim` values, row-major, all finite.
    public let values: [Float]

    /// Checks the shape; throws on a count mismatch, an empty matrix or a non-finite value.
    /// - Parameters:
    ///   - rows: Number of embeddings, at least 1.
    ///   - dim: Length of each embedding, at least 1.
    ///   - values: `rows × dim` finite values, row-major.
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
        let qBase = queries.baseAddress! + q0 * dim
        for j in 0..<galleryRows {
            let g = UnsafeRawPointer(gallery.baseAddress! + j * dim)
            var q = 0
            // Four queries per gallery row: each gallery load feeds four accumulators.
            while q + 4 <= count {
                let a0 = UnsafeRawPointer(qBase + q * dim), a1 = a0 + 4 * dim, a2 = a1 + 4 * dim, a3 = a2 + 4 * dim
                var s0 = SIMD8<Float>.zero, s1 = s0, s2 = s0, s3 = s0
                var c = 0
                while c < vectorDim {
                    let y = g.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
                    s0 += a0.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self) * y
                    s1 += a1.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self) * y
                    s2 += a2.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self) * y
                    s3 += a3.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self) * y
                    c += 8
                }
                var r0 = s0.sum(), r1 = s1.sum(), r2 = s2.sum(), r3 = s3.sum()
                while c < dim {
                    let y = g.load(fromByteOffset: 4 * c, as: Float.self)
                    r0 += a0.load(fromByteOffset: 4 * c, as: Float.self) * y
                    r1 += a1.load(fromByteOffset: 4 * c, as: Float.self) * y
                    r2 += a2.load(fromByteOffset: 4 * c, as: Float.self) * y
                    r3 += a3.load(fromByteOffset: 4 * c, as: Float.self) * y
                    c += 1
                }
                out[q * galleryRows + j] = r0
                out[(q + 1) * galleryRows + j] = r1
                out[(q + 2) * galleryRows + j] = r2
                out[(q + 3) * galleryRows + j] = r3
                q += 4
            }
            while q < count {
                let a = UnsafeRawPointer(qBase + q * dim)
                var acc = SIMD8<Float>.zero
                var c = 0
                while c < vectorDim {
                    acc += a.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self) * g.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
                    c += 8
                }
                var r = acc.sum()
                while c < dim { r += a.load(fromByteOffset: 4 * c, as: Float.self) * g.load(fromByteOffset: 4 * c, as: Float.self); c += 1 }
                out[q * galleryRows + j] = r
                q += 1
            }
        }
    }
}
