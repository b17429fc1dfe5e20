import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Service

@Suite("Dynamic batching") struct BatchingTests {
    /// Concurrent requests share forward passes, and each gets exactly the rows it would get alone.
    @Test func concurrentRequestsAreBatchedWithIdenticalResults() async throws {
        let s = try TestService(batchWaitMilliseconds: 50)
        let inputs = (0..<24).map { sampleInput($0 + 100) }
        // Unbatched reference: one forward pass per input, straight through the adapter.
        let alone = try inputs.map { try s.model.embed([.vector($0)])[0] }
        let batched = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for (i, x) in inputs.enumerated() {
                group.addTask { (i, try await s.state.batcher.embed([.vector(x)])[0]) }
            }
            var out = [[Float]](repeating: [], count: inputs.count)
            for try await (i, row) in group { out[i] = row }
            return out
        }
        let stats = s.state.batcher.statistics
        #expect(stats.requests == 24)
        #expect(stats.batches < 24, "24 concurrent requests took \(stats.batches) forward passes")
        #expect(stats.largestBatch > 1)
        for (a, b) in zip(batched, alone) {
            #expect(a.count == b.count)
            for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-6 * max(1, abs(y))) }
        }
    }

    /// Through HTTP as well: concurrent embed requests all succeed with their own rows.
    @Test func concurrentHTTPRequests() async throws {
        let s = try TestService(batchWaitMilliseconds: 20)
        try await s.test { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<16 {
                    group.addTask {
                        let x = sampleInput(i)
                        let r = try await client.json("/v1/embed", body: "{\"inputs\":[\(vectorJSON(x))]}")
                        #expect(r.status == 200)
                        let row = floats((r.json["embeddings"] as? [Any])?.first)
                        let reference = referenceEmbedding(s.model.network, x)
                        for (a, b) in zip(row, reference) { #expect(abs(Double(a) - b) < 1e-5) }
                    }
                }
                try await group.waitForAll()
            }
        }
        #expect(s.state.batcher.statistics.batches < 16)
    }

    /// Searches keep answering while items are being added.
    @Test func searchWhileAdding() async throws {
        let s = try TestService(batchWaitMilliseconds: 1)
        try await s.test { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for chunk in 0..<10 {
                        let items = (0..<10).map { i in "{\"id\":\"c\(chunk)-\(i)\",\"vector\":\(vectorJSON(sampleInput(chunk * 10 + i)))}" }
                        let r = try await client.json("/v1/items", body: "{\"items\":[\(items.joined(separator: ","))]}", key: TestService.key)
                        #expect(r.status == 200)
                    }
                }
                group.addTask {
                    for q in 0..<30 {
                        let r = try await client.json("/v1/search", body: "{\"query\":\(vectorJSON(sampleInput(q))),\"k\":3}")
                        #expect(r.status == 200)
                    }
                }
                try await group.waitForAll()
            }
            let r = try await client.json("/v1/search", body: "{\"query\":\(vectorJSON(sampleInput(42))),\"k\":1}")
            #expect((r.json["results"] as? [[String: Any]])?.first?["id"] as? String == "c4-2")
        }
        #expect(try s.state.store.count() == 100)
    }
}
