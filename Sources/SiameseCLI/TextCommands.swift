import ArgumentParser
import Evaluation
import FileSupport
import Foundation
import NN
import NPY
import Siamese
import Tensors
import TextEncoders

// MARK: - siamese embed (text)

/// `siamese embed` for a sentence-transformers folder: one input per line of `input` (UTF-8; a
/// final newline does not start another input; `\r\n` endings are accepted), float32 .npy rows in
/// input order, normalised when the model's modules say so.
@discardableResult
func embedTextFile(model: URL, input: URL, output: URL, threads: Int?, int8: Bool, texts: [String]? = nil, truncateDim: Int? = nil,
                   prompt: Prompts.Choice = .modelDefault) throws -> (rows: Int, dimension: Int) {
    if let threads {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        Threading.threadCount = threads
    }
    let lines = try texts ?? readTextLines(input)
    let encoder = try SentenceTransformer(folder: model)
    if let truncateDim {
        guard (1...encoder.fullDimension).contains(truncateDim) else {
            throw ValidationError("--truncate-dim must be in 1...\(encoder.fullDimension) (the model's embedding width), got \(truncateDim)")
        }
        encoder.truncateDimension = truncateDim
    }
    // A prompt name the model does not have is the caller's mistake: refused before any work.
    do { _ = try encoder.prompts.text(for: prompt) } catch { throw ValidationError("--prompt: \(error.message)") }
    // In parts of 2,048 texts, so that a long run shows progress (each part is still batched
    // longest first inside the encoder).
    let progress = ProgressBar(label: "embedding")
    var values: [Float] = []
    values.reserveCapacity(lines.count * encoder.dimension)
    for start in stride(from: 0, to: lines.count, by: 2048) {
        let end = min(lines.count, start + 2048)
        values += try encoder.encode(Array(lines[start..<end]), prompt: prompt, batchSize: 64, precision: int8 ? .int8 : .float32).scalars
        progress.update(done: end, of: lines.count, unit: "texts")
    }
    progress.finish()
    try NPY.write(NPYArray(float32: values, rows: lines.count, cols: encoder.dimension), to: output)
    return (lines.count, encoder.dimension)
}

/// The lines of a UTF-8 text file; invalid UTF-8 is an error naming the line.
func readTextLines(_ url: URL) throws -> [String] {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
        // A missing or unreadable input is a failure (exit 1), not a usage error.
        throw InputError(file: url.path, message: "cannot read (\(error.localizedDescription))")
    }
    var lines: [String] = []
    var number = 0
    var parts = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    if parts.last?.isEmpty == true { parts.removeLast() }
    lines.reserveCapacity(parts.count)
    for part in parts {
        number += 1
        let bytes = part.last == UInt8(ascii: "\r") ? part.dropLast() : part[...]
        guard let line = String(validating: bytes, as: UTF8.self) else {
            throw TextEncoderError("\(url.path):\(number): not valid UTF-8")
        }
        lines.append(line)
    }
    return lines
}

// MARK: - siamese finetune

