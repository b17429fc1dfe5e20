import Foundation
import Tensors
import Testing
@testable import TextEncoders

/// Prompts (issue 14): all-MiniLM-L6-v2 given a prompt table and a default prompt, with its
/// pooling counting the prompt's tokens and leaving them out, against sentence-transformers'
/// embeddings of the same copy (`Benchmarks/reference/prompts_reference.py` wrote
/// `Fixtures/prompts_reference.json`; the copy is made here the same way).
@Suite(.enabled(if: MiniLM.folder != nil, Comment(rawValue: MiniLM.skipMessage)), .serialized)
struct PromptTests {
    nonisolated(unsafe) static let reference: [String: Any] = {
        let data = try! Data(contentsOf: Reference.fixtures.appendingPathComponent("prompts_reference.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()
    static var prompts: [String: String] { reference["prompts"] as! [String: String] }
    static var sentences: [String] { reference["sentences"] as! [String] }

    /// A copy of the model with the reference's prompt table and pooling flag.
    static func model(includePrompt: Bool) throws -> (SentenceTransformer, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-prompts-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: try #require(MiniLM.folder), to: folder)
        let config: [String: Any] = ["prompts": prompts, "default_prompt_name": reference["default_prompt_name"]!, "similarity_fn_name": "cosine"]
        try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("config_sentence_transformers.json"))
        let poolingURL = folder.appendingPathComponent("1_Pooling/config.json")
        var pooling = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: poolingURL)) as? [String: Any])
        pooling["include_prompt"] = includePrompt
        try JSONSerialization.data(withJSONObject: pooling).write(to: poolingURL)
        return (try SentenceTransformer(folder: folder), folder)
    }

    static let choices: [(key: String, choice: Prompts.Choice)] = [
        ("default", .modelDefault), ("named_query", .named("query")), ("role_query", .role(.query)),
        ("role_document", .role(.document)), ("none", .none),
    ]

    @Test(arguments: [true, false])
    func embeddingsMatchSentenceTransformers(includePrompt: Bool) throws {
        let (model, folder) = try Self.model(includePrompt: includePrompt)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(model.pooling.includePrompt == includePrompt)
        #expect(model.prompts == Prompts(byName: Self.prompts, defaultName: "classify"))
        let table = try #require(Self.reference[includePrompt ? "include_prompt" : "exclude_prompt"] as? [String: [[Double]]])
        var worstCosine = 1.0, worstDiff = 0.0
        for (key, choice) in Self.choices {
            let expected = try #require(table[key]).map { $0.map(Float.init) }
            for precision in [Precision.float32] {
                let ours = rows(try model.encode(Self.sentences, prompt: choice, batchSize: 2, precision: precision))
                let (c, d) = worst(ours, expected)
                worstCosine = min(worstCosine, c)
                worstDiff = max(worstDiff, d)
            }
        }
        print("prompts parity (include_prompt \(includePrompt)): min cosine \(worstCosine), max abs diff \(worstDiff)")
        #expect(worstCosine >= 0.99999)
        #expect(worstDiff <= 1e-5)
        // Without a choice, encode applies the default prompt, as the library does.
        let plain = rows(model.encode(Self.sentences))
        let viaDefault = rows(try model.encode(Self.sentences, prompt: .modelDefault))
        #expect(plain == viaDefault)
        // The choices differ (the test would pass for a model that ignored prompts otherwise).
        let none = rows(try model.encode(Self.sentences, prompt: .none))
        #expect(compare(plain[0], none[0]).cosine < 0.99)
    }

    @Test func promptLengthsAreTheLibrarysAndSavingKeepsTheTable() throws {
        let (model, folder) = try Self.model(includePrompt: false)
        defer { try? FileManager.default.removeItem(at: folder) }
        let lengths = try #require(Self.reference["prompt_lengths"] as? [String: Int])
        let frozen = model.frozen()
        for (name, text) in Self.prompts { #expect(frozen.promptTokens(text) == lengths[name], "\(name)") }
        let saved = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-prompts-saved-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: saved) }
        try model.save(to: saved)
        let back = try SentenceTransformer(folder: saved)
        #expect(back.prompts == model.prompts && !back.pooling.includePrompt)
        #expect(rows(try back.encode(Self.sentences, prompt: .role(.query))) == rows(try model.encode(Self.sentences, prompt: .role(.query))))
    }

    @Test func unknownNamesAndBadTablesAreClearErrors() throws {
        let (model, folder) = try Self.model(includePrompt: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(throws: TextEncoderError.self) { try model.encode(["x"], prompt: .named("quey")) }
        do { _ = try model.prompts.text(for: .named("quey")) } catch {
            #expect(error.message.contains("\"quey\"") && error.message.contains("\"classify\", \"document\", \"query\""), "\(error.message)")
        }
        // A table without the roles' names: both roles take the default prompt.
        let plain = Prompts(byName: ["classify": "c: "], defaultName: "classify")
        #expect(try plain.text(for: .role(.query)) == "c: " && (try plain.text(for: .role(.document))) == "c: ")
        #expect(try Prompts().text(for: .role(.document)) == nil && (try Prompts().text(for: .text(""))) == nil)
        // A default that is not in the table names the file and the field.
        let config = folder.appendingPathComponent("config_sentence_transformers.json")
        try Data(#"{"prompts": {"query": "q: "}, "default_prompt_name": "passage"}"#.utf8).write(to: config)
        do {
            _ = try SentenceTransformer(folder: folder)
            Issue.record("a default prompt outside the table was accepted")
        } catch {
            #expect(error.message.contains("config_sentence_transformers.json: default_prompt_name") && error.message.contains("passage"), "\(error.message)")
        }
        try Data(#"{"prompts": ["q: "]}"#.utf8).write(to: config)
        #expect(throws: TextEncoderError.self) { try SentenceTransformer(folder: folder) }
    }
}
