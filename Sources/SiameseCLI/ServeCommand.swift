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
        discussion: HelpText.reflow("""
        Routes: POST /v1/embed, /v1/compare, /v1/verify, /v1/search, /v1/duplicates, /v1/items (upsert; API key),
        DELETE /v1/items (API key), GET /v1/items/{id}, /v1/models, /healthz, /readyz, /metrics, /openapi.json, /.
        Settings come from flags, then SIAMESE_* environment variables (SIAMESE_PORT, SIAMESE_MODEL, …), then the
        JSON file named by --config or SIAMESE_CONFIG (its top-level keys, or its "serve" section: host, port, model,
        store, store_password_file, api_key_file, max_body_bytes, max_inputs, timeout_ms, idle_timeout_ms,
        header_timeout_ms, body_timeout_ms, batch_wait_ms, max_batch, demo_cache, drain_ms,
        log_level, log_format).

        Without --model the demo model is served: the signature verifier of `siamese demo` (inputs: 192 numbers,
        x₀…x₆₃, y₀…y₆₃, p₀…p₆₃ of a pen trajectory; its calibrated threshold decides /v1/verify). It is trained on
        first use (about ten seconds) and cached under --demo-cache (default $XDG_CACHE_HOME/siamese or
        ~/.cache/siamese); GET /v1/models lists example pairs to try. Without --store a fresh store in a temporary
        folder is used.

        On SIGTERM /readyz answers 503 (for --drain-ms, then the listener closes), in-flight requests finish, the
        index is saved, and the process exits 0. Each request is logged with its id (also sent as X-Request-Id);
        --log-format json writes one JSON object per line.

        Examples:
          siamese serve                                   # demo model, fresh store, http://127.0.0.1:8080/
          siamese serve --host 127.0.0.1 --port 8080 --model all-MiniLM-L6-v2 --store items.sqlite --api-key-file key.txt
          SIAMESE_PORT=9000 siamese serve --log-format json
        """)
    )

    @Option(help: "Address to bind (default 127.0.0.1).") var host: String?
    @Option(help: "Port (default 8080; 0 picks a free one).") var port: Int?
    @Option(help: "Model folder: a Siamese model (siamese.json) or a sentence-transformers folder (default: the demo model).") var model: String?
    @Option(help: "Cross-encoder folder (sentence-transformers CrossEncoder) for /v1/rerank and searches with \"rerank_k\" (default: none).") var rerankModel: String?
    @Option(help: "Store: a SQLite file (created when missing) or postgres://USER@HOST:PORT/DATABASE (default: a fresh temporary SQLite store).") var store: String?
    @Option(help: "With --store postgres://…: a file whose first line is the database password (default: PGPASSWORD).") var storePasswordFile: String?
    @Option(help: "File holding the API key required by writes and admin routes.") var apiKeyFile: String?
    @Option(help: "JSON config file (lowest precedence).") var config: String?
    @Option(help: "Largest request body in bytes (default 1 MiB).") var maxBodyBytes: Int?
    @Option(help: "Most inputs or items per request (default 256).") var maxInputs: Int?
    @Option(help: "Request timeout in milliseconds (default 30000).") var timeoutMs: Int?
    @Option(help: "Close a connection that sends no request for this many milliseconds (default 30000).") var idleTimeoutMs: Int?
    @Option(help: "Close a connection whose request head takes longer than this many milliseconds (default 10000).") var headerTimeoutMs: Int?
    @Option(help: "Close a connection whose request body takes longer than this many milliseconds (default 30000).") var bodyTimeoutMs: Int?
    @Option(help: "Longest wait for an embedding batch to fill, in milliseconds (default 2).") var batchWaitMs: Int?
    @Option(help: "Most inputs per model forward pass (default 64).") var maxBatch: Int?
    @OptionGroup var threading: ThreadsOption
    /// `--threads`, or nil for the default.
    var threads: Int? { threading.threads }

    @Option(help: "Folder caching the trained demo model (default $XDG_CACHE_HOME/siamese or ~/.cache/siamese).") var demoCache: String?
    @Option(help: "After SIGTERM, milliseconds during which /readyz answers 503 before the listener closes (default 0).") var drainMs: Int?
    @Option(help: "Log level: trace, debug, info (default), notice, warning, error, critical.") var logLevel: String?
    @Option(help: "Log lines as text (default) or json (one object per line).") var logFormat: String?

    func run() async throws {
        threading.apply()
        var flags: [String: String] = [:]
        let given: [(String, CustomStringConvertible?)] = [
            ("host", host), ("port", port), ("model", model), ("rerank_model", rerankModel), ("store", store), ("store_password_file", storePasswordFile), ("api_key_file", apiKeyFile), ("config", config),
            ("max_body_bytes", maxBodyBytes), ("max_inputs", maxInputs), ("timeout_ms", timeoutMs),
            ("idle_timeout_ms", idleTimeoutMs), ("header_timeout_ms", headerTimeoutMs), ("body_timeout_ms", bodyTimeoutMs),
            ("batch_wait_ms", batchWaitMs), ("max_batch", maxBatch), ("demo_cache", demoCache), ("drain_ms", drainMs),
            ("log_level", logLevel), ("log_format", logFormat),
        ]
        for case let (key, value?) in given { flags[key] = value.description }
        let configuration: ServiceConfiguration
        do {
            configuration = try ServiceConfiguration.resolve(flags: flags, environment: ProcessInfo.processInfo.environment)
        } catch let e as ConfigurationError {
            throw ValidationError(e.description)
        }
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        switch configuration.logFormat {
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        case .json:
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
        let logger = Logger(label: "siamese.serve")
        try await ServiceApp.run(configuration, logger: logger)
    }
}
