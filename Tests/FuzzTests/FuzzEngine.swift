import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The mutation engine shared by every fuzz target in this folder (one file per reader).
//
// Each target starts from small valid seeds committed under `Corpus/<target>/`, replays every
// committed file first (seeds, then `regressions/`: inputs that once crashed or broke an
// invariant), then checks a stream of mutated inputs from a seeded generator. For every input the
// reader must either accept it (and the target checks invariants of what it read) or refuse it
// with its own typed error. A crash by signal kills the test process and so fails the run; the
// input being checked at that moment is kept in a memory-mapped file (see ``LastInput``) that
// `Fuzz/run-fuzz.sh` turns into a regression file.
//
// Environment:
//   SIAMESE_FUZZ_ITERATIONS  mutated inputs per target (default: the target's quick-run size)
//   SIAMESE_FUZZ_SECONDS     stop a target after this many seconds even if iterations remain
//   SIAMESE_FUZZ_SEED        generator seed (default fixed, so the quick run is deterministic)
//   SIAMESE_FUZZ_STATE_DIR   where the last-input files live (default $TMPDIR/siamese-fuzz-<pid>)
//   SIAMESE_FUZZ_FAILURES    where inputs that broke an invariant are written (default: state dir)

/// The answer of a target's check for one input.
enum FuzzOutcome {
    /// The reader accepted the input and what it read satisfies the target's invariants.
    case accepted
    /// The reader refused the input with its own typed error; `kind` groups the statistics.
    case rejected(kind: String)
    /// The reader accepted or refused the input in a way that breaks an invariant.
    case violation(String)
    /// The input would reach a crash another branch fixes (see each target's `knownCrash`); it was
    /// not run. Reported as a known issue, never as a pass.
    case knownCrash(String)
}

/// A fuzz target: one reader of outside data.
protocol FuzzTarget {
    /// The corpus folder name under `Corpus/` and the name used in reports and file names.
    var name: String { get }
    /// Mutated inputs in the quick run (the test command); sized so that every target together
    /// stays well under a minute in release on two cores.
    var quickIterations: Int { get }
    /// A mutated input derived from `seed`; `pool` holds every seed for splicing.
    func mutate(_ seed: [UInt8], pool: [[UInt8]], _ m: inout Mutator) -> [UInt8]
    /// Runs the reader on `input` and judges the result.
    func check(_ input: [UInt8]) async -> FuzzOutcome
}

/// splitmix64: small, fast and the same on every platform, so a seed names a run exactly.
struct FuzzRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// Byte-level and structure-aware mutations (JSON, CSV).
struct Mutator {
    var rng: FuzzRNG

    /// Numbers that sit on the edges readers get wrong: signs, powers of two, Int/Float limits,
    /// overflow to infinity, non-numbers, and spellings a strict parser must refuse.
    static let interestingNumbers = [
        "0", "-0", "1", "-1", "2", "7", "8", "-2147483649", "255", "256", "65535", "65536", "65537", "2147483647",
        "2147483648", "4294967295", "4294967296", "9007199254740993", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "-9223372036854775809", "18446744073709551615", "18446744073709551616",
        "100000000000000000", "99999999999999999999999999999", "1e17", "1e308", "-1e308", "1e309", "-1e309", "1e39",
        "3.4028235e38", "3.5e38", "1e-45", "4.9e-324", "1e-400", "0.5", "-0.5", "1.0000001", "NaN", "nan", "inf",
        "-inf", "Infinity", "0x10", "1_000", "+1", "01", ".5", "5.", "1e", "-", "", " 1", "1 ",
    ]

    /// Integers as raw little-endian bytes (for binary formats).
    static let interestingIntegers: [UInt64] = [
        0, 1, 2, 7, 8, 63, 64, 127, 128, 255, 256, 0x7FFF, 0x8000, 0xFFFF, 0x1_0000, 0x7FFF_FFFF, 0x8000_0000,
        0xFFFF_FFFF, 0x1_0000_0000, 1 << 40, 1 << 53, UInt64(Int64.max), 1 << 63, UInt64.max, UInt64.max - 1,
        100_000_000_000_000_000,
    ]

    init(seed: UInt64) { rng = FuzzRNG(seed: seed) }

    // MARK: bytes

