import Foundation
import SafeTensors
import Siamese
import Tensors
import Testing
@testable import TextEncoders

/// MPNet on a tiny random model (no download): HF names, the bucketed relative position bias,
/// padding-offset positions, engine = autodiff path, gradients, save and reload, load errors.
@Suite struct MPNetTests {
    static var options: TinyModel.Options {
        var o = TinyModel.Options()
        o.mpnet = true
        return o
    }

    /// Every offset's bucket equals HF transformers' `relative_position_bucket` (committed table).
    @Test func bucketsMatchTransformers() throws {
        let span = try #require(Reference.mpnet["bucket_span"] as? Int)
        let table = try #require(Reference.mpnet["buckets"] as? [Int])
        #expect(table.count == 2 * span - 1)
        var mismatches: [String] = []
        for (k, expected) in table.enumerated() {
            let r = k - (span - 1)
            let ours = BertConfiguration.relativePositionBucket(r)
            if ours != expected { mismatches.append("\(r): \(ours) vs \(expected)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
        // 31 of the 32 buckets occur: bucket 16 would be "offset 0, to the left", which no offset is.
        #expect(Set(table).count == 31 && !table.contains(16))
    }

    @Test func loadsWithHuggingFaceNames() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let model = try SentenceTransformer(folder: try TinyModel.write(to: dir.file("m"), Self.options))
        let c = model.bert.configuration
        #expect(c.family == .mpnet && c.positionOffset == 2 && c.layerNormEpsilon == 1e-5)
        #expect(model.bert.embeddings.tokenTypeEmbeddings == nil)
        #expect(model.bert.relativeAttentionBias?.weight.shape == [32, 4])
        let expected = Set(TinyModel.tensors(Self.options).map(\.0).filter { !$0.hasPrefix("pooler.") })
        #expect(Set(model.namedParameters.map(\.name)) == expected)
        // The table has 40 positions, the first two taken by the padding offset.
        #expect(c.maxSequenceLength == 38)
    }

    /// The inference engine (packed, bias by offset slices) and the differentiable path (bias
    /// gathered per batch) compute the same function; the bias and the position offset matter.
    @Test func engineMatchesAutodiffPath() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let folder = try TinyModel.write(to: dir.file("m"), Self.options)
        let model = try SentenceTransformer(folder: folder)
        let engine = rows(model.encode(TinyModel.sentences, batchSize: 3))
        let autodiff = rows(withoutGradients { model.embed(TinyModel.sentences) })
        for (a, b) in zip(engine, autodiff) {
            let (c, d) = compare(a, b)
            #expect(c > 0.99999 && d < 1e-5, "cosine \(c), max diff \(d)")
        }
        // Zeroing the relative bias changes the embeddings: the bias is really applied.
        let p = try #require(model.bert.relativeAttentionBias).weight
        p.value = Tensor(shape: p.shape)
        let unbiased = rows(model.encode(TinyModel.sentences, batchSize: 3))
        #expect(zip(engine, unbiased).contains { compare($0, $1).maxDiff > 1e-3 })
        #expect(zip(unbiased, rows(withoutGradients { model.embed(TinyModel.sentences) })).allSatisfy { compare($0, $1).maxDiff < 1e-5 })
    }

    /// The relative position bias, shared by all layers, gets the gradient of every layer.
    @Test func gradientsMatchFiniteDifferences() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var o = Self.options
        o.hidden = 8; o.heads = 2; o.intermediate = 12
        let model = try SentenceTransformer(folder: try TinyModel.write(to: dir.file("m"), o))
        let texts = ["the cat sat on the mat", "a dog is good!", "hello"]
        var g = SeededGenerator(seed: 3)
        let weights = Tensor.randomNormal([texts.count, model.dimension], generator: &g)
        func loss() -> Tensor { (model.embed(texts) * weights).sum() }
        model.zeroGrad()
        try loss().backward()
        var worst = 0.0
        for name in ["encoder.relative_attention_bias.weight", "embeddings.position_embeddings.weight",
                     "encoder.layer.1.attention.attn.q.weight", "encoder.layer.0.attention.attn.o.bias"] {
            let p = try #require(model.namedParameters.first { $0.name == name }?.parameter)
            let analytic = try #require(p.grad).scalars
            #expect(analytic.contains { $0 != 0 }, "\(name) got no gradient")
            for i in analytic.indices.sorted(by: { abs(analytic[$0]) > abs(analytic[$1]) }).prefix(3) {
                let h: Float = 1e-2, original = p.value.scalars[i]
                func set(_ v: Float) { var t = p.value.detached(); t.withUnsafeMutableBufferPointer { $0[i] = v }; p.value = t }
                set(original + h)
                let up = withoutGradients { loss().item }
                set(original - h)
                let down = withoutGradients { loss().item }
                set(original)
                let numeric = Double(up - down) / Double(2 * h)
                let error = abs(numeric - Double(analytic[i])) / max(1, abs(numeric))
                worst = max(worst, error)
                #expect(error < 2e-2, "\(name)[\(i)]: analytic \(analytic[i]), numeric \(numeric)")
            }
        }
        print("MPNet gradient check: worst relative error \(worst)")
    }

