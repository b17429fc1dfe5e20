import Foundation
import Testing
@testable import Tensors
import GradientChecking

/// Properties that a numerically careful implementation keeps at extreme inputs.
@Suite struct StabilityTests {
    @Test func softmaxIsInvariantToALargeOffset() {
        let x = randomTensor([4, 9], seed: 21, low: -3, high: 3)
        for offset: Float in [1e3, -1e3, 5e4] {
            let shifted = x.softmax()
            let y = (x + offset).softmax()
            #expect(y.allFinite)
            // Adding 5e4 in Float loses the low bits of x itself (ulp 0.004), so compare with that slack.
            #expect(maxAbsDifference(y, shifted) < (offset == 5e4 ? 2e-2 : 2e-4), "offset \(offset)")
        }
    }

    @Test func logSoftmaxOfEqualLogitsIsMinusLogN() {
        for n in [1, 2, 10, 1000] {
            for value: Float in [0, 1e4, -1e4, 88, -100] {
                let y = Tensor(shape: [1, n], repeating: value).logSoftmax()
                let expected = -Foundation.log(Float(n))
                #expect(y.scalars.allSatisfy { abs($0 - expected) < 1e-5 * max(1, abs(expected)) }, "n \(n) value \(value)")
            }
        }
    }

    @Test func noNaNOnLargeInputs() throws {
        let big = Tensor(shape: [2, 4], [1e30, -1e30, 3e38, -3e38, 100, -100, 0, 1e-30])
        #expect(big.softmax().allFinite)
        #expect(big.logSoftmax().scalars.allSatisfy { !$0.isNaN })
        #expect(big.sigmoid().allFinite)
        #expect(big.tanh().allFinite)
        #expect(big.softplus().scalars.allSatisfy { !$0.isNaN })
        #expect(big.gelu().scalars.allSatisfy { !$0.isNaN })
        #expect(big.logSumExp(axis: 1).scalars.allSatisfy { !$0.isNaN })
        #expect(Tensor(shape: [1, 3], [0, 0, 0]).l2Normalized().allFinite)
        // Gradients at large logits stay finite too.
        let logits = Tensor(shape: [2, 3], [1e4, -1e4, 0, 80, 90, 100]).requiringGrad()
        try logits.logSoftmax().sum().backward()
        #expect(logits.grad!.allFinite)
    }

    @Test func softmaxOfMinusInfinityEntriesGivesZeroWeight() {
        let x = Tensor(shape: [1, 3], [0, -.infinity, 0])
        #expect(x.softmax().scalars == [0.5, 0, 0.5])
    }

    @Test func logSumExpIsExactForLargeValues() {
        let x = Tensor(shape: [1, 2], [1000, 1000])
        #expect(abs(x.logSumExp(axis: 1).item - (1000 + Foundation.log(2))) < 1e-3)
    }
}
