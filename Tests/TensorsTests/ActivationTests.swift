import Foundation
import Testing
@testable import Tensors
import GradientChecking

@Suite struct ActivationTests {
    let x = randomTensor([5, 7], seed: 11, low: -4, high: 4, awayFromZero: 0.05)

    private func expectMatches(_ t: Tensor, tol: Double = 2e-6, _ f: (Double) -> Double) {
        let worst = zip(t.scalars, x.scalars).map { abs(Double($0) - f(Double($1))) }.max() ?? 0
        #expect(worst <= tol, "max abs error \(worst)")
    }

    @Test func forwardValuesMatchDoubleReferences() {
        expectMatches(x.relu()) { max($0, 0) }
        expectMatches(x.leakyRelu(slope: 0.1)) { $0 > 0 ? $0 : 0.1 * $0 }
        expectMatches(x.tanh()) { Foundation.tanh($0) }
        expectMatches(x.sigmoid()) { 1 / (1 + Foundation.exp(-$0)) }
        expectMatches(x.softplus()) { Foundation.log1p(Foundation.exp($0)) }
        expectMatches(x.gelu()) { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) }
        expectMatches(x.gelu(approximation: .tanh)) { v in
            0.5 * v * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
        }
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let ops: [(String, (Tensor) -> Tensor)] = [
            ("relu", { $0.relu() }), ("leakyRelu", { $0.leakyRelu(slope: 0.1) }), ("tanh", { $0.tanh() }),
            ("sigmoid", { $0.sigmoid() }), ("softplus", { $0.softplus() }), ("gelu", { $0.gelu() }),
            ("geluTanh", { $0.gelu(approximation: .tanh) }),
            ("softmax", { $0.softmax() }), ("softmax0", { $0.softmax(axis: 0) }),
            ("logSoftmax", { $0.logSoftmax() }), ("logSoftmax0", { $0.logSoftmax(axis: 0) }),
        ]
        for (name, op) in ops {
            let r = try gradCheck([x]) { op($0[0]) }
            #expect(r.maxError < 2e-3, "\(name): \(r)")
        }
    }

    @Test func softmaxMatchesReferenceAndSumsToOne() {
        let y = x.softmax()
        for r in 0..<5 {
            let row = (0..<7).map { Double(x[r, $0]) }
            let m = row.max()!
            let z = row.map { Foundation.exp($0 - m) }.reduce(0, +)
            for c in 0..<7 { #expect(abs(Double(y[r, c]) - Foundation.exp(row[c] - m) / z) < 1e-6) }
            #expect(abs((0..<7).map { y[r, $0] }.reduce(0, +) - 1) < 1e-5)
        }
        let ls = x.logSoftmax()
        #expect(zip(ls.scalars, y.scalars).allSatisfy { abs($0 - Foundation.log($1)) < 1e-5 })
    }
}
