import FileSupport
import ArgumentParser
import Evaluation
import Foundation

/// `siamese evaluate`: verification metrics, the threshold in use, a per-group audit and reports.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Verification metrics for scored pairs: ROC/AUC, EER, FAR/FRR at a threshold, per-group audit, HTML report.",
        discussion: HelpText.reflow("""
        The CSV needs a header with a score column and a label column (1 = same, 0 = different); other columns are ignored unless named by --group-column.

        The threshold reported is, in order: --threshold or a rule flag if given; the calibration saved in --model DIR if it has one; otherwise the point nearest the equal-error rate.

        Example:
          siamese evaluate --scores pairs.csv --lower-is-same --group-column region \\
              --target-far 0.001 --json metrics.json --report report.html
        """))

    @OptionGroup var input: ScoredPairsOptions
    @OptionGroup var rule: ThresholdRuleOptions
    @OptionGroup var bootstrap: BootstrapFlags

    @Option(help: ArgumentHelp("Column whose values define groups for the per-group audit.", valueName: "name"))
    var groupColumn: String?

    @Option(help: "Largest per-group FAR or FRR gap to tolerate before flagging (a rate, e.g. 0.01).")
    var tolerance = 0.01

    @Option(help: "Groups with fewer pairs than this are reported but not compared (no flag from noise in tiny groups).")
    var minGroupSize = 0

    @Option(help: ArgumentHelp("Model directory whose calibration.json supplies the threshold.", valueName: "dir"))
    var model: String?

    @Option(help: ArgumentHelp("Write the metrics as JSON here.", valueName: "out.json"))
    var json: String?

    @Option(help: ArgumentHelp("Write a self-contained HTML report here.", valueName: "out.html"))
    var report: String?

    @Option(help: "Title of the HTML report.")
    var title = "Siamese verification report"

    @Flag(help: "Print how long reading, computing and writing took, on stderr.")
    var timings = false

    @OptionGroup var formatting: FormatOption

    func validate() throws {
        guard tolerance >= 0, tolerance <= 1 else { throw ValidationError("--tolerance must be a rate between 0 and 1, got \(tolerance)") }
        guard minGroupSize >= 0 else { throw ValidationError("--min-group-size must not be negative, got \(minGroupSize)") }
    }

    func run() throws {
        let clock = ContinuousClock()
        var phase = clock.now
        var phases: [(String, Duration)] = []
        func lap(_ name: String) {
            let now = clock.now
            phases.append((name, now - phase))
            phase = now
        }
        let pairs = try input.load(groupColumn: groupColumn)
        lap("read")
        var calibration: CalibrationRecord? = nil
        var calibrationSource: String? = nil
        if let model, rule.rule == nil {
            let dir = URL(fileURLWithPath: model)
            guard let record = try savedCalibration(dir) else {
                throw InputError(file: dir.appendingPathComponent(CalibrationRecord.fileName).path,
                                 message: "no calibration saved for this model; run `siamese calibrate --model \(model)` or give a threshold rule")
            }
            if let flag = input.direction, flag.direction != record.scoreDirection {
                throw InputError(file: dir.appendingPathComponent(CalibrationRecord.fileName).path, field: "score_direction",
                                 message: "the calibration is for \(record.scoreDirection.rawValue) scores but --\(flag == .higherIsSame ? "higher-is-same" : "lower-is-same") was given")
            }
            calibration = record
            calibrationSource = dir.appendingPathComponent(CalibrationRecord.fileName).path
        }
        let options = VerificationReport.Options(
            direction: input.direction?.direction ?? calibration?.scoreDirection ?? .higherIsSame,
            rule: rule.rule ?? .equalErrorRate, calibration: calibration, calibrationSource: calibrationSource,
            bootstrap: bootstrap.options, groupTolerance: tolerance, source: try input.requiredScoresFile, groupColumn: groupColumn,
            minGroupSize: minGroupSize)
        let result = try namingFile(try input.requiredScoresFile) { try VerificationReport.evaluate(pairs, options: options) }
        lap("metrics")
        if let json { try OutputFile.write(result.json.serialized() + "\n", to: json) }
        if let report { try OutputFile.write(HTMLReport.render(result, title: title), to: report) }
        lap("write")
        if timings {
            let text = phases.map { "\($0.0) \(String(format: "%.3f", Double($0.1.components.attoseconds) / 1e18 + Double($0.1.components.seconds))) s" }
            FileHandle.standardError.write(Data(("timings: " + text.joined(separator: ", ") + " (\(pairs.count) pairs)\n").utf8))
        }
        // In json/jsonl stdout holds only the metrics; the names of written files go to stderr.
        let wrote = [json, report].compactMap { $0 }.map { "wrote \($0)" }
        formatting.emit(result.json) { ([result.textSummary] + wrote).joined(separator: "\n") }
        if formatting.format != .text, !wrote.isEmpty { FileHandle.standardError.write(Data((wrote.joined(separator: "\n") + "\n").utf8)) }
    }
}

