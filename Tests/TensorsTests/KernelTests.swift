import CKernels
import Foundation
import Testing
@testable import Tensors

// The kernels behind every op: GEMM against a Double triple loop and vector math against
// Foundation's Double functions, on every instruction-set path this CPU has.
//
// The suite is serialized because it switches process-wide settings (Kernels.setISA,
// Threading.threadCount); other suites running meanwhile only see another correct path.
@Suite(.serialized) struct KernelTests {
    // MARK: - Helpers

    /// SplitMix64: the same numbers on every run and machine.
    private struct KernelRNG: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    private static func randomArray(_ count: Int, seed: UInt64) -> [Float] {
        var rng = KernelRNG(seed: seed)
        return (0..<count).map { _ in Float.random(in: -1...1, using: &rng) }
    }

    /// The ISA paths this CPU can run, lowest first.
    private static var isaPaths: [String] {
        let saved = Kernels.isa
        defer { Kernels.setISA(saved) }
        var paths: [String] = []
        for name in ["generic", "avx2", "avx512"] where Kernels.setISA(name) == name { paths.append(name) }
        return paths
    }

    /// Runs `body` once per ISA path (and thread count), restoring both settings afterwards.
    private static func forEachPath(threads: [Int] = [1], _ body: (String, Int) throws -> Void) rethrows {
        let savedISA = Kernels.isa, savedThreads = Threading.threadCount
        defer {
            Kernels.setISA(savedISA)
            Threading.threadCount = savedThreads
        }
        for isa in isaPaths {
            Kernels.setISA(isa)
            for t in threads {
                Threading.threadCount = t
                try body(isa, t)
            }
        }
    }

    private struct GEMMCase: CustomStringConvertible {
        var m: Int, n: Int, k: Int
        var ta = false, tb = false
        var pad = 0                 // extra columns in every leading dimension
        var alpha: Float = 1, beta: Float = 0
        var packed = false          // B pre-packed once (PackedMatrix) instead of per call
        var description: String { "\(m)×\(n)×\(k) ta=\(ta) tb=\(tb) pad=\(pad) α=\(alpha) β=\(beta)\(packed ? " packed" : "")" }
    }

