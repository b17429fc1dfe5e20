import FileSupport
import Foundation

/// Reads scored pairs from a CSV file with a header row: a score column, a 0/1 label column
/// (1 = same) and optionally a group column; other columns are ignored.
///
/// Every problem is an ``InputError`` naming the file, the line and the column: a malformed number,
/// NaN or infinity, a label other than 0 or 1, a row with the wrong number of fields, a missing
/// column, an empty file. Nothing is half-loaded: the first error stops the read.
public enum ScoredPairsCSV {
    /// Column names to read.
    public struct Columns: Sendable {
        /// Header name of the score column.
        public var score: String
        /// Header name of the 0/1 label column (1 = same).
        public var label: String
        /// Header name of the group column, or nil to read no groups.
        public var group: String?

        /// Names the columns to read.
        /// - Parameters:
        ///   - score: Score column (default "score").
        ///   - label: Label column, 0 or 1 (default "label").
        ///   - group: Group column for the per-group audit, or nil (default nil).
        public init(score: String = "score", label: String = "label", group: String? = nil) {
            self.score = score
            self.label = label
            self.group = group
        }
    }

    /// Reads `url`.
    public static func read(_ url: URL, columns: Columns = Columns()) throws(InputError) -> ScoredPairs {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw InputError(file: url.path, message: "cannot read the file: \(error.localizedDescription)")
        }
        return try parse(data, file: url.path, columns: columns)
    }

    /// Parses CSV bytes; `file` is the name used in errors.
    public static func parse(_ data: Data, file: String, columns: Columns = Columns()) throws(InputError) -> ScoredPairs {
        do {
            return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws(InputError) -> ScoredPairs in
                try parse(raw, file: file, columns: columns)
            }
        } catch let e as InputError {
            throw e
        } catch {
            throw InputError(file: file, message: "\(error)")
        }
    }

    private static func parse(_ raw: UnsafeRawBufferPointer, file: String, columns: Columns) throws(InputError) -> ScoredPairs {
        let reader = CSVLineReader(bytes: raw, file: file)
        var scoreIndex = -1, labelIndex = -1, groupIndex = -1
        var fieldCount = 0
        var header: [String]? = nil
        var scores = [Double](), labels = [Bool](), groups = [Int32]()
        var groupNames = [String](), groupLookup = [String: Int32]()
        // Raw bytes of the first groups, index-aligned with groupNames while it is short.
        var knownGroupBytes = [[UInt8]]()
        // About 12 bytes per row is a fair guess for "0.123456,1"; reserving avoids repeated growth.
        scores.reserveCapacity(raw.count / 12)
        labels.reserveCapacity(raw.count / 12)

        try reader.forEachLine { (line, fields) throws(InputError) in
            guard let names = header else {
                let columnsRow = try CSVHeader(fields.map { reader.string($0) }, file: file, line: line)
                let names = columnsRow.names
                func column(_ name: String) throws(InputError) -> Int { try columnsRow.index(of: name) }
                scoreIndex = try column(columns.score)
                labelIndex = try column(columns.label)
                if let g = columns.group { groupIndex = try column(g) }
                fieldCount = names.count
                header = names
                return
            }
            guard fields.count == fieldCount else {
                throw InputError(file: file, line: line, message: "expected \(fieldCount) fields as in the header (\(names.joined(separator: ","))), found \(fields.count)")
            }
            let scoreField = fields[scoreIndex]
            guard let score = reader.double(scoreField) else {
                let text = reader.string(scoreField)
                let lower = text.lowercased()
                let nonFinite = ["nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"].contains(lower)
                throw InputError(file: file, line: line, field: columns.score,
                                 message: text.isEmpty ? "empty value; a number is required"
                                    : nonFinite ? "'\(text)' is not a finite number; scores must be finite"
                                    : "'\(text)' is not a number")
            }
            guard score.isFinite else {
                throw InputError(file: file, line: line, field: columns.score, message: "'\(reader.string(scoreField))' overflows to infinity; scores must be finite")
            }
            let label: Bool
            switch reader.singleByte(fields[labelIndex]) {
            case 0x31: label = true
            case 0x30: label = false
            default:
                throw InputError(file: file, line: line, field: columns.label,
                                 message: "'\(reader.string(fields[labelIndex]))' is not a label; use 1 for same and 0 for different")
            }
            scores.append(score)
            labels.append(label)
            if groupIndex >= 0 {
                let field = fields[groupIndex]
                // Groups are few: comparing raw bytes with the known ones avoids building a String
                // for each of millions of rows.
                if field.unquoted == nil, let k = knownGroupBytes.firstIndex(where: { reader.equals(field, $0) }) {
                    groups.append(Int32(k))
                    return
                }
                let g = reader.string(field)
                guard !g.isEmpty else {
                    throw InputError(file: file, line: line, field: columns.group, message: "empty group value")
                }
                if let k = groupLookup[g] {
                    groups.append(k)
                } else {
                    let k = Int32(groupNames.count)
                    groupLookup[g] = k
                    groupNames.append(g)
                    groups.append(k)
                    if field.unquoted == nil, knownGroupBytes.count == groupNames.count - 1, knownGroupBytes.count < 32 {
                        knownGroupBytes.append(reader.bytes(field))
                    }
                }
            }
        }
        guard header != nil else { throw InputError(file: file, message: "the file is empty; expected a header row with '\(columns.score)' and '\(columns.label)' columns") }
        guard !scores.isEmpty else { throw InputError(file: file, message: "the file has a header but no data rows") }
        do {
            return try ScoredPairs(scores: scores, labels: labels, groupIndices: groupIndex >= 0 ? groups : nil, groupNames: groupNames)
        } catch {
            throw InputError(file: file, message: error.message)
        }
    }
}
