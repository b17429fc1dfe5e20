import Foundation
import Testing

/// `siamese index build|add|remove|compact|info` and `search` with string ids (issue 16: `index`
/// refused `python3-ipalib` as an id).
@Suite("index files with string ids, from the command line", .enabled(if: SiameseExecutable.url != nil, "the siamese executable was not built"))
struct IndexStringIDsCLITests {
    /// Row i of an n × n matrix is the i-th unit vector scaled by i + 1, so its own row is each
    /// query's nearest neighbour under l2.
    static func unitRows(_ n: Int, offset: Int = 0, dimension: Int) -> [Float] {
        var values = [Float](repeating: 0, count: n * dimension)
        for i in 0..<n { values[i * dimension + offset + i] = Float(i + 1) }
        return values
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try SiameseExecutable.run(arguments)
    }

    /// The ids of the first hit of each query in `search --format jsonl` output.
    static func firstHits(_ stdout: String) throws -> [String] {
        try stdout.split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let ids = try #require(object["ids"] as? [String], "string ids in \(line)")
            return try #require(ids.first)
        }
    }

    @Test(arguments: [[String](), ["--hnsw", "--m", "4"]])
    func buildSearchAddRemoveCompactWithStringIDs(kind: [String]) throws {
        let folder = try TemporaryFolder()
        let dimension = 8
        let names = ["python3-ipalib", "é/ü ?%", "3", "ticket \"42\""]
        let vectors = folder.file("x.npy"), ids = folder.file("ids.txt"), index = folder.file("x.idx").path
        try writeNPY(Self.unitRows(4, dimension: dimension), rows: 4, cols: dimension, to: vectors)
        try (names.joined(separator: "\n") + "\n").write(to: ids, atomically: true, encoding: .utf8)
        let build = try Self.run(["index", "build", "--vectors", vectors.path, "--ids", ids.path, "--output", index, "--metric", "l2"] + kind)
        #expect(build.status == 0, "\(build.stderr)")

        let search = try Self.run(["search", "--index", index, "--queries", vectors.path, "--k", "2", "--format", "jsonl"])
        #expect(search.status == 0, "\(search.stderr)")
        #expect(try Self.firstHits(search.stdout) == names)
        let text = try Self.run(["search", "--index", index, "--queries", vectors.path, "--k", "1"])
        #expect(text.stdout.contains("query 0: python3-ipalib ("), "\(text.stdout)")

        // An int64 .npy cannot hold them: refused before any work, naming the output.
        let npy = try Self.run(["search", "--index", index, "--queries", vectors.path, "--k", "1", "--output", folder.file("hits.npy").path])
        #expect(npy.status == 1 && npy.stderr.contains("has string ids") && npy.stderr.contains("--format jsonl"), "\(npy.stderr)")

        // Adding: new names continue; a repeated name is refused with its line, nothing written.
        let more = folder.file("more.npy"), moreIDs = folder.file("more.txt")
        try writeNPY(Self.unitRows(2, offset: 4, dimension: dimension), rows: 2, cols: dimension, to: more)
        try "gcc-12\npython3-ipalib\n".write(to: moreIDs, atomically: true, encoding: .utf8)
        let clash = try Self.run(["index", "add", "--index", index, "--vectors", more.path, "--ids", moreIDs.path])
        #expect(clash.status == 1 && clash.stderr.contains("line 2: the id 'python3-ipalib' appears twice"), "\(clash.stderr)")
        let unnamed = try Self.run(["index", "add", "--index", index, "--vectors", more.path])
        #expect(unnamed.status == 1 && unnamed.stderr.contains("give --ids"), "\(unnamed.stderr)")
        try "gcc-12\nlibllvm15\n".write(to: moreIDs, atomically: true, encoding: .utf8)
        let add = try Self.run(["index", "add", "--index", index, "--vectors", more.path, "--ids", moreIDs.path])
        #expect(add.status == 0, "\(add.stderr)")
        let after = try Self.run(["search", "--index", index, "--queries", more.path, "--k", "1", "--format", "jsonl"])
        #expect(try Self.firstHits(after.stdout) == ["gcc-12", "libllvm15"])

        // Removing by name (absent names count as absent), then compacting: the rest keep their names.
        let remove = try Self.run(["index", "remove", "--index", index, "--ids", "python3-ipalib,no-such-id", "--format", "json"])
        #expect(remove.status == 0 && remove.stdout.contains("\"removed\": 1"), "\(remove.stdout) \(remove.stderr)")
        let compact = try Self.run(["index", "compact", "--index", index])
        #expect(compact.status == 0, "\(compact.stderr)")
        let rest = try Self.run(["search", "--index", index, "--queries", vectors.path, "--k", "1", "--format", "jsonl"])
        #expect(try Self.firstHits(rest.stdout).dropFirst() == names.dropFirst(), "\(rest.stdout)")
        #expect(try Self.firstHits(rest.stdout).first != "python3-ipalib")
        let info = try Self.run(["index", "info", "--index", index, "--format", "jsonl"])
        #expect(info.stdout.contains("\"string_ids\":5"), "\(info.stdout)")
    }

    @Test func numericIDsStayNumbersAndRefuseText() throws {
        let folder = try TemporaryFolder()
        let vectors = folder.file("x.npy"), ids = folder.file("ids.txt"), index = folder.file("x.idx").path
        try writeNPY(Self.unitRows(3, dimension: 4), rows: 3, cols: 4, to: vectors)
        try "7\n8\n9\n".write(to: ids, atomically: true, encoding: .utf8)
        #expect(try Self.run(["index", "build", "--vectors", vectors.path, "--ids", ids.path, "--output", index, "--metric", "l2"]).status == 0)
        let search = try Self.run(["search", "--index", index, "--queries", vectors.path, "--k", "1", "--format", "jsonl"])
        #expect(search.stdout.hasPrefix("{\"query\":0,\"ids\":[7],"), "\(search.stdout)")
        try "x\ny\nz\n".write(to: ids, atomically: true, encoding: .utf8)
        let add = try Self.run(["index", "add", "--index", index, "--vectors", vectors.path, "--ids", ids.path])
        #expect(add.status == 1 && add.stderr.contains("line 1: 'x' is not a non-negative integer id") && add.stderr.contains("--string-ids"), "\(add.stderr)")
        // --string-ids keeps numbers as text, so later ids may be any text.
        try "7\n8\n9\n".write(to: ids, atomically: true, encoding: .utf8)
        #expect(try Self.run(["index", "build", "--vectors", vectors.path, "--ids", ids.path, "--output", index, "--metric", "l2", "--string-ids"]).status == 0)
        let named = try Self.run(["search", "--index", index, "--queries", vectors.path, "--k", "1", "--format", "jsonl"])
        #expect(try Self.firstHits(named.stdout) == ["7", "8", "9"])
    }
}
