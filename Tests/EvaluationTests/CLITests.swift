import Foundation
import Testing

/// The `siamese` executable, built next to the test bundle by `swift test`.
enum SiameseBinary {
    static let url: URL? = {
        var dir = Bundle.module.bundleURL.deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("siamese")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }()

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = try #require(url)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}

@Suite("The evaluate, calibrate and evaluate-retrieval commands", .enabled(if: SiameseBinary.url != nil, "the siamese executable was not built"))
struct CLITests {
    @Test("evaluate writes JSON with auc, eer, eer_threshold and per-group far/frr, plus an HTML report")
    func evaluate() throws {
        let dir = try TemporaryDirectory()
        let json = dir.url.appendingPathComponent("m.json").path, html = dir.url.appendingPathComponent("r.html").path
        let r = try SiameseBinary.run(["evaluate", "--scores", try Fixture.url("pairs_continuous.csv").path, "--group-column", "group",
                                       "--json", json, "--report", html])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("AUC") && r.stdout.contains("EER"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let reference = try #require(try Fixture.json("verification_reference.json").object("sets")?.object("continuous"))
        #expect(close(object.double("auc"), reference.double("auc"), 1e-14))
        #expect(close(object.double("eer"), reference.double("eer"), 1e-10))
        #expect(object.double("eer_threshold") == reference.double("eer_threshold"))
        let groups = try #require(object.object("groups"))
        #expect(groups.count == 3 && groups.values.allSatisfy { ($0 as? [String: Any])?.double("far") != nil && ($0 as? [String: Any])?.double("frr") != nil })
        #expect(try String(contentsOfFile: html, encoding: .utf8).contains("<svg"))
    }

    @Test("calibrate stores calibration.json in the model directory and evaluate --model uses it")
    func calibrateThenEvaluate() throws {
        let dir = try TemporaryDirectory()
        let pairs = try Fixture.url("pairs_distance.csv").path
        let c = try SiameseBinary.run(["calibrate", "--scores", pairs, "--lower-is-same", "--target-far", "0.05", "--model", dir.url.path])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(c.stdout.contains("FAR") && c.stdout.contains("FRR") && c.stdout.contains("CI"))
        let record = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.url.appendingPathComponent("calibration.json"))) as? [String: Any])
        let reference = try #require(try Fixture.json("verification_reference.json").object("sets")?.object("distance")?.object("rules")?.object("target_far:0.05"))
        #expect(record.double("threshold") == reference.double("threshold"))
        let json = dir.url.appendingPathComponent("m.json").path
        let e = try SiameseBinary.run(["evaluate", "--scores", pairs, "--model", dir.url.path, "--json", json])
        #expect(e.status == 0, "\(e.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        #expect(object["threshold_source"] as? String == "calibration")
        #expect(object.double("threshold") == reference.double("threshold"))
        let asJSON = try SiameseBinary.run(["calibrate", "--scores", pairs, "--lower-is-same", "--eer", "--json"])
        #expect(asJSON.status == 0)
        #expect((try JSONSerialization.jsonObject(with: Data(asJSON.stdout.utf8)) as? [String: Any])?["rule"] != nil)
    }

    @Test("failures exit 1 with the file, line and field on stderr; usage errors exit with a usage status")
    func failures() throws {
        let dir = try TemporaryDirectory()
        let bad = try dir.file("bad.csv", contents: "score,label\n0.5,1\nabc,0\n")
        let r = try SiameseBinary.run(["evaluate", "--scores", bad.path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("bad.csv:3: score"), "\(r.stderr)")
        let unreachable = try SiameseBinary.run(["calibrate", "--scores", try Fixture.url("pairs_overlap_top.csv").path, "--target-far", "0.001"])
        #expect(unreachable.status == 1 && unreachable.stderr.contains("no threshold meets"))
        #expect(unreachable.stdout.isEmpty)
        let usage = try SiameseBinary.run(["calibrate", "--scores", bad.path, "--eer", "--max-f1"])
        #expect(usage.status == 2, "a usage error exits with 2 (not 1, not a signal): \(usage.status) \(usage.stderr)")
        #expect(!usage.stderr.isEmpty)
    }

    @Test("--min-group-size keeps a one-pair group out of the flag, in evaluate and report")
    func minimumGroupSize() throws {
        let dir = try TemporaryDirectory()
        // 'big': 60 same pairs, all accepted; 'one': a single same pair, rejected (FRR 100 %, whose
        // Wilson interval [0.21, 1] does not overlap big's [0, 0.06]).
        var csv = "score,label,group\n"
        for i in 0..<60 { csv += "0.9,1,big\n0.1,0,big\n" + (i == 0 ? "0.1,1,one\n" : "") }
        let scores = try dir.file("s.csv", contents: csv)
        let flagged = try SiameseBinary.run(["evaluate", "--scores", scores.path, "--group-column", "group", "--threshold", "0.5"])
        #expect(flagged.status == 0, "\(flagged.stderr)")
        #expect(flagged.stdout.contains("FRR gap   100.00% (one vs big): flagged"), "\(flagged.stdout)")
        for command in ["evaluate", "report"] {
            var arguments = [command, "--scores", scores.path, "--group-column", "group", "--threshold", "0.5", "--min-group-size", "5"]
            if command == "report" { arguments += ["--output", dir.url.appendingPathComponent("r.html").path] }
            let r = try SiameseBinary.run(arguments)
            #expect(r.status == 0, "\(command): \(r.stderr)")
            #expect(!r.stdout.contains("flagged"), "\(command): \(r.stdout)")
            #expect(r.stdout.contains("1 with fewer than 5 pairs reported, not compared"), "\(command): \(r.stdout)")
            #expect(r.stdout.contains("one: FAR n/a (0/0), FRR 100.00% (1/1), small: not compared"), "\(command): \(r.stdout)")
        }
    }

    @Test("evaluate-retrieval writes precision_at_1, r_precision and map_at_r")
    func retrieval() throws {
        let dir = try TemporaryDirectory()
        let json = dir.url.appendingPathComponent("r.json").path
        let r = try SiameseBinary.run(["evaluate-retrieval", "--embeddings", try Fixture.url("retrieval_embeddings.npy").path,
                                       "--labels", try Fixture.url("retrieval_labels.txt").path, "--k", "10", "--json", json])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let reference = try #require(try Fixture.json("retrieval_reference.json").object("results")?.object("leave_one_out:k=10"))
        for key in ["precision_at_1", "r_precision", "map_at_r", "mrr_at_k", "ndcg_at_k", "recall_at_k"] {
            #expect(close(object.double(key), reference.double(key)), "\(key)")
        }
    }
}
