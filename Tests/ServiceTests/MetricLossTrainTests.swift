import Foundation
import Testing

/// `train --loss multi-similarity | circle | supcon | arcface | cosface | proxy-anchor` (issue 16,
/// "losses users expect"): each trains two epochs on a small labelled CSV through the binary, exits 0 and reports finite epoch losses;
/// `--help` lists them; their settings (--margin, --loss-scale, --loss-temperature, --loss-alpha, --loss-beta, --loss-base)
/// reach the loss; flags that do not apply (--miner, --distance, a setting the loss does not read) are refused with a message.
@Suite("train with the pytorch-metric-learning losses") struct MetricLossTrainTests {
    static let configurations: [[String]] = [["--loss", "multi-similarity"], ["--loss", "multi-similarity", "--miner", "multi-similarity"],
                                             ["--loss", "circle"], ["--loss", "supcon"], ["--loss", "arcface"], ["--loss", "cosface"],
                                             ["--loss", "proxy-anchor"]]

    @Test("two epochs exit 0 with finite, positive losses", arguments: configurations)
    func trains(_ flags: [String]) throws {
        let dir = try TemporaryFolder()
        let data = dir.file("train.csv")
        try TrainCalibrationTests.csv(TrainCalibrationTests.items(60, phase: 0)).write(to: data, atomically: true, encoding: .utf8)
        let model = dir.file("model").path
        let r = try SiameseExecutable.run(["train", "--data", data.path, "--layers", "3,16", "--dim", "8", "--epochs", "2",
                                           "--batch-size", "12", "--output", model, "--format", "jsonl"] + flags)
        #expect(r.status == 0, "\(flags): \(r.stderr)")
        let summary = try TrainCalibrationTests.json(r.stdout)
        let losses = try #require(summary["epoch_losses"] as? [Double], "\(r.stdout)")
        #expect(losses.count == 2)
        #expect(losses.allSatisfy { $0.isFinite && $0 > 0 }, "\(flags): \(losses)")
        #expect(FileManager.default.fileExists(atPath: model + "/model.safetensors"))
    }

    @Test("--help lists the losses; a miner, distance or margin that does not apply is refused")
    func helpAndMisuse() throws {
        let help = try SiameseExecutable.run(["train", "--help"])
        #expect(help.status == 0)
        for name in ["multi-similarity", "circle", "supcon", "arcface", "cosface", "proxy-anchor"] { #expect(help.stdout.contains(name), "train --help does not mention \(name)") }
        let dir = try TemporaryFolder()
        let data = dir.file("train.csv")
        try TrainCalibrationTests.csv(TrainCalibrationTests.items(30, phase: 0)).write(to: data, atomically: true, encoding: .utf8)
        let miner = try SiameseExecutable.run(["train", "--data", data.path, "--layers", "3,16", "--loss", "circle", "--miner", "batch-hard",
                                               "--output", dir.file("m").path])
        #expect(miner.status != 0)
        #expect(miner.stderr.contains("--miner batch-hard does not apply to --loss circle"), "\(miner.stderr)")
        let distance = try SiameseExecutable.run(["train", "--data", data.path, "--layers", "3,16", "--loss", "supcon", "--distance", "euclidean",
                                                  "--output", dir.file("m").path])
        #expect(distance.status != 0)
        #expect(distance.stderr.contains("--loss supcon compares by cosine similarity"), "\(distance.stderr)")
        let margin = try SiameseExecutable.run(["train", "--data", data.path, "--layers", "3,16", "--loss", "supcon", "--margin", "0.5",
                                                "--output", dir.file("m").path])
        #expect(margin.status != 0)
        #expect(margin.stderr.contains("--margin does not apply to --loss supcon, which reads --loss-temperature (temperature, default 0.1)"), "\(margin.stderr)")
        for (flags, message) in [
            (["--loss", "arcface", "--loss-alpha", "2"], "--loss-alpha does not apply to --loss arcface, which reads --margin (angular margin in degrees, default 28.6), --loss-scale (scale, default 64)"),
            (["--loss", "contrastive", "--loss-scale", "10"], "--loss-scale does not apply to --loss contrastive, which reads --margin (margin, default 0.5)"),
            (["--loss", "bce", "--margin", "0.2"], "--margin does not apply to --loss bce, which takes none of these settings"),
            (["--loss", "supcon", "--loss-temperature", "0"], "--loss-temperature must be positive, got 0.0"),
        ] {
            let r = try SiameseExecutable.run(["train", "--data", data.path, "--layers", "3,16", "--output", dir.file("m").path] + flags)
            #expect(r.status != 0, "\(flags)")
            #expect(r.stderr.contains(message), "\(flags): \(r.stderr)")
        }
    }

    /// Each setting reaches its loss: the first epoch's loss changes with it (same seed, same data).
    @Test("--margin, --loss-scale, --loss-temperature, --loss-alpha, --loss-beta and --loss-base change the loss",
          arguments: [(["--loss", "arcface"], ["--margin", "10"]), (["--loss", "cosface"], ["--loss-scale", "16"]),
                      (["--loss", "circle"], ["--margin", "0.25"]), (["--loss", "supcon"], ["--loss-temperature", "0.5"]),
                      (["--loss", "multi-similarity"], ["--loss-alpha", "4", "--loss-beta", "20", "--loss-base", "0.3"]),
                      (["--loss", "proxy-anchor"], ["--loss-alpha", "8"]), (["--loss", "mnrl"], ["--loss-scale", "5"])])
    func settingsReachTheLoss(_ loss: [String], _ setting: [String]) throws {
        let dir = try TemporaryFolder()
        let data = dir.file("train.csv")
        try TrainCalibrationTests.csv(TrainCalibrationTests.items(36, phase: 0)).write(to: data, atomically: true, encoding: .utf8)
        func firstLoss(_ extra: [String], _ name: String) throws -> Double {
            let r = try SiameseExecutable.run(["train", "--data", data.path, "--layers", "3,16", "--dim", "8", "--epochs", "1",
                                               "--batch-size", "12", "--output", dir.file(name).path, "--format", "jsonl"] + loss + extra)
            #expect(r.status == 0, "\(loss + extra): \(r.stderr)")
            return try #require(try TrainCalibrationTests.json(r.stdout)["epoch_losses"] as? [Double]).first ?? .nan
        }
        let plain = try firstLoss([], "a"), changed = try firstLoss(setting, "b")
        #expect(plain.isFinite && changed.isFinite)
        #expect(plain != changed, "\(loss + setting): the loss did not change (\(plain))")
    }
}
