import Foundation

/// Conditions on item metadata, all of which an item must meet (they are ANDed), each on one
/// top-level key of the item's metadata object. Built by the command line's `--filter` and the
/// service's `"filter"`, evaluated by ``EmbeddingStore/labels(matching:)`` in SQL.
///
/// How values compare:
/// - **Strings compare as text** (the rule since the first store): the stored value's text form
///   must equal the string. The text form of a JSON string is itself, of an integer its decimal
///   digits (so `year=2021` matches the number 2021 as well as the string "2021"), of a real
///   number the way SQLite prints it (`2.5`, `3.0`, `1.0e+20`), of a boolean `true` or `false`;
///   `null`, a missing key and a string holding U+0000 match nothing.
/// - **Numbers compare as numbers, and only with JSON numbers**: `3` matches `3` and `3.0`, but
///   the string `"3"` neither equals `3` nor satisfies `>= 2020` when it is `"2021"`. Integers
///   beyond 2⁵³ compare exactly (9007199254740993 is not 9007199254740992).
/// - **Booleans** match the JSON booleans `true` / `false` only.
/// - ``Condition/notEqual(_:)`` matches every item that ``Condition/equal(_:)`` would not,
///   items without the key included (as MongoDB's `$ne`).
/// - ``Condition/exists(_:)`` asks whether the key is present (a JSON `null` counts as present).
///
/// Limits, checked by ``init(_:)``: at most ``maxConditions`` conditions, at most
/// ``maxListValues`` values in an ``Condition/in(_:)`` list, keys of 1 to 256 bytes without
/// quotes, backslashes or control characters, finite numbers.
public struct MetadataFilter: Sendable, Equatable {
    /// A number as written: integers stay exact (beyond 2⁵³ too), others are Doubles.
    public enum Number: Sendable, Equatable {
        /// An integer, compared exactly.
        case integer(Int64)
        /// A real number (finite).
        case real(Double)
    }

    /// A value to compare with.
    public enum Value: Sendable, Equatable {
        /// Compared with the stored value's text form.
        case string(String)
        /// Compared numerically with JSON numbers only.
        case number(Number)
        /// Matches the JSON boolean.
        case bool(Bool)
    }

    /// A numeric comparison operator.
    public enum Comparison: String, Sendable, Equatable, CaseIterable {
        /// `>`
        case greater = ">"
        /// `>=`
        case greaterOrEqual = ">="
        /// `<`
        case less = "<"
        /// `<=`
        case lessOrEqual = "<="
    }

    /// One condition on one key.
    public enum Condition: Sendable, Equatable {
        /// The stored value equals this one.
        case equal(Value)
        /// The stored value does not equal this one (a missing key included).
        case notEqual(Value)
        /// The stored value equals one of these (an empty list matches nothing).
        case `in`([Value])
        /// The stored value is a JSON number and compares so with this one.
        case compare(Comparison, Number)
        /// The key is present (true) or absent (false).
        case exists(Bool)
    }

    /// Most conditions in one filter.
    public static let maxConditions = 32
    /// Most values in one `in` list.
    public static let maxListValues = 1000

    /// The conditions, in the order given.
    public let conditions: [(key: String, condition: Condition)]

    /// A filter of conditions on keys; all must hold.
    /// - Parameters:
    ///   - conditions: (key, condition) pairs, ANDed; a key may appear several times
    ///     (`year >= 2020` and `year < 2024`).
    /// - Throws: ``MetadataFilterError`` when a limit is passed, a key is not allowed or a number
    ///   is not finite.
    public init(_ conditions: [(key: String, condition: Condition)]) throws(MetadataFilterError) {
        guard conditions.count <= Self.maxConditions else {
            throw MetadataFilterError(key: nil, message: "\(conditions.count) conditions; at most \(Self.maxConditions)")
        }
        for (key, condition) in conditions { try Self.check(key: key, condition) }
        self.conditions = conditions
    }

    /// Equality with text values, key by key (the form of the filters before ranges and lists).
    /// - Parameters:
    ///   - equal: key → the text its value must have.
    public init(equal: [String: String]) throws(MetadataFilterError) {
        try self.init(equal.sorted { $0.key < $1.key }.map { ($0.key, .equal(.string($0.value))) })
    }

    /// Whether two filters hold the same conditions in the same order.
    public static func == (a: MetadataFilter, b: MetadataFilter) -> Bool {
        a.conditions.count == b.conditions.count && zip(a.conditions, b.conditions).allSatisfy { $0.key == $1.key && $0.condition == $1.condition }
    }

    /// Throws when `key` cannot be used in a filter.
    public static func check(key: String) throws(MetadataFilterError) {
        guard !key.isEmpty, key.utf8.count <= 256,
              !key.unicodeScalars.contains(where: { $0 == "\"" || $0 == "\\" || $0.value < 0x20 }) else {
            throw MetadataFilterError(key: key, message: "filter keys must be 1 to 256 characters without quotes, backslashes or control characters")
        }
    }

    /// Throws when `condition` on `key` breaks a limit (key, list length, finite numbers).
    public static func check(key: String, _ condition: Condition) throws(MetadataFilterError) {
        try check(key: key)
        func finite(_ v: Value) throws(MetadataFilterError) {
            if case .number(let n) = v { try finiteNumber(n) }
        }
        func finiteNumber(_ n: Number) throws(MetadataFilterError) {
            if case .real(let d) = n, !d.isFinite { throw MetadataFilterError(key: key, message: "'\(key)': \(d) is not a finite number") }
        }
        switch condition {
        case .equal(let v), .notEqual(let v): try finite(v)
        case .in(let values):
            guard values.count <= maxListValues else {
                throw MetadataFilterError(key: key, message: "'\(key)': a list of \(values.count) values; at most \(maxListValues)")
            }
            for v in values { try finite(v) }
        case .compare(_, let n): try finiteNumber(n)
        case .exists: break
        }
    }
}

/// A filter refused by ``MetadataFilter/init(_:)``.
public struct MetadataFilterError: Error, Equatable, CustomStringConvertible {
    /// The key at fault (nil when the filter as a whole is, e.g. too many conditions).
    public let key: String?
    /// What is wrong.
    public let message: String
    /// The message.
    public var description: String { message }
}
