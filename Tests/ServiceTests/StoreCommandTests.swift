import EmbeddingStore
import Foundation
import Siamese
import Tensors
import Testing

/// `siamese store import|export|stats`: a store filled from the shell holds what `serve` would
/// have stored for the same items (same vectors, same fingerprint).
@Suite("siamese store", .enabled(if: SiameseExecutable.url != nil, "the siamese executable was not built"))
struct StoreCommandTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func jsonLine(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test func importStatsExportRoundTrip() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("model")
        try TinyModel.build(into: model)
        let (network, _) = try ModelFolder(model).load()
        var generator = SeededGenerator(seed: 11)
        let ids = ["python3-ipalib", "é/ü ?%", "3", "line\nbreak"]
        let rows = ids.map { _ in (0..<TinyModel.inputDimension).map { _ in generator.nextNormal() } }
        var jsonl = ""
        for (i, id) in ids.enumerated() {
            jsonl += try jsonLine(["id": id, "text": rows[i].map(Double.init), "metadata": ["lang": i % 2 == 0 ? "en" : "de", "n": i]]) + "\n"
        }
        let input = folder.appendingPathComponent("items.jsonl"), store = folder.appendingPathComponent("items.sqlite")
        try jsonl.write(to: input, atomically: true, encoding: .utf8)
        let r = try SiameseExecutable.run(["store", "import", "--store", store.path, "--model", model.path, "--input", input.path, "--batch-size", "3", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(summary["imported"] as? Int == 4 && summary["items"] as? Int == 4)
        #expect(FileManager.default.fileExists(atPath: store.path + ".hnsw"), "the index is saved beside the store")

        // The stored vectors are the model's embeddings (computed here through the network itself).
        let opened = try EmbeddingStore(path: store.path)
        #expect(try opened.fingerprint() == (try ModelFolder(model).fingerprint()))
        for (i, id) in ids.enumerated() {
            let item = try #require(try opened.item(id), "item \(id)")
            let expected = withoutGradients { network.embed(Tensor(shape: [1, rows[i].count], rows[i])) }.scalars
            #expect(zip(item.vector, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "vector of \(id)")
            let metadata = try #require(try JSONSerialization.jsonObject(with: Data((item.metadata ?? "").utf8)) as? [String: Any])
            #expect(metadata["n"] as? Int == i)
        }

        let stats = try SiameseExecutable.run(["store", "stats", "--store", store.path, "--format", "json"])
        #expect(stats.status == 0, "\(stats.stderr)")
        let s = try #require(try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])
        #expect(s["items"] as? Int == 4 && s["dimension"] as? Int == 16 && s["index_saved"] as? Bool == true)

        let exported = folder.appendingPathComponent("out.jsonl")
        let e = try SiameseExecutable.run(["store", "export", "--store", store.path, "--output", exported.path])
        #expect(e.status == 0, "\(e.stderr)")
        let lines = try String(contentsOf: exported, encoding: .utf8).split(separator: "\n")
        let back = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(back.compactMap { $0["id"] as? String } == ids, "export keeps every id, in insertion order")
        #expect((back[0]["metadata"] as? [String: Any])?["lang"] as? String == "en")

        // .npy export refuses an id that one line per id cannot hold, and writes nothing.
        let npy = folder.appendingPathComponent("v.npy")
        let refused = try SiameseExecutable.run(["store", "export", "--store", store.path, "--output", npy.path])
        #expect(refused.status == 1 && refused.stderr.contains("line break"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: npy.path))

        // Importing again replaces by id; the count stays.
        let again = try SiameseExecutable.run(["store", "import", "--store", store.path, "--model", model.path, "--input", input.path])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try EmbeddingStore(path: store.path).count() == 4)
    }

    /// Vectors exported as .npy with their ids come back in through `store import --ids`: the same
    /// items, vectors bit for bit, no embedding; mistakes are clear errors that write nothing.
    @Test func vectorsImportFromNPYWithIDs() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("model")
        try TinyModel.build(into: model)
        var generator = SeededGenerator(seed: 12)
        let ids = ["python3-ipalib", "é/ü ?%", "3"]
        var jsonl = ""
        for id in ids {
            jsonl += try jsonLine(["id": id, "text": (0..<TinyModel.inputDimension).map { _ in Double(generator.nextNormal()) }]) + "\n"
        }
        let input = folder.appendingPathComponent("items.jsonl"), first = folder.appendingPathComponent("a.sqlite")
        try jsonl.write(to: input, atomically: true, encoding: .utf8)
        #expect(try SiameseExecutable.run(["store", "import", "--store", first.path, "--model", model.path, "--input", input.path]).status == 0)
        let npy = folder.appendingPathComponent("v.npy"), idFile = folder.appendingPathComponent("ids.txt")
        let e = try SiameseExecutable.run(["store", "export", "--store", first.path, "--output", npy.path, "--ids", idFile.path])
        #expect(e.status == 0, "\(e.stderr)")

        let second = folder.appendingPathComponent("b.sqlite")
        let r = try SiameseExecutable.run(["store", "import", "--store", second.path, "--model", model.path, "--input", npy.path, "--ids", idFile.path, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let (a, b) = (try EmbeddingStore(path: first.path), try EmbeddingStore(path: second.path))
        #expect(try b.count() == 3 && (try b.fingerprint()) == (try a.fingerprint()))
        for id in ids {
            #expect(try b.item(id)?.vector == (try a.item(id)?.vector), "\(id)")
        }
        let search = try SiameseExecutable.run(["search", "--store", second.path, "--model", model.path, "--query", "[" + Array(repeating: "0.1", count: TinyModel.inputDimension).joined(separator: ",") + "]", "--k", "3", "--format", "jsonl"])
        #expect(search.status == 0 && search.stdout.contains("python3-ipalib"), "\(search.stdout) \(search.stderr)")

        // Ids as written, without surrounding white space (ASCII or Unicode), CRLF line ends, no
        // final newline; then the same rows under those ids.
        let padded = folder.appendingPathComponent("padded.txt"), fourth = folder.appendingPathComponent("d.sqlite")
        try Data("  python3-ipalib\t\r\n\u{3000}é/ü ?%\u{2003}\r\n3".utf8).write(to: padded)
        let p = try SiameseExecutable.run(["store", "import", "--store", fourth.path, "--model", model.path, "--input", npy.path, "--ids", padded.path])
        #expect(p.status == 0, "\(p.stderr)")
        let d = try EmbeddingStore(path: fourth.path)
        for id in ids { #expect(try d.item(id)?.vector == (try a.item(id)?.vector), "\(id)") }

        try "only-one\n".write(to: folder.appendingPathComponent("one.txt"), atomically: true, encoding: .utf8)
        try "a\n \t\nb\n".write(to: folder.appendingPathComponent("blank.txt"), atomically: true, encoding: .utf8)
        try Data("a\nb\0c\nd\n".utf8).write(to: folder.appendingPathComponent("nul.txt"))
        try Data([0x61, 0x0A, 0xFF, 0xFE, 0x0A, 0x62]).write(to: folder.appendingPathComponent("latin.txt"))
        try "x\nx\ny\n".write(to: folder.appendingPathComponent("twice.txt"), atomically: true, encoding: .utf8)
        let third = folder.appendingPathComponent("c.sqlite").path
        for (arguments, message) in [
            (["--input", npy.path], "give their ids with --ids FILE"),
            (["--input", input.path, "--ids", idFile.path], "--ids goes with a .npy INPUT"),
            (["--input", npy.path, "--ids", folder.appendingPathComponent("one.txt").path], "1 ids for 3 vectors"),
            (["--input", npy.path, "--ids", folder.appendingPathComponent("twice.txt").path], "twice.txt:2: the id 'x' appears twice"),
            (["--input", npy.path, "--ids", folder.appendingPathComponent("blank.txt").path], "blank.txt:2: empty id"),
            (["--input", npy.path, "--ids", folder.appendingPathComponent("nul.txt").path], "nul.txt:2: the id holds a NUL character"),
            (["--input", npy.path, "--ids", folder.appendingPathComponent("latin.txt").path], "latin.txt: not UTF-8 text"),
        ] {
            let bad = try SiameseExecutable.run(["store", "import", "--store", third, "--model", model.path] + arguments)
            #expect(bad.status != 0, "\(arguments)")
            #expect(bad.stderr.contains(message), "\(arguments): \(bad.stderr)")
        }
        let written = FileManager.default.fileExists(atPath: third) ? try EmbeddingStore(path: third).count() : 0
        #expect(written == 0, "nothing was written")
    }

    @Test func badInputsAreClearErrorsAndWriteNothing() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("model")
        try TinyModel.build(into: model)
        let eight = Array(repeating: 0.5, count: 8)
        let cases: [(name: String, content: String, expected: String)] = [
            ("dup.jsonl", try jsonLine(["id": "a", "text": eight]) + "\n" + (try jsonLine(["id": "a", "text": eight])) + "\n", "dup.jsonl:2: id: the id 'a' appears twice"),
            ("short.jsonl", try jsonLine(["id": "a", "text": [1.0, 2.0]]) + "\n", "short.jsonl:1: text: the model"),
            ("noid.jsonl", try jsonLine(["text": eight]) + "\n", "noid.jsonl:1: id: missing key 'id'"),
            ("text.jsonl", try jsonLine(["id": "a", "text": "words"]) + "\n", "takes arrays of 8 numbers"),
            ("bad.jsonl", "{\"id\": \"a\", \n", "bad.jsonl:1: is not a JSON object"),
        ]
        for c in cases {
            let input = folder.appendingPathComponent(c.name), store = folder.appendingPathComponent(c.name + ".sqlite")
            try c.content.write(to: input, atomically: true, encoding: .utf8)
            let r = try SiameseExecutable.run(["store", "import", "--store", store.path, "--model", model.path, "--input", input.path])
            #expect(r.status == 1, "\(c.name): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(c.expected), "\(c.name): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: store.path), "\(c.name): nothing is created for a bad input")
        }
    }

    @Test func aStoreOfAnotherModelIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("model")
        try TinyModel.build(into: model)
        let store = folder.appendingPathComponent("other.sqlite")
        try EmbeddingStore(path: store.path).upsert([StoredItem(id: "x", vector: Array(repeating: 1, count: 16))], fingerprint: "another-model")
        let input = folder.appendingPathComponent("items.jsonl")
        try (try jsonLine(["id": "a", "text": Array(repeating: 0.5, count: 8)]) + "\n").write(to: input, atomically: true, encoding: .utf8)
        let r = try SiameseExecutable.run(["store", "import", "--store", store.path, "--model", model.path, "--input", input.path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("holds vectors of model another-model"), "\(r.stderr)")
        #expect(try EmbeddingStore(path: store.path).count() == 1)
    }

    @Test func searchTheStoreWithFiltersBestFirst() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("model")
        try TinyModel.build(into: model)
        let (network, _) = try ModelFolder(model).load()
        var generator = SeededGenerator(seed: 23)
        let rows = (0..<40).map { _ in (0..<TinyModel.inputDimension).map { _ in generator.nextNormal() } }
        var jsonl = ""
        for (i, row) in rows.enumerated() {
            jsonl += try jsonLine(["id": "item-\(i)", "text": row.map(Double.init), "metadata": ["half": i < 20 ? "low" : "high", "i": i]]) + "\n"
        }
        let input = folder.appendingPathComponent("items.jsonl"), store = folder.appendingPathComponent("s.sqlite")
        try jsonl.write(to: input, atomically: true, encoding: .utf8)
        let imported = try SiameseExecutable.run(["store", "import", "--store", store.path, "--model", model.path, "--input", input.path])
        #expect(imported.status == 0, "\(imported.stderr)")

        // Brute force over the embeddings, independent of the index.
        let embed = { (v: [Float]) in withoutGradients { network.embed(Tensor(shape: [1, v.count], v)) }.scalars }
        let query = rows[7].map { $0 + 0.01 }
        let q = embed(query)
        func ranked(_ allowed: (Int) -> Bool) -> [String] {
            rows.indices.filter(allowed).map { ($0, ScoreCommandTests.cosine(q, embed(rows[$0]))) }
                .sorted { $0.1 > $1.1 }.prefix(5).map { "item-\($0.0)" }
        }
        let queryText = "[" + query.map { "\($0)" }.joined(separator: ",") + "]"
        let filters: [([String], (Int) -> Bool)] = [
            ([], { _ in true }), (["half=high"], { $0 >= 20 }),
            // Ranges and lists (issue 16): 10 <= i < 30 and half in (low, mid), i != 12.
            (["i>=10", "i<30", "half=in:low,mid", "i!=12"], { (10..<20).contains($0) && $0 != 12 }),
            (["i>35"], { $0 > 35 }), (["i<=3"], { $0 <= 3 }), (["i=in:5,7,9"], { [5, 7, 9].contains($0) }),
        ]
        for (filter, allowed) in filters {
            let r = try SiameseExecutable.run(["search", "--store", store.path, "--model", model.path, "--query", queryText, "--k", "5",
                                               "--format", "json"] + filter.flatMap { ["--filter", $0] })
            #expect(r.status == 0, "\(r.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let hits = try #require(object["hits"] as? [[String: Any]])
            #expect(hits.compactMap { $0["id"] as? String } == ranked(allowed), "filter \(filter)")
            let scores = hits.compactMap { ($0["score"] as? NSNumber)?.doubleValue }
            #expect(scores == scores.sorted(by: >), "best first")
            #expect(hits.allSatisfy { (($0["metadata"] as? [String: Any])?["half"] as? String) != nil }, "hits carry their metadata")
        }
        // Malformed filters name the argument and say why.
        for (bad, why) in [("i>=abc", "'i>=abc': 'abc' is not a number"), ("i>=nan", "'nan' is not a number"), ("half", "'half': no operator"),
                           ("=x", "the KEY before the operator is empty"), ("i?x", "nothing may follow '?'")] {
            let r = try SiameseExecutable.run(["search", "--store", store.path, "--model", model.path, "--query", queryText, "--filter", bad])
            #expect(r.status != 0 && r.stderr.contains("--filter") && r.stderr.contains(why), "\(bad): \(r.stderr)")
        }
        // Usage errors.
        let noModel = try SiameseExecutable.run(["search", "--store", store.path, "--query", queryText])
        #expect(noModel.status == 2 && noModel.stderr.contains("--store needs --model"), "\(noModel.stderr)")
    }
}
