import ArgumentParser
import FileSupport
import Foundation
import Siamese
import TextEncoders

/// `siamese pretrain --method simcse`: unsupervised SimCSE (Gao et al., 2021) on a
/// sentence-transformers model from a file of unlabelled sentences — the recipe of
/// sentence-transformers' SimCSE example: each sentence paired with itself, multiple-negatives
/// ranking over the batch, dropout as the only augmentation, `finetune`'s optimiser and schedule.
extension PretrainCommand {
    func runSimCSE() throws {
        guard augment == "text" else { throw ValidationError("--method simcse trains on text: give --augment text (got \(augment))") }
        guard let model else { throw ValidationError("--method simcse starts from a sentence-transformers model: give --model DIR|NAME") }
        if optimizer != nil { throw ValidationError("--optimizer does not apply to simcse (AdamW, as sentence-transformers)") }
        let temperature = self.temperature ?? 0.05
        guard temperature > 0, temperature.isFinite else { throw ValidationError("--temperature must be positive") }
        guard epochs >= 1, batchSize >= 2, warmup >= 0 else { throw ValidationError("--epochs must be at least 1, --batch-size at least 2, --warmup at least 0") }
        let rate = lr ?? 3e-5
        guard rate > 0, rate.isFinite else { throw ValidationError("--lr must be positive") }

        let modelURL = try ModelLocator.resolve(model)
        let encoder = try SentenceTransformer(folder: modelURL)
        let sentences = try readTextLines(URL(fileURLWithPath: data))
        let dataset: TextPairDataset
        do { dataset = try TextPairDataset(simCSE: sentences) } catch { throw InputError(file: data, message: error.message) }
        let loss = MultipleNegativesRankingLoss(scale: 1 / temperature)
        let task = try TextPairTrainingTask(data: dataset, loss: .multipleNegativesRanking(loss), batchSize: batchSize)
        let stepsPerEpoch = try task.batches(epoch: 0, seed: seed, model: encoder).count
        let steps = stepsPerEpoch * epochs
        var configuration = SentenceTransformersRecipe.configuration(
            epochs: epochs, stepsPerEpoch: stepsPerEpoch, batchSize: batchSize, learningRate: rate,
            warmupRatio: warmup > 0 ? min(1, Double(warmup) / Double(max(1, steps))) : 0.1, seed: seed)
        configuration.checkpointEverySteps = checkpointEvery
        let outputURL = URL(fileURLWithPath: output)
        let trainer = try Trainer(model: encoder, task: task, configuration: configuration,
                                  checkpointDirectory: SentenceTransformersRecipe.checkpoints(for: outputURL))
        // A resume continues only the same sentences, base model and settings.
        let setup = "simcse \(try SHA256.hex(ofFile: URL(fileURLWithPath: data))) \(try ModelFingerprint.of(modelURL) ?? "-") t=\(temperature) lr=\(rate) warmup=\(configuration.warmupSteps)"
        trainer.dataFingerprint = SHA256.hash(Array(setup.utf8)).hexString
        let progress = ProgressBar(label: "pretraining")
        trainer.onProgress = { progress.update($0) }
        trainer.onEpochEnd = { report in
            progress.log(String(format: "epoch %d/%d  loss %.5f", report.epoch + 1, report.epochs, report.meanLoss))
        }
        let summary = try trainer.fit(resume: !noResume)
        progress.finish()
        encoder.isTraining = false
        try encoder.save(to: outputURL)
        report(summary, method: "simcse", extra: [("sentences", .int(dataset.count))], detail: " on \(dataset.count) sentences")
    }
}
