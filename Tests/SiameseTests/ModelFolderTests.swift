import Foundation
import Testing
import NN
@testable import Siamese
import Tensors

@Suite struct ModelFolderTests {
    @Test func saveAndLoadGiveTheSameEmbeddings() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for config in [EncoderConfiguration.mlp(MLPConfiguration(layers: [16, 8], embeddingDimension: 4)),
                       .cnn(CNNConfiguration(height: 4, width: 4, blockChannels: [3], embeddingDimension: 4)),
                       .sequence(SequenceConfiguration(channels: 2, length: 8, blockChannels: [4], embeddingDimension: 4))] {
            var g = SeededGenerator(seed: 3)
            let model = SiameseNetwork(encoder: config.makeEncoder(seed: 1), distance: .euclidean, head: LearnedHead(dimension: 4, generator: &g))
            let x = Tensor.randomNormal([5, 16], generator: &g)
            _ = model.embed(x)  // batch-norm statistics move in training mode
            let folder = ModelFolder(dir.appendingPathComponent("m"))
            try folder.save(model, featureColumns: (0..<16).map { "f\($0)" }, classNames: ["a", "b"])
            let (loaded, saved) = try folder.load()
            #expect(saved.encoder == config)
            #expect(saved.distance == .euclidean)
            #expect(saved.featureColumns?.count == 16)
            #expect(loaded.head != nil)
            model.isTraining = false
            #expect(maxAbs(model.embed(x), loaded.embed(x)) == 0)
            #expect(try folder.fingerprint() == saved.weightsSHA256)
        }
    }

    @Test func configurationIsFlatJSON() throws {
        let json = try JSONEncoder().encode(EncoderConfiguration.mlp(MLPConfiguration(layers: [4], embeddingDimension: 2)))
        let object = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        #expect(object["type"] as? String == "mlp")
        #expect(object["layers"] as? [Int] == [4])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(EncoderConfiguration.self, from: Data(#"{"type":"rnn"}"#.utf8)) }
    }

    @Test func replacedOrMissingWeightsAreRefused() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = ModelFolder(dir)
        #expect(throws: ModelFormatError.self) { try folder.load() }
        let model = SiameseNetwork(encoder: EncoderConfiguration.mlp(MLPConfiguration(layers: [4], embeddingDimension: 2)).makeEncoder(seed: 1))
        try folder.save(model)
        let other = SiameseNetwork(encoder: EncoderConfiguration.mlp(MLPConfiguration(layers: [4], embeddingDimension: 2)).makeEncoder(seed: 2))
        try WeightsIO.save(other, to: dir.appendingPathComponent(ModelFolder.weightsFile))
        #expect(throws: ModelFormatError.self) { try folder.load() }
        try Data("{".utf8).write(to: dir.appendingPathComponent(ModelFolder.configurationFile))
        #expect(throws: ModelFormatError.self) { try folder.load() }
    }

    func maxAbs(_ a: Tensor, _ b: Tensor) -> Float { zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0 }
}
