import Foundation
import SafeTensors
import Tensors
import Testing
@testable import TextEncoders

/// One tiny RoBERTa-family folder of Tests/TextEncodersTests/Fixtures and what sentence-transformers
/// computed with it (Benchmarks/reference/roberta_reference.py).
struct RobertaFixture: CustomTestStringConvertible, Sendable {
    let name: String

    static let all = [RobertaFixture(name: "tiny-roberta"), RobertaFixture(name: "tiny-xlm-roberta")]

    var testDescription: String { name }
    var folder: URL { Reference.fixtures.appendingPathComponent(name) }

    var reference: [String: Any] {
        get throws {
            let data = try Data(contentsOf: folder.appendingPathComponent("reference.json"))
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
    }

    func sentences() throws -> [String] { try #require(try reference["sentences"] as? [String]) }
    func embeddings() throws -> [[Float]] { try #require(try reference["embeddings"] as? [[NSNumber]]).map { $0.map(\.floatValue) } }
    func model() throws -> SentenceTransformer { try SentenceTransformer(folder: folder) }
}

/// RoBERTa and XLM-RoBERTa (issue 14) against sentence-transformers on tiny random models with
/// trained tokenizers: byte-level BPE with RobertaProcessing (`RobertaModel` weights as
/// sentence-transformers saves them, no name prefix) and SentencePiece-style Unigram with
/// TemplateProcessing (`XLMRobertaForMaskedLM` weights, `roberta.` prefix and an `lm_head`).
@Suite struct RobertaParityTests {
    @Test(arguments: RobertaFixture.all)
    func loadsAsTheFamilyItIs(_ fixture: RobertaFixture) throws {
        let m = try fixture.model()
        let reference = try fixture.reference
        let c = m.bert.configuration
        #expect(c.family == .roberta && c.paddingID == 1 && c.positionOffset == 2 && c.typeVocabularySize == 1)
        #expect(c.hiddenSize == 32 && c.layers == 2 && c.heads == 4 && c.intermediateSize == 64 && c.layerNormEpsilon == 1e-5)
        #expect(m.maxSequenceLength == reference["max_seq_length"] as? Int)
        #expect(m.normalizes && m.pooling == Pooling(modes: [.mean], dimension: 32) && m.dimension == 32)
        // RobertaModel as sentence-transformers saves it keeps its pooler; the masked-LM checkpoint has none.
        #expect(m.bert.pooler.count == (fixture.name == "tiny-roberta" ? 2 : 0))
    }

    /// Position ids as HF's `create_position_ids_from_input_ids`: from `pad_token_id + 1`, a literal
    /// `<pad>` in the text at `pad_token_id` without advancing the count.
    @Test func positionIDsSkipThePaddingID() throws {
        let m = try RobertaFixture.all[0].model()
        let c = m.bert.configuration
        #expect(c.positionIDs([0, 7, 8, 2]) == [2, 3, 4, 5])
        #expect(c.positionIDs([0, 7, 1, 8, 2]) == [2, 3, 1, 4, 5])
        #expect(c.maxSequenceLength == 64)  // 66 positions less the offset
        let e = m.tokenize("The <mask> sat on the mat. <s> </s> <pad> <unk>")
        #expect(e.ids.contains(1) && e.ids.contains(4))  // the literal <pad> and <mask> are their special ids
    }

    @Test(arguments: RobertaFixture.all)
    func tokenIDsMatch(_ fixture: RobertaFixture) throws {
        let m = try fixture.model()
        let reference = try fixture.reference
        let ids = try #require(reference["ids"] as? [[NSNumber]]).map { $0.map(\.intValue) }
        let sentences = try fixture.sentences()
        try #require(ids.count == sentences.count)
        for (s, expected) in zip(sentences, ids) { #expect(m.tokenize(s).ids == expected, "\(s.prefix(60).debugDescription)") }
        // Truncation at max_seq_length is exercised, and the texts run past the position table too.
        let lengths = try #require(reference["untruncated_lengths"] as? [NSNumber]).map(\.intValue)
        #expect(lengths.contains { $0 > m.maxSequenceLength } && lengths.contains { $0 > m.bert.configuration.maxSequenceLength })
        for pair in try #require(reference["pairs"] as? [[String: Any]]) {
            let e = m.tokenizer.encode(try #require(pair["a"] as? String), pair: pair["b"] as? String)
            #expect(e.ids == (pair["ids"] as? [NSNumber])?.map(\.intValue))
            #expect(e.typeIDs == (pair["type_ids"] as? [NSNumber])?.map(\.intValue))
        }
    }

    func check(_ ours: [[Float]], _ expected: [[Float]], _ label: String) {
        expectParity(ours, expected, label)
    }

    @Test(arguments: RobertaFixture.all, [1, 64])
    func engineMatchesSentenceTransformers(_ fixture: RobertaFixture, batchSize: Int) throws {
        let m = try fixture.model()
        check(rows(m.encode(try fixture.sentences(), batchSize: batchSize)), try fixture.embeddings(), "\(fixture.name) engine, batch \(batchSize)")
    }

    /// The differentiable path (fine-tuning) computes the same function on a padded batch, where
    /// padding columns must not move the real tokens' positions.
    @Test(arguments: RobertaFixture.all)
    func differentiablePathMatches(_ fixture: RobertaFixture) throws {
        let m = try fixture.model()
        let sentences = try fixture.sentences()
        check(rows(withoutGradients { m.embed(sentences) }), try fixture.embeddings(), "\(fixture.name) autodiff path")
    }

    @Test(arguments: RobertaFixture.all)
    func int8StaysCloseToFloat32(_ fixture: RobertaFixture) throws {
        let m = try fixture.model()
        let sentences = try fixture.sentences()
        let fp32 = rows(m.encode(sentences)), int8 = rows(m.encode(sentences, precision: .int8))
        let cosines = zip(fp32, int8).map { compare($0, $1).cosine }
        print("\(fixture.name) int8 vs fp32: min cosine \(cosines.min()!)")
        for (i, c) in cosines.enumerated() { #expect(c >= 0.99, "sentence \(i): cosine \(c)") }
        // int8 is an approximation, not the float32 result again (else the path did not run).
        #expect(zip(fp32, int8).contains { compare($0, $1).maxDiff > 0 })
    }

    // MARK: Loading errors

    /// The fixture copied to a scratch folder, `config.json` edited, then loaded: the error text.
    func loadError(_ fixture: RobertaFixture, _ change: (inout [String: Any]) -> Void) throws -> String {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let copy = dir.file(fixture.name)
        try FileManager.default.copyItem(at: fixture.folder, to: copy)
        let url = copy.appendingPathComponent("config.json")
        var c = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        change(&c)
        try JSONSerialization.data(withJSONObject: c).write(to: url)
        do { _ = try SentenceTransformer(folder: copy); return "loaded" } catch { return error.description }
    }

    /// A configuration that disagrees with the weights names the weights file, the tensor, the
    /// config.json fields behind the shape and both shapes.
    @Test func shapeMismatchNamesFileAndField() throws {
        let types = try loadError(RobertaFixture.all[0]) { $0["type_vocab_size"] = 2 }
        #expect(types.contains("tiny-roberta/model.safetensors") && types.contains("embeddings.token_type_embeddings.weight")
            && types.contains("config.json (type_vocab_size, hidden_size)") && types.contains("[1, 32]") && types.contains("[2, 32]"),
                "\(types)")
        // The `roberta.`-prefixed checkpoint: names without the prefix, as the model's parameters are.
        let inner = try loadError(RobertaFixture.all[1]) { $0["intermediate_size"] = 48 }
        #expect(inner.contains("tiny-xlm-roberta/model.safetensors") && inner.contains("encoder.layer.0.intermediate.dense.weight")
            && inner.contains("config.json (intermediate_size, hidden_size)") && inner.contains("[64, 32]") && inner.contains("[48, 32]"),
                "\(inner)")
        let positions = try loadError(RobertaFixture.all[1]) { $0["max_position_embeddings"] = 2 }
        #expect(positions.contains("config.json") && positions.contains("max_position_embeddings"), "\(positions)")
        let unknown = try loadError(RobertaFixture.all[0]) { $0["model_type"] = "deberta-v2" }
        #expect(unknown.contains(#"model_type: "deberta-v2" is not supported (supported: "bert", "mpnet", "roberta", "xlm-roberta")"#),
                "\(unknown)")
        #expect(try loadError(RobertaFixture.all[0]) { $0["model_type"] = "xlm-roberta" } == "loaded")
    }
}