    /// One to four byte-level edits: flips, overwrites, inserts, deletes, duplicated or spliced
    /// ranges, interesting integers, long runs, truncation, dictionary tokens.
    mutating func bytes(_ input: [UInt8], pool: [[UInt8]] = [], dictionary: [String] = []) -> [UInt8] {
        var b = input
        for _ in 0..<(1 + rng.below(4)) { byteEdit(&b, pool: pool, dictionary: dictionary) }
        return b
    }

    mutating func byteEdit(_ b: inout [UInt8], pool: [[UInt8]], dictionary: [String]) {
        let pos = rng.below(b.count + 1)
        switch rng.below(12) {
        case 0 where !b.isEmpty: b[min(pos, b.count - 1)] ^= 1 << UInt8(rng.below(8))
        case 1 where !b.isEmpty: b[min(pos, b.count - 1)] = UInt8(truncatingIfNeeded: rng.next())
        case 2: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: pos)
        case 3 where !b.isEmpty:
            let end = min(b.count, pos + 1 + rng.below(16))
            if pos < end { b.removeSubrange(pos..<end) }
        case 4 where !b.isEmpty:  // duplicate a range elsewhere
            let start = rng.below(b.count), end = min(b.count, start + 1 + rng.below(64))
            b.insert(contentsOf: Array(b[start..<end]), at: rng.below(b.count + 1))
        case 5 where !pool.isEmpty:  // splice: our prefix, another seed's suffix
            let other = rng.pick(pool)
            let cut = rng.below(other.count + 1)
            b = Array(b.prefix(pos)) + Array(other[cut...])
        case 6 where !b.isEmpty:  // an interesting integer, 1, 2, 4 or 8 bytes, little-endian
            let width = [1, 2, 4, 8][rng.below(4)]
            let v = rng.pick(Self.interestingIntegers)
            let at = min(pos, b.count - 1)
            for k in 0..<width where at + k < b.count { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
        case 7:  // a long run of one byte
            let random = UInt8(truncatingIfNeeded: rng.next())
            let byte: UInt8 = rng.pick([0, 0xFF, 0x20, 0x22, 0x2C, 0x0A, 0x5B, 0x7B, 0x31, random])
            let longest = rng.chance(0.1) ? 70_000 : 600
            b.insert(contentsOf: [UInt8](repeating: byte, count: 1 + rng.below(longest)), at: pos)
        case 8: b = Array(b.prefix(pos))  // truncate
        case 9 where !dictionary.isEmpty: b.insert(contentsOf: Array(rng.pick(dictionary).utf8), at: pos)
        case 10: replaceNumber(&b)
        default: b.insert(rng.pick([0x00, 0x0D, 0x0A, 0x22, 0x5C, 0xFF, 0xC3, 0xEF]), at: pos)
        }
    }

    /// Replaces one run of ASCII digits (with its sign) by an interesting number.
    mutating func replaceNumber(_ b: inout [UInt8]) {
        var runs: [Range<Int>] = []
        var k = 0
        while k < b.count {
            if b[k] >= 0x30 && b[k] <= 0x39 {
                var s = k
                if s > 0, b[s - 1] == 0x2D { s -= 1 }
                while k < b.count, (b[k] >= 0x30 && b[k] <= 0x39) || b[k] == 0x2E || b[k] == 0x65 { k += 1 }
                runs.append(s..<k)
            } else { k += 1 }
        }
        guard !runs.isEmpty else { return }
        b.replaceSubrange(rng.pick(runs), with: Array(rng.pick(Self.interestingNumbers).utf8))
    }

    // MARK: JSON

    static let jsonTokens = ["{", "}", "[", "]", "\"", ",", ":", "\\", "\\u0000", "\\ud800", "\\udc00", "null", "true",
                             "false", "-", "1e999", "\"\"", "{}", "[]", " ", "\u{0}", "é", "\u{FEFF}", "\u{FF}"]

