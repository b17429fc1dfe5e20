import ArgumentParser
import Evaluation
import Foundation
import NN
import Siamese
import Tensors

/// `siamese train`: a twin encoder from labelled items (CSV, NPY, MNIST IDX, an image folder) or from
/// pre-built pairs and triplets (pair CSV, JSONL); the readers live in TrainData.swift.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a Siamese encoder on labelled items or pre-built pairs and triplets.",
        discussion: HelpText.reflow("""
        Inputs (--data, by extension): a labelled CSV with a header, every column but the label column a numeric feature; with --pairs, a CSV of pre-built pairs (columns a_*, b_* and a same/different label); .jsonl pairs {"a": [...], "b": [...], "label": 1} or triplets {"anchor": [...], "positive": [...], "negative": [...]}; a .npy feature matrix with --labels (int .npy or text); MNIST IDX files (--idx-images/--idx-labels, or --data IMAGES --labels LABELS); a folder with one subfolder of images per class, PGM/PPM, PNG or JPEG, mixed at will (size and channels from the images; use --encoder cnn). Malformed input stops with the file, line and field before training starts.

        Examples:
          siamese train --data digits.csv --label-column label --encoder mlp --layers 64,128,64 --dim 32 \\
                        --loss contrastive --margin 0.5 --epochs 30 --batch-size 128 --lr 0.001 --seed 0 --output model
          siamese train --data digits.csv --label-column label --encoder cnn --image 8x8 --dim 32 \\
                        --loss triplet --miner batch-hard --margin 0.3 --output model-cnn
          siamese train --data pen.csv --label-column writer --encoder sequence --channels 3 --dim 64 --loss triplet --output sig
          siamese train --data pairs.csv --pairs --label-column same --loss contrastive --output model
          siamese train --data triplets.jsonl --loss triplet --output model
          siamese train --data x.npy --labels y.npy --loss triplet --miner batch-hard --output model
          siamese train --idx-images train-images-idx3-ubyte --idx-labels train-labels-idx1-ubyte --encoder cnn --loss triplet --miner batch-hard --output mnist
          siamese train --data faces/ --encoder cnn --loss triplet --miner semi-hard --output faces-model

        Losses: contrastive, online-contrastive, triplet (random triplets, or --miner batch-all|batch-hard|semi-hard for in-batch mining, or --hard-negatives for offline mining), mnrl (in-batch negatives), bce (learned head); from pytorch-metric-learning, on labelled items with cosine similarity and pml's defaults (changed with --margin, --loss-scale, --loss-temperature, --loss-alpha, --loss-beta, --loss-base; a setting the loss does not read is refused): multi-similarity (alpha 2, beta 50, base 0.5; --miner multi-similarity adds its pair miner, epsilon 0.1), circle (m 0.4, gamma 80) and supcon (supervised contrastive / NT-Xent, temperature 0.1) in m-per-class batches; arcface (margin 28.6 degrees, scale 64), cosface (margin 0.35, scale 64) and proxy-anchor (margin 0.1, alpha 32) in shuffled batches, with one learnable vector per class trained and checkpointed beside the encoder (not part of the saved model). Pre-built pairs train with contrastive, online-contrastive, bce or cosine (a similarity score per pair, read from the label column); pre-built triplets with triplet. Checkpoints go to OUTPUT/checkpoints; running the same command again resumes from the newest one (only with the same data and settings: otherwise it stops and names --no-resume). The model folder is replaced whole (a kill leaves the old or the new model); a calibration.json made for the old weights is not kept.
        """)
    )

    @OptionGroup var input: TrainDataOptions
    @Option(help: "Encoder: mlp, cnn or sequence.") var encoder = "mlp"
    @Option(help: "MLP input and hidden widths, e.g. 64,128,64 (the first must equal the feature count).") var layers: String?
    @Option(help: "Embedding dimension.") var dim = 32
    @Option(help: "CNN input size HxW (one channel unless --channels), e.g. 8x8.") var image: String?
    @Option(help: "Input channels (cnn, sequence).") var channels = 1
    @Option(help: "Convolution blocks' channels (cnn, sequence), e.g. 32,64 (default: 16,32 for cnn, 32,64 for sequence).") var blocks: String?
    @Option(help: "Loss: contrastive, online-contrastive, triplet, mnrl, bce, multi-similarity, circle, supcon, arcface, cosface, proxy-anchor, or cosine (pre-built pairs with scores).") var loss = "contrastive"
    @Option(help: "Margin of contrastive (default 0.5), triplet (0.3), circle (m, 0.4), arcface (degrees, 28.6), cosface (0.35) and proxy-anchor (0.1).") var margin: Float?
    @Option(help: "Scale of mnrl (default 20), arcface and cosface (64), and circle's gamma (80).") var lossScale: Float?
    @Option(help: "Temperature of supcon (default 0.1).") var lossTemperature: Float?
    @Option(help: "Alpha of multi-similarity (default 2) and proxy-anchor (32).") var lossAlpha: Float?
    @Option(help: "Beta of multi-similarity (default 50).") var lossBeta: Float?
    @Option(help: "Base (similarity offset) of multi-similarity (default 0.5).") var lossBase: Float?
    @Option(help: "arcface, cosface, proxy-anchor: the class vectors learn at this multiple of --learning-rate (the Proxy Anchor paper uses 100).") var classLearningRateScale: Float = 1
    @Option(help: "Comparison: cosine or euclidean.") var distance = "cosine"
    @Option(help: "In-batch mining: batch-all, batch-hard or semi-hard (triplet); multi-similarity (--loss multi-similarity).") var miner: String?
    @Flag(help: "Offline hard-negative mining for triplets (re-mined every --mine-every epochs).") var hardNegatives = false
    @Option(help: "Rank range of mined negatives, e.g. 0:50.") var mineRanks = "0:50"
    @Option(help: "Epochs between hard-negative refreshes.") var mineEvery = 1
    @Option(help: "Positive:negative pair ratio for pair losses.") var pairRatio = "1:1"
    @Flag(help: "Draw pair anchors uniformly over classes (rare classes get as many pairs).") var balanceClasses = false
    @Option(help: "Epochs.") var epochs = 10
    @Option(help: "Batch size.") var batchSize = 128
    @Option(help: "Learning rate.") var lr: Float = 1e-3
    @Option(help: "Optimizer: adam, adamw or sgd.") var optimizer = "adam"
    @Option(help: "Weight decay.") var weightDecay: Float = 0
    @Option(help: "Warm-up steps.") var warmup = 0
    @Option(help: "Learning-rate decay: constant, linear or cosine.") var schedule = "constant"
    @Option(help: "Clip the gradient norm to this value.") var clip: Float?
    @Option(help: "Seed for initialisation and sampling.") var seed: UInt64 = 0
    @Option(help: "Also checkpoint every N steps (always at each epoch's end).") var checkpointEvery: Int?
    @Flag(help: "Start from scratch (removing OUTPUT/checkpoints) even if it has a checkpoint; needed when the data or setup changed.") var noResume = false
    @Option(help: "Held-out validation data in the format of --data (a labelled CSV with the same columns, or pairs / triplets): scored after every epoch, then the threshold is calibrated on it.") var validation: String?
    @Option(help: "Fraction of the training data held out for validation (by class for labelled items, by record for pairs and triplets); 0 = none.") var validationSplit = 0.0
    @Option(help: "Early stopping: stop after this many epochs without a better validation AUC, keep the best weights.") var patience: Int?
    @Flag(help: "Keep the weights of the epoch with the best validation AUC (not the last epoch's).") var keepBest = false
    @Option(help: CalibrationRuleOption.help) var calibration = "eer"
    @Option(name: .customLong("log"), help: ArgumentHelp("Epoch metrics (loss, seconds, validation AUC/EER/recall@1) to a .csv or .jsonl file, rewritten after every epoch.", valueName: "file")) var logFile: String?
    @OptionGroup var threading: ThreadsOption
    /// `--threads`, or nil for the default.
    var threads: Int? { threading.threads }

    @Option(help: ArgumentHelp("Fine-tune: start from this model folder's encoder (architecture and weights), e.g. one `siamese pretrain` wrote; --encoder, --layers, --dim and --image are then taken from it.", valueName: "DIR")) var initFrom: String?
    @Option(help: "Model folder to write.") var output: String
    @Flag(help: "Print the summary as one line of JSON (as --format jsonl).") var json = false
    @Option(help: "Summary on stdout: text, json (one pretty document) or jsonl (one line).") var format: OutputFormat = .text

    func validate() throws {
        guard classLearningRateScale > 0, classLearningRateScale.isFinite else {
            throw ValidationError("--class-learning-rate-scale must be a positive number, got \(classLearningRateScale)")
        }
        if classLearningRateScale != 1, !["arcface", "cosface", "proxy-anchor"].contains(loss) {
            throw ValidationError("--class-learning-rate-scale applies to --loss arcface, cosface and proxy-anchor (their class vectors), not \(loss)")
        }
    }

    func run() throws {
        threading.apply()
        try checkLossSettings()
        let rule = try CalibrationRuleOption.parse(calibration)
        let (input, held) = try split(try self.input.load(pairScores: loss == "cosine"))
        if (patience != nil || keepBest) && held == nil { throw ValidationError("--patience and --keep-best need --validation or --validation-split") }
        var dataset: FeatureDataset? = nil
        if case .labelled(let d, _, _) = input { dataset = d }
        let initial = try initialModel(features: input.featureCount, image: input.imageShape)
        let config = try initial?.1.encoder ?? encoderConfiguration(features: input.featureCount, image: input.imageShape)
        guard let comparison = Distance(rawValue: distance), comparison == .cosine || comparison == .euclidean else {
            throw ValidationError("--distance must be cosine or euclidean, got \(distance)")
        }
        let outputURL = URL(fileURLWithPath: output)
        var generator = SeededGenerator(seed: seed &+ 1)
        let head = loss == "bce" ? LearnedHead(dimension: config.embeddingDimension, generator: &generator) : nil
        let model = SiameseNetwork(encoder: config.makeEncoder(seed: seed), distance: comparison, head: head)
        applyInitialWeights(initial, to: model)
        let training = TrainingConfiguration(
            epochs: epochs, batchSize: batchSize, learningRate: lr, optimizer: try parseEnum(optimizer, as: TrainingConfiguration.OptimizerKind.self, "--optimizer"),
            weightDecay: weightDecay, warmupSteps: warmup, decay: try parseEnum(schedule, as: LearningRateSchedule.Decay.self, "--schedule"),
            gradientClipNorm: clip, seed: seed, checkpointEverySteps: checkpointEvery,
            // --keep-best is early stopping that never stops: the best epoch's weights are kept.
            earlyStoppingPatience: patience ?? (keepBest ? Int.max : nil))
        let checkpoints = outputURL.appendingPathComponent("checkpoints")
        let progress = ProgressBar(label: "training")
        // A resume must start from the same initial weights too.
        let fingerprint = runFingerprint(input, trainingSet: dataset, model: config) + (initial.map { " init \($0.1.weightsSHA256)" } ?? "")

        let summary: TrainingSummary
        switch input {
        case .pairs(let pairs, _):
            summary = try fit(model, try explicitPairTask(pairs, comparison), training, checkpoints, progress, held, fingerprint)
        case .triplets(let triplets, _):
            guard loss == "triplet" else { throw ValidationError("pre-built triplets train with --loss triplet, got \(loss)") }
            let task = try ExplicitTripletTask(data: triplets, loss: TripletMarginLoss(margin: margin ?? 0.3, distance: comparison), batchSize: batchSize)
            summary = try fit(model, task, training, checkpoints, progress, held, fingerprint)
        case .labelled(let labelled, _, _):
            summary = try fitLabelled(model, labelled, comparison, training, checkpoints, progress, held, fingerprint)
        }
        progress.finish()
        try ModelFolder(outputURL).save(model, featureColumns: input.columns, classNames: dataset?.classNames, training: training)
        // Calibrated on the held-out pairs, so that `verify` works at once (a failure to calibrate,
        // such as held-out pairs of one class only, leaves the model written and says why).
        var calibrated: (record: CalibrationRecord, pairs: Int)? = nil
        if let held, let rule {
            do {
                calibrated = try held.calibrate(model, rule: rule, modelFolder: outputURL)
            } catch {
                progress.log("warning: \(output) is not calibrated: \(error); run `siamese calibrate --model \(output) --pairs FILE`", always: true)
            }
        }

        if json || format != .text {
            var object: [String: Any] = ["steps": summary.steps, "steps_this_run": summary.stepsThisRun, "seconds": summary.seconds,
                                         "steps_per_s": summary.stepsPerSecond, "step_seconds": summary.stepSeconds, "epoch_losses": summary.epochLosses, "output": output]
            if !summary.validations.isEmpty { object["validation"] = summary.validations.map(\.metrics) }
            if let best = summary.bestEpoch { object["best_epoch"] = best + 1 }
            if let calibrated {
                object["calibration"] = ["threshold": calibrated.record.threshold, "rule": calibrated.record.rule.description,
                                         "far": calibrated.record.far, "frr": calibrated.record.frr, "pairs": calibrated.pairs]
            }
            object["stopped_early"] = summary.stoppedEarly
            let pretty = format == .json && !json
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]),
                         as: UTF8.self))
        } else {
            if let from = summary.resumedFrom { print("resumed from \(from.path)") }
            print(String(format: "trained %d steps (%d this run) in %.2f s: %.1f steps/s; final epoch loss %.5f",
                         summary.steps, summary.stepsThisRun, summary.seconds, summary.stepsPerSecond, summary.epochLosses.last ?? .nan))
            print("steps/s: \(String(format: "%.1f", summary.stepsPerSecond))")
            print("model written to \(output)")
            if let calibrated {
                print(CalibrationRuleOption.summary(calibrated.record, pairs: calibrated.pairs, direction: HeldOut.direction(of: model), modelFolder: outputURL))
            }
        }
    }

    func fit<T: TrainingTask>(_ model: SiameseNetwork, _ task: T, _ config: TrainingConfiguration, _ checkpoints: URL,
                              _ progress: ProgressBar, _ held: HeldOut?, _ fingerprint: String) throws -> TrainingSummary where T.Model == SiameseNetwork {
        try fit(model, task, config, checkpoints, progress, held, fingerprint, network: { $0 })
    }

    /// Trains any model that holds the Siamese network (`network` finds it, for validation).
    func fit<T: TrainingTask>(_ model: T.Model, _ task: T, _ config: TrainingConfiguration, _ checkpoints: URL,
                              _ progress: ProgressBar, _ held: HeldOut?, _ fingerprint: String,
                              network: @escaping (T.Model) -> SiameseNetwork) throws -> TrainingSummary {
        let trainer = try Trainer(model: model, task: task, configuration: config, checkpointDirectory: checkpoints)
        trainer.dataFingerprint = fingerprint
        trainer.onProgress = { progress.update($0) }
        if let held { trainer.validation = { try held.validate(network($0)) } }
        let metricsLog = try logFile.map { try MetricsLog(path: $0) }
        let started = Date()
        trainer.onEpochEnd = { report in
            if let metricsLog {
                var row: [(String, Double)] = [("epoch", Double(report.epoch + 1)), ("loss", report.meanLoss), ("seconds", Date().timeIntervalSince(started))]
                if let v = report.validation { row += v.metrics.sorted { $0.key < $1.key }.map { ("val_\($0.key)", $0.value) } }
                do { try metricsLog.append(row) } catch { progress.log("warning: --log: \(error)", always: true) }
            }
            var line = String(format: "epoch %d/%d  loss %.5f", report.epoch + 1, report.epochs, report.meanLoss)
            if let v = report.validation {
                line += String(format: "  val AUC %.4f  EER %.4f  recall@1 %.4f%@", v.metrics["auc"] ?? .nan, v.metrics["eer"] ?? .nan,
                               v.metrics["recall_at_1"] ?? .nan, report.isBest ? "  (best)" : "")
            }
            progress.log(line)
            for w in report.warnings { progress.log("warning: epoch \(report.epoch + 1): \(w)", always: true) }
        }
        let summary = try trainer.fit(resume: !noResume)
        if summary.stoppedEarly, let best = summary.bestEpoch {
            progress.log("early stopping: kept the weights of epoch \(best + 1)", always: true)
        }
        return summary
    }
}

func parseEnum<T: RawRepresentable>(_ text: String, as: T.Type, _ flag: String) throws -> T where T.RawValue == String {
    guard let value = T(rawValue: text) else { throw ValidationError("\(flag): unknown value \(text)") }
    return value
}

func parseRange(_ text: String) throws -> Range<Int> {
    let parts = text.split(separator: ":").compactMap { Int($0) }
    guard parts.count == 2, parts[0] >= 0, parts[1] > parts[0] else { throw ValidationError("rank range must look like 0:50, got \(text)") }
    return parts[0]..<parts[1]
}
