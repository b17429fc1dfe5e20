import Foundation
import Logging
import PostgresNIO
import PostgresStore
import Siamese
import Tensors
import Testing

/// `siamese ingest` against the real server: the same items as `store import`, workers sharing one
/// input, and a worker killed with SIGKILL mid-run whose rerun leaves each item exactly once.
@Suite("siamese ingest on PostgreSQL", .enabled(if: SiameseExecutable.url != nil, "the siamese executable was not built"),
       .enabled(if: !PostgresTestDatabase.disabled, "SIAMESE_NO_POSTGRES=1: no PostgreSQL server on purpose"))
struct PostgresIngestTests {
    /// A scratch folder with the tiny model and a JSONL input of `count` items (ids `item-N`).
    func setUp(count: Int) throws -> (folder: URL, model: URL, input: URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-ingest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let model = folder.appendingPathComponent("model")
        try TinyModel.build(into: model)
        var generator = SeededGenerator(seed: 13)
        var jsonl = ""
        for i in 0..<count {
            let row = (0..<TinyModel.inputDimension).map { _ in Double(generator.nextNormal()) }
            let line = try JSONSerialization.data(withJSONObject: ["id": "item-\(i)", "text": row, "metadata": ["n": i, "odd": i % 2 == 1]], options: [.sortedKeys])
            jsonl += String(decoding: line, as: UTF8.self) + "\n"
        }
        let input = folder.appendingPathComponent("items.jsonl")
        try jsonl.write(to: input, atomically: true, encoding: .utf8)
        return (folder, model, input)
    }

