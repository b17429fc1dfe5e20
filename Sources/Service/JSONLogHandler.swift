import Foundation
import Logging

/// Writes each log event as one JSON object per line (`--log-format json`), for log collectors
/// that parse lines rather than scrape text: `timestamp` (ISO 8601, UTC, milliseconds), `level`,
/// `label`, `message`, then the metadata (the handler's and the event's) as top-level keys —
/// `request_id`, `status`, `ms`… for request lines. Nested metadata stays nested.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let sink: @Sendable (String) -> Void

    /// A handler writing to standard error.
    public static func standardError(label: String) -> JSONLogHandler {
        JSONLogHandler(label: label) { line in StandardErrorSink.shared.write(line) }
    }

    /// A handler passing each line (without its newline) to `sink`: for tests.
    public init(label: String, sink: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        // Fixed keys win over metadata with the same name, so a line's shape never changes.
        var object: [String: Any] = merged.mapValues(Self.json)
        object["timestamp"] = Self.timestamp()
        object["level"] = event.level.rawValue
        object["label"] = label
        object["message"] = event.message.description
        if let error = event.error { object["error"] = String(describing: error) }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        sink(String(decoding: data, as: UTF8.self))
    }

    static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let s): s
        case .stringConvertible(let c): c.description
        case .array(let a): a.map(json)
        case .dictionary(let d): d.mapValues(json)
        }
    }

    static func timestamp() -> String {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        var seconds = time_t(t.tv_sec), parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, Int(t.tv_nsec / 1_000_000))
    }
}

/// Serialises whole lines onto standard error, so concurrent log lines never interleave.
final class StandardErrorSink: @unchecked Sendable {
    static let shared = StandardErrorSink()
    private let lock = NSLock()

    func write(_ line: String) {
        let data = Data((line + "\n").utf8)
        lock.withLock { FileHandle.standardError.write(data) }
    }
}