    /// Structure-aware edits of JSON text: duplicated keys, dropped members, numbers swapped for
    /// edge values, values of another type, NUL bytes in strings, deep nesting, long strings,
    /// plus byte-level edits. Works on the text, so it also reaches half-broken JSON.
    mutating func json(_ input: [UInt8], pool: [[UInt8]] = [], dictionary: [String] = []) -> [UInt8] {
        var b = input
        // Structure-aware edits scan the text; past 64 KiB byte edits are enough (and stay fast).
        guard b.count <= 1 << 16 else { return bytes(b, pool: pool, dictionary: dictionary) }
        for _ in 0..<(1 + rng.below(3)) {
            switch rng.below(10) {
            case 0, 1: replaceNumber(&b)
            case 2: duplicateMember(&b)
            case 3: deleteMember(&b)
            case 4: retypeValue(&b)
            case 5:  // NUL and other control characters inside a string
                if let r = stringRanges(b).randomElement(using: &rng) {
                    let insert = rng.pick(["\\u0000", "\u{0}", "\\n", "\u{1}", "\\ud83d", "\\\\", "\\\""])
                    b.insert(contentsOf: Array(insert.utf8), at: r.lowerBound + rng.below(r.count + 1))
                }
            case 6:  // deep nesting around a value or the whole document
                let depth = rng.chance(0.5) ? 1 + rng.below(64) : rng.pick([600, 5_000, 100_000])
                let (open, close) = rng.chance(0.5) ? ("[", "]") : ("{\"a\":", "}")
                let unbalanced = rng.chance(0.2)
                b = Array(String(repeating: open, count: depth).utf8) + b
                    + Array(String(repeating: close, count: unbalanced ? depth / 2 : depth).utf8)
            case 7:  // a long string value
                if let r = stringRanges(b).randomElement(using: &rng) {
                    b.replaceSubrange(r, with: [UInt8](repeating: rng.pick([0x61, 0x20, 0xC3, 0x5C]), count: rng.pick([300, 5_000, 70_000])))
                }
            default: b = bytes(b, pool: pool, dictionary: dictionary + Self.jsonTokens)
            }
        }
        return b
    }

    /// Ranges of the contents of the string literals in `b` (without quotes).
    func stringRanges(_ b: [UInt8]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var i = 0
        while i < b.count {
            if b[i] == 0x22 {
                let start = i + 1
                i += 1
                while i < b.count, b[i] != 0x22 { i += b[i] == 0x5C ? 2 : 1 }
                if i < b.count { out.append(start..<i) }
            }
            i += 1
        }
        return out
    }

    /// Ranges of `"key": value` members whose value is a scalar or a short balanced span.
    func members(_ b: [UInt8]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        for s in stringRanges(b) {
            var i = s.upperBound + 1
            while i < b.count, b[i] == 0x20 || b[i] == 0x0A { i += 1 }
            guard i < b.count, b[i] == 0x3A else { continue }
            i += 1
            var depth = 0, inString = false
            // Bounded: scanning every member to the end of a huge, deeply nested input is quadratic.
            let limit = min(b.count, i + 4096)
            while i < limit {
                let c = b[i]
                if inString {
                    if c == 0x5C { i += 1 } else if c == 0x22 { inString = false }
                } else if c == 0x22 { inString = true }
                else if c == 0x7B || c == 0x5B { depth += 1 }
                else if c == 0x7D || c == 0x5D { if depth == 0 { break }; depth -= 1 }
                else if c == 0x2C, depth == 0 { break }
                i += 1
            }
            // An escape at the end can carry i one past the input.
            out.append((s.lowerBound - 1)..<min(i, b.count))
        }
        return out
    }

    /// Repeats a member inside the same object (`{"a":1,"a":2}`), with an edited value half the time.
    mutating func duplicateMember(_ b: inout [UInt8]) {
        guard let r = members(b).randomElement(using: &rng) else { return }
        var copy = Array(b[r])
        if rng.chance(0.5) { replaceNumber(&copy) }
        b.insert(contentsOf: Array(",".utf8) + copy, at: r.upperBound)
    }

    mutating func deleteMember(_ b: inout [UInt8]) {
        guard let r = members(b).randomElement(using: &rng) else { return }
        var range = r
        if range.upperBound < b.count, b[range.upperBound] == 0x2C { range = range.lowerBound..<(range.upperBound + 1) }
        else if range.lowerBound > 0, b[range.lowerBound - 1] == 0x2C { range = (range.lowerBound - 1)..<range.upperBound }
        b.removeSubrange(range)
    }

