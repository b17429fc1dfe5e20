import ArgumentParser
import Evaluation
import FileSupport
import Foundation
import NN
import Siamese
import Tensors

/// `siamese pretrain`: a self-supervised encoder from unlabelled images or sequences (SimCLR, BYOL,
/// SimSiam, Barlow Twins, VICReg, DINO) or text (unsupervised SimCSE on a sentence-transformers
/// model), saved as a model folder that `embed`, `train`, `evaluate-retrieval` and `serve` load.
struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Pre-train an encoder without labels: two augmented views of an item are its positive pair.",
        discussion: HelpText.reflow("""
        Inputs (--data): a text file (one sentence per line) for simcse; otherwise an IDX image file (MNIST / Fashion-MNIST layout, raw or .gz), a folder of
        images laid out as for `train` (labels ignored), or a .npy matrix of rows (--image HxW and
        --channels for images, --channels for sequences of channels × length values).
        Methods: simclr (NT-Xent, --temperature), byol (EMA target + predictor), simsiam
        (stop-gradient + predictor), barlow (--lambda), vicreg (λ 25, μ 25, ν 1), dino (EMA teacher,
        centring, two global views and --local-crops local crops). Views are seeded from --seed and
        the step, so a run is reproducible and a resumed run (the same command again) continues
        exactly; --no-resume starts over. The encoder is saved to OUTPUT (a CNN for images, a 1-D
        convolutional sequence encoder for sequences); checkpoints, with the heads and the teacher,
        go to OUTPUT/checkpoints.

        simcse (unsupervised SimCSE, --augment text) starts from the sentence-transformers model
        --model: each sentence is encoded twice in training mode, the two dropout masks make the
        positive pair, the batch's other sentences are the negatives (multiple-negatives ranking
        at --temperature, default 0.05); AdamW, warm-up over --warmup steps (default 10 % of the
        steps), linear decay, --lr default 3e-5. The result is a sentence-transformers folder;
        checkpoints go to OUTPUT.checkpoints.

        Examples:
          siamese pretrain --method simclr --data train-images-idx3-ubyte.gz --augment image --epochs 10 --output ssl-model
          siamese pretrain --method dino --data signatures.npy --augment sequence --channels 3 --epochs 20 --output sig-ssl
          siamese pretrain --method simcse --model all-MiniLM-L6-v2 --data sentences.txt --augment text --batch-size 64 --epochs 1 --output simcse-model
        """)
    )

    @Option(help: "Method: simclr, byol, simsiam, barlow, vicreg, dino, or simcse (text).") var method: SelfSupervisedMethodOption
    @Option(help: ArgumentHelp("Unlabelled data: an IDX image file (raw or .gz), an image folder, a .npy matrix, or (simcse) a text file of sentences.", valueName: "path")) var data: String
    @Option(help: "Augmentations: image, sequence or text (simcse).") var augment = "image"
    @Option(help: ArgumentHelp("simcse: the sentence-transformers model (folder or name) to start from.", valueName: "dir|name")) var model: String?
    @Option(help: ".npy images: size HxW.") var image: String?
    @Option(help: "Channels of .npy images or sequences.") var channels = 1
    @Option(help: "Embedding dimension of the encoder.") var dim = 64
    @Option(help: "Convolution blocks' channels, e.g. 32,64.") var blocks = "32,64"
    @Option(help: "Hidden width of the projection and prediction heads.") var hidden = 512
    @Option(help: "Output width of the projector (DINO: its bottleneck).") var projectionDim = 128
    @Option(help: "DINO: output logits.") var dinoDim = 1024
    @Option(help: "DINO: local crops per item.") var localCrops = 2
    @Option(help: "SimCLR: NT-Xent temperature (default 0.5); simcse: the softmax temperature (default 0.05).") var temperature: Float?
    @Option(help: "Barlow Twins: λ of the off-diagonal term.") var lambda: Float = 5e-3
    @Option(name: .customLong("epochs"), help: "Epochs (default 10; simcse 1).") var epochsOption: Int?
    /// `--epochs`, or the method's default: one pass for SimCSE (its recipe), ten otherwise.
    var epochs: Int { epochsOption ?? (method.viewMethod == nil ? 1 : 10) }
    @Option(help: "Batch size.") var batchSize = 128
    @Option(help: "Learning rate (default: 0.06 with sgd and lars, 0.001 with adam; simcse 3e-5).") var lr: Float?
    @Option(help: "Optimizer: sgd, lars, adam or adamw (default: adam for dino, sgd otherwise, as lightly's examples).") var optimizer: String?
    @Option(help: "Weight decay (LARS: biases and norms excluded).") var weightDecay: Float = 0
    @Option(help: "Warm-up steps.") var warmup = 0
    @Option(help: "Learning-rate decay: constant, linear or cosine.") var schedule = "cosine"
    @Option(help: "Seed for initialisation, batches and views.") var seed: UInt64 = 0
    @Option(help: "Also checkpoint every N steps (always at each epoch's end).") var checkpointEvery: Int?
    @Flag(help: "Start from scratch (removing OUTPUT/checkpoints) even if it has a checkpoint.") var noResume = false
    @OptionGroup var threading: ThreadsOption
    /// `--threads`, or nil for the default.
    var threads: Int? { threading.threads }

    @Option(help: "Model folder to write.") var output: String
    @OptionGroup var formatting: FormatOption

    func run() throws {
        threading.apply()
        guard let viewMethod = method.viewMethod else { return try runSimCSE() }
        guard model == nil else { throw ValidationError("--model applies to --method simcse only (the others train a new encoder)") }
        let (features, augmentation) = try loadData()
        let settings = SelfSupervisedSettings(method: viewMethod, hiddenDimension: hidden, projectionDimension: projectionDim,
                                              dinoOutputDimension: dinoDim, temperature: temperature ?? 0.5, barlowLambda: lambda,
                                              localCrops: localCrops)
        let encoderConfig = try encoderConfiguration(augmentation)
        let model = SelfSupervisedNetwork(encoder: encoderConfig.makeEncoder(seed: seed), settings: settings, seed: seed)
        // lightly's recipes decay neither biases nor batch-norm scales and shifts (any optimiser).
        excludeNormsAndBiasesFromWeightDecay(model.parameters)
        let optimizerKind = try parseEnum(optimizer ?? (viewMethod == .dino ? "adam" : "sgd"), as: TrainingConfiguration.OptimizerKind.self, "--optimizer")
        let rate = lr ?? ([.adam, .adamw].contains(optimizerKind) ? 1e-3 : 0.06)
        let training = TrainingConfiguration(epochs: epochs, batchSize: batchSize, learningRate: rate, optimizer: optimizerKind,
                                             momentum: 0.9, weightDecay: weightDecay, warmupSteps: warmup,
                                             decay: try parseEnum(schedule, as: LearningRateSchedule.Decay.self, "--schedule"),
                                             seed: seed, checkpointEverySteps: checkpointEvery)
        let task = try SelfSupervisedTask(features: features, augmentation: augmentation, batchSize: batchSize, epochs: epochs, seed: seed)
        let outputURL = URL(fileURLWithPath: output)
        let trainer = try Trainer(model: model, task: task, configuration: training,
                                  checkpointDirectory: outputURL.appendingPathComponent("checkpoints"))
        trainer.dataFingerprint = fingerprint(features, settings, augmentation, encoderConfig)
        let progress = ProgressBar(label: "pretraining")
        trainer.onProgress = { progress.update($0) }
        trainer.onEpochEnd = { report in
            progress.log(String(format: "epoch %d/%d  loss %.5f", report.epoch + 1, report.epochs, report.meanLoss))
            for w in report.warnings { progress.log("warning: epoch \(report.epoch + 1): \(w)", always: true) }
        }
        let summary = try trainer.fit(resume: !noResume)
        progress.finish()
        try ModelFolder(outputURL).save(model.network, featureColumns: TrainDataOptions.genericColumns(features.shape[1]), training: training)
        report(summary, method: viewMethod.rawValue)
    }

    /// Prints the run's summary (one JSON object with `--format json`): the method, `extra` fields
    /// (JSON) and `detail` (text, after the method's name), steps, time, steps/s, epoch losses and
    /// where the model went.
    func report(_ summary: TrainingSummary, method: String, extra: [(String, JSONValue)] = [], detail: String = "") {
        formatting.emit(.object([("method", .string(method))] + extra + [
            ("steps", .int(summary.steps)), ("steps_this_run", .int(summary.stepsThisRun)), ("seconds", .number(summary.seconds)),
            ("steps_per_s", .number(summary.stepsPerSecond)), ("epoch_losses", .array(summary.epochLosses.map { .number($0) })),
            ("output", .string(output))])) {
            var lines: [String] = []
            if let from = summary.resumedFrom { lines.append("resumed from \(from.path)") }
            lines.append(String(format: "pretrained %@%@: %d steps (%d this run) in %.2f s: %.2f steps/s; final epoch loss %.5f",
                                method, detail, summary.steps, summary.stepsThisRun, summary.seconds, summary.stepsPerSecond,
                                summary.epochLosses.last ?? .nan))
            lines.append("model written to \(output)")
            return lines.joined(separator: "\n")
        }
    }

    /// The rows and how they become views.
    func loadData() throws -> (Tensor, ViewAugmentation) {
        let url = URL(fileURLWithPath: data)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: data, isDirectory: &isDirectory) else { throw InputError(file: data, message: "no such file or folder") }
        guard augment == "image" || augment == "sequence" else {
            throw ValidationError(augment == "text" ? "--augment text goes with --method simcse" : "--augment must be image, sequence or text, got \(augment)")
        }
        if isDirectory.boolValue || IDX.isImageFile(url) {
            guard augment == "image" else { throw ValidationError("\(data) holds images: use --augment image") }
            let images = try isDirectory.boolValue ? ImageFolder.read(url) : IDX.readUnlabelled(url)
            return (images.dataset.features, .imageRecipe(channels: images.channels, height: images.height, width: images.width))
        }
        guard url.pathExtension.lowercased() == "npy" else {
            throw ValidationError("--data \(data): unknown format (expected an IDX image file, raw or .gz, an image folder or a .npy matrix)")
        }
        let features = try NPYData.readMatrix(url)
        let matrix = (rows: features.shape[0], cols: features.shape[1])
        guard channels >= 1 else { throw ValidationError("--channels must be at least 1") }
        if augment == "sequence" {
            guard matrix.cols % channels == 0 else { throw InputError(file: data, message: "rows of \(matrix.cols) values are not \(channels) channels × a length") }
            return (features, .sequence(channels: channels, length: matrix.cols / channels, SequenceAugmentation()))
        }
        guard let image, let size = parseSize(image) else { throw ValidationError(".npy images need --image HxW") }
        let (h, w) = size
        guard channels * h * w == matrix.cols else {
            throw InputError(file: data, message: "rows of \(matrix.cols) values are not \(channels)×\(h)×\(w) images")
        }
        return (features, .imageRecipe(channels: channels, height: h, width: w))
    }

    /// A CNN for images, a sequence encoder for sequences; unnormalised embeddings, as the heads expect.
    func encoderConfiguration(_ augmentation: ViewAugmentation) throws -> EncoderConfiguration {
        let widths = try BlockChannels.parse(blocks)
        guard dim > 0, hidden > 0, projectionDim > 0, dinoDim > 0, localCrops >= 0 else {
            throw ValidationError("--dim, --hidden, --projection-dim and --dino-dim must be positive, --local-crops ≥ 0")
        }
        switch augmentation {
        case .image(let c, let h, let w, _, _):
            return .cnn(CNNConfiguration(channels: c, height: h, width: w, blockChannels: widths, embeddingDimension: dim, normalize: false))
        case .sequence(let c, let l, _):
            return .sequence(SequenceConfiguration(channels: c, length: l, blockChannels: widths, embeddingDimension: dim, normalize: false))
        }
    }

    func parseSize(_ text: String) -> (Int, Int)? {
        let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { return nil }
        return (parts[0], parts[1])
    }

    /// The data, the method's settings, the views and the encoder: a resume with any other is refused.
    func fingerprint(_ features: Tensor, _ settings: SelfSupervisedSettings, _ augmentation: ViewAugmentation, _ encoder: EncoderConfiguration) -> String {
        var hash = SHA256()
        hash.update(Array("\(features.shape)\n".utf8))
        features.withUnsafeBufferPointer { hash.update(UnsafeRawBufferPointer($0)) }
        let json = JSONEncoder()
        json.outputFormatting = [.sortedKeys]
        for part in [try? json.encode(settings), try? json.encode(augmentation), try? json.encode(encoder)] {
            hash.update(Array(part ?? Data()))
        }
        return hash.finalize().hexString
    }
}

/// `--method`, parsed with the list of methods in its error.
struct SelfSupervisedMethodOption: ExpressibleByArgument {
    /// The method of augmented views (images, sequences); nil for `simcse` (text, dropout as the augmentation).
    let viewMethod: SelfSupervisedMethod?

    /// - Parameter argument: a method's name.
    init?(argument: String) {
        if argument == "simcse" {
            viewMethod = nil
            return
        }
        guard let m = SelfSupervisedMethod(rawValue: argument) else { return nil }
        viewMethod = m
    }

    static var allValueStrings: [String] { SelfSupervisedMethod.allCases.map(\.rawValue) + ["simcse"] }
}
