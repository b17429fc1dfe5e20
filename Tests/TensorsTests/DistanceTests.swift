import Foundation
import Testing
@testable import Tensors
import GradientChecking

@Suite struct DistanceTests {
    let a = randomTensor([5, 8], seed: 71), b = randomTensor([4, 8], seed: 72)

    private func ref(_ f: ([Double], [Double]) -> Double) -> [Double] {
        var out: [Double] = []
        for i in 0..<5 {
            for j in 0..<4 { out.append(f((0..<8).map { Double(a[i, $0]) }, (0..<8).map { Double(b[j, $0]) })) }
        }
        return out
    }

    private func dot(_ x: [Double], _ y: [Double]) -> Double { zip(x, y).map(*).reduce(0, +) }

    @Test func matricesMatchPerPairFormulas() {
        func close(_ t: Tensor, _ r: [Double], tol: Double = 1e-5) -> Bool {
            t.shape == [5, 4] && zip(t.scalars, r).allSatisfy { abs(Double($0) - $1) < tol }
        }
        let cosine: ([Double], [Double]) -> Double = { x, y in
            let nx = dot(x, x).squareRoot(), ny = dot(y, y).squareRoot()
            return dot(x, y) / (nx * ny)
        }
        let squared: ([Double], [Double]) -> Double = { x, y in
            var s = 0.0
            for (u, v) in zip(x, y) { s += (u - v) * (u - v) }
            return s
        }
        #expect(close(Tensor.pairwiseDot(a, b), ref(dot)))
        #expect(close(Tensor.pairwiseCosineSimilarity(a, b), ref(cosine)))
        #expect(close(Tensor.pairwiseSquaredEuclidean(a, b), ref(squared), tol: 1e-4))
        #expect(close(Tensor.pairwiseEuclidean(a, b), ref { squared($0, $1).squareRoot() }, tol: 1e-4))
    }

    @Test func gradients() throws {
        #expect(try gradCheck([a, b]) { Tensor.pairwiseDot($0[0], $0[1]) }.maxError < 2e-3)
        #expect(try gradCheck([a, b]) { Tensor.pairwiseCosineSimilarity($0[0], $0[1]) }.maxError < 2e-3)
        #expect(try gradCheck([a, b]) { Tensor.pairwiseSquaredEuclidean($0[0], $0[1]) }.maxError < 2e-3)
        #expect(try gradCheck([a, b]) { Tensor.pairwiseEuclidean($0[0], $0[1]) }.maxError < 2e-3)
    }

    @Test func selfDistanceIsZeroAndNonNegative() {
        let d = Tensor.pairwiseSquaredEuclidean(a, a)
        for i in 0..<5 { #expect(abs(d[i, i]) < 1e-5) }
        #expect(d.scalars.allSatisfy { $0 >= 0 })
    }
}
