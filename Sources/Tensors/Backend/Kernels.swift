import Core
import CKernels

/// CPU kernels: matrix multiply and vectorised elementwise math, implemented in C
/// (`CKernels`) with AVX-512, AVX2 + FMA and portable paths chosen at run time.
///
/// All matrices are row-major `Float`. Pointers must be valid for the extents implied by the
/// shapes and leading dimensions; nothing is checked beyond what the C code needs to stay in
/// bounds of those extents.
public enum Kernels {
    // MARK: - GEMM

    /// `C[m×n] = alpha·op(A)·op(B) + beta·C`, all row-major.
    ///
    /// `op(A)` is m×k: with `transposeA`, A is stored k×m (`lda ≥ m`), else m×k (`lda ≥ k`).
    /// Likewise `op(B)` is k×n: with `transposeB`, B is stored n×k (`ldb ≥ k`), else k×n
    /// (`ldb ≥ n`). `ldc ≥ n`.
    ///
    /// `beta == 0` overwrites C without reading it (NaN already in C does not propagate);
    /// `alpha == 0` or `k == 0` only scales C by `beta` and does not read A or B.
    /// Large products run on ``Threading/threadCount`` threads; products below about 4·10⁶
    /// multiply-adds (128×128×256) run on the calling thread with no dispatch cost.
    /// Safe to call from several threads at once.
    public static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        ensure(m >= 0 && n >= 0 && k >= 0, "sgemm: negative size m=\(m) n=\(n) k=\(k)")
        ensure(lda >= max(1, transposeA ? m : k), "sgemm: lda=\(lda) too small for \(transposeA ? "k×m" : "m×k") A (m=\(m), k=\(k))")
        ensure(ldb >= max(1, transposeB ? k : n), "sgemm: ldb=\(ldb) too small for \(transposeB ? "n×k" : "k×n") B (k=\(k), n=\(n))")
        ensure(ldc >= max(1, n), "sgemm: ldc=\(ldc) smaller than n=\(n)")
        ck_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, Int64(m), Int64(n), Int64(k), alpha,
                 a, Int64(lda), b, Int64(ldb), beta, c, Int64(ldc))
    }

    /// `batch` independent ``sgemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``
    /// calls; matrix `i` of each operand starts at `a + i·strideA`, `b + i·strideB`,
    /// `c + i·strideC`.
    ///
    /// A stride of 0 broadcasts that operand to every product. The outputs must not overlap,
    /// but they may interleave (heads side by side: `strideC = n`, `ldc = heads·n`). Whole
    /// products are spread over the threads when there are at least twice as many as threads
    /// (or each is small); otherwise each product in turn uses every thread.
    public static func sgemmBatched(
        batch: Int, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, strideA: Int, b: UnsafePointer<Float>, ldb: Int, strideB: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int
    ) {
        ensure(batch >= 0 && m >= 0 && n >= 0 && k >= 0, "sgemmBatched: negative size batch=\(batch) m=\(m) n=\(n) k=\(k)")
        ensure(lda >= max(1, transposeA ? m : k) && ldb >= max(1, transposeB ? k : n) && ldc >= max(1, n),
                     "sgemmBatched: leading dimension too small (lda=\(lda) ldb=\(ldb) ldc=\(ldc) for m=\(m) n=\(n) k=\(k))")
        ensure(strideA >= 0 && strideB >= 0 && strideC >= 0, "sgemmBatched: negative stride")
        ck_sgemm_batched(Int64(batch), transposeA ? 1 : 0, transposeB ? 1 : 0, Int64(m), Int64(n), Int64(k), alpha,
                         a, Int64(lda), Int64(strideA), b, Int64(ldb), Int64(strideB),
                         beta, c, Int64(ldc), Int64(strideC))
    }

    // MARK: - Elementwise math (y may alias x)

    /// `y[i] = eˣ⁽ⁱ⁾`. Error ≤ 1.01 ulp (measured); 0 below -104 (subnormal results kept above),
    /// +Inf above 88.72; NaN stays NaN.
    public static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        ck_vexp(x, y, Int64(count))
    }

    /// `y[i] = tanh(x[i])`. Error ≤ 1.5 ulp (measured); ±1 for large |x| and ±Inf.
    public static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        ck_vtanh(x, y, Int64(count))
    }

    /// `y[i] = erf(x[i])`. Absolute error ≤ 1.5·10⁻⁷ (measured); ±1 from |x| ≈ 3.92 on.
    public static func erf(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        ck_verf(x, y, Int64(count))
    }

    /// `y[i] = 1 / (1 + e⁻ˣ⁽ⁱ⁾)`. Error ≤ 2.3 ulp (measured) on both tails (no overflow for large
    /// negative x: tiny results stay accurate, down to subnormals).
    public static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        ck_vsigmoid(x, y, Int64(count))
    }

    /// GELU, erf form: `0.5·x·(1 + erf(x/√2))`, error ≤ 1.7·10⁻⁷·max(1, |y|) (measured).
    /// Computed through erfc for negative x, so the small negative tail keeps its relative
    /// accuracy; -0 below x = -14.
    public static func geluErf(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        ck_vgelu_erf(x, y, Int64(count))
    }

    /// GELU, tanh form: `0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³)))`, computed as `x·sigmoid(2v)`
    /// (the same value without the cancellation of `1 + tanh` for negative x), error
    /// ≤ 1.7·10⁻⁷·max(1, |y|) (measured); -0 below x = -11.
    public static func geluTanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        ck_vgelu_tanh(x, y, Int64(count))
    }

    /// Row-wise softmax of a `rows×cols` contiguous matrix, stable for any offset (the row
    /// maximum is subtracted first).
    ///
    /// Edge cases: a row whose maximum is -Inf (every entry -Inf) gives all zeros (no NaN);
    /// -Inf entries in other rows give exact zeros; a row containing NaN or +Inf gives NaN.
    public static func softmaxRows(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        ck_softmax_rows(x, y, Int64(rows), Int64(cols))
    }

    /// Row-wise log-softmax, `(x - max) - log Σ exp(x - max)`.
    ///
    /// Edge cases: a row whose maximum is -Inf gives all -Inf (the log of softmax's zeros);
    /// -Inf entries give -Inf; a row containing NaN or +Inf gives NaN.
    public static func logSoftmaxRows(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        ck_log_softmax_rows(x, y, Int64(rows), Int64(cols))
    }

    /// True when no element is NaN or ±Inf. Vectorised, and returns early (per 4096 elements)
    /// once a bad value is seen.
    public static func allFinite(_ x: UnsafePointer<Float>, count: Int) -> Bool {
        ck_all_finite(x, Int64(count)) != 0
    }

    /// `Σ x[i]·y[i]`, vectorised with several accumulators (so the summation order differs
    /// from a sequential loop).
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        ck_dot(x, y, Int64(count))
    }

    /// `y[i] += a·x[i]`.
    public static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        ck_axpy(a, x, y, Int64(count))
    }

    // MARK: - Instruction set

    /// The instruction set the kernels use now: `"avx512"`, `"avx2"` or `"generic"`.
    ///
    /// The best the CPU supports, unless lowered by ``setISA(_:)`` or the `SIAMESE_ISA`
    /// environment variable. (`"generic"` is portable C: SSE2 on x86-64, NEON on arm64.)
    public static var isa: String { String(cString: ck_isa_name(ck_active_isa())) }

    /// The best instruction set this CPU supports.
    public static var detectedISA: String { String(cString: ck_isa_name(ck_detected_isa())) }

    /// True when this CPU has the instruction set `name` (`"generic"`, `"avx2"` or `"avx512"`), so
    /// that ``setISA(_:)`` would select it rather than clamp it.
    public static func supports(_ name: String) -> Bool {
        let level = ck_isa_from_name(name)
        return level >= 0 && level <= ck_detected_isa()
    }

    /// Selects the instruction set for every kernel call that starts after it, process-wide.
    ///
    /// - Parameter name: `"generic"`, `"avx2"` or `"avx512"`; a level the CPU lacks is clamped
    ///   to the best it has, and an unknown name changes nothing.
    /// - Returns: the instruction set now in use.
    @discardableResult
    public static func setISA(_ name: String) -> String {
        let level = ck_isa_from_name(name)
        if level >= 0 { ck_set_isa(level) }
        return isa
    }
}
