import Evaluation
import FileSupport
import Foundation
import Siamese
import Tensors

/// Runs ``SignatureDemo`` and prints what it did and measured, for `siamese demo`.
struct DemoTraining {
    let configuration: SignatureDemo.Configuration
    let seed: UInt64
    let output: String?

    func run() throws {
        let c = configuration
        let clock = ContinuousClock(), start = clock.now
        let total = c.trainWriters + c.validationWriters + c.testWriters
        print("data:  \(total) synthetic writers × (\(c.genuinePerWriter) genuine + \(c.forgeriesPerWriter) skilled forgeries), " +
              "\(c.steps) time steps × (x, y, pressure)")
        print("       train on \(c.trainWriters) writers, calibrate on \(c.validationWriters), evaluate on \(c.testWriters) writers seen by neither")
        print("model: twin time-delay CNN, 3→\(c.blockChannels.map(String.init).joined(separator: "→")) channels (kernel 5, dilations " +
              "\((0..<c.blockChannels.count).map { String(1 << $0) }.joined(separator: ",")))→\(c.embeddingDimension), L2-normalised, cosine similarity")
        print("loss:  triplet (margin \(c.margin), cosine), negatives \(Int(c.skilledFraction * 100))% skilled forgeries, " +
              "rest other writers; Adam \(c.learningRate) with cosine decay, \(c.epochs) epochs")
        let result = try SignatureDemo.run(c, seed: seed) { report in
            // About ten lines whatever the number of epochs.
            if report.epoch == 0 || (report.epoch + 1) % max(1, report.epochs / 10) == 0 || report.epoch + 1 == report.epochs {
                print(String(format: "  epoch %2d/%d  loss %.4f", report.epoch + 1, report.epochs, report.meanLoss))
            }
            for w in report.warnings { print("  warning: \(w)") }
        }
        let r = result.report
        print(String(format: "trained: %d steps in %.2f s (%.1f steps/s)", r.trainingSteps, r.trainingSeconds, r.stepsPerSecond))
        let cal = result.calibration
        print(String(format: "threshold: same writer when cosine ≥ %.4f", cal.threshold) + " (rule: \(cal.rule), chosen on the validation writers: " +
              String(format: "FAR %.2f%%, FRR %.2f%%)", 100 * cal.far, 100 * cal.frr))
        print("")
        print("held-out writers (\(r.trained.skilled.genuinePairs) genuine pairs; \(r.trained.random.impostorPairs) random-forgery and \(r.trained.skilled.impostorPairs) skilled-forgery pairs)")
        print("                                 raw trajectories   untrained twin   trained twin")
        func row(_ name: String, _ value: (SignatureDemo.Metrics) -> Double) {
            let label = name.padding(toLength: 30, withPad: " ", startingAt: 0)
            print("  " + label + String(format: " %8.2f%%          %8.2f%%        %8.2f%%", 100 * value(r.rawFeatures), 100 * value(r.untrained), 100 * value(r.trained)))
        }
        row("EER, random forgeries") { $0.random.eer }
        row("EER, skilled forgeries") { $0.skilled.eer }
        row("accuracy, random forgeries") { $0.random.accuracy }
        row("accuracy, skilled forgeries") { $0.skilled.accuracy }
        row("FAR, skilled forgeries") { $0.skilled.far }
        row("FRR (genuine rejected)") { $0.skilled.frr }
        print("  (accuracy, FAR and FRR at each model's threshold calibrated on the validation writers)")
        if let output {
            try SignatureDemo.save(result.network, calibration: cal, steps: c.steps, to: URL(fileURLWithPath: output))
            let examples = try writeExamples(into: URL(fileURLWithPath: output).appendingPathComponent("examples"))
            print("model written to \(output) (with \(CalibrationRecord.fileName)); inputs to try it with in \(examples)")
        }
        let elapsed = clock.now - start
        print(String(format: "time: %.1f s", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
    }

    /// Signatures of a writer no part of the demo used, as JSON arrays `siamese verify` reads:
    /// a reference, another genuine signature, a skilled forgery of it, and another writer's.
    private func writeExamples(into folder: URL) throws -> String {
        let c = configuration
        let generator = SignatureGenerator(steps: c.steps, seed: seed)
        let w = c.trainWriters + c.validationWriters + c.testWriters
        let inputs: [(String, [Float])] = [
            ("reference", generator.genuine(writer: w, sample: 0)), ("genuine", generator.genuine(writer: w, sample: 1)),
            ("skilled_forgery", generator.forgery(writer: w, sample: 0)), ("other_writer", generator.genuine(writer: w + 1, sample: 0)),
        ]
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, values) in inputs {
            let text = "[" + values.map { "\($0)" }.joined(separator: ", ") + "]\n"
            try AtomicFile.write(Data(text.utf8), to: folder.appendingPathComponent(name + ".json"))
        }
        return folder.path
    }
}
