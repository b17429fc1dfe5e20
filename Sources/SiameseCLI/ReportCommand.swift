import ArgumentParser
import Evaluation
import FileSupport
import Foundation

/// `siamese report`: the documented entry point for a self-contained HTML verification report
/// (ROC and DET curves, score histograms, the operating point, a per-group audit) from scored pairs.
/// `siamese evaluate --report` writes the same report next to its metrics; this command is for
/// when the report is what you want.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write an HTML report (ROC, DET, score histograms, threshold, per-group audit) for scored pairs.",
        discussion: HelpText.reflow("""
        The CSV needs a header with a score column and a label column (1 = same, 0 = different). The threshold shown is, in order: --threshold or a rule flag; the calibration in --model DIR; otherwise the point nearest the equal-error rate. The page has no external resources (inline SVG), so it can be mailed or archived as it is. A summary goes to stdout (--format text, json or jsonl).

        Example:
          siamese report --scores test-pairs.csv --model sig-model --output report.html
          siamese report --scores pairs.csv --lower-is-same --target-far 0.001 --group-column region --output report.html --format json
        """))

    @OptionGroup var input: ScoredPairsOptions
    @OptionGroup var rule: ThresholdRuleOptions
    @OptionGroup var bootstrap: BootstrapFlags

    @Option(help: ArgumentHelp("Write the HTML report here.", valueName: "out.html")) var output: String
    @Option(help: ArgumentHelp("Model directory whose calibration.json supplies the threshold.", valueName: "dir")) var model: String?
    @Option(help: ArgumentHelp("Column whose values define groups for the per-group audit.", valueName: "name")) var groupColumn: String?
    @Option(help: "Largest per-group FAR or FRR gap to tolerate before flagging.") var tolerance = 0.01
    @Option(help: "Groups with fewer pairs than this are reported but not compared (no flag from noise in tiny groups).") var minGroupSize = 0
    @Option(help: "Title of the report.") var title = "Siamese verification report"
    @Option(help: "Summary on stdout: text, json (the metrics JSON) or jsonl (the same on one line).") var format: OutputFormat = .text

    func validate() throws {
        guard tolerance >= 0, tolerance <= 1 else { throw ValidationError("--tolerance must be a rate between 0 and 1, got \(tolerance)") }
    }

    func run() throws {
        let pairs = try input.load(groupColumn: groupColumn)
        var calibration: CalibrationRecord?
        var calibrationSource: String?
        if let model, rule.rule == nil {
            let dir = URL(fileURLWithPath: model)
            let path = dir.appendingPathComponent(CalibrationRecord.fileName).path
            guard let record = try savedCalibration(dir) else {
                throw InputError(file: path, message: "no calibration saved for this model; run `siamese calibrate --model \(model)` or give a threshold rule")
            }
            if let flag = input.direction, flag.direction != record.scoreDirection {
                throw InputError(file: path, field: "score_direction",
                                 message: "the calibration is for \(record.scoreDirection.rawValue) scores but the flags say \(flag.direction.rawValue)")
            }
            (calibration, calibrationSource) = (record, path)
        }
        let options = VerificationReport.Options(
            direction: input.direction?.direction ?? calibration?.scoreDirection ?? .higherIsSame,
            rule: rule.rule ?? .equalErrorRate, calibration: calibration, calibrationSource: calibrationSource,
            bootstrap: bootstrap.options, groupTolerance: tolerance, source: try input.requiredScoresFile, groupColumn: groupColumn,
            minGroupSize: minGroupSize)
        let result = try namingFile(try input.requiredScoresFile) { try VerificationReport.evaluate(pairs, options: options) }
        try OutputFile.write(HTMLReport.render(result, title: title), to: output)
        switch format {
        case .json: print(result.json.serialized())
        case .jsonl: print(result.json.serialized(pretty: false))
        case .text:
            print(result.textSummary)
            print("wrote \(output)")
        }
    }
}
