import Core
import Foundation
import Testing
@testable import EmbeddingStore
import VectorIndex

/// Issue 16 ("the store is the hub"): metadata filters with equality, not-equal, `in` lists,
/// numeric ranges and `exists`. The SQL is checked against a reference written here in Swift,
/// from the same metadata, with the rules of ``MetadataFilter`` — not by running SQL.
@Suite("Embedding store: metadata filters")
struct MetadataFilterTests {
    /// A metadata value as the reference sees it.
    enum Stored: Equatable {
        case text(String)
        case int(Int64)
        /// The value, how it is written in the JSON, and how SQLite prints it as text.
        case real(Double, json: String, sqliteText: String)
        case bool(Bool)
        case null

        var json: String {
            switch self {
            case .text(let s): String(decoding: try! JSONEncoder().encode(s), as: UTF8.self)
            case .int(let i): String(i)
            case .real(_, let json, _): json
            case .bool(let b): b ? "true" : "false"
            case .null: "null"
            }
        }

        /// The text form strings compare with (nil: matches no string).
        var text: String? {
            switch self {
            case .text(let s): s
            case .int(let i): String(i)
            case .real(_, _, let t): t
            case .bool(let b): b ? "true" : "false"
            case .null: nil
            }
        }

        var number: MetadataFilter.Number? {
            switch self {
            case .int(let i): .integer(i)
            case .real(let d, _, _): .real(d)
            default: nil
            }
        }
    }

    static let keys = ["lang", "year", "score", "flag", "big", "a.b", "note space"]
    static let texts = ["en", "fr", "2021", "3", "true", "1", "", "x y", "2.5", "3.0", "é"]
    static let ints: [Int64] = [0, 1, 3, 2020, 2021, 2023, -5, 9_007_199_254_740_992, 9_007_199_254_740_993, .max, .min]
    static let reals: [Stored] = [
        .real(2.5, json: "2.5", sqliteText: "2.5"), .real(3, json: "3.0", sqliteText: "3.0"),
        .real(-0.25, json: "-0.25", sqliteText: "-0.25"), .real(2020.5, json: "2020.5", sqliteText: "2020.5"),
        .real(9_007_199_254_740_992, json: "9007199254740992.0", sqliteText: "9.00719925474099e+15"),
        .real(1e20, json: "1e20", sqliteText: "1.0e+20"), .real(0.1, json: "0.1", sqliteText: "0.1"),
    ]

    static func randomStored(_ g: inout SeededGenerator) -> Stored {
        switch g.below(10) {
        case 0...2: .text(texts[g.below(texts.count)])
        case 3...5: .int(ints[g.below(ints.count)])
        case 6...7: reals[g.below(reals.count)]
        case 8: .bool(g.below(2) == 0)
        default: .null
        }
    }

    static func randomValue(_ g: inout SeededGenerator) -> MetadataFilter.Value {
        switch g.below(8) {
        case 0...2: .string((texts + ["2020", "zz", "1.0e+20", "9007199254740993", "v\u{0}x"])[g.below(texts.count + 5)])
        case 3...6: .number(randomNumber(&g))
        default: .bool(g.below(2) == 0)
        }
    }

    static func randomNumber(_ g: inout SeededGenerator) -> MetadataFilter.Number {
        let extra: [MetadataFilter.Number] = [.real(2021), .real(9_007_199_254_740_992), .real(-1e300), .real(2020.25), .integer(2022)]
        let all = ints.map { MetadataFilter.Number.integer($0) } + reals.compactMap(\.number) + extra
        return all[g.below(all.count)]
    }

    static func randomCondition(_ g: inout SeededGenerator) -> MetadataFilter.Condition {
        switch g.below(9) {
        case 0...1: .equal(randomValue(&g))
        case 2: .notEqual(randomValue(&g))
        case 3...4: .in((0..<g.below(7)).map { _ in randomValue(&g) })
        case 5...7: .compare(MetadataFilter.Comparison.allCases[g.below(4)], randomNumber(&g))
        default: .exists(g.below(3) != 0)
        }
    }

    // MARK: - The reference

    /// -1, 0 or 1, exactly (no rounding of integers beyond 2⁵³).
    static func compare(_ a: MetadataFilter.Number, _ b: MetadataFilter.Number) -> Int {
        switch (a, b) {
        case (.integer(let x), .integer(let y)): return x < y ? -1 : x == y ? 0 : 1
        case (.real(let x), .real(let y)): return x < y ? -1 : x == y ? 0 : 1
        case (.real, .integer): return -compare(b, a)
        case (.integer(let i), .real(let d)):
            if d >= 9_223_372_036_854_775_808.0 { return -1 }
            if d < -9_223_372_036_854_775_808.0 { return 1 }
            let floor = d.rounded(.down), t = Int64(floor)
            if i != t { return i < t ? -1 : 1 }
            return d > floor ? -1 : 0
        }
    }

