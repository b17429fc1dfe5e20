import Foundation
import Testing

/// `siamese finetune --loss matryoshka|cached-mnrl|gist|angle` on all-MiniLM-L6-v2 (issue 16: the
/// losses sentence-transformers users expect): each runs a few short steps, saves a model that
/// `embed` reads back; settings a loss does not use are refused by name.
@Suite("siamese finetune with the sentence-transformers losses", .enabled(if: RealTextModel.folder != nil && SiameseExecutable.url != nil, "all-MiniLM-L6-v2 or the executable not found (skipped, not passed)"))
struct FineTuneLossCLITests {
    static let triplets = [("a cat sits on the mat", "a kitten rests on a rug"), ("the market fell", "shares dropped today"),
                           ("it is raining", "the weather is wet"), ("he plays guitar", "a man makes music"),
                           ("the oven is hot", "baking bread at home"), ("a dog runs fast", "the puppy is quick")]

    /// Writes the data, fine-tunes with `arguments`, and returns the folder it saved and stdout.
    func fineTune(_ dir: TemporaryFolder, _ arguments: [String], scored: Bool = false) throws -> (model: URL, stdout: String) {
        let model = try #require(RealTextModel.folder).path
        let lines = Self.triplets.enumerated().map { i, t in
            scored ? #"{"sentence1": "\#(t.0)", "sentence2": "\#(t.1)", "score": \#(0.1 + 0.4 * Double(i % 3))}"#
                   : #"{"anchor": "\#(t.0)", "positive": "\#(t.1)"}"#
        }
        try (lines.joined(separator: "\n") + "\n").write(to: dir.file("data.jsonl"), atomically: true, encoding: .utf8)
        let output = dir.file("tuned")
        let r = try SiameseExecutable.run(["finetune", "--model", model, "--data", dir.file("data.jsonl").path, "--batch-size", "3",
                                           "--epochs", "1", "--lr", "1e-4", "--output", output.path] + arguments)
        #expect(r.status == 0, "\(arguments): \(r.stderr)")
        #expect(r.stdout.contains("fine-tuned 6 examples, 2 steps"), "\(r.stdout)")
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("modules.json").path))
        return (output, r.stdout)
    }

    /// `siamese embed` of two texts with the saved model: the width it reports.
    func embeddedWidth(_ model: URL, _ dir: TemporaryFolder, _ extra: [String] = []) throws -> Int {
        try "a cat\nthe market\n".write(to: dir.file("texts.txt"), atomically: true, encoding: .utf8)
        let r = try SiameseExecutable.run(["embed", "--model", model.path, "--input", dir.file("texts.txt").path,
                                           "--output", dir.file("e.npy").path, "--format", "json"] + extra)
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        return try #require(json["dimension"] as? Int)
    }

    @Test func matryoshkaTrainsPrefixesAndSavesTheTruncation() throws {
        let dir = try TemporaryFolder()
        let tuned = try fineTune(dir, ["--loss", "matryoshka", "--matryoshka-dims", "384,256,128,64", "--matryoshka-inner", "mnrl",
                                       "--truncate-dim", "128"])
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: tuned.model.appendingPathComponent("config_sentence_transformers.json"))) as? [String: Any]
        #expect(config?["truncate_dim"] as? Int == 128)
        #expect(try embeddedWidth(tuned.model, dir) == 128)
        #expect(try embeddedWidth(tuned.model, dir, ["--truncate-dim", "64"]) == 64)
    }

    @Test func cachedMNRLRunsInMiniBatches() throws {
        let dir = try TemporaryFolder()
        let tuned = try fineTune(dir, ["--loss", "cached-mnrl", "--mini-batch-size", "2"])
        #expect(try embeddedWidth(tuned.model, dir) == 384)
    }

    @Test func gistWithAGuide() throws {
        let dir = try TemporaryFolder()
        let tuned = try fineTune(dir, ["--loss", "gist", "--guide", try #require(RealTextModel.folder).path])
        #expect(try embeddedWidth(tuned.model, dir) == 384)
    }

    @Test func angleOnScoredPairs() throws {
        let dir = try TemporaryFolder()
        let tuned = try fineTune(dir, ["--loss", "angle", "--scale", "20"], scored: true)
        #expect(try embeddedWidth(tuned.model, dir) == 384)
    }

    @Test func settingsTheLossDoesNotUseAreRefused() throws {
        let dir = try TemporaryFolder()
        let model = try #require(RealTextModel.folder).path
        try #"{"anchor": "a", "positive": "b"}"#.write(to: dir.file("d.jsonl"), atomically: true, encoding: .utf8)
        for (arguments, message) in [
            (["--loss", "mnrl", "--mini-batch-size", "4"], "--mini-batch-size applies to cached-mnrl only (the loss is mnrl)"),
            (["--loss", "gist"], "gist needs --guide MODEL"),
            (["--loss", "cached-mnrl", "--guide", model], "--guide applies to gist only (the loss is cached-mnrl)"),
            (["--loss", "cosent", "--matryoshka-dims", "64"], "--matryoshka-dims applies to --loss matryoshka only"),
            (["--loss", "matryoshka", "--matryoshka-dims", "512,64"], "--matryoshka-dims: 512 exceeds the model's embedding width 384"),
            (["--loss", "matryoshka", "--matryoshka-dims", "256,x"], "--matryoshka-dims: 'x' is not a positive integer"),
            (["--loss", "matryoshka", "--matryoshka-inner", "mnrl", "--temperature", "0.05"], "--temperature applies to gist only (the loss is mnrl (inside matryoshka))"),
            (["--loss", "contrastive", "--scale", "10"], "--scale applies to mnrl, cached-mnrl, cosent and angle (the loss is contrastive)"),
            (["--loss", "gist", "--guide", model, "--scale", "10"], "(the loss is gist; gist takes --temperature)"),
            (["--loss", "mnrl", "--margin", "0.3"], "--margin applies to contrastive only (the loss is mnrl)"),
            (["--loss", "triplet"], "--loss must be one of mnrl, cached-mnrl, gist, cosent, angle, contrastive, cosine, matryoshka"),
        ] {
            let r = try SiameseExecutable.run(["finetune", "--model", model, "--data", dir.file("d.jsonl").path, "--output", dir.file("o").path] + arguments)
            #expect(r.status != 0, "\(arguments)")
            #expect(r.stderr.contains(message), "\(arguments): \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("o").path))
    }
}
