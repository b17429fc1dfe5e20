import ArgumentParser
import Evaluation
import FileSupport
import Foundation
import Tensors

/// `siamese score`: a model's score for every labelled pair, written as the `score,label[,group]`
/// CSV that `evaluate`, `calibrate` and `report` read.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score labelled pairs with a model: the score,label[,group] file that evaluate, calibrate and report read.",
        discussion: HelpText.reflow("""
        PAIRS is a CSV file with a header, or JSON lines (.jsonl: one object per line, so texts may hold newlines), with the columns a, b and, when present, label (0/1 or true/false) and a group column (--group-column). Other names by --a-column, --b-column, --label-column. For a sentence-transformers folder a and b are texts (scored by cosine similarity, higher is same); for a Siamese model folder each is an inline JSON array of the model's feature columns or a .csv/.npy/.json file (looked up beside PAIRS first). Rows keep their order. With labels, the AUC and the equal-error rate are printed too.

        Examples:
          siamese score --model all-MiniLM-L6-v2 --pairs pairs.csv --output scores.csv
          siamese calibrate --scores scores.csv --eer --model all-MiniLM-L6-v2
          siamese score --model sig-model --pairs pairs.jsonl --group-column writer_group --output scores.csv --format json
        """)
    )

    @Option(help: ArgumentHelp("Model folder (Siamese or sentence-transformers), or a name found in $SIAMESE_MODELS or the Hugging Face cache.", valueName: "dir|name")) var model: String
    @Option(help: ArgumentHelp("Pairs: CSV with a header, or JSON lines (.jsonl).", valueName: "file")) var pairs: String
    @Option(help: ArgumentHelp("Scores CSV to write (default: stdout).", valueName: "file")) var output: String?
    @Option(help: "Column (or JSON key) of the first input.") var aColumn = "a"
    @Option(help: "Column (or JSON key) of the second input.") var bColumn = "b"
    @Option(help: "Column of the 0/1 label (optional unless named here).") var labelColumn: String?
    @Option(help: "Column of the group, copied to the output for the per-group audit.") var groupColumn: String?
    @Flag(help: "Dynamic int8 linear layers (sentence-transformers models).") var int8 = false
    @OptionGroup var threading: ThreadsOption
    /// `--threads`, or nil for the default.
    var threads: Int? { threading.threads }

    @OptionGroup var formatting: FormatOption

    func validate() throws {
    }

    func run() throws {
        threading.apply()
        let columns = PairsFile.Columns(a: aColumn, b: bColumn, label: labelColumn ?? "label", group: groupColumn,
                                        labelRequired: labelColumn != nil)
        let records = try PairsFile.read(URL(fileURLWithPath: pairs), columns: columns)
        let scorer = try PairScorer(folder: try ModelLocator.resolve(model))
        if int8, scorer.kind != "sentence-transformers" { throw ValidationError("--int8 applies to sentence-transformers models only") }
        let started = Date()
        let scores = try scorer.scores(records, pairsFile: pairs, int8: int8)
        for (record, score) in zip(records, scores) where !score.isFinite {
            throw InputError(file: pairs, line: record.line, message: "the model gives a non-finite score for this pair")
        }
        let csv = Self.csv(records, scores)
        if let output {
            try AtomicFile.write(Data(csv.utf8), to: URL(fileURLWithPath: output))
        } else {
            FileHandle.standardOutput.write(Data(csv.utf8))
        }
        FileHandle.standardError.write(Data(String(format: "scored %d pairs in %.2f s\n", records.count, Date().timeIntervalSince(started)).utf8))
        try summarize(records, scores, direction: scorer.direction)
    }

    /// `score,label[,group]` with a header; the label column only when the pairs have labels.
    static func csv(_ records: [PairRecord], _ scores: [Double]) -> String {
        let labelled = records.first?.label != nil, grouped = records.first?.group != nil
        var out = "score" + (labelled ? ",label" : "") + (grouped ? ",group" : "") + "\n"
        for (r, s) in zip(records, scores) {
            out += "\(s)"
            if labelled { out += r.label! ? ",1" : ",0" }
            if grouped { out += "," + quoted(r.group!) }
            out += "\n"
        }
        return out
    }

    /// RFC 4180: quoted when it holds a comma, a quote or a line break.
    static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private func summarize(_ records: [PairRecord], _ scores: [Double], direction: ScoreDirection) throws {
        var fields: [(String, JSONValue)] = [("pairs", .int(records.count)), ("direction", .string(direction.rawValue))]
        if let output { fields.append(("output", .string(output))) }
        var text = "\(records.count) pairs scored (\(direction.rawValue))" + (output.map { " -> \($0)" } ?? "")
        let labels = records.compactMap(\.label)
        if labels.count == records.count, labels.contains(true), labels.contains(false) {
            let curve = try VerificationCurve(scores: scores, labels: labels, direction: direction)
            let auc = curve.auc(), eer = curve.equalErrorRate()
            fields += [("auc", .number(auc)), ("eer", .number(eer.rate)), ("eer_threshold", .number(eer.threshold))]
            text += String(format: "\nAUC %.4f, EER %.2f%% at threshold %.6f", auc, 100 * eer.rate, eer.threshold)
        }
        // With the scores on stdout, the summary goes to stderr so that the CSV stays clean.
        if output == nil {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        } else {
            formatting.emit(.object(fields)) { text }
        }
    }
}
