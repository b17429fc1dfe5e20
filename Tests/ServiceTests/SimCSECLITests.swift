import Foundation
import Testing

/// `siamese pretrain --method simcse` (issue 15): unsupervised SimCSE from a text file on the tiny
/// RoBERTa fixture — trains, saves a sentence-transformers folder that `embed` reads, resumes
/// exactly from a mid-run checkpoint, and refuses the options that do not go with text.
@Suite("siamese pretrain --method simcse",
       .enabled(if: SiameseExecutable.url != nil, "the siamese executable was not found (skipped, not passed)"))
struct SimCSECLITests {
    let model = RealTextModel.root.appendingPathComponent("Tests/TextEncodersTests/Fixtures/tiny-roberta").path

    /// 20 distinct one-line sentences of the fixture's reference.
    func sentences() throws -> [String] {
        let url = URL(fileURLWithPath: model).appendingPathComponent("reference.json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let all = try #require(json["sentences"] as? [String])
        let picked = all.filter { s in !s.contains { $0.isNewline || $0 == "\t" } && !s.trimmingCharacters(in: .whitespaces).isEmpty }
        let distinct = NSOrderedSet(array: picked).array.compactMap { $0 as? String }
        #expect(distinct.count >= 20)
        return Array(distinct.prefix(20))
    }

    @Test(.timeLimit(.minutes(3))) func trainsEmbedsAndResumesExactly() throws {
        let dir = try TemporaryFolder()
        let texts = try sentences()
        try (texts.joined(separator: "\n") + "\n\n").write(to: dir.file("sentences.txt"), atomically: true, encoding: .utf8)
        let out = dir.file("simcse").path
        // 20 sentences in batches of 5: 4 steps an epoch, 8 in all; checkpoints at 4, 6 (every 6) and 8, the last two kept.
        let command = ["pretrain", "--method", "simcse", "--model", model, "--data", dir.file("sentences.txt").path, "--augment", "text",
                       "--epochs", "2", "--batch-size", "5", "--lr", "1e-3", "--checkpoint-every", "6", "--seed", "5", "--threads", "1",
                       "--output", out]
        let first = try SiameseExecutable.run(command + ["--format", "json"])
        #expect(first.status == 0, "\(first.stderr)")
        let summary = (try? JSONSerialization.jsonObject(with: Data(first.stdout.utf8))) as? [String: Any]
        #expect(summary?["method"] as? String == "simcse" && summary?["sentences"] as? Int == 20 && summary?["steps"] as? Int == 8,
                "\(first.stdout)")
        let losses = summary?["epoch_losses"] as? [Double] ?? []
        #expect(losses.count == 2 && losses.allSatisfy { $0.isFinite && $0 > 0 }, "\(losses)")
        let weights = try Data(contentsOf: dir.file("simcse/model.safetensors"))
        #expect(weights != (try Data(contentsOf: URL(fileURLWithPath: model).appendingPathComponent("model.safetensors"))),
                "training left the weights as they were")

        // The folder is a sentence-transformers model: embed reads it.
        let e = try SiameseExecutable.run(["embed", "--model", out, "--input", dir.file("sentences.txt").path,
                                           "--output", dir.file("e.npy").path, "--threads", "1", "--format", "json"])
        #expect(e.status == 0, "\(e.stderr)")
        #expect(e.stdout.contains("\"dimension\":32") || e.stdout.contains("\"dimension\": 32"), "\(e.stdout)")

        // Killed after step 6 (the step-8 checkpoint dropped): the same command continues to the same weights.
        let checkpoints = dir.file("simcse.checkpoints")
        let names = try FileManager.default.contentsOfDirectory(atPath: checkpoints.path).filter { $0.hasPrefix("step-") }.sorted()
        #expect(names == ["step-00000006", "step-00000008"], "\(names)")
        try FileManager.default.removeItem(at: checkpoints.appendingPathComponent(try #require(names.last)))
        let second = try SiameseExecutable.run(command)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("resumed from") && second.stdout.contains("(2 this run)"), "\(second.stdout)")
        #expect(try Data(contentsOf: dir.file("simcse/model.safetensors")) == weights, "the resumed run's weights differ")
    }

    @Test func refusesWhatDoesNotGoWithText() throws {
        let dir = try TemporaryFolder()
        try "one sentence\none sentence\n\n".write(to: dir.file("one.txt"), atomically: true, encoding: .utf8)
        try "a\nb\n".write(to: dir.file("two.txt"), atomically: true, encoding: .utf8)
        let base = ["pretrain", "--method", "simcse", "--output", dir.file("x").path]
        for (args, status, message) in [
            (["--model", model, "--data", dir.file("two.txt").path], 2, "--augment text"),
            (["--data", dir.file("two.txt").path, "--augment", "text"], 2, "--model"),
            (["--model", model, "--data", dir.file("two.txt").path, "--augment", "text", "--optimizer", "sgd"], 2, "--optimizer does not apply"),
            (["--model", model, "--data", dir.file("one.txt").path, "--augment", "text"], 1, "one.txt: SimCSE needs at least two distinct"),
            (["--model", model, "--data", dir.file("none.txt").path, "--augment", "text"], 1, "none.txt"),
        ] {
            let r = try SiameseExecutable.run(base + args)
            #expect(r.status == Int32(status) && r.stderr.contains(message), "\(args): \(r.status) \(r.stderr)")
        }
        let simclr = try SiameseExecutable.run(["pretrain", "--method", "simclr", "--model", model, "--data", dir.file("two.txt").path,
                                                "--output", dir.file("y").path])
        #expect(simclr.status == 2 && simclr.stderr.contains("--model applies to --method simcse only"), "\(simclr.stderr)")
        let text = try SiameseExecutable.run(["pretrain", "--method", "byol", "--data", dir.file("two.txt").path, "--augment", "text",
                                              "--output", dir.file("z").path])
        #expect(text.status == 2 && text.stderr.contains("--augment text goes with --method simcse"), "\(text.stderr)")
    }
}
