import ArgumentParser
import EmbeddingStore
import FileSupport
import Foundation
import PostgresStore
import VectorIndex

/// The options of a `--store postgres://…` (ignored for a SQLite file).
struct PostgresOptionGroup: ParsableArguments {
    @Option(help: ArgumentHelp("With --store postgres://…: a file whose first line is the password (default: PGPASSWORD; never put it in the URL you type).", valueName: "file"))
    var passwordFile: String?
    @Option(help: "With --store postgres://…: HNSW m of a new store's index (default 16).") var hnswM: Int?
    @Option(help: "With --store postgres://…: HNSW ef_construction of a new store's index (default 64).") var hnswEfConstruction: Int?
    @Option(help: ArgumentHelp("With --store postgres://…: how a new store keeps its vectors: vector (float32) or halfvec (float16, half the space; same searches).",
                               valueName: "vector|halfvec")) var vectorType: String?

    /// Opens the PostgreSQL store at `location` (the process waits: the command line is synchronous).
    func open(_ location: String, metric: Metric?) throws -> PostgresStore {
        try Self.open(location, options: try options(metric: metric))
    }

    /// The store options these flags give.
    func options(metric: Metric?) throws -> PostgresStoreOptions {
        var options = PostgresStoreOptions(metric: metric, password: try password())
        if let hnswM { options.hnswM = hnswM }
        if let hnswEfConstruction { options.hnswEfConstruction = hnswEfConstruction }
        if let vectorType {
            guard let type = PostgresVectorType(rawValue: vectorType) else {
                throw ValidationError("--vector-type must be vector or halfvec (got '\(vectorType)')")
            }
            options.vectorType = type
        }
        return options
    }

    /// Opens the PostgreSQL store at `location` with `options`; a bad URL is a usage error.
    static func open(_ location: String, options: PostgresStoreOptions) throws -> PostgresStore {
        let url: PostgresURL
        do { url = try PostgresURL(location) } catch { throw ValidationError(error.description) }
        return try blocking { try await PostgresStore.open(url, options: options) }
    }

    /// The first line of `--password-file` (nil without the option).
    func password() throws -> String? {
        guard let passwordFile else { return nil }
        guard let data = FileManager.default.contents(atPath: passwordFile) else { throw InputError(file: passwordFile, message: "cannot read the password file") }
        guard let text = String(data: data, encoding: .utf8) else { throw InputError(file: passwordFile, message: "the password file is not UTF-8") }
        let line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: "\r")) } ?? ""
        guard !line.isEmpty else { throw InputError(file: passwordFile, message: "the first line (the password) is empty") }
        return line
    }
}

/// A store location as messages may show it: a PostgreSQL URL without its password.
func redactedLocation(_ location: String) -> String {
    guard PostgresURL.isPostgres(location) else { return location }
    return (try? PostgresURL(location).redacted) ?? "postgres://…"
}

/// Runs async work to its end from synchronous command code, which runs on the main thread
/// outside Swift's cooperative pool, so waiting here cannot starve the work it waits for.
func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    try Started(body).wait()
}

/// Async work started now and waited for later from synchronous command code (``blocking(_:)``
/// split in two), so that the caller works on while it runs: `store import` encodes its next
/// batch while the database takes this one.
final class Started<T: Sendable>: @unchecked Sendable {
    // Written by the task before the semaphore is signalled, read after it is waited on: the
    // semaphore orders the two.
    private var result: Result<T, any Error>?
    private let done = DispatchSemaphore(value: 0)

    /// Starts `body` on Swift's pool.
    /// - Parameters:
    ///   - body: The work.
    init(_ body: @escaping @Sendable () async throws -> T) {
        Task.detached { [self] in
            do { result = .success(try await body()) } catch { result = .failure(error) }
            done.signal()
        }
    }

    /// Waits for the work's end (once) and returns its value or throws its error.
    func wait() throws -> T {
        done.wait()
        return try result!.get()
    }
}
