import Foundation
import Testing
@testable import Tensors
import GradientChecking

@Suite struct ReductionTests {
    let x = randomTensor([3, 4, 5], seed: 31)

    private func reference(_ axis: Int, _ f: ([Double]) -> Double) -> [Double] {
        let s = x.shape
        var out: [Double] = []
        let others = (0..<3).filter { $0 != axis }
        for i in 0..<s[others[0]] {
            for j in 0..<s[others[1]] {
                var vals: [Double] = []
                for k in 0..<s[axis] {
                    var idx = [0, 0, 0]
                    idx[others[0]] = i; idx[others[1]] = j; idx[axis] = k
                    vals.append(Double(x[idx[0], idx[1], idx[2]]))
                }
                out.append(f(vals))
            }
        }
        return out
    }

    @Test(arguments: [0, 1, 2, -1])
    func reductionsAlongAxisMatchReference(_ axis: Int) {
        let a = axis < 0 ? axis + 3 : axis
        func close(_ t: Tensor, _ ref: [Double]) -> Bool { zip(t.scalars, ref).allSatisfy { abs(Double($0) - $1) < 1e-5 } }
        #expect(close(x.sum(axis: axis), reference(a) { $0.reduce(0, +) }))
        #expect(close(x.mean(axis: axis), reference(a) { $0.reduce(0, +) / Double($0.count) }))
        #expect(close(x.max(axis: axis), reference(a) { $0.max()! }))
        #expect(close(x.logSumExp(axis: axis), reference(a) { v in Foundation.log(v.map(Foundation.exp).reduce(0, +)) }))
        #expect(x.argmax(axis: axis) == reference(a) { v in Double(v.firstIndex(of: v.max()!)!) }.map { Int($0) })
        var keptShape = x.shape
        keptShape[a] = 1
        #expect(x.sum(axis: axis, keepDims: true).shape == keptShape)
    }

    @Test func gradients() throws {
        for axis in [0, 1, 2] {
            #expect(try gradCheck([x]) { $0[0].sum(axis: axis) }.maxError < 2e-3)
            #expect(try gradCheck([x]) { $0[0].mean(axis: axis, keepDims: true) }.maxError < 2e-3)
            #expect(try gradCheck([x]) { $0[0].max(axis: axis) }.maxError < 2e-3)
            #expect(try gradCheck([x]) { $0[0].logSumExp(axis: axis) }.maxError < 2e-3)
        }
        #expect(try gradCheck([x]) { $0[0].sum() }.maxError < 2e-3)
        #expect(try gradCheck([x]) { $0[0].mean() }.maxError < 2e-3)
        #expect(try gradCheck([x]) { $0[0].sum(axes: [0, 2]) }.maxError < 2e-3)
    }

    @Test func totalsAndMultiAxis() {
        let total = x.scalars.reduce(0, +)
        #expect(abs(x.sum().item - total) < 1e-4)
        #expect(abs(x.mean().item - total / 60) < 1e-5)
        let s = x.sum(axes: [0, 2])
        #expect(s.shape == [4])
        #expect(abs(s.sum().item - total) < 1e-4)
        #expect(x.sum(axes: [0, 2], keepDims: true).shape == [1, 4, 1])
    }

    @Test func argmaxTakesFirstOfTies() {
        #expect(Tensor(shape: [2, 3], [1, 5, 5, 2, 2, 0]).argmax(axis: 1) == [1, 0])
    }
}
