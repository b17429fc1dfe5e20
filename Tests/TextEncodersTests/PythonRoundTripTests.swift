import Foundation
import Siamese
import Tensors
import Testing
@testable import TextEncoders

/// Folders written here, loaded by the Python library (sentence-transformers), give the same
/// embeddings there: checked by Benchmarks/reference/text_reference.py --check-folder.
@Suite(.enabled(if: MiniLM.sentenceTransformersPython != nil,
                "no Python with sentence-transformers and torch under Benchmarks/.venv* (skipped, not passed)"))
struct PythonRoundTripTests {
    func check(_ model: SentenceTransformer, _ sentences: [String], in dir: TemporaryDirectory) throws -> String {
        let python = try #require(MiniLM.sentenceTransformersPython)
        let folder = dir.file("saved")
        try model.save(to: folder)
        let embeddings = model.encode(sentences)
        try Data((sentences.joined(separator: "\n") + "\n").utf8).write(to: dir.file("s.txt"))
        try NPYWriter.write(embeddings, to: dir.file("e.npy"))
        let script = MiniLM.packageRoot.appendingPathComponent("Benchmarks/reference/text_reference.py").path
        let (status, out) = try #require(MiniLM.run(python, [script, "--check-folder", folder.path, "--sentences", dir.file("s.txt").path,
                                                             "--embeddings", dir.file("e.npy").path]))
        #expect(status == 0, "\(out)")
        return out
    }

    @Test func tinyModelRoundTrip() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var o = TinyModel.Options()
        o.pooling = ["cls", "mean"]
        o.dense = (12, "torch.nn.modules.activation.Tanh")
        let model = try SentenceTransformer(folder: try TinyModel.write(to: dir.file("m"), o))
        print("tiny model round trip through sentence-transformers: \(try check(model, TinyModel.sentences.filter { !$0.isEmpty }, in: dir))")
    }

    @Test(.enabled(if: MiniLM.folder != nil, Comment(rawValue: MiniLM.skipMessage)))
    func fineTunedMiniLMRoundTrip() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let model = try SentenceTransformer(folder: try #require(MiniLM.folder))
        // One optimiser step so that the weights differ from the original's.
        let task = try TextPairTrainingTask(data: TextPairDataset(kind: .triplets, examples: TrainingTests.pairs.map { .init(first: $0.0, second: $0.1) }),
                                            loss: .multipleNegativesRanking(MultipleNegativesRankingLoss()), batchSize: 8)
        _ = try Trainer(model: model, task: task, configuration: .init(epochs: 1, batchSize: 8, learningRate: 1e-4, seed: 0)).fit()
        model.isTraining = false
        print("fine-tuned MiniLM round trip through sentence-transformers: \(try check(model, Reference.sentences, in: dir))")
    }

    /// A RoBERTa-family folder, fine-tuned one step and saved here (names without the `roberta.`
    /// prefix, no `lm_head`, config.json kept), loads in sentence-transformers as the same model.
    @Test(arguments: RobertaFixture.all)
    func fineTunedRobertaRoundTrip(_ fixture: RobertaFixture) throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let model = try fixture.model()
        let task = try TextPairTrainingTask(data: TextPairDataset(kind: .triplets, examples: TrainingTests.pairs.map { .init(first: $0.0, second: $0.1) }),
                                            loss: .multipleNegativesRanking(MultipleNegativesRankingLoss()), batchSize: 8)
        _ = try Trainer(model: model, task: task, configuration: .init(epochs: 1, batchSize: 8, learningRate: 1e-3, seed: 0)).fit()
        model.isTraining = false
        // The step moved the weights (else this would only repeat the parity test).
        #expect(zip(rows(model.encode(try fixture.sentences())), try fixture.embeddings()).contains { compare($0, $1).maxDiff > 1e-4 })
        let sentences = try fixture.sentences().filter { !$0.contains { $0.isNewline } }
        print("fine-tuned \(fixture.name) round trip through sentence-transformers: \(try check(model, sentences, in: dir))")
    }
}

/// A minimal float32 .npy writer for the round-trip script (the NPY module is not a dependency of
/// these tests).
enum NPYWriter {
    static func write(_ t: Tensor, to url: URL) throws {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(t.shape[0]), \(t.shape[1])), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0])
        let n = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8)])
        data.append(Data(header.utf8))
        t.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self), count: $0.count * 4)) }
        try data.write(to: url)
    }
}
