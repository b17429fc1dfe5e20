import Foundation
import SafeTensors
import Tensors
import Testing
@testable import TextEncoders

/// Small random BERT folders written by the tests themselves: the loader, the saver and the
/// inference engine on every machine, whether or not the real model is installed.
@Suite struct LoaderTests {
    static let variants: [(String, TinyModel.Options)] = {
        var out: [(String, TinyModel.Options)] = [("mean+normalize", TinyModel.Options())]
        var o = TinyModel.Options(); o.legacyPooling = true; o.normalize = false; out.append(("legacy pooling, no normalize", o))
        o = TinyModel.Options(); o.pooling = ["cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken"]
        out.append(("every pooling mode", o))
        o = TinyModel.Options(); o.pooling = ["cls", "mean"]; o.dense = (12, "torch.nn.modules.activation.Tanh"); out.append(("dense tanh", o))
        o = TinyModel.Options(); o.dense = (16, "torch.nn.modules.linear.Identity"); o.bertPrefix = "bert."; out.append(("bert. prefix, dense identity", o))
        o = TinyModel.Options(); o.layers = 0; out.append(("no layers", o))
        return out
    }()

    /// The engine (packed, no padding) and the differentiable path (padded, masked) agree.
    @Test(arguments: 0..<6)
    func engineMatchesAutodiffPath(_ index: Int) throws {
        let (name, options) = Self.variants[index]
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let model = try SentenceTransformer(folder: try TinyModel.write(to: dir.file("m"), options))
        let fast = rows(model.encode(TinyModel.sentences, batchSize: 3))
        let slow = rows(withoutGradients { model.embed(TinyModel.sentences) })
        #expect(fast.count == TinyModel.sentences.count)
        for (a, b) in zip(fast, slow) {
            #expect(compare(a, b).maxDiff <= 2e-5, "\(name)")
            #expect(a.count == model.dimension)
        }
        if options.normalize {
            for a in fast { #expect(abs(a.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4, "\(name)") }
        }
        let int8 = rows(model.encode(TinyModel.sentences, precision: .int8))
        for (a, b) in zip(fast, int8) { #expect(compare(a, b).cosine > 0.99, "\(name): int8") }
    }

    /// Rows come back in input order whatever the batch size; one sentence alone gives the same
    /// row as inside a batch.
    @Test func orderAndBatchingDoNotChangeResults() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let model = try SentenceTransformer(folder: try TinyModel.write(to: dir.file("m")))
        let all = rows(model.encode(TinyModel.sentences, batchSize: 64))
        for b in [1, 2, 5] { #expect(rows(model.encode(TinyModel.sentences, batchSize: b)) == all) }
        for (i, s) in TinyModel.sentences.enumerated() { #expect(rows(model.encode([s]))[0] == all[i]) }
        #expect(model.encode([]).shape == [0, model.dimension])
    }

    /// A frozen encoder gives the model's embeddings bit for bit (every variant, float32 and
    /// int8) and keeps nothing of the model alive: the model object and its transformer (which holds the
    /// parameters) are freed once only the encoder holds on (the service serves from it, so that the trainable
    /// copy of the weights leaves memory).
    @Test(arguments: 0..<6)
    func frozenEncoderMatchesAndReleasesTheModel(_ index: Int) throws {
        let (name, options) = Self.variants[index]
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let folder = try TinyModel.write(to: dir.file("m"), options)
        weak var released: SentenceTransformer?
        weak var transformer: BertModel?
        let (frozen, int8, expected, expectedInt8): (FrozenTextEncoder, FrozenTextEncoder, [[Float]], [[Float]]) = try {
            let model = try SentenceTransformer(folder: folder)
            released = model
            transformer = model.bert
            return (model.frozen(), model.frozen(precision: .int8), rows(model.encode(TinyModel.sentences, batchSize: 3)),
                    rows(model.encode(TinyModel.sentences, precision: .int8)))
        }()
        #expect(released == nil, "\(name): the model outlived frozen()")
        #expect(transformer == nil, "\(name): the transformer and its parameters outlived frozen()")
        #expect(frozen.dimension == expected[0].count)
        #expect(rows(frozen.encode(TinyModel.sentences, batchSize: 3)) == expected, "\(name)")
        #expect(rows(int8.encode(TinyModel.sentences)) == expectedInt8, "\(name): int8")
    }

    @Test func maxSequenceLengthSources() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var o = TinyModel.Options()
        o.maxSeqLength = 10
        let folder = try TinyModel.write(to: dir.file("m"), o)
        let model = try SentenceTransformer(folder: folder)
        #expect(model.maxSequenceLength == 10)
        let long = String(repeating: "cat ", count: 50)
        #expect(model.tokenize(long).count == 10)
        // Without max_seq_length: the tokenizer's model_max_length, capped by the position table.
        try JSONSerialization.data(withJSONObject: ["do_lower_case": false]).write(to: folder.appendingPathComponent("sentence_bert_config.json"))
        #expect(try SentenceTransformer(folder: folder).maxSequenceLength == 40)
        #expect(try SentenceTransformer(folder: folder).encode([long]).shape == [1, 16])
    }

    /// Saving writes a folder the loader (and the Python library) reads back to the same model.
    @Test func saveAndReload() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var o = TinyModel.Options()
        o.dense = (8, "torch.nn.modules.activation.Tanh")
        let model = try SentenceTransformer(folder: try TinyModel.write(to: dir.file("m"), o))
        let out = dir.file("saved")
        try model.save(to: out)
        let files = try FileManager.default.subpathsOfDirectory(atPath: out.path).sorted()
        for f in ["modules.json", "config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json",
                  "sentence_bert_config.json", "1_Pooling/config.json", "2_Dense/config.json", "2_Dense/model.safetensors",
                  "config_sentence_transformers.json"] {
            #expect(files.contains(f), "\(f) missing from \(files)")
        }
        let saved = try SafeTensorsFile(contentsOf: out.appendingPathComponent("model.safetensors"))
        #expect(saved.metadata["format"] == "pt")
        #expect(saved.contains("encoder.layer.1.attention.self.query.weight") && saved.contains("pooler.dense.weight"))
        let back = try SentenceTransformer(folder: out)
        #expect(rows(back.encode(TinyModel.sentences)) == rows(model.encode(TinyModel.sentences)))
        #expect(back.maxSequenceLength == model.maxSequenceLength)
        // Saving over an existing folder replaces it.
        try back.save(to: out)
        #expect(rows(try SentenceTransformer(folder: out).encode(TinyModel.sentences)) == rows(model.encode(TinyModel.sentences)))
    }

    /// The parameters carry HuggingFace's BERT names, so WeightsIO and checkpoints work.
    @Test func parameterNamesFollowHuggingFace() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let model = try SentenceTransformer(folder: try TinyModel.write(to: dir.file("m")))
        let names = Set(model.namedParameters.map(\.name))
        let expected = Set(TinyModel.tensors(TinyModel.Options()).map(\.0).filter { !$0.hasPrefix("pooler.") })
        #expect(names == expected)
        #expect(Set(model.namedBuffers.map(\.name)) == ["pooler.dense.weight", "pooler.dense.bias"])
    }

