import Foundation
import Testing
@testable import Tensors
import GradientChecking

@Suite struct AutodiffTests {
    @Test func gradientsAccumulateAcrossBackwardCallsUntilZeroed() throws {
        let w = Tensor(shape: [3], [1, 2, 3]).requiringGrad()
        try (w * 2).sum().backward()
        #expect(w.grad!.scalars == [2, 2, 2])
        try (w * w).sum().backward()
        #expect(w.grad!.scalars == [4, 6, 8])
        w.zeroGrad()
        #expect(w.grad == nil)
    }

    @Test func aTensorUsedTwiceGetsBothContributions() throws {
        // y = x·x + 3x: dy/dx = 2x + 3
        let x = Tensor(shape: [2], [1, -2]).requiringGrad()
        try (x * x + x * 3).sum().backward()
        #expect(x.grad!.scalars == [5, -1])
    }

    @Test func noGradientModeRecordsNothing() {
        let w = Tensor(shape: [2, 2], repeating: 1).requiringGrad()
        let y = withoutGradients { (w.matmul(w) + 1).relu().sum() }
        #expect(!y.requiresGrad)
        #expect(y.gradOp == nil)
        let z = (w + 1).sum()
        #expect(z.requiresGrad)
        #expect(z.gradOp == "sum")
    }

    @Test func plainTensorsRecordNothing() {
        let a = Tensor(shape: [2], [1, 2]), b = Tensor(shape: [2], [3, 4])
        #expect(!(a * b + a).exp().requiresGrad)
    }

    @Test func detachedStopsGradients() throws {
        let x = Tensor(shape: [2], [1, 2]).requiringGrad()
        let y = (x * x.detached()).sum()
        try y.backward()
        #expect(x.grad!.scalars == [1, 2])
    }

    @Test func backwardErrorsAreClear() throws {
        let plain = Tensor(shape: [2], [1, 2])
        #expect(throws: AutodiffError.noGradientPath) { try plain.sum().backward() }
        let x = Tensor(shape: [2], [1, 2]).requiringGrad()
        #expect(throws: AutodiffError.nonScalarOutput(shape: [2])) { try (x * 2).backward() }
        #expect(throws: AutodiffError.seedShapeMismatch(output: [2], seed: [3])) { try (x * 2).backward(seed: Tensor(shape: [3])) }
        try (x * 2).backward(seed: Tensor(shape: [2], [1, 10]))
        #expect(x.grad!.scalars == [2, 20])
    }

    @Test func nonFiniteGradientNamesTheOp() {
        // sqrt'(0) = ∞: the failure is reported at sqrt, not later.
        let x = Tensor(shape: [2], [0, 4]).requiringGrad()
        let loss = (x.sqrt() * 3).sum()
        #expect(throws: AutodiffError.nonFiniteGradient(op: "sqrt", input: 0, shape: [2])) { try loss.backward() }
        do { try loss.backward() } catch { #expect(error.description.contains("sqrt")) }
    }

    @Test func deepGraphsDoNotOverflowTheStack() throws {
        let x = Tensor(shape: [1], [1]).requiringGrad()
        var y = x
        for _ in 0..<20_000 { y = y * 1.0001 }
        try y.sum().backward()
        #expect(abs(x.grad!.item - Float(pow(1.0001, 20_000.0))) < 1e-2)
    }

    @Test func sharedWeightsAccumulateFromBothBranches() throws {
        // One weight matrix applied to two inputs (a twin): its gradient is the sum of both branches'.
        let w = randomTensor([3, 2], seed: 81).requiringGrad()
        let a = randomTensor([4, 3], seed: 82), b = randomTensor([4, 3], seed: 83)
        try (a.matmul(w) - b.matmul(w)).squared().sum().backward()
        let twin = w.grad!
        w.zeroGrad()
        try (a.matmul(w) - b.matmul(w.detached())).squared().sum().backward()
        let left = w.grad!
        w.zeroGrad()
        try (a.matmul(w.detached()) - b.matmul(w)).squared().sum().backward()
        let right = w.grad!
        #expect(maxAbsDifference(twin, left + right) < 1e-5)
    }
}

@Suite struct ShapeErrorTests {
    @Test func nonBroadcastableShapesStopWithAMessage() async {
        let stop1 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor(shape: [2, 3]) + Tensor(shape: [4])
        }
        #expect(stopMessage(stop1).contains("shapes [2, 3] and [4] do not broadcast"), "\(stopMessage(stop1))")
    }

    @Test func matmulInnerDimensionMismatchStops() async {
        let stop2 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.matmul(Tensor(shape: [2, 3]), Tensor(shape: [4, 5]))
        }
        #expect(stopMessage(stop2).contains("matmul: inner dimensions differ: [2, 3] · [4, 5]"), "\(stopMessage(stop2))")
    }

    @Test func invalidAxisStops() async {
        let stop3 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor(shape: [2, 3]).sum(axis: 2)
        }
        #expect(stopMessage(stop3).contains("sum: axis 2 is out of range for rank 2"), "\(stopMessage(stop3))")
    }

    @Test func badReshapeStops() async {
        let stop4 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor(shape: [2, 3]).reshaped([4, 2])
        }
        #expect(stopMessage(stop4).contains("reshape: shape [2, 3] (6 elements) cannot become [4, 2]"), "\(stopMessage(stop4))")
    }

    @Test func broadcastShapeRuleIsReported() {
        #expect(Shape.broadcast([2, 3], [4]) == nil)
        #expect(Shape.broadcast([2, 1], [1, 5]) == [2, 5])
        #expect(Shape.broadcast([], [3]) == [3])
    }
}