    /// Replaces a member's value by one of another type or an edge value.
    mutating func retypeValue(_ b: inout [UInt8]) {
        guard let r = members(b).randomElement(using: &rng),
              let colon = b[r].firstIndex(of: 0x3A) else { return }
        let values = ["null", "true", "\"\"", "\"x\"", "[]", "{}", "[1,2]", "[-1]", "[0]", "[1e309]", "-1", "0", "1e400",
                      "\"\\u0000\"", "[[]]", "{\"a\":1,\"a\":2}", "[1,\"a\",null]", "1.5", "18446744073709551616"]
        b.replaceSubrange((colon + 1)..<r.upperBound, with: Array(rng.pick(values).utf8))
    }

    // MARK: CSV

    static let csvFields = ["", "\"\"", "\"a,b\"", "\"unterminated", "a\"b", "\"x\"\"y\"", "\u{0}", "NaN", "inf", "-inf",
                            "1e39", "-1e39", "1e308", "1e-50", "0x1p3", " 1", "1 ", "+1", ".5", "1_0", "é", "\u{FEFF}", "label",
                            "0", "1", "-1", "same", "different", "2", "99999999999999999999", "4.9e-324", "TRUE", "yes"]

    /// Structure-aware edits of CSV: duplicated or renamed header columns, ragged rows, swapped
    /// columns, edge field values, quoting, NUL bytes, CRLF, blank and huge lines, a dropped
    /// header, plus byte-level edits.
    mutating func csv(_ input: [UInt8], pool: [[UInt8]] = []) -> [UInt8] {
        var lines = String(decoding: input, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard !lines.isEmpty else { return bytes(input, pool: pool) }
        for _ in 0..<(1 + rng.below(3)) {
            let row = rng.below(lines.count)
            switch rng.below(12) {
            case 0 where !lines[0].isEmpty:  // duplicate a column name in the header
                let name = rng.pick(lines[0])
                lines[0][rng.below(lines[0].count)] = name
            case 1:  // ragged row: add or drop a field
                if rng.chance(0.5) || lines[row].count < 2 { lines[row].append(rng.pick(Self.csvFields)) }
                else { lines[row].remove(at: rng.below(lines[row].count)) }
            case 2, 3:  // an edge field value (split never gives an empty row)
                let value = rng.chance(0.5) ? rng.pick(Self.csvFields) : rng.pick(Self.interestingNumbers)
                lines[row][rng.below(lines[row].count)] = value
            case 4 where lines.count > 1:  // duplicate or drop a row
                if rng.chance(0.5) { lines.insert(lines[row], at: rng.below(lines.count + 1)) } else { lines.remove(at: row) }
            case 5 where lines[0].count > 1:  // swap two columns everywhere
                let a = rng.below(lines[0].count), c = rng.below(lines[0].count)
                for i in lines.indices where lines[i].count > max(a, c) { lines[i].swapAt(a, c) }
            case 6:  // blank, whitespace or CR-only lines
                lines.insert([rng.pick(["", " ", "\r", ",", ",,"])], at: rng.below(lines.count + 1))
            case 7 where !lines[row].isEmpty:  // a huge field
                lines[row][rng.below(lines[row].count)] = String(repeating: rng.pick(["9", "a", " ", "\""]), count: rng.pick([300, 70_000]))
            case 8:  // many columns
                lines[row] += (0..<rng.pick([50, 2_000])).map { "c\($0)" }
            case 9: if lines.count > 1 { lines.removeFirst() }  // no header
            case 10:  // CRLF line endings
                for i in lines.indices where !lines[i].isEmpty { lines[i][lines[i].count - 1] += "\r" }
            default:
                return bytes(Array(lines.map { $0.joined(separator: ",") }.joined(separator: "\n").utf8), pool: pool, dictionary: [",", "\"", "\n", "\r\n"])
            }
        }
        return Array(lines.map { $0.joined(separator: ",") }.joined(separator: "\n").utf8)
    }
}

// MARK: - Driver

/// Runs targets, replays the corpus and reports.
enum Fuzz {
    static let environment = ProcessInfo.processInfo.environment

