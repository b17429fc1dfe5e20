import FileSupport
import Foundation

/// One labelled (or unlabelled) pair as a user keeps it: two inputs, an optional same/different
/// label and an optional group, with the line it came from (for error messages).
struct PairRecord: Sendable, Equatable {
    /// The first input: a text for a text model, or an input `siamese verify` takes for a
    /// Siamese model (an inline JSON array, or a .csv/.npy/.json file).
    var a: String
    /// The second input.
    var b: String
    /// `true` for a matching pair, `false` for a non-matching one; `nil` when the file has no labels.
    var label: Bool?
    /// The group (for the per-group audit), when the file names a group column.
    var group: String?
    /// The 1-based line of the file.
    var line: Int
}

/// Reads pairs from a CSV file with a header (RFC 4180 quoting) or from JSON lines (one object
/// per line, so texts may hold newlines), with the columns picked by name.
///
/// Labels are 0/1 (or true/false). Every problem names the file, the line and the column.
enum PairsFile {
    /// The column (or JSON key) names to read.
    struct Columns: Sendable {
        var a = "a"
        var b = "b"
        var label = "label"
        var group: String?
        /// Whether a missing label column is an error (it is when the user named the column).
        var labelRequired = false
    }

    /// Reads `url` as JSON lines when its extension is .jsonl or .ndjson, as CSV otherwise.
    static func read(_ url: URL, columns: Columns) throws -> [PairRecord] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw InputError(file: url.path, message: "cannot read (\(error.localizedDescription))")
        }
        let ext = url.pathExtension.lowercased()
        let pairs = ext == "jsonl" || ext == "ndjson"
            ? try readJSONLines(data, file: url.path, columns: columns)
            : try readCSV(data, file: url.path, columns: columns)
        guard !pairs.isEmpty else { throw InputError(file: url.path, message: "holds no pairs") }
        return pairs
    }

    static func readCSV(_ data: Data, file: String, columns: Columns) throws -> [PairRecord] {
        var pairs: [PairRecord] = []
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws in
            let reader = CSVLineReader(bytes: raw, file: file)
            var header: [String]?
            var ia = 0, ib = 0, il: Int?, ig: Int?
            try reader.forEachLine { (line, fields) throws(InputError) in
                guard let names = header else {
                    let columnsRow = try CSVHeader(fields.map { reader.string($0) }, file: file, line: line)
                    let names = columnsRow.names
                    ia = try columnsRow.index(of: columns.a)
                    ib = try columnsRow.index(of: columns.b)
                    il = columns.labelRequired ? try columnsRow.index(of: columns.label) : names.firstIndex(of: columns.label)
                    if let g = columns.group { ig = try columnsRow.index(of: g) }
                    header = names
                    return
                }
                guard fields.count == names.count else {
                    throw InputError(file: file, line: line, message: "has \(fields.count) fields; the header has \(names.count)")
                }
                var label: Bool?
                if let il { label = try parseLabel(reader.string(fields[il]), file: file, line: line, column: names[il]) }
                pairs.append(PairRecord(a: reader.string(fields[ia]), b: reader.string(fields[ib]), label: label,
                                        group: ig.map { reader.string(fields[$0]) }, line: line))
            }
            if header == nil { throw InputError(file: file, message: "is empty (expected a header naming the columns \(columns.a) and \(columns.b))") }
        }
        return pairs
    }

    /// A JSON value a pairs line may hold under a key; JSONDecoder tells booleans from numbers.
    enum Field: Decodable {
        case text(String), flag(Bool), number(Double), numbers([Double]), other

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { self = .text(s) }
            else if let b = try? c.decode(Bool.self) { self = .flag(b) }
            else if let d = try? c.decode(Double.self) { self = .number(d) }
            else if let a = try? c.decode([Double].self) { self = .numbers(a) }
            else { self = .other }
        }
    }

    static func readJSONLines(_ data: Data, file: String, columns: Columns) throws -> [PairRecord] {
        var pairs: [PairRecord] = []
        var labelSeen: Bool?
        let decoder = JSONDecoder()
        for (offset, part) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let line = offset + 1
            guard part.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { continue }
            guard let object = try? decoder.decode([String: Field].self, from: Data(part)) else {
                throw InputError(file: file, line: line, message: "is not a JSON object")
            }
            func input(_ key: String) throws(InputError) -> String {
                switch object[key] {
                case .text(let s): return s
                case .numbers(let values):
                    // A feature vector inline: handed on as the JSON array text `siamese verify` reads.
                    return "[" + values.map { "\($0)" }.joined(separator: ",") + "]"
                case nil: throw InputError(file: file, line: line, field: key, message: "missing key '\(key)'")
                default: throw InputError(file: file, line: line, field: key, message: "must be a text or an array of numbers")
                }
            }
            var label: Bool?
            switch object[columns.label] {
            case .flag(let b): label = b
            case .number(let n) where n == 0 || n == 1: label = n == 1
            case .text(let s): label = try parseLabel(s, file: file, line: line, column: columns.label)
            case nil:
                if columns.labelRequired { throw InputError(file: file, line: line, field: columns.label, message: "missing key '\(columns.label)'") }
            default:
                throw InputError(file: file, line: line, field: columns.label, message: "the label must be 0 or 1 (or true/false)")
            }
            // Labels on some lines and not on others would silently drop pairs from the metrics.
            if let seen = labelSeen, seen != (label != nil) {
                throw InputError(file: file, line: line, field: columns.label, message: "some lines have a label and others do not")
            }
            labelSeen = label != nil
            var group: String?
            if let g = columns.group {
                switch object[g] {
                case .text(let s): group = s
                case .number(let n): group = n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : "\(n)"
                case nil: throw InputError(file: file, line: line, field: g, message: "missing key '\(g)'")
                default: throw InputError(file: file, line: line, field: g, message: "must be a text or a number")
                }
            }
            pairs.append(PairRecord(a: try input(columns.a), b: try input(columns.b), label: label, group: group, line: line))
        }
        return pairs
    }

    /// 0/1 or true/false.
    static func parseLabel(_ text: String, file: String, line: Int, column: String) throws(InputError) -> Bool {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "1", "true": return true
        case "0", "false": return false
        default: throw InputError(file: file, line: line, field: column, message: "the label must be 0 or 1 (or true/false), not '\(text)'")
        }
    }
}
