import Foundation

/// Settings of `siamese serve`, resolved from flags, then environment variables, then an
/// optional JSON config file, then defaults (earlier sources win).
///
/// | setting | flag | environment | config file key | default |
/// |---|---|---|---|---|
/// | host | `--host` | `SIAMESE_HOST` | `host` | `127.0.0.1` |
/// | port | `--port` | `SIAMESE_PORT` | `port` | `8080` |
/// | model folder | `--model` | `SIAMESE_MODEL` | `model` | the built-in demo model |
/// | store | `--store` | `SIAMESE_STORE` | `store` | a fresh store in a temporary folder |
/// | PostgreSQL password file (first line) | `--store-password-file` | `SIAMESE_STORE_PASSWORD_FILE` | `store_password_file` | `PGPASSWORD` |
/// | API key file | `--api-key-file` | `SIAMESE_API_KEY_FILE` | `api_key_file` | none: writes refused |
/// | max body bytes | `--max-body-bytes` | `SIAMESE_MAX_BODY_BYTES` | `max_body_bytes` | 1 MiB |
/// | max inputs per request | `--max-inputs` | `SIAMESE_MAX_INPUTS` | `max_inputs` | 256 |
/// | request timeout (ms) | `--timeout-ms` | `SIAMESE_TIMEOUT_MS` | `timeout_ms` | 30000 |
/// | idle connection timeout (ms) | `--idle-timeout-ms` | `SIAMESE_IDLE_TIMEOUT_MS` | `idle_timeout_ms` | 30000 |
/// | request head timeout (ms) | `--header-timeout-ms` | `SIAMESE_HEADER_TIMEOUT_MS` | `header_timeout_ms` | 10000 |
/// | request body timeout (ms) | `--body-timeout-ms` | `SIAMESE_BODY_TIMEOUT_MS` | `body_timeout_ms` | 30000 |
/// | batch wait (ms) | `--batch-wait-ms` | `SIAMESE_BATCH_WAIT_MS` | `batch_wait_ms` | 2 |
/// | max batch (inputs) | `--max-batch` | `SIAMESE_MAX_BATCH` | `max_batch` | 64 |
/// | demo model cache | `--demo-cache` | `SIAMESE_DEMO_CACHE` | `demo_cache` | `$XDG_CACHE_HOME/siamese` or `~/.cache/siamese` |
/// | drain after SIGTERM (ms) | `--drain-ms` | `SIAMESE_DRAIN_MS` | `drain_ms` | 0 |
/// | log level | `--log-level` | `SIAMESE_LOG_LEVEL` | `log_level` | `info` |
/// | log format (`text`, `json`) | `--log-format` | `SIAMESE_LOG_FORMAT` | `log_format` | `text` |
///
/// The config file itself is named by `--config` or `SIAMESE_CONFIG`: a JSON object of these keys,
/// or of other commands' sections (`"search": {"k": 20}`) and a `"serve"` section holding them.
public struct ServiceConfiguration: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var model: String?
    /// A cross-encoder folder for `/v1/rerank` and reranked searches (none by default).
    public var rerankModel: String?
    public var store: String?
    /// With a `postgres://` store: a file whose first line is the database password (nil: `PGPASSWORD`).
    public var storePasswordFile: String?
    public var apiKeyFile: String?
    /// The key itself (read from ``apiKeyFile`` by ``resolve(flags:environment:)``); nil: writes refused.
    public var apiKey: String?
    public var maxBodyBytes = 1 << 20
    public var maxInputs = 256
    public var timeoutMilliseconds = 30_000
    /// How long a connection may stay without a byte of a next request before it is closed.
    public var idleTimeoutMilliseconds = 30_000
    /// How long a request head may take to arrive, from its first byte (slowly sent headers).
    public var headerTimeoutMilliseconds = 10_000
    /// How long a request body may take to arrive, from the end of the head (slowly sent bodies).
    public var bodyTimeoutMilliseconds = 30_000
    public var batchWaitMilliseconds = 2
    public var maxBatch = 64
    /// Where the demo model is cached (nil: ``DemoModelProvider/defaultCacheDirectory()``).
    public var demoCache: String?
    /// How long `/readyz` answers 503 after SIGTERM before the listener closes, so that a load
    /// balancer stops sending new requests first.
    public var drainMilliseconds = 0
    public var logLevel = "info"
    public var logFormat = LogFormat.text

    /// How log lines are written to standard error.
    public enum LogFormat: String, Sendable, CaseIterable {
        /// `swift-log`'s default: a timestamp, the level, the message and `key=value` metadata.
        case text
        /// One JSON object per line (`timestamp`, `level`, `label`, `message` and the metadata).
        case json
    }

    /// The shortest API key accepted, in bytes.
    public static let minimumKeyLength = 16

    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    public init() {}

    /// The settings that can come from each source, by config-file key.
    public static let keys = ["host", "port", "model", "rerank_model", "store", "store_password_file", "api_key_file", "max_body_bytes", "max_inputs",
                              "timeout_ms", "idle_timeout_ms", "header_timeout_ms", "body_timeout_ms", "batch_wait_ms", "max_batch", "demo_cache", "drain_ms", "log_level", "log_format"]

    static func environmentName(_ key: String) -> String { "SIAMESE_" + key.uppercased() }

    /// Resolves the configuration.
    ///
    /// - Parameters:
    ///   - flags: values given on the command line, by config-file key (`"port": "9000"`);
    ///     `"config"` names the config file.
    ///   - environment: the process environment.
    /// - Throws: ``ConfigurationError`` naming the source and setting at fault.
    public static func resolve(flags: [String: String], environment: [String: String]) throws -> ServiceConfiguration {
        var file: [String: String] = [:]
        if let path = flags["config"] ?? environment["SIAMESE_CONFIG"] { file = try readFile(path) }
        var c = ServiceConfiguration()
        for key in keys {
            let source: String, raw: String
            if let v = flags[key] { (source, raw) = ("--\(key.replacingOccurrences(of: "_", with: "-"))", v) }
            else if let v = environment[environmentName(key)] { (source, raw) = (environmentName(key), v) }
            else if let v = file[key] { (source, raw) = ("config file key '\(key)'", v) }
            else { continue }
            try c.set(key, raw, source: source)
        }
        if let path = c.apiKeyFile {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ConfigurationError("\(path): cannot read the API key file")
            }
            // One key on one line: a file of several keys would start a server whose writes can never
            // succeed (no client can send the lines joined by a newline in a header).
            let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard lines.count <= 1 else {
                throw ConfigurationError("\(path): the API key file holds \(lines.count) non-empty lines; it must hold exactly one key on one line")
            }
            let key = lines.first ?? ""
            guard key.utf8.count >= minimumKeyLength else {
                throw ConfigurationError("\(path): the API key is \(key.utf8.count) characters; the minimum is \(minimumKeyLength)")
            }
            guard key.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
                throw ConfigurationError("\(path): the API key must be printable ASCII without spaces (it travels in the Authorization header)")
            }
            c.apiKey = key
        }
        return c
    }

    mutating func set(_ key: String, _ raw: String, source: String) throws {
        func int(_ range: ClosedRange<Int>) throws -> Int {
            guard let v = Int(raw.trimmingCharacters(in: .whitespaces)), range.contains(v) else {
                throw ConfigurationError("\(source): '\(raw)' is not an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            return v
        }
        switch key {
        case "host": host = raw
        case "port": port = try int(0...65535)
        case "model": model = raw
        case "rerank_model": rerankModel = raw
        case "store": store = raw
        case "store_password_file": storePasswordFile = raw
        case "api_key_file": apiKeyFile = raw
        case "max_body_bytes": maxBodyBytes = try int(1024...(1 << 30))
        case "max_inputs": maxInputs = try int(1...100_000)
        case "timeout_ms": timeoutMilliseconds = try int(1...3_600_000)
        case "idle_timeout_ms": idleTimeoutMilliseconds = try int(1...3_600_000)
        case "header_timeout_ms": headerTimeoutMilliseconds = try int(1...3_600_000)
        case "body_timeout_ms": bodyTimeoutMilliseconds = try int(1...3_600_000)
        case "batch_wait_ms": batchWaitMilliseconds = try int(0...1000)
        case "max_batch": maxBatch = try int(1...100_000)
        case "demo_cache": demoCache = raw
        case "drain_ms": drainMilliseconds = try int(0...600_000)
        case "log_level":
            guard Self.logLevels.contains(raw) else { throw ConfigurationError("\(source): unknown log level '\(raw)' (known: \(Self.logLevels.joined(separator: ", ")))") }
            logLevel = raw
        case "log_format":
            guard let f = LogFormat(rawValue: raw) else { throw ConfigurationError("\(source): unknown log format '\(raw)' (text or json)") }
            logFormat = f
        default: throw ConfigurationError("\(source): unknown setting '\(key)'")
        }
    }

    /// A JSON object of settings; values may be strings or numbers.
    static func readFile(_ path: String) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigurationError("\(path): cannot read the config file") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConfigurationError("\(path): the config file must be a JSON object")
        }
        var out: [String: String] = [:]
        // Objects are sections for other commands (`"search": {…}`), read by the CLI; a
        // `"serve"` section holds settings like the top level.
        var entries = object.filter { !($0.value is [String: Any]) }
        if let serve = object["serve"] as? [String: Any] { entries.merge(serve) { _, section in section } }
        for (key, value) in entries {
            guard keys.contains(key) else {
                throw ConfigurationError("\(path): unknown key '\(key)' (known: \(keys.joined(separator: ", ")))")
            }
            switch value {
            case let s as String: out[key] = s
            case let n as NSNumber: out[key] = n.stringValue
            default: throw ConfigurationError("\(path): key '\(key)' must be a string or a number")
            }
        }
        return out
    }
}

/// A configuration value that cannot be used; the message names where it came from.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
