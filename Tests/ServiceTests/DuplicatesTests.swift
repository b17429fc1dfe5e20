import EmbeddingStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Tensors
import Testing
import VectorIndex
@testable import Service

/// `POST /v1/duplicates` over the store (issue 12, finding 1): bounded by its own `limit`, off the
/// inference thread, one at a time, and stopped when its request times out or its client leaves.
@Suite("Service duplicates") struct DuplicatesTests {
    /// Fills the store with `count` seeded unit-ish vectors of the model's dimension (as the model
    /// would have made them), straight through the store index: fast, and exactly known here.
    /// On a Dispatch thread: blocking work on the few cooperative threads would stall the servers
    /// of the other tests running meanwhile.
    static func fill(_ s: TestService, count: Int, seed: UInt64 = 7) async throws -> [(id: String, vector: [Float])] {
        try await blocking { try fillBlocking(s, count: count, seed: seed) }
    }

    static func fillBlocking(_ s: TestService, count: Int, seed: UInt64) throws -> [(id: String, vector: [Float])] {
        var generator = SeededGenerator(seed: seed)
        let d = s.state.model.dimension
        let items = (0..<count).map { i in (id: "item-\(i)", vector: (0..<d).map { _ in generator.nextNormal() }) }
        for start in stride(from: 0, to: count, by: 2000) {
            let chunk = items[start..<min(count, start + 2000)].map { StoredItem(id: $0.id, vector: $0.vector) }
            try s.state.storeIndex.upsert(chunk, fingerprint: s.state.model.fingerprint)
        }
        return items
    }

    struct ReferencePair {
        let a: String, b: String, score: Double
    }

    /// Every pair's cosine in double precision, best first (ties by a then b, as the service orders).
    static func bruteForce(_ items: [(id: String, vector: [Float])]) -> [ReferencePair] {
        var out: [ReferencePair] = []
        for i in items.indices {
            for j in (i + 1)..<items.count {
                out.append(ReferencePair(a: items[i].id, b: items[j].id, score: referenceCosine(items[i].vector, items[j].vector)))
            }
        }
        return out.sorted { $0.score > $1.score }
    }

    static func pairs(_ json: [String: Any]) -> [(a: String, b: String, score: Double)] {
        (json["pairs"] as? [[String: Any]] ?? []).map { ($0["a"] as? String ?? "", $0["b"] as? String ?? "", ($0["score"] as? NSNumber)?.doubleValue ?? .nan) }
    }

    /// The top `limit` pairs, their order and the `truncated` flag against a double-precision
    /// brute force over a small store, at limits below, at and above the number of pairs.
    @Test func storeAnswerMatchesABruteForceReference() async throws {
        let s = try TestService()
        let items = try await Self.fill(s, count: 60)
        let reference = Self.bruteForce(items)
        let threshold = 0.3
        let above = reference.filter { $0.score >= threshold }
        // No pair sits so close to the threshold that float rounding could move it across.
        #expect(!reference.contains { abs($0.score - threshold) < 1e-4 })
        try #require(above.count > 20)
        try await s.test { client in
            for limit in [1, 7, above.count - 1, above.count, above.count + 5] {
                let r = try await client.json("/v1/duplicates", body: "{\"threshold\":\(threshold),\"limit\":\(limit)}", key: TestService.key)
                #expect(r.status == 200)
                let got = Self.pairs(r.json)
                #expect(got.count == min(limit, above.count))
                #expect(r.json["truncated"] as? Bool == (above.count > limit), "truncated is exact at limit \(limit)")
                for (g, e) in zip(got, above) {
                    #expect(abs(g.score - e.score) < 1e-5)
                    // Same pair unless two reference scores are too close to order in float.
                    if g.a != e.a || g.b != e.b {
                        #expect(reference.contains { $0.a == g.a && $0.b == g.b && abs($0.score - e.score) < 1e-5 })
                    }
                }
                #expect(zip(got, got.dropFirst()).allSatisfy { $0.score >= $1.score }, "best first")
            }
        }
    }

