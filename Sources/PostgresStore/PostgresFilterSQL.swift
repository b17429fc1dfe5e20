import EmbeddingStore
import Foundation
import PostgresNIO

/// SQL text with numbered parameters (`$1`, `$2`, …) and their values, built piece by piece.
/// Only fixed fragments are ever appended as text; every value from outside goes through
/// ``bind(_:)``.
struct SQLBuilder {
    var sql = ""
    var binds = PostgresBindings()

    /// Appends a value as the next parameter and returns its placeholder (`$n`).
    mutating func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    /// The query to run.
    var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }
}

/// ``MetadataFilter`` as a condition on the `metadata jsonb` column, with the same meaning as the
/// SQLite store's (see ``MetadataFilter`` for how values compare). Every key and value is a bound
/// parameter; the SQL text holds only fixed fragments.
///
/// Differences that stay: a real number's text form is PostgreSQL's (`1e20` is
/// `100000000000000000000`, SQLite writes `1.0e+20`), and numbers compare exactly as `numeric`.
enum PostgresFilterSQL {
    /// The condition (`true` when there are none), its parameters appended to `builder`.
    static func condition(_ filter: MetadataFilter, into builder: inout SQLBuilder) -> String {
        let parts = filter.conditions.map { "(\(condition(key: $0.key, $0.condition, into: &builder)))" }
        return parts.isEmpty ? "true" : parts.joined(separator: " AND ")
    }

    static func condition(key: String, _ c: MetadataFilter.Condition, into b: inout SQLBuilder) -> String {
        switch c {
        case .equal(let v): return equal(key: key, v, into: &b)
        case .notEqual(let v):
            // NULL (a missing key, another type) counts as "not equal", as MongoDB's $ne.
            return "NOT COALESCE((\(equal(key: key, v, into: &b))), false)"
        case .in(let values): return list(key: key, values, into: &b)
        case .compare(let op, let n):
            return "\(numeric(b.bind(key))) \(op.rawValue) \(b.bind(text(n)))::numeric"
        case .exists(let present):
            let k = b.bind(key)
            return present ? "COALESCE(metadata ? \(k)::text, false)" : "NOT COALESCE(metadata ? \(k)::text, false)"
        }
    }

    static func equal(key: String, _ v: MetadataFilter.Value, into b: inout SQLBuilder) -> String {
        switch v {
        case .string(let s):
            // PostgreSQL text holds no NUL, and no stored value does (jsonb refuses \u0000).
            guard !EmbeddingStore.holdsNUL(s) else { return "false" }
            // The text form: a string is itself, a number its digits, a boolean true/false.
            let k = b.bind(key)
            return "jsonb_typeof(metadata -> \(k)::text) IN ('string', 'number', 'boolean') AND metadata ->> \(k)::text = \(b.bind(s))::text"
        case .number(let n):
            return "\(numeric(b.bind(key))) = \(b.bind(text(n)))::numeric"
        case .bool(let flag):
            return "metadata -> \(b.bind(key))::text = '\(flag ? "true" : "false")'::jsonb"
        }
    }

    /// An `in` list: one bound array per kind of value (`= ANY`), so 1,000 values cost a few parameters.
    static func list(key: String, _ values: [MetadataFilter.Value], into b: inout SQLBuilder) -> String {
        var strings: [String] = [], numbers: [String] = [], bools = Set<Bool>()
        for v in values {
            switch v {
            case .string(let s) where !EmbeddingStore.holdsNUL(s): strings.append(s)
            case .string: break  // matches nothing
            case .number(let n): numbers.append(text(n))
            case .bool(let flag): bools.insert(flag)
            }
        }
        var parts: [String] = []
        if !strings.isEmpty {
            let k = b.bind(key)
            parts.append("jsonb_typeof(metadata -> \(k)::text) IN ('string', 'number', 'boolean') AND metadata ->> \(k)::text = ANY(\(b.bind(strings))::text[])")
        }
        if !numbers.isEmpty {
            parts.append("\(numeric(b.bind(key))) = ANY(\(b.bind(numbers))::text[]::numeric[])")
        }
        for flag in bools.sorted(by: { !$0 && $1 }) {
            parts.append("metadata -> \(b.bind(key))::text = '\(flag ? "true" : "false")'::jsonb")
        }
        return parts.isEmpty ? "false" : parts.map { "(\($0))" }.joined(separator: " OR ")
    }

    /// The value of key `k` (a placeholder) as a `numeric` when it is a JSON number, else NULL
    /// (which compares as nothing). A CASE, because SQL does not promise to evaluate `AND` left
    /// to right: a type test ANDed with the cast may run after the cast fails on a string.
    static func numeric(_ k: String) -> String {
        "(CASE WHEN jsonb_typeof(metadata -> \(k)::text) = 'number' THEN (metadata -> \(k)::text)::numeric END)"
    }

    /// A number as the text PostgreSQL reads as an exact `numeric`: integers as digits (exact
    /// beyond 2⁵³), reals in Swift's shortest round-trip form (as they were written in JSON).
    static func text(_ n: MetadataFilter.Number) -> String {
        switch n {
        case .integer(let i): String(i)
        case .real(let d): "\(d)"
        }
    }
}
