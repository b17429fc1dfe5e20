import ArgumentParser
import Evaluation
import FileSupport
import Foundation
import Siamese
import Tensors
import TextEncoders

/// `siamese verify`: are two inputs the same (writer, person, meaning)? The score, the decision and
/// the threshold behind it.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Score two inputs with a model and decide same/different with its calibrated threshold.",
        discussion: HelpText.reflow("""
        Inputs, for a Siamese model folder (siamese.json): a .csv file with a header and one row (columns picked by name), a .npy file (1-D, or 2-D with one row), a .json file (an array of numbers, or an object keyed by column name), or an inline JSON array such as '[0.1, 0.2]'. For a sentence-transformers folder (modules.json): the two texts themselves.

        The threshold is --threshold if given, otherwise the one in MODEL/calibration.json (written by `siamese calibrate --model` or `siamese demo --output`) when it was made for the model's current weights and score direction (a stale one is ignored with a warning); with neither, verify fails and says so. The exit status is 0 whatever the decision (read it from the output); 1 for a failure, 2 for a usage error.

        Examples:
          siamese demo --output sig-model
          siamese verify --model sig-model --a query.csv --b reference.csv
          siamese verify --model sig-model --a a.npy --b b.npy --format json
          siamese verify --model all-MiniLM-L6-v2 --a "A man is eating food." --b "A man eats." --threshold 0.7
        """)
    )

    @Option(help: ArgumentHelp("Model folder: a Siamese model or a sentence-transformers model.", valueName: "dir")) var model: String
    @Option(name: .customLong("a"), help: ArgumentHelp("First input (file, inline JSON array, or text for a text model).", valueName: "input")) var first: String
    @Option(name: .customLong("b"), help: ArgumentHelp("Second input.", valueName: "input")) var second: String
    @Option(help: "Decision threshold; overrides MODEL/calibration.json.") var threshold: Double?
    @Option(help: "Output: text, json or jsonl (one object on one line, as json).") var format: OutputFormat = .text
    @OptionGroup var threading: ThreadsOption
    /// `--threads`, or nil for the default.
    var threads: Int? { threading.threads }

    func validate() throws {
        if let threshold, !threshold.isFinite { throw ValidationError("--threshold must be a finite number") }
    }

    func run() throws {
        threading.apply()
        let folder = try ModelLocator.resolve(model)
        // The model first: its weights' fingerprint and score direction decide whether the
        // calibration beside it applies (a folder trained again keeps no stale threshold).
        let (score, modelDirection, kind, fingerprint) = try computeScore(folder)
        let checked = try CalibrationRecord.load(fromModelDirectory: folder, fingerprint: fingerprint,
                                                 higherIsSame: modelDirection == .higherIsSame)
        if let warning = checked.warning { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        let calibration = checked.record
        let decisionThreshold: Double, rule: String, source: String
        if let threshold {
            (decisionThreshold, rule, source) = (threshold, ThresholdRule.fixed(threshold).kind, "--threshold")
        } else if let calibration {
            (decisionThreshold, rule, source) = (calibration.threshold, calibration.rule.kind, folder.appendingPathComponent(CalibrationRecord.fileName).path)
        } else {
            let why = checked.warning == nil ? "no calibrated threshold" : "no calibrated threshold for these weights"
            throw InputError(file: folder.appendingPathComponent(CalibrationRecord.fileName).path,
                             message: "\(why): calibrate it on labelled pairs (columns a, b, label) with `siamese calibrate --model \(model) --pairs PAIRS.csv --eer`, or give --threshold")
        }
        let direction = calibration?.scoreDirection ?? modelDirection
        let same = direction.isSame(score: score, threshold: decisionThreshold)
        let probability = threshold == nil ? calibration?.platt?.probability(score) : nil
        switch format {
        case .json, .jsonl:
            var object: [String: Any] = ["score": score, "same": same, "decision": same ? "same" : "different",
                                         "threshold": decisionThreshold, "rule": rule, "threshold_source": source,
                                         "direction": direction.rawValue, "model": model, "model_kind": kind]
            if let calibration, threshold == nil, let value = calibration.rule.value { object["rule_value"] = value }
            if let probability { object["p_same"] = probability }
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self))
        case .text:
            print("score      \(String(format: "%.6f", score))")
            print("decision   \(same ? "same" : "different")")
            let ruleText = threshold == nil ? calibration!.rule.description : "given with --threshold"
            print("threshold  \(String(format: "%.6f", decisionThreshold))  (\(ruleText); accept when \(direction.comparison); from \(source))")
            if let probability { print("P(same)    \(String(format: "%.4f", probability))  (Platt scaling from the calibration)") }
        }
    }

    /// The pair's score, which way it points, the kind of model and its weights' fingerprint.
    private func computeScore(_ folder: URL) throws -> (Double, ScoreDirection, String, String) {
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent("modules.json").path) {
            let encoder = try SentenceTransformer(folder: folder)
            let e = encoder.encode([first, second]).scalars
            let d = e.count / 2
            var dot = 0.0, na = 0.0, nb = 0.0
            for i in 0..<d {
                dot += Double(e[i]) * Double(e[d + i]); na += Double(e[i]) * Double(e[i]); nb += Double(e[d + i]) * Double(e[d + i])
            }
            return (dot / max(1e-12, (na * nb).squareRoot()), .higherIsSame, "sentence-transformers", try ModelFingerprint.of(folder) ?? "")
        }
        let (network, config) = try ModelFolder(folder).load()
        let columns = config.featureColumns ?? (0..<config.encoder.inputFeatures).map { "f\($0)" }
        let a = try VerifyInput.features(first, option: "--a", columns: columns)
        let b = try VerifyInput.features(second, option: "--b", columns: columns)
        let s = withoutGradients { network.score(Tensor(shape: [1, columns.count], a), Tensor(shape: [1, columns.count], b)) }
        return (Double(s.scalars[0]), network.higherScoreMeansSame ? .higherIsSame : .lowerIsSame, "siamese", config.weightsSHA256)
    }
}
