import Foundation
import Testing

/// The `siamese` executable that `swift test` builds next to the test bundle.
enum CLIBinary {
    static let url: URL? = {
        var dir = Bundle.module.bundleURL.deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("siamese")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }()

    struct Result { let status: Int32, stdout: String, stderr: String }

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

/// Files for one test, in a fresh folder removed at the end.
final class Scratch {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String { try write(name, Data(text.utf8)) }

    @discardableResult
    func write(_ name: String, _ data: Data) throws -> String {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: file)
        return file.path
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

/// A float32 `.npy` file (format 1.0), written by hand so the test does not trust the NPY module.
func npyFloat32(_ values: [Float], shape: [Int]) -> Data {
    let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(dims), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
    data.append(Data(header.utf8))
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
    return data
}

/// The values of a float32 `.npy` file (format 1.0), read by hand.
func readNPYFloat32(_ path: String) throws -> [Float] {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let start = 10 + Int(bytes[8]) + Int(bytes[9]) << 8
    return stride(from: start, to: bytes.count, by: 4).map { i in
        Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
    }
}

/// Small labelled data: 3 classes × 6 items × 4 features, well separated.
private func labelledRows() -> [(label: Int, values: [Float])] {
    (0..<18).map { i in
        let c = i % 3
        return (c, (0..<4).map { d in Float(d == c ? 2 : 0) + Float((i * 7 + d * 3) % 5) * 0.1 })
    }
}

private func labelledCSV() -> String {
    "f0,f1,f2,f3,label\n" + labelledRows().map { $0.values.map { "\($0)" }.joined(separator: ",") + ",\($0.label)" }.joined(separator: "\n") + "\n"
}

private let quick = ["--epochs", "1", "--batch-size", "6", "--dim", "4", "--seed", "1", "--threads", "1"]

@Suite("siamese train readers, verify and report", .enabled(if: CLIBinary.url != nil, "the siamese executable was not built"))
struct CLIDataTests {
    @Test("every reader is reachable from siamese train and writes a model")
    func readersTrain() throws {
        let s = try Scratch()
        let csv = try s.write("items.csv", labelledCSV())
        let pairs = try s.write("pairs.csv", "a_x,a_y,b_x,b_y,same\n0.1,0.2,0.1,0.3,same\n0.9,0.1,0.0,0.5,different\n0.2,0.2,0.2,0.1,1\n0.8,0.3,0.1,0.9,0\n")
        let jsonlPairs = try s.write("pairs.jsonl", "{\"a\": [0.1, 0.2], \"b\": [0.1, 0.3], \"label\": 1}\n\n{\"a\": [0.9, 0.1], \"b\": [0.0, 0.5], \"label\": 0}\n")
        let jsonlTriplets = try s.write("triplets.jsonl", "{\"anchor\": [0.1, 0.2], \"positive\": [0.2, 0.2], \"negative\": [0.9, -0.4]}\n{\"anchor\": [0.5, 0.1], \"positive\": [0.4, 0.1], \"negative\": [-0.3, 0.8]}\n")
        let rows = labelledRows()
        let npy = try s.write("x.npy", npyFloat32(rows.flatMap(\.values), shape: [18, 4]))
        let npyLabels = try s.write("y.txt", rows.map { "\($0.label)" }.joined(separator: "\n") + "\n")
        // IDX: 9 images of 4×4 bytes, 3 classes.
        var images = Data([0, 0, 8, 3, 0, 0, 0, 9, 0, 0, 0, 4, 0, 0, 0, 4])
        for i in 0..<9 { images.append(contentsOf: (0..<16).map { UInt8(($0 * (i % 3 + 1) * 37) % 256) }) }
        let idxImages = try s.write("train-images-idx3-ubyte", images)
        let idxLabels = try s.write("train-labels-idx1-ubyte", Data([0, 0, 8, 1, 0, 0, 0, 9] + (0..<9).map { UInt8($0 % 3) }))
        for (c, name) in ["cat", "dog"].enumerated() {
            for k in 0..<3 {
                let pixels: [String] = (0..<16).map { (p: Int) -> String in String((p * (c + 2) + k * 9) % 256) }
                try s.write("folder/\(name)/\(k).pgm", "P2\n4 4\n255\n" + pixels.joined(separator: " ") + "\n")
            }
        }
        let runs: [(String, [String])] = [
            ("csv", ["--data", csv, "--layers", "4,8", "--loss", "contrastive"]),
            ("pair csv", ["--data", pairs, "--pairs", "--label-column", "same", "--layers", "2,8", "--loss", "contrastive"]),
            ("jsonl pairs", ["--data", jsonlPairs, "--layers", "2,8", "--loss", "online-contrastive"]),
            ("jsonl triplets", ["--data", jsonlTriplets, "--layers", "2,8", "--loss", "triplet"]),
            ("npy", ["--data", npy, "--labels", npyLabels, "--layers", "4,8", "--loss", "triplet", "--miner", "batch-hard"]),
            ("idx", ["--idx-images", idxImages, "--idx-labels", idxLabels, "--encoder", "cnn", "--loss", "triplet"]),
            ("idx by magic", ["--data", idxImages, "--labels", idxLabels, "--encoder", "cnn", "--image", "4x4", "--loss", "contrastive"]),
            ("image folder", ["--data", s.path("folder"), "--encoder", "cnn", "--loss", "contrastive"]),
        ]
        for (i, (name, arguments)) in runs.enumerated() {
            let output = s.path("model-\(i)")
            let r = try CLIBinary.run(["train"] + arguments + quick + ["--output", output])
            #expect(r.status == 0, "\(name): \(r.stderr)")
            #expect(r.stdout.contains("steps/s"), "\(name): \(r.stdout)")
            #expect(FileManager.default.fileExists(atPath: output + "/siamese.json"), "\(name)")
        }
    }