    /// Fine-tuning moves the relative bias, and the saved folder (MPNet names, MPNet config)
    /// loads back to the same embeddings.
    @Test func fineTuneSaveAndReload() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let model = try SentenceTransformer(folder: try TinyModel.write(to: dir.file("m"), Self.options))
        let before = try #require(model.bert.relativeAttentionBias).weight.value.scalars
        let pairs = [("the cat sat on the mat", "a cat sat on a mat"), ("the dog is good", "a good dog"),
                     ("hello world", "hello"), ("the quick brown fox", "a quick fox"), ("bad dogs", "the bad dog"),
                     ("jump over the lazy dog", "the lazy dog")]
        let task = try TextPairTrainingTask(data: TextPairDataset(kind: .triplets, examples: pairs.map { .init(first: $0.0, second: $0.1) }),
                                            loss: .multipleNegativesRanking(MultipleNegativesRankingLoss()), batchSize: 6)
        _ = try Trainer(model: model, task: task, configuration: .init(epochs: 2, batchSize: 6, learningRate: 1e-2, seed: 0)).fit()
        model.isTraining = false
        let after = try #require(model.bert.relativeAttentionBias).weight.value.scalars
        #expect(zip(before, after).contains { abs($0 - $1) > 1e-6 }, "the relative position bias did not move")

        let out = dir.file("saved")
        try model.save(to: out)
        let saved = try SafeTensorsFile(contentsOf: out.appendingPathComponent("model.safetensors"))
        #expect(saved.contains("encoder.relative_attention_bias.weight") && saved.contains("encoder.layer.0.attention.attn.q.weight"))
        #expect(!saved.contains("embeddings.token_type_embeddings.weight"))
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("config.json"))) as? [String: Any]
        #expect(config?["model_type"] as? String == "mpnet")
        let back = try SentenceTransformer(folder: out)
        #expect(rows(back.encode(TinyModel.sentences)) == rows(model.encode(TinyModel.sentences)))
        #expect(back.bert.relativeAttentionBias?.weight.value.scalars == after)
    }

    @Test func loadErrorsNameFileAndField() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        func error(_ edit: (URL) throws -> Void) throws -> String {
            let folder = try TinyModel.write(to: dir.file(UUID().uuidString), Self.options)
            try edit(folder)
            do { _ = try SentenceTransformer(folder: folder); return "loaded" } catch { return error.description }
        }
        func config(_ folder: URL, _ change: (inout [String: Any]) -> Void) throws {
            let url = folder.appendingPathComponent("config.json")
            var c = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            change(&c)
            try JSONSerialization.data(withJSONObject: c).write(to: url)
        }
        let unsupported = try error { try config($0) { $0["model_type"] = "gpt2" } }
        #expect(unsupported.contains("config.json") && unsupported.contains("model_type")
            && unsupported.contains("\"gpt2\" is not supported (supported: \"bert\", \"mpnet\", \"roberta\", \"xlm-roberta\")"), "\(unsupported)")
        let few = try error { try config($0) { $0["relative_attention_num_buckets"] = 16 } }
        #expect(few.contains("config.json") && few.contains("relative_attention_num_buckets") && few.contains("32"), "\(few)")
        let buckets = try error { try config($0) { $0["relative_attention_num_buckets"] = 64 } }
        #expect(buckets.contains("model.safetensors") && buckets.contains("encoder.relative_attention_bias.weight")
            && buckets.contains("[32, 4]") && buckets.contains("[64, 4]"), "\(buckets)")
        let missing = try error { folder in
            var w = SafeTensorsWriter(metadata: ["format": "pt"])
            for (n, t) in TinyModel.tensors(Self.options) where n != "encoder.relative_attention_bias.weight" { try w.add(n, t) }
            try w.write(to: folder.appendingPathComponent("model.safetensors"))
        }
        #expect(missing.contains("model.safetensors") && missing.contains("tensor encoder.relative_attention_bias.weight is missing"), "\(missing)")
        let positions = try error { try config($0) { $0["max_position_embeddings"] = 2 } }
        #expect(positions.contains("max_position_embeddings"), "\(positions)")
    }
}
