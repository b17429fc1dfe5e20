import Foundation
import Testing
@testable import Tensors
import GradientChecking

/// Naive broadcasting reference: index arithmetic per element, independent of the engine's strided loops.
private func referenceBroadcast(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> (shape: [Int], values: [Float]) {
    let rank = max(a.rank, b.rank)
    let pa = [Int](repeating: 1, count: rank - a.rank) + a.shape
    let pb = [Int](repeating: 1, count: rank - b.rank) + b.shape
    let shape = zip(pa, pb).map { max($0, $1) }
    let n = shape.reduce(1, *)
    var out = [Float](repeating: 0, count: n)
    for flat in 0..<n {
        var rem = flat, ia = 0, ib = 0, sa = 1, sb = 1
        for d in stride(from: rank - 1, through: 0, by: -1) {
            let i = rem % shape[d]; rem /= shape[d]
            ia += (pa[d] == 1 ? 0 : i) * sa; sa *= pa[d]
            ib += (pb[d] == 1 ? 0 : i) * sb; sb *= pb[d]
        }
        out[flat] = f(a.scalars[ia], b.scalars[ib])
    }
    return (shape, out)
}

@Suite struct ElementwiseTests {
    static let shapePairs: [([Int], [Int])] = [
        ([2, 3], [2, 3]), ([2, 3], [3]), ([2, 3], [2, 1]), ([4, 1, 3], [2, 1]), ([1], [3, 2]),
        ([], [2, 2]), ([3, 1, 5], [1, 4, 1]), ([2, 3, 4], [3, 1]),
    ]

    @Test(arguments: shapePairs)
    func broadcastingMatchesReference(_ sa: [Int], _ sb: [Int]) {
        let a = randomTensor(sa, seed: 1), b = randomTensor(sb, seed: 2, low: 0.5, high: 2)
        for (op, f) in [("add", { (x: Float, y: Float) in x + y }), ("sub", { $0 - $1 }), ("mul", { $0 * $1 }), ("div", { $0 / $1 })] {
            let got: Tensor
            switch op {
            case "add": got = a + b
            case "sub": got = a - b
            case "mul": got = a * b
            default: got = a / b
            }
            let ref = referenceBroadcast(a, b, f)
            #expect(got.shape == ref.shape, "\(op)")
            #expect(zip(got.scalars, ref.values).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) }, "\(op) \(sa) \(sb)")
        }
    }

    @Test(arguments: shapePairs)
    func broadcastingGradients(_ sa: [Int], _ sb: [Int]) throws {
        let a = randomTensor(sa, seed: 3), b = randomTensor(sb, seed: 4, low: 0.5, high: 2)
        #expect(try gradCheck([a, b]) { $0[0] + $0[1] }.maxError < 2e-3)
        #expect(try gradCheck([a, b]) { $0[0] - $0[1] }.maxError < 2e-3)
        #expect(try gradCheck([a, b]) { $0[0] * $0[1] }.maxError < 2e-3)
        #expect(try gradCheck([a, b]) { $0[0] / $0[1] }.maxError < 2e-3)
    }

    @Test func scalarOpsAndTheirGradients() throws {
        let x = randomTensor([3, 4], seed: 5, low: 0.5, high: 2)
        #expect((x + 1).scalars == x.scalars.map { $0 + 1 })
        #expect((2 - x).scalars == x.scalars.map { 2 - $0 })
        #expect((x * 3).scalars == x.scalars.map { $0 * 3 })
        #expect(try gradCheck([x]) { 2 - $0[0] * 3 + 1 }.maxError < 2e-3)
        #expect(try gradCheck([x]) { 1.5 / $0[0] }.maxError < 2e-3)
        #expect(try gradCheck([x]) { -$0[0] / 4 }.maxError < 2e-3)
    }

    @Test func maximumMinimumClamp() throws {
        let a = randomTensor([4, 5], seed: 6), b = randomTensor([5], seed: 7)
        #expect(Tensor.maximum(a, b).scalars == referenceBroadcast(a, b) { max($0, $1) }.values)
        #expect(Tensor.minimum(a, b).scalars == referenceBroadcast(a, b) { min($0, $1) }.values)
        #expect(try gradCheck([a, b]) { Tensor.maximum($0[0], $0[1]) }.maxError < 2e-3)
        #expect(try gradCheck([a, b]) { Tensor.minimum($0[0], $0[1]) }.maxError < 2e-3)
        let c = randomTensor([30], seed: 8, low: -2, high: 2)
        #expect(c.clamped(min: -0.5, max: 0.7).scalars == c.scalars.map { min(max($0, -0.5), 0.7) })
        // Keep probe points off the clamp boundaries.
        let away = c.mapElements { abs($0 + 0.5) < 0.01 || abs($0 - 0.7) < 0.01 ? $0 + 0.05 : $0 }
        #expect(try gradCheck([away]) { $0[0].clamped(min: -0.5, max: 0.7) }.maxError < 2e-3)
    }

    @Test func unaryMathMatchesFoundation() throws {
        let x = randomTensor([64], seed: 9, low: 0.1, high: 3)
        func close(_ t: Tensor, _ f: (Double) -> Double, tol: Float = 2e-6) -> Bool {
            zip(t.scalars, x.scalars).allSatisfy { abs($0 - Float(f(Double($1)))) <= tol * max(1, abs($0)) }
        }
        #expect(close(x.exp(), Foundation.exp))
        #expect(close(x.log(), Foundation.log))
        #expect(close(x.sqrt(), Foundation.sqrt))
        #expect(close(x.squared(), { $0 * $0 }))
        #expect(close(x.pow(1.7), { Foundation.pow($0, 1.7) }))
        #expect(close((-x).abs(), { $0 }))
        for f: (Tensor) -> Tensor in [{ $0.exp() }, { $0.log() }, { $0.sqrt() }, { $0.squared() }, { $0.pow(1.7) }, { $0.abs() }] {
            #expect(try gradCheck([x]) { f($0[0]) }.maxError < 2e-3)
        }
        let signed = randomTensor([32], seed: 10, awayFromZero: 0.1)
        #expect(try gradCheck([signed]) { $0[0].abs() }.maxError < 2e-3)
    }
}
