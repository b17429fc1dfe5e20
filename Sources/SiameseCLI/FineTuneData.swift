import FileSupport
import Foundation
import TextEncoders

/// What `siamese finetune --data` reads: JSON lines (as before), or a CSV with a header whose
/// columns are named as the JSON keys — `anchor,positive[,negative]` for mnrl,
/// `sentence1,sentence2,score` for cosent and cosine, `sentence1,sentence2,label` for contrastive —
/// where `a` and `b` may stand for `sentence1` and `sentence2`, so the labelled pairs `score` and
/// `calibrate` read can be trained on too. Quoted CSV cells may hold commas and quotes (texts with
/// newlines need JSON lines: a quoted CSV field may not span lines here).
enum FineTuneData {
    static func read(_ path: String, kind: TextPairDataset.Kind) throws -> TextPairDataset {
        let url = URL(fileURLWithPath: path)
        guard url.pathExtension.lowercased() == "csv" else { return try TextPairDataset(jsonl: url, kind: kind) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw InputError(file: path, message: "cannot read (\(error.localizedDescription))") }
        var examples: [TextPairDataset.Example] = []
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws in
            let reader = CSVLineReader(bytes: raw, file: path)
            var names: [String]?
            var columns: [Int?] = []
            try reader.forEachLine { (line, fields) throws(InputError) in
                guard let header = names else {
                    let row = try CSVHeader(fields.map { reader.string($0) }, file: path, line: line)
                    columns = try Self.columns(row, kind: kind)
                    names = row.names
                    return
                }
                guard fields.count == header.count else {
                    throw InputError(file: path, line: line, message: "has \(fields.count) fields; the header has \(header.count)")
                }
                func cell(_ k: Int) -> String? { columns[k].map { reader.string(fields[$0]) } }
                func text(_ k: Int) throws(InputError) -> String {
                    let s = cell(k) ?? ""
                    guard !s.isEmpty else { throw InputError(file: path, line: line, field: header[columns[k]!], message: "empty text") }
                    return s
                }
                switch kind {
                case .triplets:
                    let negative = cell(2)
                    examples.append(.init(first: try text(0), second: try text(1), negative: negative.flatMap { $0.isEmpty ? nil : $0 }))
                case .scored, .labelled:
                    let name = header[columns[2]!]
                    guard let value = Float(cell(2)!.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                        throw InputError(file: path, line: line, field: name, message: "'\(cell(2)!)' is not a finite number")
                    }
                    if kind == .labelled, !(value == 0 || value == 1) {
                        throw InputError(file: path, line: line, field: name, message: "a label is 0 or 1, got \(value)")
                    }
                    examples.append(.init(first: try text(0), second: try text(1), target: value))
                }
            }
            if names == nil { throw InputError(file: path, message: "is empty (expected a header naming the columns)") }
        }
        guard !examples.isEmpty else { throw InputError(file: path, message: "holds no examples") }
        if kind == .triplets, Set(examples.map { $0.negative != nil }).count > 1 {
            throw InputError(file: path, field: "negative", message: "some rows have a negative and some do not; give every row one or none")
        }
        return TextPairDataset(kind: kind, examples: examples)
    }

    /// The column of each part: [first, second, negative/target].
    private static func columns(_ row: CSVHeader, kind: TextPairDataset.Kind) throws(InputError) -> [Int?] {
        func either(_ a: String, _ b: String) throws(InputError) -> Int {
            if let i = row.names.firstIndex(of: a) { return i }
            if let i = row.names.firstIndex(of: b) { return i }
            throw InputError(file: row.file, line: row.line, field: a, message: "missing column (or '\(b)'); the header has: \(row.names.joined(separator: ", "))")
        }
        switch kind {
        case .triplets: return [try row.index(of: "anchor"), try row.index(of: "positive"), row.names.firstIndex(of: "negative")]
        case .scored: return [try either("sentence1", "a"), try either("sentence2", "b"), try row.index(of: "score")]
        case .labelled: return [try either("sentence1", "a"), try either("sentence2", "b"), try row.index(of: "label")]
        }
    }
}
