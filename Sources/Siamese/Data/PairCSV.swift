import FileSupport
import Foundation
import Tensors

/// Pre-built pairs from CSV: a header row, then one pair per line holding two groups of numeric
/// feature columns and a target column.
///
/// ```
/// a_x,a_y,b_x,b_y,same
/// 0.1,0.2,0.1,0.3,same
/// 0.9,0.1,0.0,0.5,different
/// ```
///
/// Parsing is ``FeatureCSV``'s (same quoting, number syntax and error messages); every error names
/// the file, the line and the column. Columns in neither group nor the target are ignored (ids, notes).
public enum PairCSV {
    /// What the target column holds.
    public enum Targets: Sendable {
        /// `1`/`0`, `same`/`different`, `true`/`false` or `yes`/`no` (case-insensitive); anything
        /// else is an error.
        case sameDifferent
        /// Any finite number, e.g. a similarity score for ``CosineSimilarityLoss``.
        case score
    }

    /// The pairs and the columns they came from.
    public struct Table: Sendable {
        public var dataset: PairDataset
        /// The first item's feature columns, in the order of ``PairDataset/left``'s features.
        public var leftColumns: [String]
        /// The second item's feature columns, matching ``leftColumns`` one for one.
        public var rightColumns: [String]
    }

    /// Reads pairs whose feature columns are named by prefix: every column `leftPrefix + s` pairs
    /// with the column `rightPrefix + s` (matched by the suffix `s`, so the two groups may come in
    /// different orders). A column of one group without its partner in the other is an error.
    public static func read(_ url: URL, leftPrefix: String = "a_", rightPrefix: String = "b_", labelColumn: String = "label",
                            targets: Targets = .sameDifferent) throws -> Table {
        guard !leftPrefix.isEmpty, !rightPrefix.isEmpty, !leftPrefix.hasPrefix(rightPrefix), !rightPrefix.hasPrefix(leftPrefix) else {
            throw InputError(file: url.path, message: "column prefixes '\(leftPrefix)' and '\(rightPrefix)' must be non-empty and neither may start the other")
        }
        return try read(url, labelColumn: labelColumn, targets: targets) { header in
            let left = header.filter { $0.hasPrefix(leftPrefix) && $0 != labelColumn }
            let right = header.filter { $0.hasPrefix(rightPrefix) && $0 != labelColumn }
            guard !left.isEmpty else {
                throw InputError(file: url.path, line: 1, message: "no columns start with '\(leftPrefix)'; the header has \(header.joined(separator: ", "))")
            }
            let rightSet = Set(right)
            var partners: [String] = []
            for name in left {
                let partner = rightPrefix + name.dropFirst(leftPrefix.count)
                guard rightSet.contains(partner) else {
                    throw InputError(file: url.path, line: 1, field: partner, message: "missing: column '\(name)' has no partner")
                }
                partners.append(partner)
            }
            if let orphan = right.first(where: { !partners.contains($0) }) {
                let partner = leftPrefix + orphan.dropFirst(rightPrefix.count)
                throw InputError(file: url.path, line: 1, field: partner, message: "missing: column '\(orphan)' has no partner")
            }
            return (left, partners)
        }
    }

    /// Reads pairs from explicitly named columns: `leftColumns[k]` and `rightColumns[k]` are the
    /// same feature of the two items.
    public static func read(_ url: URL, leftColumns: [String], rightColumns: [String], labelColumn: String,
                            targets: Targets = .sameDifferent) throws -> Table {
        guard !leftColumns.isEmpty, leftColumns.count == rightColumns.count else {
            throw InputError(file: url.path, message: "the two column lists must be non-empty and of equal length, got \(leftColumns.count) and \(rightColumns.count)")
        }
        return try read(url, labelColumn: labelColumn, targets: targets) { header in
            let present = Set(header)
            for name in leftColumns + rightColumns where !present.contains(name) {
                throw InputError(file: url.path, line: 1, field: name, message: "no such column; the header has \(header.joined(separator: ", "))")
            }
            return (leftColumns, rightColumns)
        }
    }

    /// Maps the header to roles (left features first, then right) and collects the rows.
    private static func read(_ url: URL, labelColumn: String, targets: Targets,
                             groups: ([String]) throws -> (left: [String], right: [String])) throws -> Table {
        var values: [Float] = []
        var labels: [Float] = []
        var left: [String] = [], right: [String] = []
        try FeatureCSV.scan(url) { header in
            guard let labelIndex = header.firstIndex(of: labelColumn) else {
                throw InputError(file: url.path, line: 1, field: labelColumn, message: "no such column; the header has \(header.joined(separator: ", "))")
            }
            (left, right) = try groups(header)
            var roles = [FeatureCSV.Role](repeating: .ignored, count: header.count)
            roles[labelIndex] = .label
            for (k, name) in (left + right).enumerated() {
                // A name used twice in the header would make "which column?" ambiguous.
                let matches = header.indices.filter { header[$0] == name }
                guard matches.count == 1 else {
                    throw InputError(file: url.path, line: 1, field: name, message: "the header names this column \(matches.count) times")
                }
                guard name != labelColumn, roles[matches[0]] == .ignored else {
                    throw InputError(file: url.path, line: 1, field: name, message: "used twice (as a feature of both items, or as both feature and label)")
                }
                roles[matches[0]] = .featureAt(k)
            }
            return roles
        } row: { rowValues, label in
            let text = label!
            let target: Float?
            switch targets {
            case .sameDifferent: target = PairLabel.parse(text)
            case .score: target = CSVLineReader.parseDouble(Array(text.utf8)).map(Float.init).flatMap { $0.isFinite ? $0 : nil }
            }
            guard let target else {
                let expected = targets == .score ? "a finite number" : PairLabel.accepted
                throw FieldProblem(field: labelColumn, message: "'\(text)' is not a target: expected \(expected)")
            }
            values += rowValues
            labels.append(target)
        }
        guard !labels.isEmpty else { throw InputError(file: url.path, message: "no data rows after the header") }
        // Rows hold [left features..., right features...]; split them into the two sides.
        let f = left.count
        var a = [Float](), b = [Float]()
        a.reserveCapacity(labels.count * f)
        b.reserveCapacity(labels.count * f)
        for r in 0..<labels.count {
            a += values[(2 * f * r)..<(2 * f * r + f)]
            b += values[(2 * f * r + f)..<(2 * f * (r + 1))]
        }
        let dataset = try PairDataset(left: Tensor(shape: [labels.count, f], a), right: Tensor(shape: [labels.count, f], b), labels: labels)
        return Table(dataset: dataset, leftColumns: left, rightColumns: right)
    }
}

/// A problem in one field of the current row; ``FeatureCSV/scan`` adds the file and line.
struct FieldProblem: Error, CustomStringConvertible {
    let field: String
    let message: String
    var description: String { "\(field): \(message)" }
}