    // MARK: Bad folders

    func loadError(_ edit: (URL) throws -> Void, options: TinyModel.Options = TinyModel.Options()) throws -> String {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let folder = try TinyModel.write(to: dir.file("m"), options)
        try edit(folder)
        do {
            _ = try SentenceTransformer(folder: folder)
            return "loaded"
        } catch {
            return error.description
        }
    }

    func modules(_ folder: URL, _ list: [[String: Any]]) throws {
        try JSONSerialization.data(withJSONObject: list).write(to: folder.appendingPathComponent("modules.json"))
    }

    func rewriteWeights(_ folder: URL, _ change: (inout [(String, Tensor)]) -> Void) throws {
        var tensors = TinyModel.tensors(TinyModel.Options())
        change(&tensors)
        var w = SafeTensorsWriter(metadata: ["format": "pt"])
        for (n, t) in tensors { try w.add(n, t) }
        try w.write(to: folder.appendingPathComponent("model.safetensors"))
    }

    @Test func badFoldersThrowClearErrors() throws {
        #expect(try loadError { try FileManager.default.removeItem(at: $0.appendingPathComponent("model.safetensors")) }
            .contains("no model.safetensors"))
        #expect(try loadError { f in
            let url = f.appendingPathComponent("model.safetensors")
            let data = try Data(contentsOf: url)
            try data.prefix(data.count - 100).write(to: url)
        }.contains("model.safetensors"))
        #expect(try loadError { try rewriteWeights($0) { t in t[5].1 = .zeros([16, 17]) } }.contains("has shape [16, 17]"))
        #expect(try loadError { try rewriteWeights($0) { t in t.remove(at: 7) } }.contains("is missing"))
        #expect(try loadError { try rewriteWeights($0) { t in t.append(("decoder.weight", .zeros([2]))) } }.contains("do not belong"))
        #expect(try loadError { try rewriteWeights($0) { t in t[3].1 = try! Tensor(shape: [16], validating: [Float](repeating: .nan, count: 16), allowNonFinite: true) } }
            .contains("NaN"))
        #expect(try loadError { f in
            try self.modules(f, [["idx": 0, "path": "", "type": "sentence_transformers.models.Transformer"],
                                 ["idx": 1, "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"],
                                 ["idx": 2, "path": "2_X", "type": "sentence_transformers.models.WordWeights"]])
        }.contains("not supported"))
        #expect(try loadError { f in
            try self.modules(f, [["idx": 0, "path": "", "type": "my_package.CustomEncoder"]])
        }.contains("not a sentence-transformers module"))
        #expect(try loadError { f in
            try self.modules(f, [["idx": 0, "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"]])
        }.contains("first module must be a Transformer"))
        #expect(try loadError { f in
            try self.modules(f, [["idx": 0, "path": "../../etc", "type": "sentence_transformers.models.Transformer"]])
        }.contains("outside the folder"))
        #expect(try loadError { try Data("[{".utf8).write(to: $0.appendingPathComponent("modules.json")) }.contains("modules.json"))
        #expect(try loadError { f in
            var c = try JSONSerialization.jsonObject(with: Data(contentsOf: f.appendingPathComponent("config.json"))) as! [String: Any]
            c["model_type"] = "gpt2"
            try JSONSerialization.data(withJSONObject: c).write(to: f.appendingPathComponent("config.json"))
        }.contains(#"model_type: "gpt2" is not supported (supported: "bert", "mpnet", "roberta", "xlm-roberta")"#))
        #expect(try loadError { f in
            var c = try JSONSerialization.jsonObject(with: Data(contentsOf: f.appendingPathComponent("config.json"))) as! [String: Any]
            c["num_attention_heads"] = 5
            try JSONSerialization.data(withJSONObject: c).write(to: f.appendingPathComponent("config.json"))
        }.contains("do not divide"))
        #expect(try loadError { f in
            var c = try JSONSerialization.jsonObject(with: Data(contentsOf: f.appendingPathComponent("config.json"))) as! [String: Any]
            c.removeValue(forKey: "hidden_size")
            try JSONSerialization.data(withJSONObject: c).write(to: f.appendingPathComponent("config.json"))
        }.contains("hidden_size: missing"))
        #expect(try loadError { try Data([0xFF, 0xFE, 0x7B]).write(to: $0.appendingPathComponent("config.json")) }.contains("not valid UTF-8"))
        #expect(try loadError { f in
            try Data((TinyModel.tokens + ["extra1", "extra2"]).joined(separator: "\n").utf8).write(to: f.appendingPathComponent("vocab.txt"))
        }.contains("vocab_size"))
        #expect(try loadError { f in
            try JSONSerialization.data(withJSONObject: ["word_embedding_dimension": 32, "pooling_mode_mean_tokens": true])
                .write(to: f.appendingPathComponent("1_Pooling/config.json"))
        }.contains("pooling dimension 32"))
        #expect(try loadError { f in
            try JSONSerialization.data(withJSONObject: ["embedding_dimension": 16, "pooling_mode": "median"])
                .write(to: f.appendingPathComponent("1_Pooling/config.json"))
        }.contains("unknown mode \"median\""))
        var dense = TinyModel.Options()
        dense.dense = (8, "torch.nn.modules.activation.Tanh")
        #expect(try loadError({ f in
            try JSONSerialization.data(withJSONObject: ["in_features": 20, "out_features": 8, "bias": true,
                                                        "activation_function": "torch.nn.modules.activation.Tanh"])
                .write(to: f.appendingPathComponent("2_Dense/config.json"))
        }, options: dense).contains("2_Dense/model.safetensors"))
        #expect(try loadError({ f in
            try JSONSerialization.data(withJSONObject: ["in_features": 16, "out_features": 8, "activation_function": "my.Activation"])
                .write(to: f.appendingPathComponent("2_Dense/config.json"))
        }, options: dense).contains("my.Activation"))
        #expect(try loadError { try FileManager.default.removeItem(at: $0.appendingPathComponent("vocab.txt")) }.contains("no tokenizer.json or vocab.txt"))
        #expect(try loadError { _ in }.contains("loaded"))
        do {
            _ = try SentenceTransformer(folder: URL(fileURLWithPath: "/nonexistent/model"))
            Issue.record("loaded a missing folder")
        } catch {
            #expect(error.description.contains("not a folder"))
        }
    }

    /// A folder without modules.json is a plain BERT with mean pooling, as the Python library reads it.
    @Test func plainHuggingFaceFolder() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let folder = try TinyModel.write(to: dir.file("m"))
        try FileManager.default.removeItem(at: folder.appendingPathComponent("modules.json"))
        let model = try SentenceTransformer(folder: folder)
        #expect(model.pooling.modes == [.mean] && !model.normalizes)
    }
}
