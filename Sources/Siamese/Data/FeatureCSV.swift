import FileSupport
import Foundation
import Tensors

/// Numeric feature rows from CSV: a header row, then one item per line.
public enum FeatureCSV {
    /// Labelled rows: every column but `labelColumn` is a feature.
    public struct Table: Sendable {
        public var dataset: FeatureDataset
        /// Feature column names in file order (saved with the model, so `embed` reads the same columns).
        public var featureColumns: [String]
    }

    /// Reads features and class labels. Labels may be any text; classes are numbered in sorted
    /// order (numerically when every label is an integer). Errors name the file, line and column.
    public static func read(_ url: URL, labelColumn: String) throws -> Table {
        var features: [Float] = []
        var labelTexts: [String] = []
        var columns: [String] = []
        try scan(url) { header in
            try refuseDuplicates(header, in: url)
            guard let labelIndex = header.firstIndex(of: labelColumn) else {
                throw InputError(file: url.path, line: 1, field: labelColumn, message: "no such column; the header has \(header.joined(separator: ", "))")
            }
            columns = header.enumerated().filter { $0.offset != labelIndex }.map(\.element)
            guard !columns.isEmpty else { throw InputError(file: url.path, line: 1, message: "no feature columns besides \(labelColumn)") }
            return header.indices.map { $0 == labelIndex ? .label : .feature }
        } row: { values, label in
            features += values
            labelTexts.append(label!)
        }
        guard !labelTexts.isEmpty else { throw InputError(file: url.path, message: "no data rows after the header") }
        let names = Array(Set(labelTexts))
        let sorted = names.allSatisfy { Int($0) != nil } ? names.sorted { Int($0)! < Int($1)! } : names.sorted()
        let index = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, $0) })
        let dataset = try FeatureDataset(features: Tensor(shape: [labelTexts.count, columns.count], features),
                                         labels: labelTexts.map { index[$0]! }, classNames: sorted)
        return Table(dataset: dataset, featureColumns: columns)
    }

    /// Reads the named columns (in that order) of every row, ignoring other columns such as labels.
    public static func readFeatures(_ url: URL, columns wanted: [String]) throws -> Tensor {
        var features: [Float] = []
        var rows = 0
        var seen = Set<String>()
        for name in wanted where !seen.insert(name).inserted {
            throw InputError(file: url.path, field: name, message: "the model names this column twice")
        }
        try scan(url) { header in
            var roles = [Role](repeating: .ignored, count: header.count)
            var position: [String: Int] = [:]
            var repeated = Set<String>()
            for (i, name) in header.enumerated() {
                if position[name] == nil { position[name] = i } else { repeated.insert(name) }
            }
            for (k, name) in wanted.enumerated() {
                guard let i = position[name] else {
                    throw InputError(file: url.path, line: 1, field: name, message: "the model reads this column, but the header lacks it")
                }
                guard !repeated.contains(name) else {
                    throw InputError(file: url.path, line: 1, field: name, message: "the header names this column twice; which one the model reads is ambiguous")
                }
                roles[i] = .featureAt(k)
            }
            return roles
        } row: { values, _ in
            features += values
            rows += 1
        }
        return Tensor(shape: [rows, wanted.count], features)
    }

    enum Role: Equatable { case feature, featureAt(Int), label, ignored }

    /// A header that names a column twice is refused: a model trained on it would record the
    /// name twice, and every later reader (embed, verify) could not tell the columns apart.
    static func refuseDuplicates(_ header: [String], in url: URL) throws {
        var seen = Set<String>()
        for name in header where !seen.insert(name).inserted {
            throw InputError(file: url.path, line: 1, field: name, message: "the header names this column twice; column names must be unique")
        }
    }

    /// Parses the file: `header` maps column names to roles; `row` receives each line's features
    /// (in file order, or in `featureAt` order) and label.
    static func scan(_ url: URL, header: ([String]) throws -> [Role], row: ([Float], String?) throws -> Void) throws {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw InputError(file: url.path, message: "cannot be read (\(error.localizedDescription))")
        }
        try data.withUnsafeBytes { raw in
            let reader = CSVLineReader(bytes: raw, file: url.path)
            var roles: [Role] = []
            var names: [String] = []
            var orderedCount = 0
            var values: [Float] = []
            try reader.forEachLine { (line: Int, fields: inout [CSVLineReader.Field]) throws(InputError) in
                if roles.isEmpty {
                    names = fields.map { reader.string($0) }
                    do { roles = try header(names) } catch let e as InputError { throw e } catch {
                        throw InputError(file: url.path, line: line, message: "\(error)")
                    }
                    orderedCount = roles.filter { if case .featureAt = $0 { true } else { false } }.count
                    return
                }
                guard fields.count == roles.count else {
                    throw InputError(file: url.path, line: line, message: "\(fields.count) fields, the header has \(roles.count)")
                }
                values.removeAll(keepingCapacity: true)
                if orderedCount > 0 { values = [Float](repeating: 0, count: orderedCount) }
                var label: String?
                for (i, role) in roles.enumerated() {
                    switch role {
                    case .ignored: continue
                    case .label:
                        let text = reader.string(fields[i])
                        guard !text.isEmpty else { throw InputError(file: url.path, line: line, field: names[i], message: "empty label") }
                        label = text
                    case .feature, .featureAt:
                        guard let v = reader.double(fields[i]) else {
                            throw InputError(file: url.path, line: line, field: names[i], message: "'\(reader.string(fields[i]))' is not a number")
                        }
                        let f = Float(v)
                        guard f.isFinite else { throw InputError(file: url.path, line: line, field: names[i], message: "\(v) is not a finite Float32") }
                        if case .featureAt(let k) = role { values[k] = f } else { values.append(f) }
                    }
                }
                do { try row(values, label) } catch let e as InputError { throw e } catch {
                    throw InputError(file: url.path, line: line, message: "\(error)")
                }
            }
            if roles.isEmpty { throw InputError(file: url.path, message: "empty file: no header row") }
        }
    }
}