    /// The bounded search keeps at most `limit` pairs per thread (plus the merged answer) however
    /// many are above the threshold, and answers exactly what the all-pairs collector answers.
    @Test func boundedMiningHoldsLimitPairsNotAllPairs() async throws {
        try await blocking { try Self.compareBoundedWithCollected() }
    }

    static func compareBoundedWithCollected() throws {
        var generator = SeededGenerator(seed: 11)
        let (n, d, limit) = (3000, 16, 10_000)
        let vectors = (0..<(n * d)).map { _ in generator.nextNormal() }
        let bounded = try ParaphraseMining.topPairs(vectors, dimension: d, threshold: -1, limit: limit)
        #expect(bounded.total == n * (n - 1) / 2, "every pair counted")
        #expect(bounded.pairs.count == limit)
        let all = try ParaphraseMining.pairs(vectors, dimension: d, threshold: -1)
        #expect(all.count == bounded.total)
        #expect(Array(all.prefix(limit)) == bounded.pairs, "the same pairs in the same order as the collecting search")
        // With a threshold above every score, nothing is found and nothing is truncated.
        let none = try ParaphraseMining.topPairs(vectors, dimension: d, threshold: 1.5, limit: 5)
        #expect(none.pairs.isEmpty && none.total == 0)
    }

    /// Threshold −1 and limit 10,000 over 3,000 items (4.5 million pairs) answers the 10,000 best,
    /// `truncated`, the same as the all-pairs collector cut to the limit. (Resident memory is
    /// shared with the other suites of this process; the attack script checks a server's peak.)
    @Test func floodOverAStoreAnswersTheLimitBestPairs() async throws {
        let s = try TestService()
        let items = try await Self.fill(s, count: 3000)
        let d = s.state.model.dimension
        let expected = try await blocking { Array(try ParaphraseMining.pairs(items.flatMap(\.vector), dimension: d, threshold: -1).prefix(10_000)) }
        try await s.test { client in
            let r = try await client.json("/v1/duplicates", body: "{\"threshold\":-1,\"limit\":10000}", key: TestService.key)
            #expect(r.status == 200)
            let got = Self.pairs(r.json)
            #expect(got.count == 10_000)
            #expect(r.json["truncated"] as? Bool == true)
            // The same pairs in the same order, except where two scores differ only by float
            // rounding: other suites switch the process-wide kernel ISA while this one runs, and
            // the GEMM behind the scores rounds differently per ISA (seen once under full load).
            let misplaced = zip(got, expected).enumerated().filter { _, pair in
                let (g, e) = pair
                return !(g.a == items[e.a].id && g.b == items[e.b].id) && abs(g.score - Double(e.score)) > 1e-5
            }
            #expect(misplaced.isEmpty, "the best pairs, in order: \(misplaced.prefix(3))")
            #expect(zip(got, expected).filter { $0.a == items[$1.a].id && $0.b == items[$1.b].id }.count >= 9_900, "near-ties aside, the same pairs")
        }
    }

