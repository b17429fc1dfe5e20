/// Matrix products through the packed GEMM kernels, and their gradients (themselves GEMMs with
/// transposed operands, so no transposed copy is ever made).
extension Tensor {
    /// op(a)·op(b), where op transposes the last two axes when asked.
    ///
    /// - 2-D × 2-D: one GEMM.
    /// - (…, m, k) × 2-D: the leading axes fold into m (one GEMM), as a linear layer needs.
    /// - (…, m, k) × (…, k, n): batched over the leading axes, which must be equal, or one side's
    ///   batch must be 1 (it is then shared by every batch element).
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        check(a.rank >= 2 && b.rank >= 2, "matmul", "needs operands of rank ≥ 2, got \(a.shape) and \(b.shape)")
        let m = transposeA ? a.shape[a.rank - 1] : a.shape[a.rank - 2]
        let ka = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
        let kb = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]
        let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
        check(ka == kb, "matmul", "inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let countA = Shape.count(batchA), countB = Shape.count(batchB)
        let lda = a.shape[a.rank - 1], ldb = b.shape[b.rank - 1]

        let out: Tensor
        if b.rank == 2 && !transposeA {
            // Fold a's batch into its rows: one large GEMM instead of many small ones.
            let rows = countA * m
            let c = TensorStorage(dtype: .float32, count: rows * n)
            Kernels.sgemm(transposeA: false, transposeB: transposeB, m: rows, n: n, k: ka,
                          a: a.storage.floats, lda: lda, b: b.storage.floats, ldb: ldb, c: c.floats, ldc: n)
            out = Tensor(shape: batchA + [m, n], storage: c)
        } else {
            check(batchA == batchB || countA == 1 || countB == 1 || b.rank == 2, "matmul",
                  "batch dimensions \(batchA) and \(batchB) differ")
            let batchShape = countA >= countB ? batchA : batchB
            let batch = Swift.max(countA, countB)
            let c = TensorStorage(dtype: .float32, count: batch * m * n)
            Kernels.sgemmBatched(batch: batch, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: ka,
                                 a: a.storage.floats, lda: lda, strideA: countA == 1 ? 0 : m * ka,
                                 b: b.storage.floats, ldb: ldb, strideB: countB == 1 ? 0 : ka * n,
                                 c: c.floats, ldc: n, strideC: m * n)
            out = Tensor(shape: batchShape + [m, n], storage: c)
        }

        return out.recorded("matmul", inputs: [a, b]) { g, needs in
            var da: Tensor?, db: Tensor?
            if needs[0] {
                da = transposeA ? matmul(b, g, transposeA: transposeB, transposeB: true)
                                : matmul(g, b, transposeB: !transposeB)
                da = da!.sumToShape(a.shape)
            }
            if needs[1] {
                if !transposeA && b.rank == 2 {
                    // Folded forward: one GEMM over all rows at once.
                    let a2 = a.reshaped([-1, ka]), g2 = g.reshaped([-1, n])
                    db = transposeB ? matmul(g2, a2, transposeA: true) : matmul(a2, g2, transposeA: true)
                } else if transposeB {
                    db = matmul(g, a, transposeA: true, transposeB: transposeA)
                } else {
                    db = matmul(a, g, transposeA: !transposeA)
                }
                db = db!.sumToShape(b.shape)
            }
            return [da, db]
        }
    }

    /// self · other.
    public func matmul(_ other: Tensor, transposeOther: Bool = false) -> Tensor {
        Self.matmul(self, other, transposeB: transposeOther)
    }
}