/// `siamese finetune`: fine-tunes a sentence-transformers model on text pairs and saves it back
/// as a sentence-transformers folder.
struct FineTuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune a sentence-transformers model (BERT or MPNet) on text pairs from JSONL.",
        discussion: HelpText.reflow("""
        Data (one JSON object per line, or a CSV with a header naming the same columns; in a CSV, a and b may stand for sentence1 and sentence2, so labelled pairs a,b,label train contrastive):
          mnrl, cached-mnrl, gist: {"anchor": "...", "positive": "...", "negative": "..."}   (negative optional)
          cosent, angle, cosine:   {"sentence1": "...", "sentence2": "...", "score": 0.8}
          contrastive:             {"sentence1": "...", "sentence2": "...", "label": 1}
          matryoshka:              what --matryoshka-inner reads

        Losses as in sentence-transformers: cached-mnrl is mnrl computed in --mini-batch-size
        forward passes with the same loss and gradients (GradCache), so --batch-size can exceed
        memory; gist drops the in-batch negatives that --guide MODEL scores above the positive;
        angle is CoSENT on the AnglE similarity; matryoshka trains prefixes of the embedding
        (--matryoshka-dims) so that the model can be used truncated (--truncate-dim).

        Optimiser: AdamW (weight decay 0.01), linear warm-up over --warmup-ratio of the steps then
        linear decay, gradient norm clipped to 1 — sentence-transformers' defaults.
        Checkpoints go to OUTPUT.checkpoints; running the same command again resumes from the newest
        (only with the same data, base model and loss: otherwise it stops and names --no-resume).

        Example:
          siamese finetune --model all-MiniLM-L6-v2 --data pairs.jsonl --loss mnrl --epochs 1 \\
                           --batch-size 32 --lr 2e-5 --output tuned
        """)
    )

    @Option(help: ArgumentHelp("sentence-transformers model folder (or name) to start from.", valueName: "dir|name")) var model: String
    @Option(help: "Training data: JSON lines, or a CSV with a header (see above).") var data: String
    @OptionGroup var losses: FineTuneLossOptions
    @Option(help: "Epochs.") var epochs = 1
    @Option(help: "Batch size (pairs per step).") var batchSize = 32
    @Option(help: "Peak learning rate.") var lr: Float = 2e-5
    @Option(help: "Fraction of the steps spent warming the learning rate up.") var warmupRatio = 0.1
    @Option(help: "Seed for batching and dropout.") var seed: UInt64 = 0
    @OptionGroup var threading: ThreadsOption
    /// `--threads`, or nil for the default.
    var threads: Int? { threading.threads }

    @Flag(help: "Start from scratch (removing OUTPUT.checkpoints) even if it holds a checkpoint; needed when the data or setup changed.") var noResume = false
    @Option(help: "Folder to write the fine-tuned model to.") var output: String
    @Option(help: "Save the model to encode only the first N dimensions (truncate_dim in config_sentence_transformers.json; for a matryoshka-trained model). Validation and calibration use that width too.") var truncateDim: Int?
    @Option(help: ArgumentHelp("Held-out labelled pairs (CSV with a header, or JSON lines; columns a, b, label) scored before training and after every epoch (AUC, EER); the threshold is then calibrated on them (--calibration) and saved as OUTPUT/calibration.json, so that `siamese verify --model OUTPUT` works at once.", valueName: "pairs")) var validation: String?
    @Flag(help: "With --validation: keep the epoch with the best validation AUC, or the base model itself when no epoch beats it.") var keepBest = false
    @Option(help: "With --validation: stop after this many epochs without a better AUC (keeps the best epoch).") var patience: Int?
    @Option(help: CalibrationRuleOption.help) var calibration = "eer"
    @Option(name: .customLong("log"), help: ArgumentHelp("Epoch metrics (loss, seconds, validation AUC/EER) to a .csv or .jsonl file, rewritten after every epoch.", valueName: "file")) var logFile: String?

    /// Applies --truncate-dim (checked against the model's width).
    private func setTruncation(_ encoder: SentenceTransformer) throws {
        guard let truncateDim else { return }
        guard truncateDim <= encoder.fullDimension else {
            throw ValidationError("--truncate-dim \(truncateDim) exceeds the model's embedding width \(encoder.fullDimension)")
        }
        encoder.truncateDimension = truncateDim
    }

    func validate() throws {
        if let truncateDim, truncateDim < 1 { throw ValidationError("--truncate-dim must be at least 1") }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        guard batchSize >= 2 else { throw ValidationError("--batch-size must be at least 2") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be positive") }
        guard (0..<1).contains(warmupRatio) else { throw ValidationError("--warmup-ratio must be in [0, 1)") }
        if (keepBest || patience != nil) && validation == nil { throw ValidationError("--keep-best and --patience need --validation PAIRS") }
        if let patience, patience < 1 { throw ValidationError("--patience must be at least 1") }
        _ = try CalibrationRuleOption.parse(calibration)
    }

    func run() throws {
        threading.apply()
        let modelURL = try ModelLocator.resolve(model)
        let encoder = try SentenceTransformer(folder: modelURL)
        try setTruncation(encoder)
        let kind = try losses.make(width: encoder.fullDimension)
        let dataset = try FineTuneData.read(data, kind: kind.kind)
        let guideURL = try losses.guide.map { try ModelLocator.resolve($0) }
        let guide = try guideURL.map { try SentenceTransformer(folder: $0) }
        // Read before training, so a bad validation file fails at once, not after an epoch.
        let held = try validation.map { try ValidationPairs(file: $0) }
        let task = try TextPairTrainingTask(data: dataset, loss: kind, batchSize: batchSize, guide: guide)
        let stepsPerEpoch = try task.batches(epoch: 0, seed: seed, model: encoder).count
        let configuration = SentenceTransformersRecipe.configuration(
            epochs: epochs, stepsPerEpoch: stepsPerEpoch, batchSize: batchSize, learningRate: lr, warmupRatio: warmupRatio,
            seed: seed, earlyStoppingPatience: patience ?? (keepBest ? Int.max : nil))
        let outputURL = URL(fileURLWithPath: output)
        let checkpoints = SentenceTransformersRecipe.checkpoints(for: outputURL)
        let trainer = try Trainer(model: encoder, task: task, configuration: configuration, checkpointDirectory: checkpoints)
        // Checkpoints name the data, base model and loss they continue: a resume after any of them
        // changed is refused (--no-resume starts over).
        let lossSetup = try losses.fingerprint(guideFingerprint: try guideURL.map { try ModelFingerprint.of($0) ?? "-" })
        let setup = "\(try SHA256.hex(ofFile: URL(fileURLWithPath: data))) \(try ModelFingerprint.of(modelURL) ?? "-") \(lossSetup)"
        trainer.dataFingerprint = SHA256.hash(Array(setup.utf8)).hexString
        let progress = ProgressBar(label: "fine-tuning")
        trainer.onProgress = { progress.update($0) }
        // The base model's score: an epoch is only worth keeping if it beats it.
        let base = try held.map { try $0.result(of: encoder) }
        if let base {
            progress.log(String(format: "base model   validation AUC %.4f  EER %.2f%%", base.metrics["auc"] ?? .nan, 100 * (base.metrics["eer"] ?? .nan)), always: true)
        }
        if let held { trainer.validation = { try held.result(of: $0) } }
        let metricsLog = try logFile.map { try MetricsLog(path: $0) }
        let started = Date()
        trainer.onEpochEnd = { report in
            if let v = report.validation {
                progress.log(String(format: "epoch %d/%d  loss %.5f  validation AUC %.4f  EER %.2f%%%@", report.epoch + 1, report.epochs,
                                    report.meanLoss, v.metrics["auc"] ?? .nan, 100 * (v.metrics["eer"] ?? .nan), report.isBest ? "  (best)" : ""), always: true)
            }
            if let metricsLog {
                var row: [(String, Double)] = [("epoch", Double(report.epoch + 1)), ("loss", report.meanLoss), ("seconds", Date().timeIntervalSince(started))]
                if let v = report.validation { row += v.metrics.sorted { $0.key < $1.key }.map { ("val_\($0.key)", $0.value) } }
                do { try metricsLog.append(row) } catch { progress.log("warning: --log: \(error)", always: true) }
            }
        }
        let summary = try trainer.fit(resume: !noResume)
        progress.finish()
        var saved = encoder
        if keepBest, let base, let best = summary.bestEpoch, summary.validations[best].score < base.score {
            // Fine-tuning made it worse on the user's own pairs: the base weights are the better model.
            saved = try SentenceTransformer(folder: modelURL)
            try setTruncation(saved)
            print(String(format: "no epoch beat the base model (best validation AUC %.4f < %.4f): saved the base model's weights",
                         summary.validations[best].score, base.score))
        } else if let best = summary.bestEpoch, summary.bestEpoch != summary.epochLosses.count - 1 {
            print("kept the weights of epoch \(best + 1) (best validation AUC)")
        }
        saved.isTraining = false
        try saved.save(to: outputURL)
        if let held, let rule = try CalibrationRuleOption.parse(calibration) {
            let record = try held.calibrate(saved, rule: rule, modelFolder: outputURL)
            print(CalibrationRuleOption.summary(record, pairs: held.pairs.count, direction: .higherIsSame, modelFolder: outputURL))
        }
        if let from = summary.resumedFrom { print("resumed from \(from.path)") }
        for (e, l) in summary.epochLosses.enumerated() { print(String(format: "epoch %d/%d  mean loss %.5f", e + 1, epochs, l)) }
        print(String(format: "fine-tuned %d examples, %d steps in %.1f s (%.2f steps/s); final epoch loss %.5f",
                     dataset.count, summary.steps, summary.seconds, summary.stepsPerSecond, summary.epochLosses.last ?? .nan))
        print("model written to \(output)")
    }
}