    static func equal(_ stored: Stored?, _ value: MetadataFilter.Value) -> Bool {
        guard let stored else { return false }
        switch value {
        case .string(let s): return !s.utf8.contains(0) && stored.text == s
        case .number(let n): return stored.number.map { compare($0, n) == 0 } ?? false
        case .bool(let b): return stored == .bool(b)
        }
    }

    static func meets(_ stored: Stored?, _ condition: MetadataFilter.Condition) -> Bool {
        switch condition {
        case .equal(let v): return equal(stored, v)
        case .notEqual(let v): return !equal(stored, v)
        case .in(let values): return values.contains { equal(stored, $0) }
        case .compare(let op, let n):
            guard let c = stored?.number.map({ compare($0, n) }) else { return false }
            switch op {
            case .greater: return c > 0
            case .greaterOrEqual: return c >= 0
            case .less: return c < 0
            case .lessOrEqual: return c <= 0
            }
        case .exists(let present): return (stored != nil) == present
        }
    }

    // MARK: - Tests

    /// 300 items with random metadata, 600 random filters: the store's answer equals the reference's.
    @Test func randomFiltersMatchTheReference() throws {
        var g = SeededGenerator(seed: 0x5EED_F117)
        let t = try TemporaryStore()
        let store = try EmbeddingStore(path: t.db)
        var metadata: [String: [String: Stored]] = [:]
        var batch: [StoredItem] = []
        for i in 0..<300 {
            var m: [String: Stored] = [:]
            for key in Self.keys where g.below(4) != 0 { m[key] = Self.randomStored(&g) }
            metadata["item-\(i)"] = m
            // One item in 20 has no metadata at all.
            let json = i % 20 == 7 ? nil : "{" + m.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value.json)" }.joined(separator: ", ") + "}"
            if i % 20 == 7 { metadata["item-\(i)"] = [:] }
            batch.append(StoredItem(id: "item-\(i)", metadata: json, vector: toyEmbed("item \(i)")))
        }
        try store.upsert(batch, fingerprint: "model-a")
        let labels = Dictionary(uniqueKeysWithValues: try store.items(after: nil, limit: 1000).map { ($0.item.id, UInt64($0.label)) })

        var empty = 0, full = 0, some = 0
        for round in 0..<600 {
            let conditions = (0..<(1 + g.below(4))).map { _ in
                (key: g.below(10) == 0 ? "absent" : Self.keys[g.below(Self.keys.count)], condition: Self.randomCondition(&g))
            }
            let filter = try MetadataFilter(conditions)
            let expected = Set(metadata.filter { _, m in conditions.allSatisfy { Self.meets(m[$0.key], $0.condition) } }.map { labels[$0.key]! })
            let got = try store.labels(matching: filter)
            #expect(got == expected, "round \(round): \(conditions)")
            if got != expected { return }
            if expected.isEmpty { empty += 1 } else if expected.count == 300 { full += 1 } else { some += 1 }
        }
        // The filters were not all trivial.
        #expect(some >= 200 && empty >= 20, "empty \(empty), all \(full), some \(some)")
    }

    /// The cases the reference must get right, spelled out.
    @Test func typedComparisons() throws {
        let t = try TemporaryStore()
        let store = try EmbeddingStore(path: t.db)
        let rows = [
            ("n2021", "{\"year\": 2021}"), ("s2021", "{\"year\": \"2021\"}"), ("r2021", "{\"year\": 2021.0}"),
            ("big", "{\"year\": 9007199254740993}"), ("t", "{\"year\": true}"), ("null", "{\"year\": null}"), ("none", "{}"),
        ]
        try store.upsert(rows.map { StoredItem(id: $0.0, metadata: $0.1, vector: toyEmbed($0.0)) }, fingerprint: "m")
        let names = Dictionary(uniqueKeysWithValues: try store.items(after: nil, limit: 100).map { (UInt64($0.label), $0.item.id) })
        func ids(_ c: MetadataFilter.Condition) throws -> Set<String> {
            Set(try store.labels(matching: try MetadataFilter([("year", c)])).map { names[$0]! })
        }
        #expect(try ids(.equal(.string("2021"))) == ["n2021", "s2021"], "text equality: the number's digits, not 2021.0")
        #expect(try ids(.equal(.number(.integer(2021)))) == ["n2021", "r2021"], "numbers only")
        #expect(try ids(.compare(.greaterOrEqual, .integer(2020))) == ["n2021", "r2021", "big"], "the string \"2021\" is no number")
        #expect(try ids(.equal(.number(.integer(9_007_199_254_740_993)))) == ["big"])
        #expect(try ids(.equal(.number(.real(9_007_199_254_740_992)))).isEmpty, "2⁵³ + 1 is not 2⁵³")
        #expect(try ids(.compare(.greater, .real(9_007_199_254_740_992))) == ["big"])
        #expect(try ids(.equal(.bool(true))) == ["t"])
        #expect(try ids(.equal(.string("true"))) == ["t"])
        #expect(try ids(.notEqual(.string("2021"))) == ["r2021", "big", "t", "null", "none"], "a missing key is not equal")
        #expect(try ids(.in([.string("2021"), .number(.integer(9_007_199_254_740_993))])) == ["n2021", "s2021", "big"])
        #expect(try ids(.in([])).isEmpty)
        #expect(try ids(.exists(true)) == ["n2021", "s2021", "r2021", "big", "t", "null"], "a JSON null is present")
        #expect(try ids(.exists(false)) == ["none"])
        // Ranges on one key combine.
        let range = try MetadataFilter([("year", .compare(.greaterOrEqual, .integer(2021))), ("year", .compare(.less, .integer(2022)))])
        #expect(Set(try store.labels(matching: range).map { names[$0]! }) == ["n2021", "r2021"])
    }

    /// U+0000 would cut a bound string: such values match nothing, in a list too, and `!=` matches all.
    @Test func valuesWithANULMatchNothing() throws {
        let t = try TemporaryStore()
        let store = try EmbeddingStore(path: t.db)
        try store.upsert([StoredItem(id: "a", metadata: "{\"k\": \"v\"}", vector: toyEmbed("a"))], fingerprint: "m")
        #expect(try store.labels(matching: MetadataFilter([("k", .in([.string("v\u{0}x")]))])).isEmpty)
        #expect(try store.labels(matching: MetadataFilter([("k", .in([.string("v\u{0}x"), .string("v")]))])).count == 1)
        #expect(try store.labels(matching: MetadataFilter([("k", .notEqual(.string("v\u{0}x")))])).count == 1)
    }

    /// The limits hold, with clear errors; at the limits, the SQL still runs (bound parameters stay
    /// far below SQLite's ceiling because lists are bound as one JSON array).
    @Test func limitsAndKeys() throws {
        let t = try TemporaryStore()
        let store = try EmbeddingStore(path: t.db)
        try store.upsert([StoredItem(id: "a", metadata: "{\"k\": 999, \"a.b[0]\": 1}", vector: toyEmbed("a"))], fingerprint: "m")
        let list = MetadataFilter.Condition.in((0..<1000).map { .number(.integer(Int64($0))) } )
        let widest = try MetadataFilter(Array(repeating: (key: "k", condition: list), count: 32))
        #expect(try store.labels(matching: widest).count == 1)
        #expect(try store.labels(matching: MetadataFilter([("a.b[0]", .equal(.number(.integer(1))))])).count == 1, "dots and brackets are part of the key")

        #expect(throws: MetadataFilterError(key: nil, message: "33 conditions; at most 32")) {
            try MetadataFilter(Array(repeating: (key: "k", condition: .exists(true)), count: 33))
        }
        #expect(throws: MetadataFilterError(key: "k", message: "'k': a list of 1001 values; at most 1000")) {
            try MetadataFilter([("k", .in(Array(repeating: .bool(true), count: 1001)))])
        }
        for key in ["", "a\"b", "a\\b", "a\u{0}b", "tab\t", String(repeating: "x", count: 257)] {
            #expect(throws: MetadataFilterError.self, "key \(key.debugDescription)") { try MetadataFilter([(key, .exists(true))]) }
        }
        #expect(throws: MetadataFilterError.self) { try MetadataFilter([("k", .compare(.less, .real(.nan)))]) }
        #expect(throws: MetadataFilterError.self) { try MetadataFilter([("k", .equal(.number(.real(.infinity))))]) }
    }

    /// A filtered search of the index returns only matching items, best first.
    @Test func filteredSearchReturnsOnlyMatches() throws {
        let t = try TemporaryStore()
        let store = try EmbeddingStore(path: t.db)
        try store.upsert(items(120), fingerprint: "m")
        let index = try store.openIndex(metric: .cosine, indexPath: t.index)
        let filter = try MetadataFilter([("n", .compare(.greaterOrEqual, .integer(30))), ("n", .compare(.less, .integer(40))),
                                         ("kind", .in([.string("cats"), .string("dogs")]))])
        let hits = try index.search(toyEmbed("item number 35"), k: 50, ef: 200, metadata: filter)
        let expected = Set((30..<40).filter { $0 % 3 != 2 }.map { "doc-\($0)" })
        #expect(Set(hits.map(\.id)) == expected)
        #expect(hits.map(\.score) == hits.map(\.score).sorted(by: >))
    }
}

/// The package's seeded generator, with the short name these cases read best with.
extension SeededGenerator {
    mutating func below(_ n: Int) -> Int { nextInt(below: n) }
}