    static var iterationsOverride: Int? { environment["SIAMESE_FUZZ_ITERATIONS"].flatMap(Int.init) }
    static var seconds: Double? { environment["SIAMESE_FUZZ_SECONDS"].flatMap(Double.init) }
    static var seed: UInt64 { environment["SIAMESE_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED_F022 }

    static var stateDirectory: URL {
        if let d = environment["SIAMESE_FUZZ_STATE_DIR"] { return URL(fileURLWithPath: d) }
        return FileManager.default.temporaryDirectory.appendingPathComponent("siamese-fuzz-\(getpid())")
    }

    /// A committed corpus file.
    struct CorpusFile: Sendable {
        let name: String
        let bytes: [UInt8]
    }

    static var corpusRoot: URL {
        Bundle.module.resourceURL!.appendingPathComponent("Corpus")
    }

    /// The files of `Corpus/<target>/<sub>` (sub "" for the seeds), sorted by name; hidden files
    /// and folders skipped.
    static func corpus(_ target: String, _ sub: String = "") -> [CorpusFile] {
        let dir = sub.isEmpty ? corpusRoot.appendingPathComponent(target) : corpusRoot.appendingPathComponent(target).appendingPathComponent(sub)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return [] }
        return names.sorted().compactMap { name in
            let url = dir.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard !name.hasPrefix("."), FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let data = try? Data(contentsOf: url) else { return nil }
            return CorpusFile(name: name, bytes: [UInt8](data))
        }
    }

    /// One committed file's bytes (for the known-crash exit tests).
    static func corpusBytes(_ target: String, _ sub: String, _ name: String) -> [UInt8] {
        corpus(target, sub).first { $0.name == name }?.bytes ?? []
    }

    /// Files in `Corpus/<target>/known/`: inputs that crash until another branch's fix is merged.
    static func knownNames(_ target: String) -> [String] { corpus(target, "known").map(\.name) }

    struct Stats: CustomStringConvertible {
        var inputs = 0, accepted = 0, known = 0
        var rejected: [String: Int] = [:]
        var description: String {
            "\(inputs) inputs, \(accepted) accepted, \(rejected.values.reduce(0, +)) rejected ("
                + rejected.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
                + (known > 0 ? ", \(known) skipped as known crashes" : "")
        }
    }

    /// Replays the corpus, then mutates: the whole quick run of one target.
    static func run(_ target: some FuzzTarget, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let seeds = corpus(target.name)
        let regressions = corpus(target.name, "regressions")
        #expect(!seeds.isEmpty, "no seeds in Corpus/\(target.name)", sourceLocation: sourceLocation)
        let recorder = try LastInput(target: target.name)
        defer {
            recorder.finish()
            // The scratch folder of this target, and the state folder once every target is done.
            try? FileManager.default.removeItem(at: stateDirectory.appendingPathComponent("scratch-\(target.name)"))
            rmdir(stateDirectory.path)
        }
        var stats = Stats()
        var knownReasons: [String: Int] = [:]
        let start = Date()

        func judge(_ input: [UInt8], origin: String) async -> FuzzOutcome {
            recorder.record(input)
            stats.inputs += 1
            let outcome = await target.check(input)
            // Most targets are synchronous: without a suspension point a target's whole run holds
            // one of the (two, on CI) cooperative threads, and suites that need that pool — a live
            // server starting — stall behind it for a minute.
            await Task.yield()
            switch outcome {
            case .accepted: stats.accepted += 1
            case .rejected(let kind): stats.rejected[kind, default: 0] += 1
            case .knownCrash(let why): stats.known += 1; knownReasons[why, default: 0] += 1
            case .violation(let why):
                let saved = saveFailure(input, target: target.name)
                Issue.record("\(target.name): \(origin): \(why) (input saved to \(saved))", sourceLocation: sourceLocation)
            }
            return outcome
        }

        // Seeds are valid files: each must be accepted, or the mutations start from nothing useful.
        for file in seeds {
            let outcome = await judge(file.bytes, origin: "seed \(file.name)")
            if case .accepted = outcome {} else { Issue.record("\(target.name): seed \(file.name) is not accepted: \(outcome)", sourceLocation: sourceLocation) }
        }
        for file in regressions { _ = await judge(file.bytes, origin: "regression \(file.name)") }

        let pool = seeds.map(\.bytes)
        guard !pool.isEmpty else { return }
        var mutator = Mutator(seed: seed ^ UInt64(truncatingIfNeeded: target.name.hashValueStable))
        let iterations = iterationsOverride ?? target.quickIterations
        var done = 0
        while done < iterations {
            if let seconds, done % 64 == 0, Date().timeIntervalSince(start) > seconds { break }
            var input = mutator.rng.pick(pool)
            // Stack mutations now and then: some bugs need two changes at once.
            for _ in 0..<(mutator.rng.chance(0.2) ? 2 : 1) { input = target.mutate(input, pool: pool, &mutator) }
            _ = await judge(input, origin: "mutation \(done) (seed \(seed))")
            done += 1
        }
        let elapsed = Date().timeIntervalSince(start)
        print("fuzz \(target.name): \(seeds.count) seeds, \(regressions.count) regression files, \(done) mutations: \(stats) in \(String(format: "%.2f", elapsed)) s")
        #expect(stats.accepted > seeds.count / 2, "\(target.name): almost nothing accepted — are the seeds valid?", sourceLocation: sourceLocation)
        for (why, n) in knownReasons.sorted(by: { $0.key < $1.key }) {
            withKnownIssue("\(target.name): \(n) inputs not run: \(why)") {
                Issue.record("\(n) inputs skipped as known crashes: \(why)", sourceLocation: sourceLocation)
            }
        }
    }

    /// Writes an input that broke an invariant where it can be picked up as a regression file.
    static func saveFailure(_ input: [UInt8], target: String) -> String {
        let dir = environment["SIAMESE_FUZZ_FAILURES"].map { URL(fileURLWithPath: $0) } ?? stateDirectory.appendingPathComponent("failures")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent("\(target)-\(fnv1a(input)).bin")
        try? Data(input).write(to: url)
        return url.path
    }

    static func fnv1a(_ bytes: [UInt8]) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return String(h, radix: 16)
    }