    /// While a duplicates search runs (held open between tiles), verify still answers, a second
    /// duplicates request gets 429, and once released the first one answers.
    @Test func verifyAnswersWhileDuplicatesRuns() async throws {
        // A long request timeout: the search is held open for as long as the test needs.
        let s = try TestService(timeoutMilliseconds: 300_000)
        _ = try await Self.fill(s, count: 3000)
        let entered = Event<Void>(), release = Event<Void>()
        s.state.duplicatesProbe.set { _ in
            entered.fire()
            // Held on the duplicates thread, not the inference one; bounded, in case the test fails.
            _ = release.waitBlocking(seconds: 300)
        }
        try await s.test { client in
            let flood = Task { () -> (status: Int, pairs: Int) in
                let r = try await client.json("/v1/duplicates", body: "{\"threshold\":-1,\"limit\":10000}", key: TestService.key)
                return (r.status, Self.pairs(r.json).count)
            }
            await entered.wait()
            let clock = ContinuousClock(), start = clock.now
            let v = try await client.json("/v1/verify", body: "{\"a\":\(vectorJSON(sampleInput(1))),\"b\":\(vectorJSON(sampleInput(2)))}")
            #expect(v.status == 200, "verify answers while duplicates runs (\(clock.now - start))")
            let second = try await client.json("/v1/duplicates", body: "{\"threshold\":0.99}", key: TestService.key)
            #expect(second.status == 429)
            #expect(errorCode(second.json) == "busy")
            #expect(s.state.duplicatesGate.isFull, "the first search was still running during all this")
            release.fire()
            let r = try await flood.value
            #expect(r.status == 200)
            #expect(r.pairs == 10_000)
        }
        s.state.duplicatesProbe.set(nil)
    }

    /// A search whose request timed out stops at the next tile: the client gets 503 at the
    /// timeout, and the duplicates thread is free again soon after (no tile is computed after it).
    @Test func timedOutSearchStops() async throws {
        let s = try TestService(timeoutMilliseconds: 300)
        _ = try await Self.fill(s, count: 6000)
        let tiles = Box(0), answered = Event<Void>()
        s.state.duplicatesProbe.set { _ in
            tiles.update { $0 += 1 }
            // Each tile waits for the client's answer: the search outlives its request.
            _ = answered.waitBlocking(seconds: 300)
        }
        try await s.test { client in
            let clock = ContinuousClock(), start = clock.now
            let r = try await client.json("/v1/duplicates", body: "{\"threshold\":-1,\"limit\":10000}", key: TestService.key)
            #expect(r.status == 503)
            // Each tile waits for this answer: only the timeout can have given it.
            #expect(errorCode(r.json) == "timeout", "after \(clock.now - start)")
            answered.fire()
            let deadline = ContinuousClock.now + .seconds(120)
            while s.state.duplicatesGate.isFull && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            #expect(!s.state.duplicatesGate.isFull, "the search stopped after its timeout")
        }
        // 6,000 items are 6 row tiles, 21 tile pairs; only tiles already started when the answer
        // went out may finish (one per thread), the rest are skipped.
        #expect(tiles.get <= 1 + Threading.threadCount, "\(tiles.get) tiles looked at")
        s.state.duplicatesProbe.set(nil)
    }
    /// A client that closes its connection mid-search stops the search at the next tile, long
    /// before its (5 minute) timeout: over a real socket, as only a real connection can close.
    @Test func searchStopsWhenTheClientLeaves() async throws {
        let s = try TestService(timeoutMilliseconds: 300_000)
        _ = try await Self.fill(s, count: 6000)
        let tiles = Box(0), entered = Event<Void>()
        s.state.duplicatesProbe.set { clientConnected in
            tiles.update { $0 += 1 }
            entered.fire()
            // Each tile waits until the server has seen the client go (a condition on the
            // connection; bounded in case the test fails): without the check, all 21 would run.
            let limit = ContinuousClock.now + .seconds(300)
            while clientConnected() && ContinuousClock.now < limit { usleep(1000) }
        }
        try await s.live { port in
            let body = "{\"threshold\":-1,\"limit\":10000}"
            let client = try SocketClient(port: port)
            client.send("POST /v1/duplicates HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                + "Authorization: Bearer \(TestService.key)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            await entered.wait()
            client.disconnect()
            let deadline = ContinuousClock.now + .seconds(120)
            while s.state.duplicatesGate.isFull && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            #expect(!s.state.duplicatesGate.isFull, "the search stopped after its client left")
        }
        // 6,000 items are 6 row tiles, 21 tile pairs: only those already started may finish.
        #expect(tiles.get <= 1 + Threading.threadCount, "\(tiles.get) tiles looked at")
        s.state.duplicatesProbe.set(nil)
    }
}
