import EmbeddingStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresStore
@testable import Service
import Siamese
import Testing

/// The service over a PostgreSQL store (`serve --store postgres://…`): the same /v1 routes, no
/// index in memory, and a store that cannot be reached answers 503 `store_unavailable`.
@Suite("service on PostgreSQL", .enabled(if: !PostgresTestDatabase.disabled, "SIAMESE_NO_POSTGRES=1: no PostgreSQL server on purpose"))
struct PostgresServiceTests {
    /// A service over the tiny model and a fresh database; `operationTimeout` bounds each store call.
    func service(_ url: PostgresURL, operationTimeout: Duration = .seconds(30)) async throws -> (ServiceState, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-pgservice-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try TinyModel.build(into: folder.appendingPathComponent("model"))
        let model = try SiameseModelAdapter(folder: folder.appendingPathComponent("model"))
        var options = PostgresStoreOptions(metric: IndexMetric.metric(for: model))
        options.operationTimeout = operationTimeout
        // Generous: the server is there, but on a 2-core machine running every suite at once this
        // task can wait tens of seconds for a thread (a 3 s limit timed out a fresh-clone CI run).
        options.connectTimeout = .seconds(60)
        let store = try await PostgresStore.open(url, options: options)
        var c = ServiceConfiguration()
        c.apiKey = TestService.key
        return (try await ServiceState(model: model, postgres: store, configuration: c), folder)
    }

    @Test("upsert, get, search with a filter and delete through the routes; then the database goes away: 503 store_unavailable")
    func routesAndUnavailableStore() async throws {
        let (url, name) = try await PostgresTestDatabase.create()
        let (state, folder) = try await service(url, operationTimeout: .seconds(8))
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(state.sqliteIndex == nil, "a PostgreSQL service holds no index")
        let app = Application(router: ServiceRouter.make(state: state), logger: Logger(label: "test"))
        try await app.test(.router) { client in
            let items = (0..<12).map { i in "{\"id\":\"item \(i) é/?\",\"vector\":\(vectorJSON(sampleInput(i))),\"metadata\":{\"even\":\(i % 2 == 0)}}" }
            let up = try await client.json("/v1/items", body: "{\"items\":[\(items.joined(separator: ","))]}", key: TestService.key)
            #expect(up.status == 200 && up.json["upserted"] as? Int == 12, "\(up.json)")
            let got = try await client.json("/v1/items/item%203%20%C3%A9%2F%3F", method: .get)
            #expect(got.status == 200 && got.json["id"] as? String == "item 3 é/?", "\(got.json)")
            let search = try await client.json("/v1/search", body: "{\"query\":\(vectorJSON(sampleInput(4))),\"k\":3,\"filter\":{\"even\":true}}")
            let ids = (search.json["results"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(search.status == 200 && ids.count == 3 && ids.first == "item 4 é/?", "\(search.json)")
            let deleted = try await client.json("/v1/items", method: .delete, body: "{\"ids\":[\"item 4 é/?\"]}", key: TestService.key)
            #expect(deleted.status == 200 && deleted.json["deleted"] as? Int == 1)
            let models = try await client.json("/v1/models", method: .get)
            #expect((models.json["store"] as? [String: Any])?["items"] as? Int == 11)

            // The database is dropped under the service: requests fail fast with a stable code.
            try await PostgresTestDatabase.drop(name)
            let started = ContinuousClock.now
            let gone = try await client.json("/v1/search", body: "{\"query\":\(vectorJSON(sampleInput(1))),\"k\":3}")
            #expect(gone.status == 503 && errorCode(gone.json) == "store_unavailable", "\(gone.status) \(gone.json)")
            // Bounded by the 8 s operation timeout plus however long this task waits for a thread
            // under full load; without the timeout it would wait for ever.
            #expect(ContinuousClock.now - started < .seconds(90))
            let message = (gone.json["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(message.contains(url.redacted), "the message names the store by its redacted URL: \(message)")
        }
        await state.vectorStore.close()
    }
}
