import EmbeddingStore
import Foundation
import Logging
import PostgresNIO
import PostgresStore
import Testing

/// The PostgreSQL server the test command starts (`scripts/postgres.sh start`, whose URL
/// scripts/test.sh exports as SIAMESE_TEST_POSTGRES_URL).
///
/// Policy (as for the MiniLM model tests): without the URL these tests FAIL, unless
/// SIAMESE_NO_POSTGRES=1 says on purpose that there is no server; they then report as skipped.
enum TestPostgres {
    static let environment = ProcessInfo.processInfo.environment
    /// True when SIAMESE_NO_POSTGRES=1 turns the PostgreSQL tests off on purpose.
    static let disabled = environment["SIAMESE_NO_POSTGRES"] == "1"

    /// The server's URL; fails the test when it is missing.
    static func url() throws -> PostgresURL {
        let raw = try #require(environment["SIAMESE_TEST_POSTGRES_URL"],
                               "SIAMESE_TEST_POSTGRES_URL is unset: run the tests with scripts/test.sh (it starts PostgreSQL with scripts/postgres.sh), or set SIAMESE_NO_POSTGRES=1 to skip them on purpose")
        return try PostgresURL(raw)
    }

    static let logger = Logger(label: "tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Runs `body` on a plain connection to `url`.
    static func withConnection<T: Sendable>(_ url: PostgresURL, _ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let config = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                      database: url.database, tls: .disable)
        let conn = try await PostgresConnection.connect(configuration: config, id: 1, logger: logger)
        do {
            let result = try await body(conn)
            try await conn.close()
            return result
        } catch {
            try? await conn.close()
            throw error
        }
    }

    /// A new, empty database of its own (copied from `siamese_template`, which has pgvector, or
    /// from `template0`, which has not), so that tests running side by side share nothing.
    static func freshDatabase(withVector: Bool = true) async throws -> PostgresURL {
        var url = try url()
        // Only hex digits and a fixed prefix: the name cannot be a bound parameter.
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let template = withVector ? "siamese_template" : "template0"
        try await withConnection(url) { conn in
            _ = try await conn.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE \(template)"), logger: logger)
        }
        url.database = name
        return url
    }

    /// Options for a server that is there: a connect limit long enough for a 2-core machine
    /// running every suite at once, where a task can wait tens of seconds for a thread.
    static var patient: PostgresStoreOptions {
        var options = PostgresStoreOptions()
        options.connectTimeout = .seconds(60)
        return options
    }

    /// Opens a store on a fresh database, runs `body`, closes the store and drops the database.
    static func withStore<T: Sendable>(_ options: PostgresStoreOptions = PostgresStoreOptions(),
                                       _ body: (PostgresStore) async throws -> T) async throws -> T {
        let url = try await freshDatabase()
        var options = options
        options.connectTimeout = max(options.connectTimeout, .seconds(60))
        let store = try await PostgresStore.open(url, options: options)
        do {
            let result = try await body(store)
            await store.close()
            try await drop(url)
            return result
        } catch {
            await store.close()
            try? await drop(url)
            throw error
        }
    }

    static func drop(_ url: PostgresURL) async throws {
        var admin = url
        admin.database = try self.url().database
        let name = url.database
        try await withConnection(admin) { conn in
            _ = try await conn.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
        }
    }
}

/// Reproducible pseudo-random numbers (SplitMix64).
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
    mutating func vector(_ d: Int) -> [Float] { (0..<d).map { _ in float() } }
}
