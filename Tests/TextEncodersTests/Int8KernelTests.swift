import Foundation
import Tensors
import Testing
@testable import TextEncoders

/// The int8 GEMM against an exact emulation of its arithmetic, for every instruction set this
/// CPU has (the portable kernel everywhere).
@Suite(.serialized) struct Int8KernelTests {
    /// What the kernels compute, in plain Swift: the same quantisation, exact integer sums.
    static func reference(_ x: [Float], rows m: Int, _ w: [Float], outputs n: Int, depth k: Int, bias: [Float], layout: Int32) -> [Float] {
        var wq = [Int32](repeating: 0, count: n * k), ws = [Float](repeating: 0, count: n)
        for j in 0..<n {
            let mx = (0..<k).map { abs(w[j * k + $0]) }.max() ?? 0
            let s = mx > 0 ? mx / 127 : 1
            ws[j] = mx > 0 ? s : 0
            for p in 0..<k { wq[j * k + p] = Int32(max(-127, min(127, (w[j * k + p] / s).rounded(.toNearestOrEven)))) }
        }
        var y = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            let row = Array(x[(i * k)..<((i + 1) * k)])
            var q = [Int32](repeating: 0, count: k), sa: Float = 0, za: Int32 = 0
            if layout == 0 {
                let levels = Float(min(8191, Int(Int32.max) / (127 * ((k + 1) / 2 * 2))))
                let mx = row.map(abs).max() ?? 0
                sa = mx / levels
                if sa > 0 { let inv = 1 / sa; q = row.map { Int32(max(-levels, min(levels, ($0 * inv).rounded(.toNearestOrEven)))) } }
            } else {
                let lo = min(row.min() ?? 0, 0), hi = max(row.max() ?? 0, 0)
                sa = (hi - lo) / 255
                if sa > 0 {
                    let inv = 1 / sa
                    za = Int32(max(0, min(255, (-lo * inv).rounded(.toNearestOrEven))))
                    q = row.map { Int32(max(0, min(255, Int32(($0 * inv).rounded(.toNearestOrEven)) + za))) }
                }
            }
            for j in 0..<n {
                var acc: Int32 = 0
                for p in 0..<k { acc += q[p] * wq[j * k + p] }
                let bsum = (0..<k).reduce(Int32(0)) { $0 + wq[j * k + $1] }
                y[i * n + j] = Float(acc - za * bsum) * (sa * ws[j]) + bias[j]
            }
        }
        return y
    }

    // One test per instruction set, so that a CPU without one reports it skipped, not passed.
    @Test func matchesExactEmulationGeneric() throws { try matchesExactEmulation(isa: "generic") }

    @Test(.enabled(if: Kernels.supports("avx2"), "this CPU lacks AVX2"))
    func matchesExactEmulationAVX2() throws { try matchesExactEmulation(isa: "avx2") }

    @Test(.enabled(if: Kernels.supports("avx512"), "this CPU lacks AVX-512"))
    func matchesExactEmulationAVX512() throws { try matchesExactEmulation(isa: "avx512") }

    func matchesExactEmulation(isa: String) throws {
        let previous = Kernels.isa
        defer { Kernels.setISA(previous) }
        #expect(Kernels.setISA(isa) == isa)
        var g = SeededGenerator(seed: 11)
        for (m, n, k) in [(1, 1, 1), (7, 17, 33), (13, 48, 64), (6, 16, 2), (25, 70, 130), (100, 130, 97), (3, 5, 1536)] {
            let x = (0..<(m * k)).map { _ in g.nextNormal() * 2 }
            let w = (0..<(n * k)).map { _ in g.nextNormal() * 0.1 }
            let bias = (0..<n).map { _ in g.nextNormal() }
            let lw = LinearWeights(weight: w, bias: bias, inFeatures: k, precision: .int8)
            let q = try #require(lw.quantized)
            var y = [Float](repeating: .nan, count: m * n)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
                lw.multiply(xp.baseAddress!, rows: m, into: yp.baseAddress!, addBias: true, scratch: QuantizationScratch())
            } }
            let expected = Self.reference(x, rows: m, w, outputs: n, depth: k, bias: bias, layout: q.layout)
            for (a, b) in zip(y, expected) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b)), "\(isa) \(m)×\(n)×\(k): \(a) vs \(b)") }
            // Close to the float product too.
            var worst: Float = 0, scale: Float = 0
            for i in 0..<m { for j in 0..<n {
                var s = bias[j]
                for p in 0..<k { s += x[i * k + p] * w[j * k + p] }
                worst = max(worst, abs(s - y[i * n + j])); scale = max(scale, abs(s))
            } }
            #expect(worst <= 0.05 * max(scale, 1), "\(isa) \(m)×\(n)×\(k): int8 error \(worst) for values up to \(scale)")
        }
    }

    /// Zero rows, zero weights and huge values do not produce NaN.
    @Test func degenerateInputs() {
        let k = 40, n = 20
        let lw = LinearWeights(weight: [Float](repeating: 0, count: n * k), bias: [Float](repeating: 1, count: n), inFeatures: k, precision: .int8)
        var x = [Float](repeating: 0, count: 2 * k)
        x[k] = 3e38
        var y = [Float](repeating: .nan, count: 2 * n)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
            lw.multiply(xp.baseAddress!, rows: 2, into: yp.baseAddress!, addBias: true, scratch: QuantizationScratch())
        } }
        #expect(y.allSatisfy { $0 == 1 })
    }
}