    func json(_ s: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any], "not a JSON object: \(s)")
    }

    /// The store's items as exported JSON lines, by id.
    func exported(_ store: String, folder: URL) throws -> [String: NSDictionary] {
        let out = folder.appendingPathComponent("export-\(UUID().uuidString).jsonl")
        let r = try SiameseExecutable.run(["store", "export", "--store", store, "--output", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        var byID: [String: NSDictionary] = [:]
        for line in try String(contentsOf: out, encoding: .utf8).split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? NSDictionary)
            let id = try #require(object["id"] as? String)
            #expect(byID[id] == nil, "\(id) exported twice")
            byID[id] = object
        }
        return byID
    }

    @Test("ingest of a JSONL gives the same items and vectors as store import of it; a rerun skips every chunk; an item without id gets its line number")
    func ingestMatchesImport() async throws {
        let (folder, model, input) = try setUp(count: 60)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (a, nameA) = try await PostgresTestDatabase.create()
        let (b, nameB) = try await PostgresTestDatabase.create()
        let ingested = try SiameseExecutable.run(["ingest", "--store", a.redacted, "--model", model.path, "--input", input.path,
                                                  "--chunk-size", "7", "--batch-size", "4", "--format", "json"])
        #expect(ingested.status == 0, "\(ingested.stderr)")
        let summary = try json(ingested.stdout)
        #expect(summary["ingested_items"] as? Int == 60 && summary["chunks"] as? Int == 9 && summary["skipped_chunks"] as? Int == 0 && summary["items"] as? Int == 60, "\(summary)")
        let imported = try SiameseExecutable.run(["store", "import", "--store", b.redacted, "--model", model.path, "--input", input.path])
        #expect(imported.status == 0, "\(imported.stderr)")
        let (x, y) = (try exported(a.redacted, folder: folder), try exported(b.redacted, folder: folder))
        #expect(x.count == 60 && x == y, "ingest and import differ")

        let again = try SiameseExecutable.run(["ingest", "--store", a.redacted, "--model", model.path, "--input", input.path, "--chunk-size", "7", "--format", "json"])
        #expect(again.status == 0, "\(again.stderr)")
        let second = try json(again.stdout)
        #expect(second["ingested_items"] as? Int == 0 && second["skipped_chunks"] as? Int == 9 && second["items"] as? Int == 60, "\(second)")
        #expect(again.stderr.contains("skipped 9 of 9 chunks (60 items) already done"), "\(again.stderr)")

        // Line 2 has no id: it is stored as "2".
        let noID = folder.appendingPathComponent("noid.jsonl")
        try "{\"id\": \"first\", \"text\": [1,2,3,4,5,6,7,8]}\n{\"text\": [8,7,6,5,4,3,2,1]}\n".write(to: noID, atomically: true, encoding: .utf8)
        let r = try SiameseExecutable.run(["ingest", "--store", a.redacted, "--model", model.path, "--input", noID.path])
        #expect(r.status == 0, "\(r.stderr)")
        let all = try exported(a.redacted, folder: folder)
        #expect(all.count == 62 && all["2"] != nil && all["first"] != nil)
        try await PostgresTestDatabase.drop(nameA)
        try await PostgresTestDatabase.drop(nameB)
    }

    @Test("two workers at once on one input: every chunk ingested by exactly one of them, exactly N rows")
    func twoWorkers() async throws {
        let n = 400
        let (folder, model, input) = try setUp(count: n)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (url, name) = try await PostgresTestDatabase.create()
        let arguments = ["ingest", "--store", url.redacted, "--model", model.path, "--input", input.path, "--chunk-size", "10", "--format", "json"]
        async let first = Task.detached { try SiameseExecutable.run(arguments) }.value
        async let second = Task.detached { try SiameseExecutable.run(arguments) }.value
        let (r1, r2) = try await (first, second)
        #expect(r1.status == 0 && r2.status == 0, "\(r1.stderr)\n\(r2.stderr)")
        let (s1, s2) = (try json(r1.stdout), try json(r2.stdout))
        let mine = [s1, s2].compactMap { $0["ingested_chunks"] as? Int }
        #expect(mine.count == 2 && mine.reduce(0, +) == 40, "each chunk once: \(s1) \(s2)")
        #expect(s1["items"] as? Int == n && s2["items"] as? Int == n)
        let items = try exported(url.redacted, folder: folder)
        #expect(items.count == n && Set(items.keys) == Set((0..<n).map { "item-\($0)" }))
        try await PostgresTestDatabase.drop(name)
    }

    @Test("a worker killed with SIGKILL mid-run, then a rerun: every item exactly once; the rerun says what it skipped")
    func killedWorkerResumes() async throws {
        let n = 10_000
        let (folder, model, input) = try setUp(count: n)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (url, name) = try await PostgresTestDatabase.create()
        let siamese = try #require(SiameseExecutable.url)
        let worker = Process()
        worker.executableURL = siamese
        worker.arguments = ["ingest", "--store", url.redacted, "--model", model.path, "--input", input.path,
                            "--chunk-size", "50", "--batch-size", "50", "--lease-seconds", "2"]
        worker.standardOutput = FileHandle.nullDevice
        worker.standardError = FileHandle.nullDevice
        // It stalls after 5 committed chunks, holding the lease of a 6th: killed there, not raced.
        worker.environment = ProcessInfo.processInfo.environment.merging(["SIAMESE_TEST_INGEST_STALL_AFTER_CHUNKS": "5"]) { $1 }
        try worker.run()
        // Wait (with a deadline) until some chunks are committed, then kill it with no warning.
        let deadline = ContinuousClock.now + .seconds(180)
        var doneBefore = 0
        while doneBefore < 5 && worker.isRunning && ContinuousClock.now < deadline {
            doneBefore = (try? await Self.doneChunks(url)) ?? 0
            if doneBefore < 5 { try await Task.sleep(for: .milliseconds(20)) }
        }
        kill(worker.processIdentifier, SIGKILL)
        worker.waitUntilExit()
        #expect(worker.terminationReason == .uncaughtSignal, "the worker ended before it was killed (status \(worker.terminationStatus))")
        let doneAtKill = try await Self.doneChunks(url)
        #expect(doneAtKill == 5, "killed mid-run, holding a 6th chunk: \(doneAtKill) of 200 chunks done")

        let rerun = try SiameseExecutable.run(["ingest", "--store", url.redacted, "--model", model.path, "--input", input.path,
                                               "--chunk-size", "50", "--batch-size", "50", "--format", "json"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let summary = try json(rerun.stdout)
        #expect(summary["items"] as? Int == n && summary["skipped_chunks"] as? Int == doneAtKill, "\(summary)")
        #expect(rerun.stderr.contains("skipped \(doneAtKill) of 200 chunks"), "\(rerun.stderr)")
        #expect(summary["taken_over_chunks"] as? Int == 1, "the chunk the killed worker held is taken over: \(summary)")
        let items = try exported(url.redacted, folder: folder)
        #expect(items.count == n && Set(items.keys) == Set((0..<n).map { "item-\($0)" }))
        #expect(try await Self.doneChunks(url) == 200)
        try await PostgresTestDatabase.drop(name)
    }

    /// Chunks marked done in the store's job table.
    static func doneChunks(_ url: PostgresURL) async throws -> Int {
        let logger = Logger(label: "tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let config = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                      database: url.database, tls: .disable)
        let conn = try await PostgresConnection.connect(configuration: config, id: 1, logger: logger)
        var done = 0
        do {
            for try await n in try await conn.query("SELECT count(done_at) FROM siamese_ingest_chunks", logger: logger).decode(Int64.self) { done = Int(n) }
        } catch {
            try? await conn.close()
            throw error
        }
        try await conn.close()
        return done
    }
}
