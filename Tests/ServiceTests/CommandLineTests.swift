import Foundation
import Testing

/// The `siamese` executable, built next to the test runner by `swift test`.
enum SiameseExecutable {
    static let url: URL? = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("siamese")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }()

    static func run(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        guard let url else { throw CocoaError(.fileNoSuchFile) }
        process.executableURL = url
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        // stderr goes to a file, so that neither stream can fill a pipe and stall the child.
        let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errFile) }
        let out = Pipe(), err = try FileHandle(forWritingTo: errFile)
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try err.close()
        let e = (try? Data(contentsOf: errFile)) ?? Data()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}

/// A float32 `.npy` file (format 1.0), written here independently of the NPY module.
func writeNPY(_ values: [Float], rows: Int, cols: Int, to url: URL) throws {
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(cols)), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    var data = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0])
    let length = UInt16(header.utf8.count)
    data += Data([UInt8(length & 0xff), UInt8(length >> 8)]) + Data(header.utf8)
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data += Data($0) } }
    try data.write(to: url)
}

@Suite("The siamese command line", .enabled(if: SiameseExecutable.url != nil, "the siamese executable was not built"))
struct CommandLineTests {
    /// Every subcommand of the issue, and whether it prints results (and so takes --format).
    static let commands: [(path: [String], printsResults: Bool)] = [
        (["demo"], false), (["train"], true), (["embed"], true), (["verify"], true), (["evaluate"], true), (["calibrate"], true),
        (["report"], true), (["index", "build"], true), (["index", "add"], true), (["index", "remove"], true), (["index", "compact"], true),
        (["index", "info"], true), (["search"], true), (["dedupe"], true), (["cluster"], true), (["serve"], false),
        (["evaluate-retrieval"], true), (["score"], true), (["store", "import"], true), (["store", "export"], true),
        (["store", "stats"], true),
    ]

    @Test func everySubcommandHasHelpWithAnExampleAndFormat() throws {
        for (path, printsResults) in Self.commands {
            let r = try SiameseExecutable.run(path + ["--help"])
            let name = path.joined(separator: " ")
            #expect(r.status == 0, "\(name) --help")
            #expect(r.stdout.contains("Example"), "\(name) --help shows no example")
            #expect(r.stdout.contains("siamese \(name)"), "\(name) --help: the example should run the command itself")
            if printsResults {
                #expect(r.stdout.contains("--format"), "\(name) prints results but has no --format")
                #expect(r.stdout.contains("jsonl"), "\(name): --format should offer jsonl")
            }
        }
    }

