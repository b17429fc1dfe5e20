import Foundation
import Logging
import NPY
import PostgresNIO
import PostgresStore
import Siamese
import Tensors
import Testing

/// A database of its own on the server the test command starts (SIAMESE_TEST_POSTGRES_URL, from
/// scripts/postgres.sh), copied from its `siamese_template` (which has pgvector).
enum PostgresTestDatabase {
    /// True when SIAMESE_NO_POSTGRES=1 turns the PostgreSQL tests off on purpose (they then
    /// report as skipped); without it a missing URL fails them.
    static let disabled = ProcessInfo.processInfo.environment["SIAMESE_NO_POSTGRES"] == "1"

    static func serverURL() throws -> PostgresURL {
        let raw = try #require(ProcessInfo.processInfo.environment["SIAMESE_TEST_POSTGRES_URL"],
                               "SIAMESE_TEST_POSTGRES_URL is unset: run the tests with scripts/test.sh, or set SIAMESE_NO_POSTGRES=1 to skip them on purpose")
        return try PostgresURL(raw)
    }

    /// Runs one statement on the server's own database (CREATE / DROP DATABASE cannot be bound:
    /// the names here are made of hex digits only).
    static func admin(_ sql: String) async throws {
        let url = try serverURL()
        let logger = Logger(label: "tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let config = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                      database: url.database, tls: .disable)
        let conn = try await PostgresConnection.connect(configuration: config, id: 1, logger: logger)
        do { _ = try await conn.query(PostgresQuery(unsafeSQL: sql), logger: logger) } catch {
            try? await conn.close()
            throw error
        }
        try await conn.close()
    }

    /// A fresh database; returns its URL (and name, to drop it).
    static func create() async throws -> (url: PostgresURL, name: String) {
        var url = try serverURL()
        let name = "cli_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await admin("CREATE DATABASE \(name) TEMPLATE siamese_template")
        url.database = name
        return (url, name)
    }

    static func drop(_ name: String) async throws { try await admin("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
}

/// `--store postgres://…` on the command line: import, stats, search, export and dedupe against
/// the real server, with the same results as the SQLite store for the same items.
@Suite("siamese --store postgres://", .enabled(if: SiameseExecutable.url != nil, "the siamese executable was not built"),
       .enabled(if: !PostgresTestDatabase.disabled, "SIAMESE_NO_POSTGRES=1: no PostgreSQL server on purpose"))
struct PostgresCLITests {
    func json(_ s: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any], "not a JSON object: \(s)")
    }

    @Test func importSearchExportAgainstSQLite() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-pgcli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (url, name) = try await PostgresTestDatabase.create()
        let model = folder.appendingPathComponent("model")
        try TinyModel.build(into: model)
        var generator = SeededGenerator(seed: 5)
        let ids = ["python3-ipalib", "é/ü ?%", "3"] + (0..<37).map { "item-\($0)" }
        var jsonl = ""
        for (i, id) in ids.enumerated() {
            let row = (0..<TinyModel.inputDimension).map { _ in Double(generator.nextNormal()) }
            let line = try JSONSerialization.data(withJSONObject: ["id": id, "text": row, "metadata": ["lang": i % 3 == 0 ? "en" : "de", "n": i]], options: [.sortedKeys])
            jsonl += String(decoding: line, as: UTF8.self) + "\n"
        }
        let input = folder.appendingPathComponent("items.jsonl"), sqlite = folder.appendingPathComponent("items.sqlite")
        try jsonl.write(to: input, atomically: true, encoding: .utf8)
        // A password in the URL (ignored by the test server's trust authentication) must never be printed.
        var withPassword = url
        withPassword.password = "hunter2-secret"
        let store = "postgres://\(url.user):hunter2-secret@\(url.host):\(url.port)/\(url.database)"

        for target in [store, sqlite.path] {
            let r = try SiameseExecutable.run(["store", "import", "--store", target, "--model", model.path, "--input", input.path, "--batch-size", "16", "--format", "json"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(!r.stdout.contains("hunter2") && !r.stderr.contains("hunter2"), "the password was printed: \(r.stdout) \(r.stderr)")
            let summary = try json(r.stdout)
            #expect(summary["imported"] as? Int == ids.count && summary["items"] as? Int == ids.count)
            // Three batches into an empty store: loaded first, the HNSW index built once at the end.
            if target == store { #expect(r.stderr.contains("building the search index"), "\(r.stderr)") }
        }
        // A generous connect limit: in this process the whole test bundle runs, and on 2 cores its
        // CPU-bound suites can hold Swift's cooperative threads long enough for the default 10 s
        // (+5 s for the migrations) to pass before the probe connection's answer is handled — it
        // did once ("no answer within 15.0 s"). The limit itself is tested in PostgresStoreTests.
        var options = PostgresStoreOptions()
        options.connectTimeout = .seconds(60)
        let opened = try await PostgresStore.open(url, options: options)
        #expect(try await opened.hasSearchIndex())
        await opened.close()
        let stats = try SiameseExecutable.run(["store", "stats", "--store", store, "--format", "json"])
        #expect(stats.status == 0, "\(stats.stderr)")
        let s = try json(stats.stdout)
        #expect(s["items"] as? Int == ids.count && s["dimension"] as? Int == 16 && s["metric"] as? String == "cosine")
        #expect(s["store"] as? String == withPassword.redacted && !stats.stdout.contains("hunter2"))

        // The same query and filter on both stores: the same ids, in the same order.
        let query = "[" + (0..<TinyModel.inputDimension).map { _ in String(generator.nextNormal()) }.joined(separator: ",") + "]"
        var answers: [[String]] = []
        for target in [store, sqlite.path] {
            let r = try SiameseExecutable.run(["search", "--store", target, "--model", model.path, "--query", query, "--k", "5", "--filter", "lang=en", "--format", "json"])
            #expect(r.status == 0, "\(r.stderr)")
            let hits = try #require(try json(r.stdout)["hits"] as? [[String: Any]])
            #expect(hits.count == 5 && hits.allSatisfy { ($0["metadata"] as? [String: Any])?["lang"] as? String == "en" })
            answers.append(hits.compactMap { $0["id"] as? String })
        }
        #expect(answers[0] == answers[1], "PostgreSQL \(answers[0]) vs SQLite \(answers[1])")

        let exported = folder.appendingPathComponent("out.jsonl")
        let e = try SiameseExecutable.run(["store", "export", "--store", store, "--output", exported.path])
        #expect(e.status == 0, "\(e.stderr)")
        let lines = try String(contentsOf: exported, encoding: .utf8).split(separator: "\n")
        #expect(Set(try lines.compactMap { try json(String($0))["id"] as? String }) == Set(ids))

        let d = try SiameseExecutable.run(["dedupe", "--store", store, "--top-k", "1", "--format", "jsonl"])
        #expect(d.status == 0, "\(d.stderr)")
        #expect(!d.stdout.isEmpty)

        // Mined inside the database through its index: the same pairs and scores as the exact
        // mining of the SQLite store (40 items: the index finds every true neighbour).
        func pairs(_ text: String, ordered: Bool) throws -> [String: Double] {
            var out: [String: Double] = [:]
            for line in text.split(separator: "\n") {
                let o = try json(String(line))
                let (a, b) = (try #require(o["a"] as? String), try #require(o["b"] as? String))
                // The database writes each pair once with a < b (bytewise); SQLite in row order.
                if ordered { #expect(Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)), "\(a) \(b)") }
                out[min(a, b) + "|" + max(a, b)] = try #require(o["score"] as? Double)
            }
            return out
        }
        let pgPairs = folder.appendingPathComponent("pg-pairs.jsonl")
        let mined = try SiameseExecutable.run(["dedupe", "--store", store, "--top-k", "3", "--threshold", "0.2", "--output", pgPairs.path,
                                               "--table", "near_duplicates", "--format", "jsonl"])
        #expect(mined.status == 0 && !mined.stderr.contains("hunter2"), "\(mined.stderr)")
        #expect(try json(mined.stdout)["table"] as? String == "near_duplicates")
        let exact = try SiameseExecutable.run(["dedupe", "--store", sqlite.path, "--top-k", "3", "--threshold", "0.2", "--format", "jsonl"])
        #expect(exact.status == 0, "\(exact.stderr)")
        let (fromPG, fromSQLite) = (try pairs(try String(contentsOf: pgPairs, encoding: .utf8), ordered: true), try pairs(exact.stdout, ordered: false))
        #expect(!fromSQLite.isEmpty && Set(fromPG.keys) == Set(fromSQLite.keys))
        for (key, score) in fromSQLite { #expect(abs((fromPG[key] ?? .nan) - score) < 1e-5, "\(key)") }
        // The kept table is refused as the target of another run (never overwritten), and a
        // table name that is not a plain identifier is a usage error.
        let again = try SiameseExecutable.run(["dedupe", "--store", store, "--top-k", "3", "--table", "near_duplicates", "--format", "jsonl"])
        #expect(again.status == 1 && again.stderr.contains("near_duplicates"), "\(again.stderr)")
        for badName in ["x; DROP TABLE siamese_items", "siamese_items", "Upper"] {
            let r = try SiameseExecutable.run(["dedupe", "--store", store, "--top-k", "3", "--table", badName])
            #expect(r.status == 2 && r.stderr.contains("--table"), "\(badName): \(r.stderr)")
        }
        // --format json streams one array.
        let array = try SiameseExecutable.run(["dedupe", "--store", store, "--top-k", "3", "--threshold", "0.2", "--format", "json"])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(array.stdout.utf8)) as? [[String: Any]], "\(array.stdout)")
        #expect(parsed.count == fromSQLite.count)

        // cluster through the database's index (each item's 100 nearest: all of these 40) equals
        // cluster over the exported vectors, for both methods; the threshold sits in the widest
        // gap between pair scores near 0.3, so float rounding cannot move a pair across it.
        let npy = folder.appendingPathComponent("v.npy"), npyIDs = folder.appendingPathComponent("v.ids.txt")
        // Exported from PostgreSQL: rows in id order, as the database path numbers them (ties between equal-sized groups).
        let ex = try SiameseExecutable.run(["store", "export", "--store", store, "--output", npy.path, "--ids", npyIDs.path])
        #expect(ex.status == 0, "\(ex.stderr)")
        let rowIDs = try String(contentsOf: npyIDs, encoding: .utf8).split(separator: "\n").map(String.init)
        let matrix = try NPY.read(npy).float32Matrix()
        let unit = (0..<matrix.rows).map { r -> [Double] in
            let v = matrix.values[(r * matrix.cols)..<((r + 1) * matrix.cols)].map(Double.init)
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / norm }
        }
        var scores: [Double] = []
        for a in 0..<unit.count { for b in (a + 1)..<unit.count { scores.append(zip(unit[a], unit[b]).reduce(0) { $0 + $1.0 * $1.1 }) } }
        scores.sort()
        let near = scores.indices.dropLast().filter { abs(scores[$0] - 0.3) < 0.1 }
        let gap = try #require(near.max { scores[$0 + 1] - scores[$0] < scores[$1 + 1] - scores[$1] })
        let threshold = String((scores[gap] + scores[gap + 1]) / 2)
        for method in ["components", "communities"] {
            var groups: [[[String]]] = []
            for source in [["--vectors", npy.path], ["--store", store, "--top-k", "100"]] {
                let out = folder.appendingPathComponent("clusters-\(groups.count).jsonl")
                let r = try SiameseExecutable.run(["cluster"] + source + ["--method", method, "--threshold", threshold, "--min-size", "2", "--output", out.path])
                #expect(r.status == 0 && !r.stderr.contains("hunter2"), "\(r.stderr)")
                groups.append(try String(contentsOf: out, encoding: .utf8).split(separator: "\n").map { line in
                    let members = try #require(try json(String(line))["members"] as? [Any])
                    let ids = members.map { ($0 as? Int).map { rowIDs[$0] } ?? ($0 as? String ?? "?") }
                    return method == "components" ? ids.sorted() : ids  // a component is a set
                })
            }
            #expect(!groups[0].isEmpty && groups[0] == groups[1], "\(method): .npy \(groups[0]) vs PostgreSQL \(groups[1])")
        }

        // The exported .npy imported into another database, in batches of 7 (the first, of one
        // row, makes the table; the next is encoded while the one before is sent): the same ids
        // and the same vector bits when exported again.
        let (copyURL, copyName) = try await PostgresTestDatabase.create()
        let imported = try SiameseExecutable.run(["store", "import", "--store", copyURL.redacted, "--model", model.path, "--input", npy.path,
                                                  "--ids", npyIDs.path, "--batch-size", "7", "--format", "json"])
        #expect(imported.status == 0 && imported.stderr.contains("building the search index"), "\(imported.stderr)")
        #expect(try json(imported.stdout)["items"] as? Int == ids.count)
        let npy2 = folder.appendingPathComponent("v2.npy"), npyIDs2 = folder.appendingPathComponent("v2.ids.txt")
        let ex2 = try SiameseExecutable.run(["store", "export", "--store", copyURL.redacted, "--output", npy2.path, "--ids", npyIDs2.path])
        #expect(ex2.status == 0, "\(ex2.stderr)")
        #expect(try String(contentsOf: npyIDs2, encoding: .utf8) == String(contentsOf: npyIDs, encoding: .utf8))
        #expect(try NPY.read(npy2).float32Matrix().values.map(\.bitPattern) == matrix.values.map(\.bitPattern))

        // A server that is not there: a clear error naming host and port, exit 1, no password.
        let unreachable = "postgres://\(url.user):hunter2-secret@127.0.0.1:1/\(url.database)"
        let bad = try SiameseExecutable.run(["store", "stats", "--store", unreachable])
        #expect(bad.status == 1 && bad.stderr.contains("127.0.0.1") && bad.stderr.contains("port 1") && !bad.stderr.contains("hunter2"), "\(bad.stderr)")
        let malformed = try SiameseExecutable.run(["store", "stats", "--store", "postgres://nouser-hunter2"])
        #expect(malformed.status == 2 && malformed.stderr.contains("--store URL") && !malformed.stderr.contains("hunter2"), "\(malformed.stderr)")
        try await PostgresTestDatabase.drop(name)
        try await PostgresTestDatabase.drop(copyName)
    }
}
