import Foundation
import Testing
import NN
@testable import Siamese
import Tensors

@Suite struct EncoderTests {
    @Test func mlpShapesNamesAndNormalisation() {
        let config = EncoderConfiguration.mlp(MLPConfiguration(layers: [8, 16, 12], embeddingDimension: 4))
        let encoder = config.makeEncoder(seed: 1)
        let y = encoder(Tensor(shape: [5, 8], repeating: 0.3))
        #expect(y.shape == [5, 4])
        #expect(encoder.namedParameters.map(\.name) == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.2.weight", "layers.2.bias"])
        for r in 0..<5 { #expect(abs((0..<4).map { y[r, $0] * y[r, $0] }.reduce(0, +) - 1) < 1e-5) }
    }

    @Test func cnnAndSequenceEncodersAcceptFlatRows() throws {
        let cnn = EncoderConfiguration.cnn(CNNConfiguration(height: 8, width: 8, embeddingDimension: 6)).makeEncoder(seed: 2)
        var g = SeededGenerator(seed: 3)
        let images = Tensor.randomNormal([4, 64], generator: &g)
        #expect(cnn(images).shape == [4, 6])
        #expect(cnn(images.reshaped([4, 1, 8, 8])).shape == [4, 6])
        #expect(cnn.namedBuffers.count == 4)
        let seq = EncoderConfiguration.sequence(SequenceConfiguration(channels: 3, length: 20, embeddingDimension: 5)).makeEncoder(seed: 4)
        let series = Tensor.randomNormal([2, 60], generator: &g)
        #expect(seq(series).shape == [2, 5])
        // Every parameter of both encoders receives a gradient.
        try (cnn(images).sum() + seq(series).sum()).backward()
        #expect(cnn.parameters.allSatisfy { $0.grad != nil })
        #expect(seq.parameters.allSatisfy { $0.grad != nil })
    }

    @Test func sameSeedSameWeightsAndConfigurationRoundTrips() throws {
        let config = EncoderConfiguration.cnn(CNNConfiguration(height: 8, width: 8, blockChannels: [4, 8], embeddingDimension: 3))
        let a = config.makeEncoder(seed: 9), b = config.makeEncoder(seed: 9), c = config.makeEncoder(seed: 10)
        #expect(zip(a.parameters, b.parameters).allSatisfy { $0.value.scalars == $1.value.scalars })
        #expect(!zip(a.parameters, c.parameters).allSatisfy { $0.value.scalars == $1.value.scalars })
        let decoded = try JSONDecoder().decode(EncoderConfiguration.self, from: JSONEncoder().encode(config))
        #expect(decoded == config)
    }

    @Test func twinBranchesShareWeights() throws {
        // Gradients from both branches accumulate into the one encoder's parameters: the twin's
        // gradient equals the sum of the gradients of each branch computed alone.
        let model = SiameseNetwork(encoder: EncoderConfiguration.mlp(MLPConfiguration(layers: [6, 10], embeddingDimension: 4, normalize: false)).makeEncoder(seed: 5))
        var g = SeededGenerator(seed: 6)
        let a = Tensor.randomNormal([3, 6], generator: &g), b = Tensor.randomNormal([3, 6], generator: &g)
        let e = model.embedBranches([a, b])
        try (e[0] * e[1]).sum().backward()
        let together = model.parameters.map { $0.grad!.scalars }
        model.zeroGrad()
        let fixedB = withoutGradients { model.embed(b) }
        try (model.embed(a) * fixedB).sum().backward()
        let fromA = model.parameters.map { $0.grad!.scalars }
        model.zeroGrad()
        let fixedA = withoutGradients { model.embed(a) }
        try (fixedA * model.embed(b)).sum().backward()
        let fromB = model.parameters.map { $0.grad!.scalars }
        for (t, (x, y)) in zip(together, zip(fromA, fromB)) {
            #expect(zip(t, zip(x, y)).allSatisfy { abs($0 - ($1.0 + $1.1)) < 1e-5 })
        }
        // And both branches really are one set of weights: one parameter list, not two.
        #expect(model.parameters.count == 4)
    }
}
