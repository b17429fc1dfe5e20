import ArgumentParser
import Foundation
import Logging
import Service
import Tensors

/// `siamese serve`: the HTTP service over one model and an embedding store.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model and an embedding store over HTTP (JSON API under /v1, web page at /).",
        discussion: """
        Routes: POST /v1/embed, /v1/compare, /v1/verify, /v1/search, /v1/duplicates, /v1/items (upsert; API key),
        DELETE /v1/items (API key), GET /v1/items/{id}, /v1/models, /healthz, /readyz, /metrics, /openapi.json, /.
        Settings come from flags, then SIAMESE_* environment variables (SIAMESE_PORT, SIAMESE_MODEL, …), then the
        JSON file named by --config or SIAMESE_CONFIG. Without --model the built-in demo model is served; without
        --store a fresh store in a temporary folder is used. SIGTERM finishes in-flight requests, then saves the index.

        Example:
          siamese serve --host 127.0.0.1 --port 8080 --model all-MiniLM-L6-v2 --store items.sqlite --api-key-file key.txt
        """
    )

    @Option(help: "Address to bind (default 127.0.0.1).") var host: String?
    @Option(help: "Port (default 8080; 0 picks a free one).") var port: Int?
    @Option(help: "Model folder: a Siamese model (siamese.json) or a sentence-transformers folder (default: the demo model).") var model: String?
    @Option(help: "SQLite store file (created when missing; default: a fresh temporary store).") var store: String?
    @Option(help: "File holding the API key required by writes and admin routes.") var apiKeyFile: String?
    @Option(help: "JSON config file (lowest precedence).") var config: String?
    @Option(help: "Largest request body in bytes (default 1 MiB).") var maxBodyBytes: Int?
    @Option(help: "Most inputs or items per request (default 256).") var maxInputs: Int?
    @Option(help: "Request timeout in milliseconds (default 30000).") var timeoutMs: Int?
    @Option(help: "Longest wait for an embedding batch to fill, in milliseconds (default 2).") var batchWaitMs: Int?
    @Option(help: "Most inputs per model forward pass (default 64).") var maxBatch: Int?
    @Option(help: "Kernel threads (default: all cores).") var threads: Int?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"

    func run() async throws {
        if let threads { Threading.threadCount = threads }
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("--log-level: unknown level '\(logLevel)'") }
        var flags: [String: String] = [:]
        let given: [(String, CustomStringConvertible?)] = [
            ("host", host), ("port", port), ("model", model), ("store", store), ("api_key_file", apiKeyFile), ("config", config),
            ("max_body_bytes", maxBodyBytes), ("max_inputs", maxInputs), ("timeout_ms", timeoutMs),
            ("batch_wait_ms", batchWaitMs), ("max_batch", maxBatch),
        ]
        for case let (key, value?) in given { flags[key] = value.description }
        let configuration: ServiceConfiguration
        do {
            configuration = try ServiceConfiguration.resolve(flags: flags, environment: ProcessInfo.processInfo.environment)
        } catch let e as ConfigurationError {
            throw ValidationError(e.description)
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "siamese.serve")
        try await ServiceApp.run(configuration, logger: logger)
    }
}
