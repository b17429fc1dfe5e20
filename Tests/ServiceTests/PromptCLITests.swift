import Foundation
import Testing

/// `siamese embed --prompt NAME` / `--role query|document` (issue 14) on a copy of all-MiniLM-L6-v2
/// given the prompt table of `Benchmarks/reference/prompts_reference.py`: the embeddings
/// sentence-transformers computes for the same choices (`Fixtures/prompts_reference.json`).
@Suite("siamese embed with prompts", .enabled(if: RealTextModel.folder != nil && SiameseExecutable.url != nil,
                                              "all-MiniLM-L6-v2 or the executable not found (skipped, not passed)"))
struct PromptCLITests {
    @Test func promptsAndRolesMatchSentenceTransformers() throws {
        let url = RealTextModel.root.appendingPathComponent("Tests/TextEncodersTests/Fixtures/prompts_reference.json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let sentences = try #require(json["sentences"] as? [String])
        let table = try #require(json["include_prompt"] as? [String: [[NSNumber]]])
        let dir = try TemporaryFolder()
        let model = dir.url.appendingPathComponent("model")
        try FileManager.default.copyItem(at: try #require(RealTextModel.folder), to: model)
        let config: [String: Any] = ["prompts": try #require(json["prompts"]), "default_prompt_name": try #require(json["default_prompt_name"])]
        try JSONSerialization.data(withJSONObject: config).write(to: model.appendingPathComponent("config_sentence_transformers.json"))
        try (sentences.joined(separator: "\n") + "\n").write(to: dir.file("texts.txt"), atomically: true, encoding: .utf8)
        for (key, arguments) in [("default", [String]()), ("named_query", ["--prompt", "query"]), ("role_query", ["--role", "query"]),
                                 ("role_document", ["--role", "document"])] {
            let out = dir.file("\(key).npy")
            let r = try SiameseExecutable.run(["embed", "--model", model.path, "--input", dir.file("texts.txt").path, "--output", out.path] + arguments)
            #expect(r.status == 0, "\(key): \(r.stderr)")
            let rows = try readNPYRows(out)
            let expected = try #require(table[key]).map { $0.map(\.floatValue) }
            #expect(rows.count == expected.count)
            for (row, ref) in zip(rows, expected) {
                let diff = zip(row, ref).map { abs($0 - $1) }.max() ?? 1
                #expect(diff <= 1e-5, "\(key): max abs diff \(diff)")
            }
        }
        for (arguments, message) in [(["--prompt", "quey"], "no prompt named \"quey\""), (["--prompt", "query", "--role", "query"], "give one of them"),
                                     (["--role", "reader"], "--role")] {
            let r = try SiameseExecutable.run(["embed", "--model", model.path, "--input", dir.file("texts.txt").path, "--output", dir.file("x.npy").path] + arguments)
            #expect(r.status == 2 && r.stderr.contains(message), "\(arguments): \(r.status) \(r.stderr)")
        }
    }
}
