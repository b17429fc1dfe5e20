import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Core
import Testing
@testable import Service
#if canImport(Glibc)
import Glibc
#endif

/// The smaller service findings of issue 12 (finding 10): HEAD, duplicate JSON keys, integers
/// beyond 2⁵³ in metadata, API key files, writes under a tiny timeout, temporary stores.
@Suite("Service request edges") struct RequestEdgeTests {
    @Test func headAnswersLikeGetWithoutABody() async throws {
        let s = try TestService()
        try await s.test { client in
            for path in ["/healthz", "/v1/models", "/openapi.json", "/", "/metrics"] {
                let getLength = try await client.execute(uri: path, method: .get) { $0.body.readableBytes }
                try await client.execute(uri: path, method: .head) { response in
                    #expect(response.status == .ok, "HEAD \(path)")
                    #expect(response.body.readableBytes == 0)
                    if path != "/metrics" {  // the metrics text changes between the two requests
                        #expect(response.headers[.contentLength] == String(getLength), "HEAD \(path) gives GET's length")
                    }
                }
            }
            try await client.execute(uri: "/v1/items/missing", method: .head) { response in
                #expect(response.status == .notFound)
                #expect(response.body.readableBytes == 0)
            }
            // POST-only routes still answer 405 to HEAD, listing their methods.
            try await client.execute(uri: "/v1/embed", method: .head) { #expect($0.status == .methodNotAllowed) }
        }
    }

    @Test func duplicateKeysAreRefusedNamingTheKey() async throws {
        let s = try TestService()
        let (a, b) = (vectorJSON(sampleInput(1)), vectorJSON(sampleInput(2)))
        try await s.test { client in
            let top = try await client.json("/v1/verify", body: "{\"a\":\(a),\"b\":\(b),\"threshold\":0.9,\"threshold\":-1}")
            #expect(top.status == 400)
            #expect(errorCode(top.json) == "malformed_json")
            let error = top.json["error"] as? [String: Any] ?? [:]
            #expect((error["message"] as? String ?? "").contains("'threshold'"))
            #expect(error["field"] as? String == "threshold")
            let nested = try await client.json("/v1/items", body: "{\"items\":[{\"id\":\"x\",\"id\":\"y\",\"vector\":\(a)}]}", key: TestService.key)
            #expect(nested.status == 400)
            #expect((nested.json["error"] as? [String: Any])?["field"] as? String == "items[0].id")
            // The same key in two different objects is fine.
            let fine = try await client.json("/v1/items", body: "{\"items\":[{\"id\":\"x\",\"vector\":\(a)},{\"id\":\"y\",\"vector\":\(b)}]}", key: TestService.key)
            #expect(fine.status == 200)
        }
    }

    @Test func strictParserAcceptsValidJSONAndRefusesTheRest() throws {
        let ok = try StrictJSONParser.parse(Data(#" {"s":"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","n":[-0,1.5e3,-2E-2,0],"t":true,"f":false,"z":null,"o":{}} "#.utf8))
        guard case .object(let o) = ok else { Issue.record("not an object"); return }
        #expect(o["s"] == .string("a\"\\/\u{8}\u{c}\n\r\té😀"))
        #expect(o["n"] == .array([.number(-0.0), .number(1500), .number(-0.02), .number(0)]))
        #expect(o["t"] == .bool(true) && o["z"] == .null)
        for bad in ["", "{", "{\"a\":1,}", "[1,]", "01", "1.", "-", "\"\u{1}\"", "\"\\ud800\"", "\"\\x\"", "{\"a\" 1}", "nul", "[1] 2", "{1:2}", "1e400", "[-1e999]"] {
            #expect(throws: StrictJSONParser.Failure.self, "\(bad)") { try StrictJSONParser.parse(Data(bad.utf8)) }
        }
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: StrictJSONParser.Failure.self, "nesting is bounded") { try StrictJSONParser.parse(Data(deep.utf8)) }
        // Metadata is stored as `jsonText`: it reads back as the same value.
        let sample = #"{"a":[1,-0,1.5,1e300,-2.5e-300,9007199254740993,-9223372036854775808,1000000000000000],"s":"\u0000\n\"é","o":{"t":true,"n":null}}"#
        let value = JSONValue.object(try JSONValue.parseObject(Data(sample.utf8)).fields)
        #expect(JSONValue.object(try JSONValue.parseObject(Data(value.jsonText.utf8)).fields) == value, "\(value.jsonText)")
        #expect(try StrictJSONParser.parse(Data("9007199254740993".utf8)) == .integer(9_007_199_254_740_993))
        #expect(try StrictJSONParser.parse(Data("9007199254740992".utf8)) == .number(9_007_199_254_740_992))
    }

    /// Integers beyond 2⁵³ (and 10¹⁵, once written `1e+15`) are stored and returned as written,
    /// and an equality filter on them matches exactly.
    /// The number fast path (Clinger's: mantissa ≤ 2⁵³, power of ten ≤ 10²²) must give the very
    /// double the standard library's parser gives for the same text, on both sides of its limits.
    @Test func numbersParseToTheSameDoubleAsTheStandardLibrary() throws {
        var g = SeededGenerator(seed: 2026)
        var literals = ["0", "-0", "-0.0", "1", "9007199254740992", "9007199254740993", "-9007199254740993", "1e22", "1e23",
                        "123456789012345678", "1234567890123456789", "12345678901234567890", "0.1", "0.30000000000000004",
                        "4.35", "1e-22", "1e-23", "2.2250738585072014e-308", "5e-324", "1.7976931348623157e308", "0.000001",
                        "123.456e-5", "1E+2", "7e0", "-3.0e-0", "0.00000000000000000000001", "1.00000000000000000000000001"]
        for _ in 0..<20_000 {
            // Embedding-like literals of every length, and random digit strings with exponents.
            let value = Float(Double(g.next() % 2_000_001) / 1_000_000 - 1) * Float(pow(10, Double(Int(g.next() % 7) - 3)))
            literals.append("\(value)")
            let digits = String((0..<(1 + Int(g.next() % 22))).map { _ in Character(String(g.next() % 10)) })
            let cut = Int(g.next() % UInt64(digits.count + 1))
            var t = (g.next() % 2 == 0 ? "-" : "") + (digits.dropFirst(cut).isEmpty ? digits : "\(digits.prefix(max(1, cut))).\(digits.dropFirst(max(1, cut)))")
            if t.hasPrefix("0") && t.count > 1 && !t.hasPrefix("0.") { t = "1" + t }
            if t.hasPrefix("-0") && t.count > 2 && !t.hasPrefix("-0.") { t = "-1" + t.dropFirst() }
            if t.hasSuffix(".") { t += "5" }
            if g.next() % 2 == 0 { t += "e\(Int(g.next() % 60) - 30)" }
            literals.append(t)
        }
        for text in literals {
            let parsed = try StrictJSONParser.parse(Data("[\(text)]".utf8))
            guard case .array(let values) = parsed, values.count == 1 else { Issue.record("\(text): \(parsed)"); continue }
            let expected = try #require(Double(text), "\(text)")
            switch values[0] {
            case .number(let d): #expect(d.bitPattern == expected.bitPattern, "\(text): \(d) vs \(expected)")
            case .integer(let n): #expect(Double(n) == expected && n.magnitude > 1 << 53, "\(text): integer \(n)")
            default: Issue.record("\(text): \(values[0])")
            }
        }
    }

    @Test func largeIntegersInMetadataStayExact() async throws {
        let s = try TestService()
        let v = vectorJSON(sampleInput(3))
        try await s.test { client in
            let body = "{\"items\":[{\"id\":\"big\",\"vector\":\(v),\"metadata\":{\"account\":9007199254740993,\"round\":1000000000000000,\"neg\":-9223372036854775807}}]}"
            #expect(try await client.json("/v1/items", body: body, key: TestService.key).status == 200)
            let raw = try await client.execute(uri: "/v1/items/big", method: .get) { String(buffer: $0.body) }
            #expect(raw.contains("\"account\":9007199254740993"), "\(raw)")
            #expect(raw.contains("\"round\":1000000000000000"), "\(raw)")
            #expect(raw.contains("\"neg\":-9223372036854775807"), "\(raw)")
            for (value, hits) in [("9007199254740993", 1), ("9007199254740992", 0)] {
                let r = try await client.json("/v1/search", body: "{\"query\":\(v),\"k\":5,\"filter\":{\"account\":\(value)}}")
                #expect(r.status == 200)
                #expect((r.json["results"] as? [Any])?.count == hits, "filter account = \(value)")
            }
            let round = try await client.json("/v1/search", body: "{\"query\":\(v),\"k\":5,\"filter\":{\"round\":1e15}}")
            #expect((round.json["results"] as? [Any])?.count == 1)
        }
    }

    @Test func keyFilesWithSeveralLinesOrShortKeysAreRefused() throws {
        func resolve(_ text: String) throws -> ServiceConfiguration {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-key-\(UUID().uuidString)")
            try Data(text.utf8).write(to: url)
            defer { try? FileManager.default.removeItem(at: url) }
            return try ServiceConfiguration.resolve(flags: ["api_key_file": url.path], environment: [:])
        }
        #expect(try resolve("\n  0123456789abcdef0123  \n\n").apiKey == "0123456789abcdef0123", "blank lines and spaces around are fine")
        do {
            _ = try resolve("0123456789abcdef0123\nfedcba98765432100123\n")
            Issue.record("accepted a key file of two keys")
        } catch let e as ConfigurationError {
            #expect(e.description.contains("2 non-empty lines"), "\(e)")
        }
        do {
            _ = try resolve("short\n")
            Issue.record("accepted a short key")
        } catch let e as ConfigurationError {
            #expect(e.description.contains("minimum is 16"), "\(e)")
        }
    }

    /// Under a 1 ms timeout, each upsert is either answered 200 and stored, or answered 503 and
    /// not stored: never "503 but stored".
    @Test func aWriteThatTimesOutIsNotApplied() async throws {
        let s = try TestService(timeoutMilliseconds: 1)
        let answers = Box<[(id: String, status: Int)]>([])
        try await s.test { client in
            try await withThrowingTaskGroup(of: (String, Int).self) { group in
                for i in 0..<30 {
                    group.addTask {
                        let id = "w\(i)"
                        let r = try await client.json("/v1/items", body: "{\"items\":[{\"id\":\"\(id)\",\"vector\":\(vectorJSON(sampleInput(i)))}]}", key: TestService.key)
                        return (id, r.status)
                    }
                }
                for try await answer in group { answers.update { $0.append(answer) } }
            }
        }
        // Let any work that outlived its answer finish: a batch through the inference thread,
        // then a write through the write queue (both serial), twice.
        for _ in 0..<2 {
            _ = try await s.state.batcher.embed([.vector(sampleInput(0))])
            try await s.state.write {}
        }
        for (id, status) in answers.get {
            #expect(status == 200 || status == 503, "\(id): \(status)")
            let stored = try s.state.store.item(id) != nil
            #expect(stored == (status == 200), "\(id) answered \(status) but stored: \(stored)")
        }
        // The rule itself: once a write has begun the timeout no longer answers, and after the
        // timeout answered no write begins.
        let writing = Once()
        #expect(writing.beginWrite() && !writing.claimForTimeout() && writing.claim())
        let late = Once()
        #expect(late.claimForTimeout() && !late.beginWrite())
    }

    @Test func staleTemporaryStoresAreRemovedOthersKept() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-tmp-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let fm = FileManager.default
        func folder(_ name: String, files: [String]) throws -> URL {
            let u = root.appendingPathComponent(name)
            try fm.createDirectory(at: u, withIntermediateDirectories: true)
            for f in files { try Data("x".utf8).write(to: u.appendingPathComponent(f)) }
            return u
        }
        // A pid above Linux's largest pid_max names no process.
        let dead = try folder("siamese-serve-4194400-12345", files: ["store.sqlite", "store.sqlite-wal", "store.sqlite.hnsw"])
        let alive = try folder("siamese-serve-\(getpid())-1", files: ["store.sqlite"])
        let foreign = try folder("siamese-serve-4194401-7", files: ["store.sqlite", "notes.txt"])
        let unlike = try folder("siamese-serve-old", files: ["store.sqlite"])
        TemporaryStores.removeStale(in: root, logger: Logger(label: "test"))
        #expect(!fm.fileExists(atPath: dead.path), "the store of a server that is gone is removed")
        #expect(fm.fileExists(atPath: alive.path), "a running server's store is kept")
        #expect(fm.fileExists(atPath: foreign.path), "a folder holding other files is kept")
        #expect(fm.fileExists(atPath: unlike.path), "a name not exactly ours is kept")
        #expect(TemporaryStores.make(in: root).lastPathComponent.hasPrefix("siamese-serve-\(getpid())-"))
    }
}