    @Test("malformed input to each reader fails with status 1 naming the file and line, and writes no model")
    func malformedInputs() throws {
        let s = try Scratch()
        var bad: [(String, [String], String)] = []
        var rows = labelledCSV().split(separator: "\n").map(String.init)
        rows[3] = "0.1,abc,0.3,0.4,1"
        bad.append(("csv", ["--data", try s.write("bad.csv", rows.joined(separator: "\n") + "\n"), "--layers", "4,8"], "bad.csv:4"))
        bad.append(("pair csv", ["--data", try s.write("badpairs.csv", "a_x,b_x,same\n0.1,0.2,same\n0.3,0.4,maybe\n"), "--pairs", "--label-column", "same", "--layers", "1,4"],
                    "badpairs.csv:3"))
        bad.append(("jsonl", ["--data", try s.write("bad.jsonl", "{\"a\": [0.1], \"b\": [0.2], \"label\": 1}\n{\"a\": [0.1, \"b\": [0.2]}\n"), "--layers", "1,4"],
                    "bad.jsonl:2"))
        bad.append(("jsonl triplets", ["--data", try s.write("badt.jsonl", "{\"anchor\": [1], \"positive\": [2], \"negative\": [3]}\n{\"anchor\": [1], \"positive\": [2, 3], \"negative\": [3]}\n"),
                                       "--layers", "1,4", "--loss", "triplet"], "badt.jsonl:2"))
        let npy = try s.write("x.npy", npyFloat32(Array(repeating: 0.5, count: 12), shape: [3, 4]))
        bad.append(("npy labels", ["--data", npy, "--labels", try s.write("labels.txt", "1\n2\n"), "--layers", "4,4"], "labels.txt"))
        bad.append(("npy file", ["--data", try s.write("broken.npy", Data("\u{93}NUMPY garbage".utf8)), "--labels", s.path("labels.txt"), "--layers", "4,4"], "broken.npy"))
        bad.append(("idx", ["--idx-images", try s.write("short-idx3-ubyte", Data([0, 0, 8, 3, 0, 0, 0, 9, 0, 0, 0, 4, 0, 0, 0, 4, 1, 2, 3])),
                            "--idx-labels", try s.write("l-idx1-ubyte", Data([0, 0, 8, 1, 0, 0, 0, 9] + Array(repeating: 0, count: 9))),
                            "--encoder", "cnn"], "short-idx3-ubyte"))
        try s.write("faces/a/1.pgm", "P2\n2 2\n255\n1 2 3 4\n")
        try s.write("faces/a/notes.txt", "not an image")
        bad.append(("image folder", ["--data", s.path("faces"), "--encoder", "cnn"], "notes.txt"))
        for (name, arguments, located) in bad {
            let output = s.path("out-\(name.replacingOccurrences(of: " ", with: "-"))")
            let r = try CLIBinary.run(["train"] + arguments + quick + ["--output", output])
            #expect(r.status == 1, "\(name): status \(r.status), \(r.stderr)")
            #expect(r.stderr.contains(located), "\(name): expected \(located) in: \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output + "/siamese.json"), "\(name) wrote a model")
        }
        // Format mistakes are usage errors.
        let usage = try CLIBinary.run(["train", "--data", npy, "--layers", "4,4", "--output", s.path("u")])
        #expect(usage.status == 2 && usage.stderr.contains("--labels"), "\(usage.stderr)")
    }

