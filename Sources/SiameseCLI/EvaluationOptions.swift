import FileSupport
import ArgumentParser
import Evaluation
import Foundation
import NPY

/// Which way scores point, as a pair of flags.
enum ScoreDirectionFlag: String, EnumerableFlag {
    case higherIsSame, lowerIsSame

    var direction: ScoreDirection { self == .higherIsSame ? .higherIsSame : .lowerIsSame }

    static func help(for value: ScoreDirectionFlag) -> ArgumentHelp? {
        value == .higherIsSame ? "Scores are similarities: higher means same (default)." : "Scores are distances: lower means same."
    }
}

/// The scored-pairs CSV and how to read it; shared by `evaluate` and `calibrate`.
struct ScoredPairsOptions: ParsableArguments {
    @Option(name: .customLong("scores"), help: ArgumentHelp("CSV with a header and columns score,label (1 = same, 0 = different), as `siamese score` writes it.", valueName: "file.csv"))
    var scoresFile: String?

    /// The scores file; commands that need one call this (calibrate may score pairs instead).
    var requiredScoresFile: String {
        get throws {
            guard let scoresFile else { throw ValidationError("give the scored pairs with --scores FILE.csv (`siamese score --model M --pairs P` makes one)") }
            return scoresFile
        }
    }

    @Flag(help: "Score direction.")
    var direction: ScoreDirectionFlag?

    @Option(help: "Name of the score column.")
    var scoreColumn = "score"

    @Option(help: "Name of the label column.")
    var labelColumn = "label"

    func load(groupColumn: String?) throws -> ScoredPairs {
        try ScoredPairsCSV.read(URL(fileURLWithPath: try requiredScoresFile),
                                columns: .init(score: scoreColumn, label: labelColumn, group: groupColumn))
    }
}

/// Threshold rule flags; at most one may be given.
struct ThresholdRuleOptions: ParsableArguments {
    @Option(help: "Use this threshold as it is.")
    var threshold: Double?

    @Option(help: ArgumentHelp("The most permissive threshold with FAR at most this rate.", valueName: "rate"))
    var targetFar: Double?

    @Option(help: ArgumentHelp("The strictest threshold with FRR at most this rate.", valueName: "rate"))
    var targetFrr: Double?

    @Flag(help: "The threshold with the highest F1.")
    var maxF1 = false

    @Flag(help: "The threshold with the highest accuracy.")
    var maxAccuracy = false

    @Flag(help: "The threshold nearest the equal-error rate.")
    var eer = false

    func validate() throws {
        let given = [threshold != nil, targetFar != nil, targetFrr != nil, maxF1, maxAccuracy, eer].filter { $0 }.count
        guard given <= 1 else { throw ValidationError("give at most one of --threshold, --target-far, --target-frr, --max-f1, --max-accuracy, --eer") }
        for (name, v) in [("--target-far", targetFar), ("--target-frr", targetFrr)] {
            if let v, !(v >= 0 && v <= 1) { throw ValidationError("\(name) must be a rate between 0 and 1, got \(v)") }
        }
        if let t = threshold, !t.isFinite { throw ValidationError("--threshold must be a finite number") }
    }

    /// The rule the flags name, or `nil` when none was given.
    var rule: ThresholdRule? {
        if let threshold { return .fixed(threshold) }
        if let targetFar { return .targetFAR(targetFar) }
        if let targetFrr { return .targetFRR(targetFrr) }
        if maxF1 { return .maxF1 }
        if maxAccuracy { return .maxAccuracy }
        if eer { return .equalErrorRate }
        return nil
    }
}

/// Bootstrap settings for the intervals.
struct BootstrapFlags: ParsableArguments {
    @Option(help: "Bootstrap replicates for the FAR/FRR intervals.")
    var bootstrap = 1000

    @Option(help: "Seed for the bootstrap, so that intervals are reproducible.")
    var seed: UInt64 = 42

    func validate() throws {
        guard bootstrap >= 1 else { throw ValidationError("--bootstrap must be at least 1") }
    }

    var options: BootstrapOptions { BootstrapOptions(replicates: bootstrap, level: 0.95, seed: seed) }
}

/// Runs `body`, turning a data error (a single class, a zero embedding row, …) into one that names
/// the input file, so every failure message says which file to look at.
func namingFile<T>(_ file: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as EvaluationError {
        throw InputError(file: file, message: error.message)
    }
}

enum OutputFile {
    /// Writes text atomically, naming the file in any error.
    static func write(_ text: String, to path: String) throws {
        do {
            try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: path))
        } catch let error as AtomicFile.WriteError {
            // The error's own description names the path again (once printed as "a: /dir/a: …").
            throw InputError(file: path, message: "cannot write: \(error.reason)")
        } catch {
            throw InputError(file: path, message: "cannot write: \(error.localizedDescription)")
        }
    }
}

/// The calibration saved in a model folder for `evaluate` and `report --model`: one made for other
/// weights than the folder holds now is refused (its threshold and direction belong to a model
/// that is gone); one that names no weights is used with a warning.
func savedCalibration(_ dir: URL) throws -> CalibrationRecord? {
    guard let fingerprint = try ModelFingerprint.of(dir) else { return try CalibrationRecord.load(fromModelDirectory: dir) }
    let checked = try CalibrationRecord.load(fromModelDirectory: dir, fingerprint: fingerprint, higherIsSame: nil)
    if let record = checked.record {
        if let warning = checked.warning { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        return record
    }
    if let warning = checked.warning {
        // A failure with the file (exit 1), not a usage error: the warning starts with the path.
        let path = dir.appendingPathComponent(CalibrationRecord.fileName).path
        throw InputError(file: path, field: "model_fingerprint", message: String(warning.dropFirst(path.count + 2)))
    }
    return nil
}
