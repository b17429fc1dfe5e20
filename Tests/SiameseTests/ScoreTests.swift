import Testing
@testable import Siamese
import Tensors

/// The scores users read (`verify`, `score`, the service): a cosine never leaves [−1, 1].
@Suite("Pair scores")
struct ScoreTests {
    @Test("the cosine score of identical inputs is at most 1, though float rounding carries the raw cosine past it")
    func cosineIsClamped() throws {
        let network = SiameseNetwork(encoder: EncoderConfiguration.mlp(MLPConfiguration(layers: [7], embeddingDimension: 7)).makeEncoder(seed: 3),
                                     distance: .cosine)
        var generator = SeededGenerator(seed: 5)
        let rows = 4096
        let x = Tensor(shape: [rows, 7], (0..<(rows * 7)).map { _ in generator.nextNormal() * 3 })
        let raw = Distance.cosine.rowwise(x, x).scalars
        // The premise: some rows' raw cosine with themselves rounds above 1.
        try #require(raw.contains { $0 > 1 }, "no raw cosine above 1 in \(rows) rows")
        let scores = network.score(embeddings: x, x).scalars
        #expect(scores.allSatisfy { $0 <= 1 && $0 >= 0.9999 })
        #expect(scores.max() == 1)
    }
}
