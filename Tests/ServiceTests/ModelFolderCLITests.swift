import Foundation
import Testing

/// The command line against stale, changed or crafted inputs (issue 12, findings 3, 4, 5, 10):
/// every case ends with a clear error or the right answer, never a signal or an inverted decision.
@Suite("Model folders and inputs on the command line", .enabled(if: SiameseExecutable.url != nil, "the siamese executable was not built"))
struct ModelFolderCLITests {
    final class Folder {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-hard-\(UUID().uuidString)")
        init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(at: url) }
        func path(_ name: String) -> String { url.appendingPathComponent(name).path }
        @discardableResult
        func write(_ name: String, _ text: String) throws -> String {
            try Data(text.utf8).write(to: url.appendingPathComponent(name))
            return path(name)
        }
    }

    /// Runs the binary in `directory` (for messages about relative paths).
    static func run(_ arguments: [String], in directory: URL) throws -> (status: Int32, stdout: String, stderr: String) {
        try SiameseExecutable.run(arguments, in: directory)
    }

    static func labelledCSV(shift: Double) -> String {
        var csv = "f0,f1,f2,label\n"
        for i in 0..<36 { csv += "\(sin(Double(i)) + shift),\(cos(Double(i) * 0.7)),\(Double(i % 3) * 2),\(i % 3)\n" }
        return csv
    }

    static let train = ["train", "--label-column", "label", "--layers", "3,8", "--dim", "4", "--epochs", "2", "--batch-size", "8"]

    /// Finding 3: a folder trained again (here from a distance, lower = same, to a cosine, higher
    /// = same) must not keep the old threshold: identical inputs are "same" or refused, never "different".
    @Test func trainingAgainNeverInvertsVerify() throws {
        let f = try Folder()
        let data = try f.write("d.csv", Self.labelledCSV(shift: 0))
        let model = f.path("model")
        var r = try SiameseExecutable.run(Self.train + ["--data", data, "--distance", "euclidean", "--output", model])
        #expect(r.status == 0, "\(r.stderr)")
        // A distance calibration: lower is same, threshold 0.5.
        var scores = "score,label\n"
        for i in 0..<20 { scores += "\(Double(i) * 0.05),1\n\(0.6 + Double(i) * 0.05),0\n" }
        let scoreFile = try f.write("s.csv", scores)
        r = try SiameseExecutable.run(["calibrate", "--scores", scoreFile, "--lower-is-same", "--eer", "--model", model, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let record = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect((record["model_fingerprint"] as? String)?.count == 64, "calibrate names the weights it was made for")
        let staleCalibration = try Data(contentsOf: URL(fileURLWithPath: model).appendingPathComponent("calibration.json"))
        let same = ["verify", "--model", model, "--a", "[0.1, 0.2, 0.3]", "--b", "[0.1, 0.2, 0.3]", "--format", "json"]
        r = try SiameseExecutable.run(same)
        #expect(r.status == 0 && r.stdout.contains(#""decision":"same""#), "\(r.stdout) \(r.stderr)")

        // Train again, cosine this time: the calibration goes with the old weights.
        r = try SiameseExecutable.run(Self.train + ["--data", data, "--distance", "cosine", "--output", model, "--no-resume"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: URL(fileURLWithPath: model).appendingPathComponent("calibration.json").path))
        r = try SiameseExecutable.run(same)
        #expect(r.status == 1 && r.stderr.contains("no calibrated threshold"), "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("siamese calibrate --model \(model) --pairs PAIRS.csv --eer"), "the fix is named: \(r.stderr)")
        #expect(!r.stdout.contains("different"))

        // The old calibration copied back in: refused with a warning, still never "different".
        try staleCalibration.write(to: URL(fileURLWithPath: model).appendingPathComponent("calibration.json"))
        r = try SiameseExecutable.run(same)
        #expect(r.status == 1 && r.stderr.contains("ignored: made for weights") && r.stderr.contains("no calibrated threshold for these weights"),
                "\(r.stdout) \(r.stderr)")
        #expect(!r.stdout.contains("different"))
        r = try SiameseExecutable.run(["evaluate", "--scores", scoreFile, "--model", model])
        #expect(r.status == 1 && r.stderr.contains("calibration.json: model_fingerprint: ignored: made for weights"), "\(r.stdout) \(r.stderr)")
    }

    /// Finding 4: the same output folder with other data used to resume the old run ("0 steps
    /// this run", exit 0, old weights).
    @Test func resumeAfterTheDataChangedIsRefused() throws {
        let f = try Folder()
        let a = try f.write("a.csv", Self.labelledCSV(shift: 0)), b = try f.write("b.csv", Self.labelledCSV(shift: 5))
        let model = f.path("model")
        var r = try SiameseExecutable.run(Self.train + ["--data", a, "--output", model])
        #expect(r.status == 0, "\(r.stderr)")
        r = try SiameseExecutable.run(Self.train + ["--data", b, "--output", model])
        #expect(r.status == 1 && r.stderr.contains("other training data or setup") && r.stderr.contains("--no-resume"), "\(r.stderr)")
        r = try SiameseExecutable.run(Self.train + ["--data", b, "--output", model, "--no-resume", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect((summary["steps_this_run"] as? Int ?? 0) > 0)
        // The same data again: the finished run is resumed, nothing left to do.
        r = try SiameseExecutable.run(Self.train + ["--data", b, "--output", model, "--format", "jsonl"])
        #expect(r.status == 0 && r.stdout.contains(#""steps_this_run":0"#), "\(r.stdout) \(r.stderr)")
    }

    /// Finding 5a: a header naming a column twice.
    @Test func duplicateColumnsAreRefusedByTrain() throws {
        let f = try Folder()
        let data = try f.write("dup.csv", "x,x,label\n" + (0..<20).map { "\($0),\($0 * 2),\($0 % 2)" }.joined(separator: "\n") + "\n")
        let r = try SiameseExecutable.run(Self.train + ["--data", data, "--layers", "2,8", "--output", f.path("m")])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("\(data):1: x: the header names this column twice"), "\(r.stderr)")
    }

    /// Finding 5b: finite scores whose span overflows a Double.
    @Test func hugeScoresGiveAnErrorNotASignal() throws {
        let f = try Folder()
        let scores = try f.write("huge.csv", "score,label\n-1e308,0\n1e308,1\n-1e308,0\n1e308,1\n")
        for command in [["evaluate", "--scores", scores], ["report", "--scores", scores, "--output", f.path("r.html")]] {
            let r = try SiameseExecutable.run(command)
            #expect(r.status == 1, "\(command[0]): \(r.stderr)")
            #expect(r.stderr.contains("\(scores): the scores span -1e+308 to 1e+308, a range wider than a Double can hold"), "\(command[0]): \(r.stderr)")
        }
    }

    /// Finding 5c and 10: a 128-byte `.npy` of shape (0, 10^17) and a dimension above 65,536
    /// fail at build time, and a good index file is never replaced by one no reader accepts.
    @Test func indexBuildRefusesImpossibleDimensions() throws {
        let f = try Folder()
        let good = f.path("g.idx")
        try writeNPY([1, 2, 3, 4], rows: 2, cols: 2, to: f.url.appendingPathComponent("ok.npy"))
        var r = try SiameseExecutable.run(["index", "build", "--vectors", f.path("ok.npy"), "--output", good])
        #expect(r.status == 0, "\(r.stderr)")
        let before = try Data(contentsOf: URL(fileURLWithPath: good))
        try writeNPY([], rows: 0, cols: 100_000_000_000_000_000, to: f.url.appendingPathComponent("huge.npy"))
        try writeNPY([Float](repeating: 0.5, count: 70_000), rows: 1, cols: 70_000, to: f.url.appendingPathComponent("wide.npy"))
        for (name, components) in [("huge.npy", "100000000000000000"), ("wide.npy", "70000")] {
            for kind in [["--hnsw"], [], ["--quantize", "int8"]] {
                r = try SiameseExecutable.run(["index", "build", "--vectors", f.path(name), "--output", good] + kind)
                #expect(r.status == 1, "\(name) \(kind): \(r.stderr)")
                #expect(r.stderr == "error: \(f.path(name)): vectors have \(components) components; an index holds at most 65536\n", "\(r.stderr)")
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: good)) == before)
    }

    /// Finding 5d: a crafted `siamese.json` is refused naming the field, by verify and embed.
    @Test func craftedModelConfigurationIsRefused() throws {
        let f = try Folder()
        let model = f.path("model")
        var r = try SiameseExecutable.run(Self.train + ["--data", try f.write("d.csv", Self.labelledCSV(shift: 0)), "--output", model])
        #expect(r.status == 0, "\(r.stderr)")
        let config = URL(fileURLWithPath: model).appendingPathComponent("siamese.json")
        let original = try String(contentsOf: config, encoding: .utf8)
        let crafted: [(String, String, String)] = [
            (#""dropout" : 0"#, #""dropout" : 1.5"#, "field encoder.dropout"),
            (#""embeddingDimension" : 4"#, #""embeddingDimension" : -4"#, "field encoder.embeddingDimension"),
            (#""embeddingDimension" : 4"#, #""embeddingDimension" : 1000000"#, "field encoder: describes"),
        ]
        for (from, to, message) in crafted {
            #expect(original.contains(from), "\(original)")
            try Data(original.replacingOccurrences(of: from, with: to).utf8).write(to: config)
            r = try SiameseExecutable.run(["verify", "--model", model, "--a", "[1,2,3]", "--b", "[1,2,3]", "--threshold", "0.5"])
            #expect(r.status == 1 && r.stderr.contains("\(config.path): \(message)"), "\(to): \(r.stderr)")
        }
    }

    /// Finding 10: an error about a relative path printed it twice ("x.npy: /dir/x.npy: …").
    @Test func errorsNameTheFileOnce() throws {
        let f = try Folder()
        try Data([0x93] + Array("NUMPY".utf8) + [1, 0]).write(to: f.url.appendingPathComponent("bad.npy"))
        var r = try Self.run(["index", "build", "--vectors", "bad.npy", "--output", "g.idx"], in: f.url)
        #expect(r.status == 1)
        #expect(r.stderr == "error: bad.npy: truncated .npy file: it ends inside the header length\n", "\(r.stderr)")
        try f.write("s.csv", "score,label\n0.1,0\n0.9,1\n")
        r = try Self.run(["evaluate", "--scores", "s.csv", "--json", "missing/m.json"], in: f.url)
        #expect(r.status == 1)
        #expect(r.stderr == "error: missing/m.json: cannot write: open failed: No such file or directory\n", "\(r.stderr)")
    }
}
