import Core
import CKernels

/// The right-hand operand of a matrix product, packed once into the GEMM micro-kernel's panels.
///
/// ``Kernels/sgemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` packs B on every
/// call; for a weight matrix multiplied by a few rows (a transformer layer on one short
/// sentence) that packing costs more than the arithmetic. A `PackedMatrix` pays it once. It
/// keeps the layout of the implementation in use when it was made (``Kernels/isa``) and runs
/// that implementation, so lowering the instruction set afterwards does not break it.
/// Immutable, so it may be shared between threads.
public final class PackedMatrix: @unchecked Sendable {
    /// Rows of op(B): the inner dimension of the product.
    public let k: Int
    /// Columns of op(B): the width of the product.
    public let n: Int
    private let packed: OpaquePointer

    /// Packs `op(B)`, k×n: with `transposed`, B is stored n×k (`ld ≥ k`; a weight `W[out, in]`
    /// used as `x·Wᵀ`), else k×n (`ld ≥ n`).
    /// - Parameters:
    ///   - b: The matrix B, read once during packing (it need not outlive the initialiser).
    ///   - k: Rows of op(B), at least 1.
    ///   - n: Columns of op(B), at least 1.
    ///   - ld: Leading dimension (row stride) of B as stored, in elements.
    ///   - transposed: B is stored n×k and used transposed.
    public init(_ b: UnsafePointer<Float>, k: Int, n: Int, ld: Int, transposed: Bool) {
        ensure(k > 0 && n > 0, "PackedMatrix: empty matrix k=\(k) n=\(n)")
        ensure(ld >= (transposed ? k : n), "PackedMatrix: ld=\(ld) too small for \(transposed ? "n×k" : "k×n") B (k=\(k), n=\(n))")
        guard let p = ck_sgemm_pack_b(transposed ? 1 : 0, Int64(k), Int64(n), b, Int64(ld)) else {
            fatalError("PackedMatrix: out of memory packing a \(k)×\(n) matrix")
        }
        self.k = k
        self.n = n
        packed = p
    }

    deinit { ck_sgemm_packed_b_free(packed) }

    /// Bytes the packed panels take (n rounded up to the panel width, times k).
    public var byteCount: Int { Int(ck_sgemm_packed_b_bytes(packed)) }

    /// `C[m×n] = alpha·op(A)·B + beta·C`, with `op(A)` m×k as in ``Kernels/sgemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``.
    public func multiply(_ a: UnsafePointer<Float>, m: Int, lda: Int, transposeA: Bool = false, alpha: Float = 1,
                         beta: Float = 0, into c: UnsafeMutablePointer<Float>, ldc: Int) {
        ensure(m >= 0, "PackedMatrix.multiply: negative m=\(m)")
        ensure(lda >= max(1, transposeA ? m : k), "PackedMatrix.multiply: lda=\(lda) too small (m=\(m), k=\(k))")
        ensure(ldc >= n, "PackedMatrix.multiply: ldc=\(ldc) smaller than n=\(n)")
        ck_sgemm_with_packed_b(transposeA ? 1 : 0, Int64(m), alpha, a, Int64(lda), packed, beta, c, Int64(ldc))
    }
}