    /// A scratch folder for readers that take a path.
    static func scratch(_ target: String) -> URL {
        let url = stateDirectory.appendingPathComponent("scratch-\(target)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes an input as a file, atomically (a reader may still map the previous one).
    static func write(_ input: [UInt8], to url: URL) -> URL {
        try? Data(input).write(to: url, options: .atomic)
        return url
    }

    /// The short name of an error's case, for statistics.
    static func kind(_ value: Any) -> String {
        if let label = Mirror(reflecting: value).children.first?.label { return label }
        return String(String(describing: value).prefix(30))
    }
}

extension String {
    /// A hash that, unlike `hashValue`, is the same in every process (seeds must name a run).
    var hashValueStable: UInt64 { UInt64(Fuzz.fnv1a(Array(utf8)), radix: 16) ?? 0 }
}

/// The input being checked, kept in a shared memory-mapped file: when the process dies by a
/// signal the kernel still holds the bytes, and `Fuzz/run-fuzz.sh` saves them as a regression
/// file. Layout: 8-byte little-endian length (`UInt64.max` when idle), then the bytes.
final class LastInput {
    static let capacity = 4 << 20
    let url: URL
    private let base: UnsafeMutableRawPointer?

    init(target: String) throws {
        try FileManager.default.createDirectory(at: Fuzz.stateDirectory, withIntermediateDirectories: true)
        url = Fuzz.stateDirectory.appendingPathComponent("\(target).last")
        let fd = open(url.path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { base = nil; return }
        defer { close(fd) }
        guard ftruncate(fd, off_t(8 + Self.capacity)) == 0 else { base = nil; return }
        let p = mmap(nil, 8 + Self.capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        base = (p == MAP_FAILED) ? nil : p
        setLength(UInt64.max)
    }

    private func setLength(_ n: UInt64) { base?.storeBytes(of: n.littleEndian, as: UInt64.self) }

    /// Keeps `input` (inputs over the capacity are kept truncated: rare, and still a hint).
    func record(_ input: [UInt8]) {
        guard let base else { return }
        let n = min(input.count, Self.capacity)
        input.withUnsafeBytes { (base + 8).copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(base), byteCount: n) }
        setLength(UInt64(n))
    }

    /// The target finished without a crash: nothing to save.
    func finish() {
        setLength(UInt64.max)
        if let base { munmap(base, 8 + Self.capacity) }
        try? FileManager.default.removeItem(at: url)
    }
}
