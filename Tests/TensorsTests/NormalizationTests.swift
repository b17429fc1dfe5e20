import Foundation
import Testing
@testable import Tensors
import GradientChecking

@Suite struct NormalizationTests {
    @Test func l2NormalizeGivesUnitRows() throws {
        let x = randomTensor([4, 6], seed: 61)
        let y = x.l2Normalized()
        for r in 0..<4 {
            let norm = (0..<6).map { Double(x[r, $0]) * Double(x[r, $0]) }.reduce(0, +).squareRoot()
            for c in 0..<6 { #expect(abs(Double(y[r, c]) - Double(x[r, c]) / norm) < 1e-6) }
        }
        #expect(try gradCheck([x]) { $0[0].l2Normalized() }.maxError < 2e-3)
        #expect(try gradCheck([randomTensor([2, 3, 5], seed: 62)]) { $0[0].l2Normalized() }.maxError < 2e-3)
    }

    @Test func l2NormalizeOfZeroVectorStaysZeroWithFiniteGradient() throws {
        let x = Tensor(shape: [2, 3], [0, 0, 0, 1, 2, 2]).requiringGrad()
        let y = x.l2Normalized()
        #expect(Array(y.scalars[0..<3]) == [0, 0, 0])
        try y.sum().backward()
        #expect(x.grad!.allFinite)
    }

    @Test func layerNormMatchesReference() throws {
        let x = randomTensor([3, 8], seed: 63, low: -3, high: 3)
        let gamma = randomTensor([8], seed: 64, low: 0.5, high: 1.5), beta = randomTensor([8], seed: 65)
        let y = x.layerNorm(gamma: gamma, beta: beta, epsilon: 1e-5)
        for r in 0..<3 {
            let row = (0..<8).map { Double(x[r, $0]) }
            let mean = row.reduce(0, +) / 8
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 8
            for c in 0..<8 {
                let ref = (row[c] - mean) / (variance + 1e-5).squareRoot() * Double(gamma[c]) + Double(beta[c])
                #expect(abs(Double(y[r, c]) - ref) < 1e-5)
            }
        }
        let r = try gradCheck([x, gamma, beta]) { $0[0].layerNorm(gamma: $0[1], beta: $0[2]) }
        #expect(r.maxError < 2e-3, "\(r)")
        let x3 = randomTensor([2, 3, 8], seed: 66)
        #expect(try gradCheck([x3, gamma, beta]) { $0[0].layerNorm(gamma: $0[1], beta: $0[2]) }.maxError < 2e-3)
    }
}
