import FileSupport
import Foundation
import NPY

/// One item to put into a store, as read from the user's file: an id, what the model embeds (a
/// text, or a feature row), and metadata as a JSON object's text.
struct ItemRecord {
    var id: String
    var text: String?
    var features: [Float]?
    var metadata: String?
    var line: Int
}

/// Reads items for `siamese store import` from JSON lines, CSV with a header, or plain text (one
/// item per line, its line number as id). Ids must be unique within the file.
enum StoreItemsInput {
    /// Column (or key) names.
    struct Columns {
        /// nil: items are numbered by their line (as for plain text).
        var id: String? = "id"
        var text = "text"
        /// Top-level keys (or CSV columns) gathered into the metadata; nil: the `metadata` object (JSONL).
        var metadata: [String]?
        /// An item whose id is missing (a JSONL line without the key, an empty CSV field) gets its
        /// line number as id, as plain text lines do (`siamese ingest`); otherwise that is an error.
        var lineNumberWhenMissing = false
    }

    static func read(_ url: URL, columns: Columns) throws -> [ItemRecord] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw InputError(file: url.path, message: "cannot read (\(error.localizedDescription))")
        }
        let items: [ItemRecord]
        switch url.pathExtension.lowercased() {
        case "jsonl", "ndjson": items = try jsonLines(data, file: url.path, columns: columns)
        case "csv": items = try csv(data, file: url.path, columns: columns)
        default: items = try textLines(data, file: url.path)
        }
        var seen = Set<String>()
        for item in items where !seen.insert(item.id).inserted {
            throw InputError(file: url.path, line: item.line, field: columns.id ?? "id", message: "the id '\(item.id)' appears twice")
        }
        guard !items.isEmpty else { throw InputError(file: url.path, message: "holds no items") }
        return items
    }

    static func textLines(_ data: Data, file: String) throws -> [ItemRecord] {
        var items: [ItemRecord] = []
        for (offset, part) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let bytes = part.last == UInt8(ascii: "\r") ? part.dropLast() : part[...]
            guard !bytes.isEmpty else { continue }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw InputError(file: file, line: offset + 1, message: "not valid UTF-8")
            }
            items.append(ItemRecord(id: String(offset + 1), text: text, line: offset + 1))
        }
        return items
    }

    static func jsonLines(_ data: Data, file: String, columns: Columns) throws -> [ItemRecord] {
        var items: [ItemRecord] = []
        for (offset, part) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let line = offset + 1
            guard part.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { continue }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(part), options: [.fragmentsAllowed])) as? [String: Any] else {
                throw InputError(file: file, line: line, message: "is not a JSON object")
            }
            let id: String
            let rawID: Any?
            if let key = columns.id { rawID = object[key] } else { rawID = String(line) }
            switch rawID {
            case let s as String: id = s
            case let n as NSNumber where String(cString: n.objCType) != "c" && n.doubleValue.rounded() == n.doubleValue && abs(n.doubleValue) < 9e15: id = String(n.int64Value)
            case nil where columns.lineNumberWhenMissing: id = String(line)
            case nil: throw InputError(file: file, line: line, field: columns.id, message: "missing key '\(columns.id ?? "")'")
            default: throw InputError(file: file, line: line, field: columns.id, message: "the id must be a string or an integer")
            }
            var item = ItemRecord(id: id, line: line)
            switch object[columns.text] {
            case let s as String: item.text = s
            case let values as [Any]:
                var row: [Float] = []
                for v in values {
                    guard let n = v as? NSNumber, n.doubleValue.isFinite else {
                        throw InputError(file: file, line: line, field: columns.text, message: "must be a text or an array of finite numbers")
                    }
                    row.append(n.floatValue)
                }
                item.features = row
            case nil: throw InputError(file: file, line: line, field: columns.text, message: "missing key '\(columns.text)'")
            default: throw InputError(file: file, line: line, field: columns.text, message: "must be a text or an array of numbers")
            }
            if let keys = columns.metadata {
                var picked: [String: Any] = [:]
                for key in keys { if let v = object[key] { picked[key] = v } }
                item.metadata = try serialized(picked, file: file, line: line)
            } else if let m = object["metadata"] {
                guard let dict = m as? [String: Any] else {
                    throw InputError(file: file, line: line, field: "metadata", message: "must be a JSON object")
                }
                // The line's own bytes of the object would keep big integers exact; re-serialising is
                // what JSONSerialization offers, so the store keeps what it parsed.
                item.metadata = try serialized(dict, file: file, line: line)
            }
            items.append(item)
        }
        return items
    }

    static func csv(_ data: Data, file: String, columns: Columns) throws -> [ItemRecord] {
        var items: [ItemRecord] = []
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws in
            let reader = CSVLineReader(bytes: raw, file: file)
            var header: [String]?
            var idIndex: Int?, textIndex = 0, metadataIndices: [(String, Int)] = []
            try reader.forEachLine { (line, fields) throws(InputError) in
                guard let names = header else {
                    let columnsRow = try CSVHeader(fields.map { reader.string($0) }, file: file, line: line)
                    let names = columnsRow.names
                    idIndex = try columns.id.map { name throws(InputError) in try columnsRow.index(of: name) }
                    textIndex = try columnsRow.index(of: columns.text)
                    for m in columns.metadata ?? [] { metadataIndices.append((m, try columnsRow.index(of: m))) }
                    header = names
                    return
                }
                guard fields.count == names.count else {
                    throw InputError(file: file, line: line, message: "has \(fields.count) fields; the header has \(names.count)")
                }
                var id = idIndex.map { reader.string(fields[$0]) } ?? String(line)
                if id.isEmpty && columns.lineNumberWhenMissing { id = String(line) }
                var item = ItemRecord(id: id, text: reader.string(fields[textIndex]), line: line)
                if !metadataIndices.isEmpty {
                    var picked: [String: Any] = [:]
                    for (name, i) in metadataIndices { picked[name] = reader.string(fields[i]) }
                    do { item.metadata = try serialized(picked, file: file, line: line) } catch let e as InputError { throw e } catch {
                        throw InputError(file: file, line: line, message: "\(error)")
                    }
                }
                items.append(item)
            }
        }
        return items
    }

    private static func serialized(_ object: [String: Any], file: String, line: Int) throws -> String {
        guard JSONSerialization.isValidJSONObject(object),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            throw InputError(file: file, line: line, field: "metadata", message: "cannot be stored as JSON")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