// MARK: - siamese bench text

/// `siamese bench text`: sentences per second of `SentenceTransformer.encode` on a text file, and
/// the latency of one sentence, for Benchmarks/text_encode.sh.
struct TextBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "text",
        abstract: "Throughput and single-sentence latency of a sentence-transformers model.",
        discussion: HelpText.reflow("""
        Loads the model, tokenises nothing ahead (tokenising is part of the measured work), runs
        one warm-up pass over the first 256 lines, then --repeats timed passes over the whole
        file (the best is reported) and --latency-runs single-sentence encodes of --sentence.
        With --json prints one object: sentences, tokens, seconds, sentences_per_second,
        latency_p50_ms, latency_p90_ms, threads, precision, kernels.
        """)
    )

    @Option(help: "sentence-transformers model folder.") var model: String
    @Option(help: "Text file, one sentence per line.") var input: String
    @OptionGroup var threading: ThreadsOption
    /// `--threads`, or nil for the default.
    var threads: Int? { threading.threads }

    @Flag(help: "Dynamic int8 linear layers.") var int8 = false
    @Option(help: "Sentences per packed batch.") var batchSize = 64
    @Option(help: "Timed passes over the file (the best is kept).") var repeats = 1
    @Option(help: "Single-sentence encodes for the latency percentiles.") var latencyRuns = 200
    @Option(help: "The sentence for the latency runs.") var sentence = "A man is riding a white horse on an enclosed ground."
    @Option(help: "Also write the embeddings of the timed pass to this .npy file.") var output: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        threading.apply()
        let lines = try readTextLines(URL(fileURLWithPath: input))
        let encoder = try SentenceTransformer(folder: URL(fileURLWithPath: model))
        let precision: Precision = int8 ? .int8 : .float32
        _ = encoder.encode(Array(lines.prefix(256)), batchSize: batchSize, precision: precision)
        var best = Double.infinity
        var embeddings = Tensor.zeros([0, encoder.dimension])
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            embeddings = encoder.encode(lines, batchSize: batchSize, precision: precision)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        var latencies: [Double] = []
        for _ in 0..<10 { _ = encoder.encode([sentence], batchSize: 1, precision: precision) }
        for _ in 0..<max(1, latencyRuns) {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = encoder.encode([sentence], batchSize: 1, precision: precision)
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        latencies.sort()
        let p50 = latencies[latencies.count / 2], p90 = latencies[min(latencies.count - 1, latencies.count * 9 / 10)]
        let tokens = lines.reduce(0) { $0 + encoder.tokenize($1).count }
        if let output {
            try NPY.write(NPYArray(float32: embeddings.scalars, rows: lines.count, cols: encoder.dimension), to: URL(fileURLWithPath: output))
        }
        let kernels = encoder.inferenceEngine(precision: precision).kernelDescription
        if json {
            let object: [String: Any] = ["sentences": lines.count, "tokens": tokens, "seconds": best,
                                         "sentences_per_second": Double(lines.count) / best, "latency_p50_ms": p50, "latency_p90_ms": p90,
                                         "threads": Threading.threadCount, "precision": precision.rawValue, "kernels": kernels]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self))
        } else {
            print(String(format: "%d sentences (%d tokens, mean %.1f) in %.3f s: %.1f sentences/s; one sentence p50 %.2f ms, p90 %.2f ms (%@, %d threads)",
                         lines.count, tokens, Double(tokens) / Double(max(lines.count, 1)), best, Double(lines.count) / best, p50, p90,
                         kernels, Threading.threadCount))
        }
    }
}

extension Prompts.Role: ExpressibleByArgument {}