/// `siamese calibrate`: choose a threshold by a named rule and optionally save it with a model.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Choose a decision threshold by a rule and save it with a model.",
        discussion: HelpText.reflow("""
        Prints the threshold with its FAR and FRR and 95% intervals (bootstrap with a fixed seed, and Wilson). With --model DIR it writes DIR/calibration.json atomically: threshold, rule, score direction, rates, a SHA-256 fingerprint of the scored pairs and the date; `siamese evaluate --model DIR` and verification use it from then on. When no threshold meets the rule the command says so and exits with status 1.

        With --pairs FILE instead of --scores, the model named by --model scores the labelled pairs itself (as `siamese score` would; a sentence-transformers folder or name, or a Siamese model folder) and the calibration is written into it: matching a pretrained model to a task in one command.

        Example:
          siamese calibrate --scores val-pairs.csv --target-far 0.001 \\
              --model models/signature
          siamese calibrate --scores val-pairs.csv --lower-is-same --eer --json
          siamese calibrate --model all-MiniLM-L6-v2 --pairs labelled-pairs.csv --max-f1
        """))

    @OptionGroup var input: ScoredPairsOptions
    @OptionGroup var rule: ThresholdRuleOptions
    @OptionGroup var bootstrap: BootstrapFlags

    @Option(help: ArgumentHelp("Model directory to write calibration.json into (with --pairs: the model that scores them, a folder or a name).", valueName: "dir"))
    var model: String?

    @Option(help: ArgumentHelp("Labelled pairs to score with --model instead of --scores: CSV with a header or JSON lines, columns a, b, label.", valueName: "file"))
    var pairs: String?

    @Flag(help: "Print the calibration as JSON instead of text (the same as --format json).")
    var json = false

    @OptionGroup var formatting: FormatOption

    @Flag(help: "Also fit Platt scaling (score → P(same)) and store it in the calibration.")
    var platt = false

    func validate() throws {
        guard let r = rule.rule else {
            throw ValidationError("name a rule: --target-far RATE, --target-frr RATE, --max-f1, --max-accuracy or --eer")
        }
        if case .fixed = r { throw ValidationError("calibrate chooses a threshold; use a rule instead of --threshold") }
        guard (input.scoresFile != nil) != (self.pairs != nil) else {
            throw ValidationError("give --scores FILE.csv (scored pairs) or --pairs FILE with --model (pairs the model scores), one of them")
        }
        if self.pairs != nil {
            guard model != nil else { throw ValidationError("--pairs is scored by a model: give --model DIR|NAME") }
            guard input.direction == nil else { throw ValidationError("with --pairs the model's scores say which way they point; drop --higher-is-same / --lower-is-same") }
        }
    }

    /// The scored pairs, their direction and the file to name in errors: read from --scores, or
    /// made by scoring --pairs with --model.
    private func scoredPairs() throws -> (ScoredPairs, ScoreDirection, file: String, folder: URL?) {
        guard let pairsFile = self.pairs, let model else {
            return (try input.load(groupColumn: nil), input.direction?.direction ?? .higherIsSame, try input.requiredScoresFile, model.map { URL(fileURLWithPath: $0) })
        }
        let folder = try ModelLocator.resolve(model)
        let scorer = try PairScorer(folder: folder)
        let records = try PairsFile.read(URL(fileURLWithPath: pairsFile), columns: .init(labelRequired: true))
        let scores = try scorer.scores(records, pairsFile: pairsFile)
        let scored = try namingFile(pairsFile) { try ScoredPairs(scores: scores, labels: records.map { $0.label! }) }
        return (scored, scorer.direction, pairsFile, folder)
    }

    func run() throws {
        let (pairs, direction, file, folder) = try scoredPairs()
        let curve = try namingFile(file) { try VerificationCurve(pairs, direction: direction) }
        var record = try curve.calibrate(rule.rule!, pairs: pairs, bootstrap: bootstrap.options)
        if platt { record.platt = try namingFile(file) { try PlattScaling(scores: pairs.scores, labels: pairs.labels) } }
        var written: String? = nil
        if let folder, let model {
            // Stamp the record with the weights it is for: loaders ignore it once they change.
            AtomicFolder.recover(folder)
            record.modelFingerprint = try ModelFingerprint.of(folder)
            if record.modelFingerprint == nil {
                FileHandle.standardError.write(Data("warning: \(model) holds no model weights; the calibration names no model_fingerprint and loaders will treat it as unverified\n".utf8))
            }
            try record.save(toModelDirectory: folder)
            written = folder.appendingPathComponent(CalibrationRecord.fileName).path
        }
        let counts = curve.counts(at: record.threshold)
        if json || formatting.format != .text {
            // stdout carries exactly the record (the same JSON as calibration.json); news go to stderr.
            var data = try record.jsonData()
            if formatting.format == .jsonl, !json, let object = try? JSONSerialization.jsonObject(with: data) {
                data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            }
            print(String(decoding: data, as: UTF8.self))
            if let written { FileHandle.standardError.write(Data("wrote \(written)\n".utf8)) }
            return
        }
        let wilsonFAR = ProportionInterval.wilson(successes: counts.falsePositives, trials: counts.impostor)
        let wilsonFRR = ProportionInterval.wilson(successes: counts.falseNegatives, trials: counts.genuine)
        print("threshold  \(record.threshold)  (\(record.rule); accept when \(direction.comparison))")
        print("FAR        \(percent(record.far))  95% CI \(interval(record.farInterval)) bootstrap, \(interval(wilsonFAR)) Wilson  (\(counts.falsePositives)/\(counts.impostor) different pairs accepted)")
        print("FRR        \(percent(record.frr))  95% CI \(interval(record.frrInterval)) bootstrap, \(interval(wilsonFRR)) Wilson  (\(counts.falseNegatives)/\(counts.genuine) same pairs rejected)")
        if let p = record.platt { print("platt      P(same) = 1 / (1 + exp(\(p.a) · score + \(p.b)))") }
        print("data       \(record.dataFingerprint)")
        if let written { print("wrote \(written)") }
    }

    private func percent(_ v: Double) -> String { String(format: "%.4g%%", v * 100) }
    private func interval(_ ci: ConfidenceInterval?) -> String {
        guard let ci else { return "n/a" }
        return "[\(percent(ci.lower)), \(percent(ci.upper))]"
    }
}
