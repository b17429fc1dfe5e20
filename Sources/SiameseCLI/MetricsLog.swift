import ArgumentParser
import FileSupport
import Foundation

/// `--log FILE` of `train` and `finetune`: one row of metrics per epoch (epoch, loss, seconds,
/// validation metrics), as CSV (`.csv`) or JSON lines (`.jsonl`), for a spreadsheet or a plot.
/// The whole file is rewritten atomically after every epoch, so a reader (or a kill) never sees
/// half a row.
final class MetricsLog {
    enum Format { case csv, jsonl }

    let url: URL
    let format: Format
    private var rows: [[(String, Double)]] = []

    /// - Parameters:
    ///   - path: the log file; its extension picks the format (.csv, .jsonl or .ndjson).
    init(path: String) throws {
        url = URL(fileURLWithPath: path)
        switch url.pathExtension.lowercased() {
        case "csv": format = .csv
        case "jsonl", "ndjson": format = .jsonl
        default: throw ValidationError("--log \(path): the file must end in .csv or .jsonl")
        }
    }

    /// Adds one epoch's row (columns in the order given; later rows may add columns) and
    /// rewrites the file.
    func append(_ row: [(String, Double)]) throws {
        rows.append(row)
        try OutputFile.write(render(), to: url.path)
    }

    /// The file's text.
    func render() -> String {
        func number(_ v: Double) -> String { v.isFinite ? (v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)") : "" }
        switch format {
        case .jsonl:
            return rows.map { row in
                "{" + row.map { "\"\($0.0)\":\($0.1.isFinite ? number($0.1) : "null")" }.joined(separator: ",") + "}\n"
            }.joined()
        case .csv:
            var columns: [String] = []
            for row in rows { for (name, _) in row where !columns.contains(name) { columns.append(name) } }
            var text = columns.joined(separator: ",") + "\n"
            for row in rows {
                let values = Dictionary(row, uniquingKeysWith: { a, _ in a })
                text += columns.map { values[$0].map(number) ?? "" }.joined(separator: ",") + "\n"
            }
            return text
        }
    }
}
