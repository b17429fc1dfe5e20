import Foundation
import Testing

/// `train --loss multi-similarity | circle | supcon | arcface | cosface | proxy-anchor` (issue 16,
/// "losses users expect"): each trains two epochs on a small labelled CSV through the binary, exits 0 and reports finite epoch losses;
/// `--help` lists them; flags that do not apply (--miner, --distance, --margin) are refused with a message.
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
        let margin = try SiameseExecutable.run(["train", "--data", data.path, "--layers", "3,16", "--loss", "arcface", "--margin", "0.5",
                                                "--output", dir.file("m").path])
        #expect(margin.status != 0)
        #expect(margin.stderr.contains("--margin applies to the contrastive and triplet losses; --loss arcface"), "\(margin.stderr)")
    }
}
