import Testing
@testable import Tensors
import GradientChecking

/// C = op(A)·op(B) computed in Double with plain loops.
private func referenceMatmul(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, ta: Bool, tb: Bool) -> [Float] {
    var c = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let av = ta ? a[p * m + i] : a[i * k + p]
                let bv = tb ? b[j * k + p] : b[p * n + j]
                s += Double(av) * Double(bv)
            }
            c[i * n + j] = Float(s)
        }
    }
    return c
}

@Suite struct MatMulTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func twoDimensionalWithTransposes(_ ta: Bool, _ tb: Bool) throws {
        let (m, n, k) = (5, 7, 3)
        let a = randomTensor(ta ? [k, m] : [m, k], seed: 51), b = randomTensor(tb ? [n, k] : [k, n], seed: 52)
        let c = Tensor.matmul(a, b, transposeA: ta, transposeB: tb)
        #expect(c.shape == [m, n])
        let ref = referenceMatmul(a.scalars, b.scalars, m: m, n: n, k: k, ta: ta, tb: tb)
        #expect(zip(c.scalars, ref).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(try gradCheck([a, b]) { Tensor.matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }.maxError < 2e-3)
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func batchedAndBroadcastBatches(_ ta: Bool, _ tb: Bool) throws {
        let (batch, m, n, k) = (3, 4, 2, 5)
        let a = randomTensor(ta ? [batch, k, m] : [batch, m, k], seed: 53)
        let b = randomTensor(tb ? [batch, n, k] : [batch, k, n], seed: 54)
        let c = Tensor.matmul(a, b, transposeA: ta, transposeB: tb)
        #expect(c.shape == [batch, m, n])
        for i in 0..<batch {
            let ref = referenceMatmul(Array(a.scalars[(i * m * k)..<((i + 1) * m * k)]), Array(b.scalars[(i * k * n)..<((i + 1) * k * n)]),
                                      m: m, n: n, k: k, ta: ta, tb: tb)
            #expect(zip(c.scalars[(i * m * n)..<((i + 1) * m * n)], ref).allSatisfy { abs($0 - $1) < 1e-5 })
        }
        #expect(try gradCheck([a, b]) { Tensor.matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }.maxError < 2e-3)
        // One shared right operand, as rank 2 and as a batch of one.
        let shared = randomTensor(tb ? [n, k] : [k, n], seed: 55)
        #expect(try gradCheck([a, shared]) { Tensor.matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }.maxError < 2e-3)
        #expect(try gradCheck([a, shared.unsqueezed(0)]) { Tensor.matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }.maxError < 2e-3)
        let sharedLeft = randomTensor(ta ? [1, k, m] : [1, m, k], seed: 56)
        #expect(try gradCheck([sharedLeft, b]) { Tensor.matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }.maxError < 2e-3)
    }

    @Test func foldedBatchEqualsPerMatrixProducts() {
        let a = randomTensor([2, 3, 4], seed: 57), w = randomTensor([6, 4], seed: 58)
        let y = a.matmul(w, transposeOther: true)
        #expect(y.shape == [2, 3, 6])
        for i in 0..<2 {
            let single = Tensor.matmul(a.slice(axis: 0, i..<(i + 1)).reshaped([3, 4]), w, transposeB: true)
            #expect(maxAbsDifference(y.slice(axis: 0, i..<(i + 1)).reshaped([3, 6]), single) < 1e-6)
        }
    }

    @Test func largeProductAgreesWithReference() {
        // Big enough to take the blocked, multithreaded path.
        let (m, n, k) = (150, 260, 300)
        let a = randomTensor([m, k], seed: 59), b = randomTensor([k, n], seed: 60)
        let ref = referenceMatmul(a.scalars, b.scalars, m: m, n: n, k: k, ta: false, tb: false)
        #expect(zip(Tensor.matmul(a, b).scalars, ref).allSatisfy { abs($0 - $1) < 1e-4 })
    }
}