    @Test func exitCodesAreZeroOneTwo() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // Usage errors: 2, with the message on stderr.
        let usage: [[String]] = [
            ["no-such-command"], ["verify"], ["search", "--index", "x", "--queries", "q.npy", "--k", "0"],
            ["serve", "--port", "70000"], ["serve", "--log-format", "xml"], ["index", "build", "--vectors", "x.npy", "--output", "y", "--format", "yaml"],
        ]
        for args in usage {
            let r = try SiameseExecutable.run(args)
            #expect(r.status == 2, "\(args): status \(r.status), stderr \(r.stderr)")
            #expect(!r.stderr.isEmpty && r.stdout.isEmpty, "\(args)")
        }
        // --threads: one option group checks it for every command that takes it.
        for (args, bad) in [(["search", "--index", "x", "--queries", "q.npy"], "0"), (["dedupe", "--vectors", "x.npy", "--threshold", "0.9", "--output", "p.jsonl"], "5000"),
                            (["verify", "--model", "m", "--a", "a", "--b", "b"], "2000"), (["demo"], "0")] {
            let r = try SiameseExecutable.run(args + ["--threads", bad])
            #expect(r.status == 2 && r.stderr.contains("--threads must be between 1 and 1024 (got \(bad))"), "\(args): \(r.status) \(r.stderr)")
        }
        let port = try SiameseExecutable.run(["serve"], environment: ["SIAMESE_PORT": "many"])
        #expect(port.status == 2 && port.stderr.contains("SIAMESE_PORT"), "\(port.stderr)")
        // Failures with the inputs: 1, naming the file.
        let missing = folder.appendingPathComponent("missing.idx").path
        let r = try SiameseExecutable.run(["index", "info", "--index", missing])
        #expect(r.status == 1)
        #expect(r.stderr.contains(missing))
    }

    /// --format json and jsonl print parseable results that agree with the text and with a brute
    /// force computed here.
    @Test func trainPrintsItsSummaryInEachFormat() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var csv = "f0,f1,f2,label\n"
        for i in 0..<24 { csv += "\(sin(Double(i))),\(cos(Double(i) * 0.7)),\(Double(i % 3)),\(i % 3)\n" }
        let data = folder.appendingPathComponent("d.csv")
        try csv.write(to: data, atomically: true, encoding: .utf8)
        let base = ["train", "--data", data.path, "--label-column", "label", "--layers", "3,8", "--dim", "4", "--epochs", "2",
                    "--batch-size", "8", "--no-resume"]
        for format in ["json", "jsonl"] {
            let out = folder.appendingPathComponent("m-\(format)").path
            let r = try SiameseExecutable.run(base + ["--output", out, "--format", format])
            #expect(r.status == 0, "\(r.stderr)")
            // json is one pretty document, jsonl one line; both parse to the same summary.
            #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).contains("\n") == (format == "json"), "\(format): \(r.stdout)")
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            #expect((summary["steps"] as? Int ?? 0) > 0 && summary["output"] as? String == out)
            #expect((summary["epoch_losses"] as? [Double])?.count == 2)
        }
        let text = try SiameseExecutable.run(base + ["--output", folder.appendingPathComponent("m-text").path])
        #expect(text.status == 0 && text.stdout.contains("steps/s:"), "\(text.stderr)")
    }

    @Test func formatsPrintParseableResults() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (rows, cols) = (40, 6)
        let values = (0..<(rows * cols)).map { Float(sin(Double($0) * 1.7 + 0.3)) }
        let x = folder.appendingPathComponent("x.npy"), q = folder.appendingPathComponent("q.npy")
        try writeNPY(values, rows: rows, cols: cols, to: x)
        try writeNPY(Array(values[(5 * cols)..<(8 * cols)]), rows: 3, cols: cols, to: q)
        let index = folder.appendingPathComponent("x.flat").path

        let build = try SiameseExecutable.run(["index", "build", "--vectors", x.path, "--output", index, "--format", "json"])
        #expect(build.status == 0, "\(build.stderr)")
        let built = try #require(try JSONSerialization.jsonObject(with: Data(build.stdout.utf8)) as? [String: Any])
        #expect(built["vectors"] as? Int == rows && built["dimension"] as? Int == cols && built["kind"] as? String == "exact")

        // Reference: cosine similarities computed here; queries are rows 5, 6, 7.
        func cosine(_ i: Int, _ j: Int) -> Double {
            var d = 0.0, a = 0.0, b = 0.0
            for c in 0..<cols {
                let u = Double(values[i * cols + c]), v = Double(values[j * cols + c])
                d += u * v; a += u * u; b += v * v
            }
            return d / (a * b).squareRoot()
        }
        let expected = (5...7).map { qi in (0..<rows).sorted { cosine(qi, $0) > cosine(qi, $1) }.prefix(3).map { $0 } }

        let lines = try SiameseExecutable.run(["search", "--index", index, "--queries", q.path, "--k", "3", "--format", "jsonl"])
        #expect(lines.status == 0, "\(lines.stderr)")
        let records = lines.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(records.count == 3)
        #expect(records.map { ($0["ids"] as? [Int]) ?? [] } == expected)

        let document = try SiameseExecutable.run(["search", "--index", index, "--queries", q.path, "--k", "3", "--format", "json"])
        let array = try #require(try JSONSerialization.jsonObject(with: Data(document.stdout.utf8)) as? [[String: Any]])
        #expect(array.map { ($0["ids"] as? [Int]) ?? [] } == expected)

        let text = try SiameseExecutable.run(["search", "--index", index, "--queries", q.path, "--k", "3"])
        #expect(text.stdout.split(separator: "\n").count == 3 && text.stdout.hasPrefix("query 0: \(expected[0][0]) ("))

        // Defaults from the environment and the config file: flags > SIAMESE_SEARCH_K > file > default.
        func hits(_ extra: [String], _ environment: [String: String]) throws -> [Int] {
            let r = try SiameseExecutable.run(["search", "--index", index, "--queries", q.path, "--format", "jsonl"] + extra, environment: environment)
            #expect(r.status == 0, "\(r.stderr)")
            return r.stdout.split(separator: "\n").map { line in
                ((try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["ids"] as? [Int])?.count ?? -1
            }
        }
        let config = folder.appendingPathComponent("config.json")
        try Data(#"{"search": {"k": 4}, "port": 9000}"#.utf8).write(to: config)
        #expect(try hits([], ["SIAMESE_CONFIG": config.path]) == [4, 4, 4])
        #expect(try hits([], ["SIAMESE_CONFIG": config.path, "SIAMESE_SEARCH_K": "2"]) == [2, 2, 2])
        #expect(try hits(["--k", "1"], ["SIAMESE_CONFIG": config.path, "SIAMESE_SEARCH_K": "2"]) == [1, 1, 1])
        #expect(try hits(["--k=5"], ["SIAMESE_SEARCH_K": "2"]) == [5, 5, 5])
        // Unrelated variables are not options; a flag from the environment takes true/false.
        #expect(try hits([], ["SIAMESE_SEARCH_NOPE": "1", "SIAMESE_THREADS": "1"]) == [10, 10, 10].map { min($0, rows) })
        let json = try SiameseExecutable.run(["search", "--index", index, "--queries", q.path], environment: ["SIAMESE_SEARCH_JSON": "true"])
        #expect(json.stdout.split(separator: "\n").count == 3 && json.stdout.hasPrefix("{\"query\":0"))
        let flag = try SiameseExecutable.run(["search", "--index", index, "--queries", q.path], environment: ["SIAMESE_SEARCH_JSON": "maybe"])
        #expect(flag.status == 2 && flag.stderr.contains("SIAMESE_SEARCH_JSON"))
        try Data(#"{"search": {"kk": 4}}"#.utf8).write(to: config)
        let unknown = try SiameseExecutable.run(["search", "--index", index, "--queries", q.path], environment: ["SIAMESE_CONFIG": config.path])
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown option 'kk'") && unknown.stderr.contains(config.path))

        let info = try SiameseExecutable.run(["index", "info", "--index", index, "--format", "jsonl"])
        let infoObject = try #require(try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
        #expect(infoObject["count"] as? Int == rows && infoObject["metric"] as? String == "cosine")
    }
}
