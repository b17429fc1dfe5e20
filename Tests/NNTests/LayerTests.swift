import Testing
@testable import NN
@testable import Tensors
import GradientChecking

@Suite struct LayerTests {
    @Test func linearComputesXWtPlusB() {
        var g = SeededGenerator(seed: 1)
        let layer = Linear(3, 2, generator: &g)
        let x = Tensor.randomNormal([4, 3], generator: &g)
        let y = layer(x)
        #expect(y.shape == [4, 2])
        let w = layer.weight.value, b = layer.bias!.value
        for i in 0..<4 {
            for o in 0..<2 {
                let ref = (0..<3).reduce(Double(b[o])) { $0 + Double(x[i, $1]) * Double(w[o, $1]) }
                #expect(abs(Double(y[i, o]) - ref) < 1e-6)
            }
        }
        #expect(layer.namedParameters.map(\.name) == ["weight", "bias"])
        // PyTorch's default init bounds: |w|, |b| ≤ 1/√fanIn.
        let bound = 1 / Float(3).squareRoot()
        #expect((w.scalars + b.scalars).allSatisfy { abs($0) <= bound })
    }

    @Test func sequentialNamesParametersByPosition() {
        var g = SeededGenerator(seed: 2)
        let model = Sequential(Linear(4, 8, generator: &g), Lambda.relu, Linear(8, 2, generator: &g))
        #expect(model.namedParameters.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(model.parameterCount == 4 * 8 + 8 + 8 * 2 + 2)
        #expect(model(Tensor(shape: [5, 4], repeating: 1)).shape == [5, 2])
    }

    @Test func gradientsReachEveryParameter() throws {
        var g = SeededGenerator(seed: 3)
        let model = Sequential(Linear(4, 8, generator: &g), Lambda.tanh, Linear(8, 2, generator: &g), Lambda.l2Normalize)
        let x = Tensor.randomNormal([6, 4], generator: &g)
        try model(x).sum().backward()
        for (name, p) in model.namedParameters {
            #expect(p.grad != nil, "\(name)")
            #expect(p.grad?.shape == p.shape)
        }
        model.zeroGrad()
        #expect(model.parameters.allSatisfy { $0.grad == nil })
    }

    @Test func linearGradientMatchesFiniteDifferences() throws {
        var g = SeededGenerator(seed: 4)
        let x = Tensor.randomNormal([5, 3], generator: &g)
        let w = Tensor.randomNormal([4, 3], generator: &g), b = Tensor.randomNormal([4], generator: &g)
        let r = try gradCheck([x, w, b]) { $0[0].matmul($0[1], transposeOther: true) + $0[2] }
        #expect(r.maxError < 2e-3, "\(r)")
    }

    @Test func layerNormLayerAndEmbedding() {
        var g = SeededGenerator(seed: 5)
        let ln = LayerNorm(4)
        let y = ln(Tensor(shape: [2, 4], [1, 2, 3, 4, -1, 0, 1, 2]))
        #expect(abs(y.sum(axis: 1).scalars[0]) < 1e-5)
        let emb = Embedding(10, 3, generator: &g)
        let rows = emb([7, 7, 2])
        #expect(rows.shape == [3, 3])
        #expect(rows[0, 1] == emb.weight.value[7, 1])
    }
}