    /// Runs one GEMM (or `batch` of them) and compares with a Double reference. Returns the
    /// number of elements outside the bound |err| ≤ (k + 4)·ε·(|α|·Σ|a||b| + |β·c|).
    @discardableResult
    private static func checkGEMM(_ g: GEMMCase, batch: Int = 1, broadcastA: Bool = false, broadcastB: Bool = false,
                                  seed: UInt64 = 1, comment: String = "") -> Int {
        let (m, n, k) = (g.m, g.n, g.k)
        let aRows = g.ta ? k : m, aCols = g.ta ? m : k
        let bRows = g.tb ? n : k, bCols = g.tb ? k : n
        let lda = max(aCols, 1) + g.pad, ldb = max(bCols, 1) + g.pad, ldc = max(n, 1) + g.pad
        let strideA = broadcastA ? 0 : max(aRows * lda, 1) + 5
        let strideB = broadcastB ? 0 : max(bRows * ldb, 1) + 3
        let strideC = m * ldc + 7
        let a = randomArray(max(strideA * (batch - 1), 0) + aRows * lda + 1, seed: seed)
        let b = randomArray(max(strideB * (batch - 1), 0) + bRows * ldb + 1, seed: seed &+ 1)
        let sentinel: Float = 12345
        var c0 = randomArray(strideC * batch, seed: seed &+ 2)
        for bi in 0..<batch {
            for i in 0..<m { for j in n..<ldc { c0[bi * strideC + i * ldc + j] = sentinel } }
            for g in (m * ldc)..<strideC { c0[bi * strideC + g] = sentinel }   // gap after each output
        }
        if g.beta == 0 { for i in c0.indices where c0[i] != sentinel { c0[i] = .nan } }
        var c = c0
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    if g.packed {
                        let packed = PackedMatrix(pb.baseAddress!, k: k, n: n, ld: ldb, transposed: g.tb)
                        packed.multiply(pa.baseAddress!, m: m, lda: lda, transposeA: g.ta, alpha: g.alpha, beta: g.beta,
                                        into: pc.baseAddress!, ldc: ldc)
                    } else if batch == 1 && !broadcastA && !broadcastB {
                        Kernels.sgemm(transposeA: g.ta, transposeB: g.tb, m: m, n: n, k: k, alpha: g.alpha,
                                      a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                                      beta: g.beta, c: pc.baseAddress!, ldc: ldc)
                    } else {
                        Kernels.sgemmBatched(batch: batch, transposeA: g.ta, transposeB: g.tb, m: m, n: n, k: k,
                                             alpha: g.alpha, a: pa.baseAddress!, lda: lda, strideA: strideA,
                                             b: pb.baseAddress!, ldb: ldb, strideB: strideB,
                                             beta: g.beta, c: pc.baseAddress!, ldc: ldc, strideC: strideC)
                    }
                }
            }
        }
        var bad = 0
        let eps = Double(Float.ulpOfOne)
        for bi in 0..<batch {
            for g in (m * ldc)..<strideC where c[bi * strideC + g] != sentinel { bad += 1 }
        }
        for bi in 0..<batch {
            let oa = bi * strideA, ob = bi * strideB, oc = bi * strideC
            for i in 0..<m {
                for j in 0..<ldc {
                    let got = c[oc + i * ldc + j]
                    if j >= n {
                        if got != sentinel { bad += 1 }
                        continue
                    }
                    var s = 0.0, mag = 0.0
                    for p in 0..<k {
                        let x = Double(g.ta ? a[oa + p * lda + i] : a[oa + i * lda + p])
                        let y = Double(g.tb ? b[ob + j * ldb + p] : b[ob + p * ldb + j])
                        s += x * y
                        mag += abs(x * y)
                    }
                    let old = Double(c0[oc + i * ldc + j])
                    let ref = Double(g.alpha) * s + (g.beta == 0 ? 0 : Double(g.beta) * old)
                    let bound = Double(k + 4) * eps * (abs(Double(g.alpha)) * mag + (g.beta == 0 ? 0 : abs(Double(g.beta) * old))) + 1e-30
                    if !(abs(Double(got) - ref) <= bound) { bad += 1 }
                }
            }
        }
        #expect(bad == 0, "\(comment) \(g) batch=\(batch) bcastA=\(broadcastA) bcastB=\(broadcastB): \(bad) bad elements")
        return bad
    }

    // MARK: - GEMM

    @Test func gemmMatchesReferenceOnEveryPathShapeAndTransposition() {
        // Edge sizes around every implementation's tile (MR 4/6/12, NR 8/16/32), primes,
        // matrix-vector shapes, k across a KC block, m across an MC block, n across NC.
        let shapes: [(Int, Int, Int)] = [
            (1, 1, 1), (1, 19, 7), (9, 1, 13), (1, 1, 40), (2, 3, 1),
            (3, 7, 5), (5, 9, 8), (7, 15, 16), (11, 17, 3), (13, 31, 9), (12, 32, 20), (6, 16, 33),
            (4, 8, 2), (25, 33, 17), (37, 41, 43), (61, 67, 71),
            (13, 35, 300), (150, 20, 12), (7, 2100, 9),
        ]
        Self.forEachPath { isa, _ in
            for (m, n, k) in shapes {
                for ta in [false, true] {
                    for tb in [false, true] {
                        Self.checkGEMM(GEMMCase(m: m, n: n, k: k, ta: ta, tb: tb), comment: isa)
                    }
                }
            }
        }
    }

    @Test func prePackedRightOperandMatchesReferenceOnEveryPath() {
        // The same edge shapes as the per-call GEMM, plus k over two and three KC blocks of every
        // implementation (256/384/512) and the inference shapes (a few rows times a weight).
        let shapes: [(Int, Int, Int)] = [
            (1, 1, 1), (1, 19, 7), (9, 1, 13), (2, 3, 1), (7, 15, 16), (13, 31, 9), (12, 32, 20),
            (37, 41, 43), (13, 35, 300), (5, 40, 700), (3, 33, 1100), (10, 1152, 384), (1, 384, 1536),
        ]
        Self.forEachPath(threads: [1, 2]) { isa, t in
            for (m, n, k) in shapes {
                for ta in [false, true] {
                    for tb in [false, true] {
                        Self.checkGEMM(GEMMCase(m: m, n: n, k: k, ta: ta, tb: tb, pad: (m + n) % 3, packed: true), comment: "\(isa) t=\(t)")
                    }
                }
            }
            Self.checkGEMM(GEMMCase(m: 200, n: 90, k: 260, tb: true, alpha: 0.5, beta: 1, packed: true), comment: "\(isa) t=\(t)")
            Self.checkGEMM(GEMMCase(m: 64, n: 1536, k: 384, tb: true, beta: 0, packed: true), comment: "\(isa) t=\(t)")
        }
    }

    @Test func prePackedRightOperandKeepsItsLayoutWhenTheISAIsLowered() {
        // Packed for the best path, multiplied after lowering to generic: it must run the
        // implementation whose layout it holds, not misread the panels.
        let savedISA = Kernels.isa
        defer { Kernels.setISA(savedISA) }
        let (m, n, k) = (9, 70, 530)
        let a = Self.randomArray(m * k, seed: 7), b = Self.randomArray(n * k, seed: 8)
        var expected = [Float](repeating: 0, count: m * n), got = expected
        Kernels.setISA(Self.isaPaths.last!)
        let packed = b.withUnsafeBufferPointer { PackedMatrix($0.baseAddress!, k: k, n: n, ld: k, transposed: true) }
        #expect(packed.byteCount >= n * k * 4)
        Kernels.setISA("generic")
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                expected.withUnsafeMutableBufferPointer { pe in
                    Kernels.sgemm(transposeA: false, transposeB: true, m: m, n: n, k: k, a: pa.baseAddress!, lda: k,
                                  b: pb.baseAddress!, ldb: k, c: pe.baseAddress!, ldc: n)
                }
                got.withUnsafeMutableBufferPointer { pg in packed.multiply(pa.baseAddress!, m: m, lda: k, into: pg.baseAddress!, ldc: n) }
            }
        }
        let worst = zip(expected, got).map { abs($0 - $1) / max(abs($0), 1) }.max()!
        #expect(worst < 1e-4, "packed on \(Self.isaPaths.last!), run after lowering to generic: relative error \(worst)")
    }

    @Test func gemmHonoursAlphaBetaAndLeadingDimensions() {
        let cases: [GEMMCase] = [
            GEMMCase(m: 19, n: 23, k: 29, pad: 3, alpha: 1, beta: 1),
            GEMMCase(m: 19, n: 23, k: 29, ta: true, pad: 5, alpha: -0.5, beta: 2),
            GEMMCase(m: 14, n: 35, k: 6, tb: true, pad: 1, alpha: 2, beta: -1),
            GEMMCase(m: 30, n: 40, k: 270, ta: true, tb: true, pad: 7, alpha: 0.25, beta: 0.5),
            GEMMCase(m: 1, n: 40, k: 17, ta: true, pad: 2, alpha: 3, beta: 1),
            GEMMCase(m: 33, n: 1, k: 17, tb: false, pad: 2, alpha: 3, beta: 0),
            GEMMCase(m: 33, n: 1, k: 17, ta: true, tb: true, pad: 2, alpha: 1, beta: 0.5),
            GEMMCase(m: 26, n: 18, k: 10, pad: 4, alpha: 1, beta: 0), // C full of NaN: must not leak
        ]
        Self.forEachPath { isa, _ in
            for g in cases { Self.checkGEMM(g, comment: isa) }
        }
    }

    @Test func gemmWithNothingToMultiplyOnlyScalesC() {
        Self.forEachPath { isa, _ in
            Self.checkGEMM(GEMMCase(m: 5, n: 7, k: 0, beta: 0), comment: isa)   // zeros, NaN in C ignored
            Self.checkGEMM(GEMMCase(m: 5, n: 7, k: 0, beta: 0.5), comment: isa)
            Self.checkGEMM(GEMMCase(m: 8, n: 3, k: 9, alpha: 0, beta: 2), comment: isa)
            // m = 0 or n = 0 touches nothing.
            var c: [Float] = [42]
            let a: [Float] = [1, 2], b: [Float] = [3, 4]
            Kernels.sgemm(transposeA: false, transposeB: false, m: 0, n: 1, k: 2, a: a, lda: 2, b: b, ldb: 1, c: &c, ldc: 1)
            Kernels.sgemm(transposeA: false, transposeB: false, m: 1, n: 0, k: 2, a: a, lda: 2, b: b, ldb: 1, c: &c, ldc: 1)
            #expect(c == [42])
        }
    }

    @Test func gemmSplitsLargeProductsOverThreadsCorrectly() {
        // Above the parallel threshold (m·n·k ≥ 4·10⁶), in both grid orientations.
        Self.forEachPath(threads: [1, 2]) { isa, t in
            Self.checkGEMM(GEMMCase(m: 200, n: 90, k: 260, alpha: 1, beta: 0), comment: "\(isa) t=\(t)")
            Self.checkGEMM(GEMMCase(m: 40, n: 700, k: 160, ta: true, tb: true, pad: 3, beta: 1), comment: "\(isa) t=\(t)")
        }
    }

    @Test func batchedGEMMMatchesReferenceWithBroadcastOperands() {
        Self.forEachPath(threads: [1, 2]) { isa, t in
            let c = "\(isa) t=\(t)"
            Self.checkGEMM(GEMMCase(m: 13, n: 17, k: 11), batch: 6, comment: c)
            Self.checkGEMM(GEMMCase(m: 13, n: 17, k: 11, ta: true, pad: 2, beta: 1), batch: 5, broadcastA: true, comment: c)
            Self.checkGEMM(GEMMCase(m: 9, n: 33, k: 20, tb: true, alpha: 0.5, beta: 0), batch: 7, broadcastB: true, comment: c)
            Self.checkGEMM(GEMMCase(m: 1, n: 20, k: 20), batch: 3, comment: c)
            // Many small products (split over the batch) and few large ones (each split).
            Self.checkGEMM(GEMMCase(m: 64, n: 64, k: 32), batch: 40, comment: c)
            Self.checkGEMM(GEMMCase(m: 160, n: 120, k: 230, tb: true), batch: 2, comment: c)
        }
    }

    // MARK: - Vector math

    /// Dense sweeps plus the inputs where approximations usually break.
    private static func sweep(_ lo: Float, _ hi: Float, count: Int = 20_000) -> [Float] {
        var xs = (0..<count).map { lo + (hi - lo) * Float($0) / Float(count - 1) }
        xs += [0, -0, Float.leastNormalMagnitude / 1000, -Float.leastNormalMagnitude / 1000, .leastNonzeroMagnitude, 1e-30, -1e-30, 1e-8, -1e-8, 0.5, -0.5, 0.625, -0.625, 1, -1,
               88, 88.7, 88.72, 88.73, 89, -87, -88, -100, -103, -104, -105, 100, -100, 1e30, -1e30,
               .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, -.infinity]
        return xs
    }

    /// Applies `kernel` on each path with every tail length and in place, and returns the worst
    /// error found by `error(x, y)`; NaN inputs must give NaN.
    private static func worstError(_ name: String, _ xs: [Float],
                                   _ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
                                   _ error: (Float, Float) -> Double) -> Double {
        var worst = 0.0
        forEachPath { isa, _ in
            var y = [Float](repeating: 0, count: xs.count)
            kernel(xs, &y, xs.count)
            for (x, v) in zip(xs, y) {
                let e = error(x, v)
                if !(e <= worst) { worst = e.isNaN ? .infinity : e }
            }
            // In place, odd lengths: every tail size of every vector width.
            for len in [1, 3, 5, 7, 9, 15, 17, 31, 33] {
                var z = Array(xs[100..<(100 + len)])
                z.withUnsafeMutableBufferPointer { p in kernel(p.baseAddress!, p.baseAddress!, len) }
                #expect(z == Array(y[100..<(100 + len)]), "\(name) \(isa) in place, length \(len)")
            }
            var nan: [Float] = [.nan, 1, -.nan, 2, .signalingNaN]
            nan.withUnsafeMutableBufferPointer { p in kernel(p.baseAddress!, p.baseAddress!, 5) }
            #expect(nan[0].isNaN && nan[2].isNaN && nan[4].isNaN && !nan[1].isNaN, "\(name) \(isa) NaN")
        }
        return worst
    }

    /// |got - ref| in units of the Float spacing at ref (subnormal spacing below the normals).
    private static func ulps(_ got: Float, _ ref: Double) -> Double {
        if ref.isNaN { return got.isNaN ? 0 : .infinity }
        if ref.isInfinite || abs(ref) > Double(Float.greatestFiniteMagnitude) {
            return Double(got) == (ref > 0 ? Double.infinity : -Double.infinity) || Float(ref) == got ? 0 : .infinity
        }
        let spacing = Double(Float(ref).ulp == 0 ? Float.leastNonzeroMagnitude : Float(ref).ulp)
        return abs(Double(got) - ref) / spacing
    }

    @Test func expIsWithinOneAndAHalfUlp() {
        let worst = Self.worstError("exp", Self.sweep(-110, 90), Kernels.exp) { x, y in Self.ulps(y, Foundation.exp(Double(x))) }
        #expect(worst <= 1.5, "exp: \(worst) ulp")
        var y = [Float](repeating: 1, count: 4)
        Kernels.exp([-.infinity, .infinity, 89, -104.5], &y, count: 4)
        #expect(y == [0, .infinity, .infinity, 0])
    }

    @Test func tanhIsAccurateAndSaturates() {
        let worst = Self.worstError("tanh", Self.sweep(-12, 12), Kernels.tanh) { x, y in Self.ulps(y, Foundation.tanh(Double(x))) }
        #expect(worst <= 2, "tanh: \(worst) ulp")
        var y = [Float](repeating: 0, count: 4)
        Kernels.tanh([.infinity, -.infinity, 20, -1e-30], &y, count: 4)
        #expect(y == [1, -1, 1, -1e-30])
    }

    @Test func erfIsWithinTwoTenMillionths() {
        let worst = Self.worstError("erf", Self.sweep(-6, 6), Kernels.erf) { x, y in
            abs(Double(y) - Foundation.erf(Double(x)))
        }
        #expect(worst <= 2e-7, "erf: max abs error \(worst)")
        var y = [Float](repeating: 0, count: 3)
        Kernels.erf([.infinity, -.infinity, 0], &y, count: 3)
        #expect(y == [1, -1, 0])
    }

    @Test func sigmoidIsAccurateOnBothTails() {
        let worst = Self.worstError("sigmoid", Self.sweep(-105, 30), Kernels.sigmoid) { x, y in
            Self.ulps(y, 1 / (1 + Foundation.exp(-Double(x))))
        }
        #expect(worst <= 3, "sigmoid: \(worst) ulp")
        var y = [Float](repeating: 0.5, count: 2)
        Kernels.sigmoid([.infinity, -.infinity], &y, count: 2)
        #expect(y == [1, 0])
    }

    @Test func geluFormsMatchTheirDefinitions() {
        let xs = Self.sweep(-20, 20)
        let erfWorst = Self.worstError("geluErf", xs, Kernels.geluErf) { x, y in
            if x.isInfinite { return y == (x > 0 ? x : 0) ? 0 : .infinity }
            let d = Double(x)
            let ref = 0.5 * d * Foundation.erfc(-d / 2.0.squareRoot())
            return abs(Double(y) - ref) / max(1, abs(ref))
        }
        let tanhWorst = Self.worstError("geluTanh", xs, Kernels.geluTanh) { x, y in
            if x.isInfinite { return y == (x > 0 ? x : 0) ? 0 : .infinity }
            let d = Double(x)
            let v = (2 / Double.pi).squareRoot() * (d + 0.044715 * d * d * d)
            let ref = d / (1 + Foundation.exp(-2 * v))  // = 0.5·x·(1 + tanh v)
            return abs(Double(y) - ref) / max(1, abs(ref))
        }
        #expect(erfWorst <= 2.5e-7, "geluErf: \(erfWorst)")
        #expect(tanhWorst <= 2.5e-7, "geluTanh: \(tanhWorst)")
    }

    // MARK: - Softmax

    private static func softmax(_ x: [Float], rows: Int, cols: Int, log: Bool = false) -> [Float] {
        var y = [Float](repeating: .nan, count: x.count)
        if log { Kernels.logSoftmaxRows(x, &y, rows: rows, cols: cols) } else { Kernels.softmaxRows(x, &y, rows: rows, cols: cols) }
        return y
    }

    @Test func softmaxMatchesReferenceAndIsStable() {
        Self.forEachPath { isa, _ in
            for cols in [1, 3, 8, 17, 100] {
                let rows = 3
                let x = Self.randomArray(rows * cols, seed: UInt64(cols)).map { $0 * 8 }
                let y = Self.softmax(x, rows: rows, cols: cols), ly = Self.softmax(x, rows: rows, cols: cols, log: true)
                for r in 0..<rows {
                    let row = x[(r * cols)..<((r + 1) * cols)].map(Double.init)
                    let mx = row.max()!
                    let lse = mx + Foundation.log(row.map { Foundation.exp($0 - mx) }.reduce(0, +))
                    for j in 0..<cols {
                        #expect(abs(Double(y[r * cols + j]) - Foundation.exp(row[j] - lse)) <= 3e-7, "\(isa) softmax")
                        #expect(abs(Double(ly[r * cols + j]) - (row[j] - lse)) <= 2e-6, "\(isa) logSoftmax")
                    }
                }
                // Invariant to an offset that is exact in Float (multiples of 1/8 plus 1024).
                let q = x.map { ($0 * 8).rounded() / 8 }
                let shifted = Self.softmax(q.map { $0 + 1024 }, rows: rows, cols: cols)
                let plain = Self.softmax(q, rows: rows, cols: cols)
                #expect(zip(shifted, plain).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(isa) offset")
            }
            // Huge logits: no overflow, no NaN.
            let big = Self.softmax([3e38, -3e38, 3e38, 0], rows: 1, cols: 4)
            #expect(big == [0.5, 0, 0.5, 0], "\(isa) \(big)")
            let (p, q): (Float, Float) = (3e38, 1e38)
            let lbig = Self.softmax([p, q], rows: 1, cols: 2, log: true)
            #expect(lbig[0] == 0 && lbig[1] == q - p, "\(isa) \(lbig)")
        }
    }

    @Test func softmaxHandlesInfinities() {
        Self.forEachPath { isa, _ in
            let ninf = -Float.infinity
            // -Inf entries get exactly 0 (log: -Inf); a row of only -Inf gives zeros (log: -Inf).
            let x: [Float] = [1, ninf, 1, ninf, /* */ ninf, ninf, ninf, ninf]
            #expect(Self.softmax(x, rows: 2, cols: 4) == [0.5, 0, 0.5, 0, 0, 0, 0, 0], "\(isa)")
            let l = Self.softmax(x, rows: 2, cols: 4, log: true)
            #expect(l[0] == -Float(Foundation.log(2.0)) && l[1] == ninf && l[4...].allSatisfy { $0 == ninf }, "\(isa) \(l)")
            // Equal logits: log-softmax is exactly -log n.
            let eq = Self.softmax([Float](repeating: 7.5, count: 10), rows: 1, cols: 10, log: true)
            #expect(eq.allSatisfy { abs($0 + Float(Foundation.log(10.0))) <= 1e-6 }, "\(isa)")
            // NaN anywhere in a row poisons only that row.
            let n = Self.softmax([1, .nan, 2, 3, 4, 5], rows: 2, cols: 3)
            #expect(n[0..<3].allSatisfy(\.isNaN) && !n[3..<6].contains { $0.isNaN }, "\(isa)")
            // In place.
            var z: [Float] = [1, 2, 3, 4, 5, 6, 7]
            z.withUnsafeMutableBufferPointer { Kernels.softmaxRows($0.baseAddress!, $0.baseAddress!, rows: 1, cols: 7) }
            #expect(z == Self.softmax([1, 2, 3, 4, 5, 6, 7], rows: 1, cols: 7), "\(isa)")
        }
    }

    // MARK: - Reductions and BLAS-1

    @Test func allFiniteFindsOneBadValueAnywhere() {
        Self.forEachPath { isa, _ in
            for count in [0, 1, 5, 16, 63, 64, 65, 100, 5000] {
                var x = Self.randomArray(count, seed: 9)
                #expect(Kernels.allFinite(x, count: count), "\(isa) clean \(count)")
                let positions = count <= 100 ? Array(0..<count) : [0, 1, 63, 64, 4095, 4096, 4097, count - 2, count - 1]
                for p in positions {
                    for bad in [Float.nan, .infinity, -.infinity] {
                        let saved = x[p]
                        x[p] = bad
                        #expect(!Kernels.allFinite(x, count: count), "\(isa) \(bad) at \(p) of \(count)")
                        x[p] = saved
                    }
                }
            }
            #expect(Kernels.allFinite([.greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude], count: 3))
        }
    }

    @Test func dotAndAxpyMatchReference() {
        Self.forEachPath { isa, _ in
            for count in [0, 1, 7, 8, 31, 64, 65, 1000] {
                let x = Self.randomArray(count, seed: 3), y = Self.randomArray(count, seed: 4)
                let ref = zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                let mag = zip(x, y).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
                #expect(abs(Double(Kernels.dot(x, y, count: count)) - ref) <= Double(count + 1) * 1.2e-7 * mag, "\(isa) dot \(count)")
                var z = y
                Kernels.axpy(-1.5, x, &z, count: count)
                #expect(zip(z, zip(x, y)).allSatisfy { abs(Double($0) - (Double($1.1) - 1.5 * Double($1.0))) <= 4e-7 }, "\(isa) axpy \(count)")
            }
        }
    }

    // MARK: - Settings

    @Test func isaCanBeLoweredAndRestored() {
        let saved = Kernels.isa
        defer { Kernels.setISA(saved) }
        #expect(Kernels.setISA("generic") == "generic")
        #expect(Kernels.isa == "generic")
        #expect(Kernels.setISA("no-such-isa") == "generic")
        let best = Kernels.setISA("avx512")
        #expect(best == Kernels.detectedISA)
        #if arch(x86_64)
        #expect(["avx2", "avx512"].contains(Kernels.detectedISA), "x86-64 CI machines have AVX2")
        #endif
    }

    @Test func threadCountIsClampedAndParallelForVisitsEveryIndexOnce() {
        let saved = Threading.threadCount
        defer { Threading.threadCount = saved }
        Threading.threadCount = 0
        #expect(Threading.threadCount == 1)
        for t in [1, 2, 3] {
            Threading.threadCount = t
            for count in [0, 1, 2, 5, 1000] {
                let hits = UnsafeMutablePointer<Int32>.allocate(capacity: max(count, 1))
                hits.initialize(repeating: 0, count: max(count, 1))
                defer { hits.deallocate() }
                let address = UInt(bitPattern: hits)
                Threading.parallelFor(count) { i in
                    // Each index owns its slot; a nested loop must run inline without deadlock.
                    let slot = UnsafeMutablePointer<Int32>(bitPattern: address)! + i
                    slot.pointee += 1
                    Threading.parallelFor(2) { _ in }
                }
                #expect((0..<count).allSatisfy { hits[$0] == 1 }, "threads=\(t) count=\(count)")
            }
        }
    }
}
