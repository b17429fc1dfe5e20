import Foundation
import Testing

/// `train` ends calibrated (issue 16): the threshold chosen on the held-out pairs is written
/// beside the model, so that `verify` decides right after training; `calibrate --model M --pairs
/// FILE` scores and calibrates in one command. Each threshold is checked against the other path
/// (`score` then `calibrate --scores`), which shares none of the held-out scoring code.
@Suite("Training ends calibrated") struct TrainCalibrationTests {
    /// Three classes of 3-feature items, a little noisy so that the rates are not all zero.
    static func items(_ n: Int, phase: Double) -> [(features: [Double], label: Int)] {
        (0..<n).map { i in
            let c = i % 3
            let x = Double(i) + phase
            return ([Double(c) + 0.6 * sin(x * 1.7), Double(2 - c) + 0.6 * cos(x * 0.9), 0.5 * sin(x * 3.1)], c)
        }
    }

    static func csv(_ rows: [(features: [Double], label: Int)]) -> String {
        "f0,f1,f2,label\n" + rows.map { $0.features.map { String($0) }.joined(separator: ",") + ",\($0.label)" }.joined(separator: "\n") + "\n"
    }

    /// Every pair of `rows` as inline JSON inputs with a same/different label.
    static func pairsCSV(_ rows: [(features: [Double], label: Int)]) -> String {
        var out = "a,b,label\n"
        for i in 0..<rows.count {
            for j in (i + 1)..<rows.count {
                func cell(_ f: [Double]) -> String { "\"[" + f.map { String($0) }.joined(separator: ",") + "]\"" }
                out += "\(cell(rows[i].features)),\(cell(rows[j].features)),\(rows[i].label == rows[j].label ? 1 : 0)\n"
            }
        }
        return out
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    @Test func trainWithValidationWritesTheCalibrationThatScoreAndCalibrateFind() throws {
        let dir = try TemporaryFolder()
        let train = dir.file("train.csv"), validation = dir.file("validation.csv"), pairs = dir.file("pairs.csv")
        try Self.csv(Self.items(90, phase: 0)).write(to: train, atomically: true, encoding: .utf8)
        let held = Self.items(30, phase: 0.37)
        try Self.csv(held).write(to: validation, atomically: true, encoding: .utf8)
        try Self.pairsCSV(held).write(to: pairs, atomically: true, encoding: .utf8)
        let model = dir.file("model").path
        let r = try SiameseExecutable.run(["train", "--data", train.path, "--validation", validation.path, "--layers", "3,16", "--dim", "8",
                                           "--epochs", "3", "--batch-size", "16", "--loss", "triplet", "--output", model, "--format", "jsonl"])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try Self.json(r.stdout)
        let calibration = try #require(summary["calibration"] as? [String: Any], "\(r.stdout)")
        let threshold = try #require(calibration["threshold"] as? Double)
        #expect(calibration["pairs"] as? Int == 30 * 29 / 2)
        let saved = try Self.json(try String(contentsOfFile: model + "/calibration.json", encoding: .utf8))
        #expect(saved["threshold"] as? Double == threshold)
        #expect(saved["model_fingerprint"] as? String != nil)

        // The other path: score the same pairs with the saved model, calibrate at the EER.
        let scores = dir.file("scores.csv").path
        let s = try SiameseExecutable.run(["score", "--model", model, "--pairs", pairs.path, "--label-column", "label", "--output", scores])
        #expect(s.status == 0, "\(s.stderr)")
        let c = try SiameseExecutable.run(["calibrate", "--scores", scores, "--eer", "--json"])
        #expect(c.status == 0, "\(c.stderr)")
        let reference = try #require(try Self.json(c.stdout)["threshold"] as? Double)
        #expect(abs(reference - threshold) < 1e-5, "train: \(threshold), score + calibrate: \(reference)")

        // verify uses it at once: identical inputs are the same, with no --threshold.
        let a = "[" + held[0].features.map { String($0) }.joined(separator: ",") + "]"
        let v = try SiameseExecutable.run(["verify", "--model", model, "--a", a, "--b", a, "--format", "json"])
        #expect(v.status == 0, "\(v.stderr)")
        #expect(try Self.json(v.stdout)["same"] as? Bool == true, "\(v.stdout)")

        // --calibration none leaves no calibration; a bad rule is a clear error before training.
        let none = try SiameseExecutable.run(["train", "--data", train.path, "--validation-split", "0.3", "--layers", "3,16", "--dim", "8",
                                              "--epochs", "1", "--output", dir.file("m2").path, "--calibration", "none"])
        #expect(none.status == 0, "\(none.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("m2/calibration.json").path))
        let bad = try SiameseExecutable.run(["train", "--data", train.path, "--validation-split", "0.3", "--output", dir.file("m3").path,
                                             "--calibration", "far:2"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--calibration far:2: the rate must be a number from 0 to 1"), "\(bad.stderr)")
    }

    @Test func prebuiltPairsAndTripletsAreSplitValidatedAndCalibrated() throws {
        let dir = try TemporaryFolder()
        let rows = Self.items(60, phase: 0.1)
        var pairs = "", triplets = ""
        for i in 0..<rows.count {
            let j = (i + 3) % rows.count, k = (i + 1) % rows.count  // j: same class, k: another
            func array(_ f: [Double]) -> String { "[" + f.map { String($0) }.joined(separator: ",") + "]" }
            pairs += "{\"a\": \(array(rows[i].features)), \"b\": \(array(rows[j].features)), \"label\": 1}\n"
            pairs += "{\"a\": \(array(rows[i].features)), \"b\": \(array(rows[k].features)), \"label\": 0}\n"
            triplets += "{\"anchor\": \(array(rows[i].features)), \"positive\": \(array(rows[j].features)), \"negative\": \(array(rows[k].features))}\n"
        }
        try pairs.write(to: dir.file("pairs.jsonl"), atomically: true, encoding: .utf8)
        try triplets.write(to: dir.file("triplets.jsonl"), atomically: true, encoding: .utf8)
        for (file, loss) in [("pairs.jsonl", "contrastive"), ("triplets.jsonl", "triplet")] {
            let out = dir.file("m-\(loss)").path
            let r = try SiameseExecutable.run(["train", "--data", dir.file(file).path, "--validation-split", "0.25", "--loss", loss,
                                               "--epochs", "2", "--batch-size", "16", "--keep-best", "--output", out, "--format", "jsonl"])
            #expect(r.status == 0, "\(file): \(r.stderr)")
            let summary = try Self.json(r.stdout)
            let aucs = try #require(summary["validation"] as? [[String: Double]], "\(r.stdout)").map { $0["auc"] ?? .nan }
            #expect(aucs.count == 2 && aucs.allSatisfy { $0 >= 0 && $0 <= 1 })
            // --keep-best keeps the epoch with the highest validation AUC (the first of ties).
            #expect(summary["best_epoch"] as? Int == aucs.firstIndex(of: aucs.max()!)! + 1, "\(r.stdout)")
            let calibration = try #require(summary["calibration"] as? [String: Any], "\(r.stdout)")
            // 25 % of 120 pairs, or of 60 triplets (two pairs each).
            #expect(calibration["pairs"] as? Int == 30, "\(file)")
            #expect(FileManager.default.fileExists(atPath: out + "/calibration.json"))
        }
    }

    @Test func calibrateScoresPairsWithTheModelInOneCommand() throws {
        let dir = try TemporaryFolder()
        try Self.csv(Self.items(60, phase: 0)).write(to: dir.file("train.csv"), atomically: true, encoding: .utf8)
        try Self.pairsCSV(Self.items(20, phase: 0.5)).write(to: dir.file("pairs.csv"), atomically: true, encoding: .utf8)
        let model = dir.file("model").path
        let t = try SiameseExecutable.run(["train", "--data", dir.file("train.csv").path, "--epochs", "2", "--output", model])
        #expect(t.status == 0, "\(t.stderr)")
        #expect(!FileManager.default.fileExists(atPath: model + "/calibration.json"), "no validation data: no calibration")

        let c = try SiameseExecutable.run(["calibrate", "--model", model, "--pairs", dir.file("pairs.csv").path, "--max-f1", "--json"])
        #expect(c.status == 0, "\(c.stderr)")
        let threshold = try #require(try Self.json(c.stdout)["threshold"] as? Double)
        let saved = try Self.json(try String(contentsOfFile: model + "/calibration.json", encoding: .utf8))
        #expect(saved["threshold"] as? Double == threshold)
        #expect(saved["model_fingerprint"] as? String != nil)
        // The same as scoring first, then calibrating the scores.
        let s = try SiameseExecutable.run(["score", "--model", model, "--pairs", dir.file("pairs.csv").path, "--label-column", "label",
                                           "--output", dir.file("s.csv").path])
        #expect(s.status == 0, "\(s.stderr)")
        let reference = try SiameseExecutable.run(["calibrate", "--scores", dir.file("s.csv").path, "--max-f1", "--json"])
        #expect(try Self.json(reference.stdout)["threshold"] as? Double == threshold)

        for (arguments, message) in [
            (["calibrate", "--pairs", dir.file("pairs.csv").path, "--eer"], "--pairs is scored by a model: give --model"),
            (["calibrate", "--model", model, "--eer"], "give --scores FILE.csv (scored pairs) or --pairs FILE with --model"),
            (["calibrate", "--model", model, "--pairs", dir.file("pairs.csv").path, "--scores", dir.file("s.csv").path, "--eer"], "one of them"),
            (["calibrate", "--model", model, "--pairs", dir.file("pairs.csv").path, "--lower-is-same", "--eer"], "drop --higher-is-same / --lower-is-same"),
            (["evaluate", "--eer"], "give the scored pairs with --scores FILE.csv"),
        ] {
            let r = try SiameseExecutable.run(arguments)
            #expect(r.status != 0, "\(arguments)")
            #expect(r.stderr.contains(message), "\(arguments): \(r.stderr)")
        }
    }

    @Test func epochMetricsGoToTheLogFile() throws {
        let dir = try TemporaryFolder()
        try Self.csv(Self.items(60, phase: 0)).write(to: dir.file("d.csv"), atomically: true, encoding: .utf8)
        let r = try SiameseExecutable.run(["train", "--data", dir.file("d.csv").path, "--validation-split", "0.3", "--epochs", "3",
                                           "--output", dir.file("m").path, "--log", dir.file("log.jsonl").path, "--format", "jsonl"])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try Self.json(r.stdout)
        #expect(r.stdout.contains("\"output\":\"\(dir.file("m").path)\""), "JSON keeps slashes unescaped: \(r.stdout)")
        let losses = try #require(summary["epoch_losses"] as? [Double])
        let aucs = try #require(summary["validation"] as? [[String: Double]]).map { $0["auc"] ?? .nan }
        let rows = try String(contentsOf: dir.file("log.jsonl"), encoding: .utf8).split(separator: "\n").map { try Self.json(String($0)) }
        #expect(rows.count == 3)
        for (e, row) in rows.enumerated() {
            #expect(row["epoch"] as? Int == e + 1)
            #expect(abs((row["loss"] as? Double ?? .nan) - losses[e]) < 1e-9, "\(row)")
            #expect(abs((row["val_auc"] as? Double ?? .nan) - aucs[e]) < 1e-9, "\(row)")
        }
        let bad = try SiameseExecutable.run(["train", "--data", dir.file("d.csv").path, "--epochs", "1", "--output", dir.file("m2").path, "--log", dir.file("log.txt").path])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("the file must end in .csv or .jsonl"), "\(bad.stderr)")
    }

    @Test func classLearningRateScaleIsForClassVectorLosses() throws {
        let other = try SiameseExecutable.run(["train", "--data", "/nonexistent.csv", "--output", "/tmp/x", "--class-learning-rate-scale", "10"])
        #expect(other.status == 2 && other.stderr.contains("--class-learning-rate-scale applies to --loss arcface, cosface and proxy-anchor"), "\(other.stderr)")
        let zero = try SiameseExecutable.run(["train", "--data", "/nonexistent.csv", "--output", "/tmp/x", "--loss", "proxy-anchor",
                                              "--class-learning-rate-scale", "0"])
        #expect(zero.status == 2 && zero.stderr.contains("must be a positive number"), "\(zero.stderr)")
    }

    @Test func keepBestAndPatienceNeedValidationData() throws {
        let r = try SiameseExecutable.run(["finetune", "--model", "/nonexistent", "--data", "/nonexistent.jsonl", "--output", "/tmp/x", "--keep-best"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--keep-best and --patience need --validation PAIRS"), "\(r.stderr)")
    }
}

/// A fresh folder under the temporary directory, removed when the value goes.
final class TemporaryFolder {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    /// A path inside the folder.
    func file(_ name: String) -> URL { url.appendingPathComponent(name) }
    deinit { try? FileManager.default.removeItem(at: url) }
}
