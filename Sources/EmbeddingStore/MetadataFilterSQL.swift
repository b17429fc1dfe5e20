import Foundation
import GRDB

/// ``MetadataFilter`` as a SQL condition on the `items` table. Everything that comes from the
/// user — the JSON path of each key and every value — is a bound parameter; the SQL text holds
/// only fixed fragments.
extension MetadataFilter {
    /// The WHERE clause (`1` when there are no conditions) and its arguments, in order.
    func sql() -> (clause: String, arguments: [(any DatabaseValueConvertible)?]) {
        var parts: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        for (key, condition) in conditions {
            let (part, args) = Self.sql(path: Self.path(key), condition)
            parts.append("(\(part))")
            arguments += args
        }
        return (parts.isEmpty ? "1" : parts.joined(separator: " AND "), arguments)
    }

    /// `$."key"`: quoted, so that dots and brackets in a key are part of its name (keys hold no
    /// quotes or backslashes: ``check(key:)``).
    static func path(_ key: String) -> String { "$.\"\(key)\"" }

    static func sql(path: String, _ condition: Condition) -> (String, [(any DatabaseValueConvertible)?]) {
        switch condition {
        case .equal(let v): return equal(path: path, v)
        case .notEqual(let v):
            // NULL (a missing key, a type that cannot compare) counts as "not equal".
            let (e, args) = equal(path: path, v)
            return ("NOT COALESCE((\(e)), 0)", args)
        case .in(let values): return list(path: path, values)
        case .compare(let op, let n):
            return ("json_type(metadata, ?) IN ('integer', 'real') AND json_extract(metadata, ?) \(op.rawValue) ?", [path, path, bind(n)])
        case .exists(let present):
            return ("json_type(metadata, ?) IS \(present ? "NOT NULL" : "NULL")", [path])
        }
    }

    /// The stored value's text form: booleans as `true` / `false`, other scalars as SQLite casts
    /// them to text (a JSON null gives NULL, which equals nothing).
    static let textForm = "CASE json_type(metadata, ?) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(json_extract(metadata, ?) AS TEXT) END"

    static func equal(path: String, _ value: Value) -> (String, [(any DatabaseValueConvertible)?]) {
        switch value {
        case .string(let s):
            // No stored value holds a raw NUL (JSON escapes it); bound, `s` would be cut at it.
            guard !EmbeddingStore.holdsNUL(s) else { return ("0", []) }
            return ("\(textForm) = ?", [path, path, s])
        case .number(let n):
            return ("json_type(metadata, ?) IN ('integer', 'real') AND json_extract(metadata, ?) = ?", [path, path, bind(n)])
        case .bool(let b):
            return ("json_type(metadata, ?) = '\(b ? "true" : "false")'", [path])
        }
    }

    /// An `in` list: one bound JSON array per kind of value, read back with `json_each`, so that
    /// a list of 1,000 values costs three parameters, not 1,000.
    static func list(path: String, _ values: [Value]) -> (String, [(any DatabaseValueConvertible)?]) {
        var strings: [String] = [], numbers: [String] = [], bools = Set<Bool>()
        for v in values {
            switch v {
            case .string(let s) where !EmbeddingStore.holdsNUL(s): strings.append(s)
            case .string: break  // matches nothing
            case .number(.integer(let i)): numbers.append(String(i))
            case .number(.real(let d)): numbers.append("\(d)")  // finite: Swift's shortest form is JSON
            case .bool(let b): bools.insert(b)
            }
        }
        var parts: [String] = [], arguments: [(any DatabaseValueConvertible)?] = []
        if !strings.isEmpty {
            let array = String(decoding: try! JSONEncoder().encode(strings), as: UTF8.self)
            parts.append("\(textForm) IN (SELECT value FROM json_each(?))")
            arguments += [path, path, array]
        }
        if !numbers.isEmpty {
            parts.append("json_type(metadata, ?) IN ('integer', 'real') AND json_extract(metadata, ?) IN (SELECT value FROM json_each(?))")
            arguments += [path, path, "[\(numbers.joined(separator: ","))]"]
        }
        for b in bools.sorted(by: { !$0 && $1 }) {
            parts.append("json_type(metadata, ?) = '\(b ? "true" : "false")'")
            arguments.append(path)
        }
        return (parts.isEmpty ? "0" : parts.map { "(\($0))" }.joined(separator: " OR "), arguments)
    }

    static func bind(_ n: Number) -> any DatabaseValueConvertible {
        switch n {
        case .integer(let i): return i
        case .real(let d): return d
        }
    }
}