    @Test("verify scores two inputs like embed + cosine, decides with --threshold or calibration.json, and fails clearly without either")
    func verify() throws {
        let s = try Scratch()
        let model = s.path("model")
        let t = try CLIBinary.run(["train", "--data", try s.write("items.csv", labelledCSV()), "--layers", "4,8", "--loss", "contrastive"] + quick + ["--output", model])
        #expect(t.status == 0, "\(t.stderr)")
        let a = try s.write("a.csv", "label,f0,f1,f2,f3\n1,2.0,0.1,0.3,0.2\n")
        let b: [Float] = [0.1, 2.2, 0.0, 0.4]
        let bArgument = "[" + b.map { "\($0)" }.joined(separator: ", ") + "]"

        let missing = try CLIBinary.run(["verify", "--model", model, "--a", a, "--b", bArgument])
        #expect(missing.status == 1 && missing.stderr.contains("calibration.json") && missing.stderr.contains("--threshold"), "\(missing.stderr)")

        // The reference: embeddings from `siamese embed`, cosine computed here in Double.
        let both = try s.write("both.csv", "f0,f1,f2,f3\n2.0,0.1,0.3,0.2\n" + b.map { "\($0)" }.joined(separator: ",") + "\n")
        let e = try CLIBinary.run(["embed", "--model", model, "--input", both, "--output", s.path("e.npy")])
        #expect(e.status == 0, "\(e.stderr)")
        let v = try readNPYFloat32(s.path("e.npy")).map(Double.init)
        #expect(v.count == 8)
        var dot = 0.0, normA = 0.0, normB = 0.0
        for k in 0..<4 {
            dot += v[k] * v[4 + k]
            normA += v[k] * v[k]
            normB += v[4 + k] * v[4 + k]
        }
        let reference = dot / (normA * normB).squareRoot()

        let r = try CLIBinary.run(["verify", "--model", model, "--a", a, "--b", bArgument, "--threshold", "0.5", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let score = try #require(object["score"] as? Double)
        #expect(abs(score - reference) < 1e-5, "verify \(score), embed + cosine \(reference)")
        #expect(object["same"] as? Bool == (score >= 0.5) && object["threshold_source"] as? String == "--threshold")

        // The same decision through a calibration saved with the model, with a threshold just above
        // and just below the score: "different" still exits 0.
        for (offset, expected) in [(0.001, "different"), (-0.001, "same")] {
            let scores = try s.write("val.csv", "score,label\n\(score + offset),1\n\(score + offset - 0.5),0\n")
            let c = try CLIBinary.run(["calibrate", "--scores", scores, "--eer", "--model", model])
            #expect(c.status == 0, "\(c.stderr)")
            let text = try CLIBinary.run(["verify", "--model", model, "--a", a, "--b", bArgument])
            #expect(text.status == 0, "\(text.stderr)")
            #expect(text.stdout.contains("decision   \(expected)") && text.stdout.contains("equal error rate") && text.stdout.contains("calibration.json"),
                    "\(text.stdout)")
        }

        let wrong = try CLIBinary.run(["verify", "--model", model, "--a", "[1, 2]", "--b", bArgument])
        #expect(wrong.status == 1 && wrong.stderr.contains("--a") && wrong.stderr.contains("2 values"), "\(wrong.stderr)")
        let twoRows = try CLIBinary.run(["verify", "--model", model, "--a", both, "--b", bArgument])
        #expect(twoRows.status == 1 && twoRows.stderr.contains("both.csv") && twoRows.stderr.contains("2 data rows"), "\(twoRows.stderr)")
        let npy = try s.write("b.npy", npyFloat32(b, shape: [4]))
        let viaNPY = try CLIBinary.run(["verify", "--model", model, "--a", a, "--b", npy, "--format", "json"])
        let npyScore = try #require((try JSONSerialization.jsonObject(with: Data(viaNPY.stdout.utf8)) as? [String: Any])?["score"] as? Double)
        #expect(npyScore == score)
    }

    @Test("report writes an HTML page with plots and the AUC of the scores")
    func report() throws {
        let s = try Scratch()
        let scores: [(Double, Int)] = [(0.9, 1), (0.8, 1), (0.75, 0), (0.7, 1), (0.4, 0), (0.3, 1), (0.2, 0), (0.1, 0)]
        let file = try s.write("scores.csv", "score,label\n" + scores.map { "\($0.0),\($0.1)" }.joined(separator: "\n") + "\n")
        var wins = 0.0, comparisons = 0.0
        for g in scores where g.1 == 1 { for i in scores where i.1 == 0 { wins += g.0 > i.0 ? 1 : 0; comparisons += 1 } }
        let html = s.path("r.html")
        let r = try CLIBinary.run(["report", "--scores", file, "--output", html, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(abs((object["auc"] as? Double ?? -1) - wins / comparisons) < 1e-12)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("<svg") && page.contains("<html"))
        let missing = try CLIBinary.run(["report", "--scores", s.path("nope.csv"), "--output", html])
        #expect(missing.status == 1 && missing.stderr.contains("nope.csv"))
        let usage = try CLIBinary.run(["report", "--scores", file])
        #expect(usage.status == 2)
    }
}
