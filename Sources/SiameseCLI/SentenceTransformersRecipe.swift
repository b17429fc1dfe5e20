import Foundation
import Siamese

/// sentence-transformers' training defaults, shared by `finetune` and `pretrain --method simcse`:
/// AdamW with weight decay 0.01, linear warm-up then linear decay, gradient norm clipped to 1.
enum SentenceTransformersRecipe {
    /// The configuration for `epochs` epochs of `stepsPerEpoch` steps.
    /// - Parameters:
    ///   - epochs: epochs to train.
    ///   - stepsPerEpoch: the task's batches per epoch (the warm-up is a fraction of all steps).
    ///   - batchSize: examples per step.
    ///   - learningRate: the peak learning rate.
    ///   - warmupRatio: the fraction of all steps spent warming up.
    ///   - seed: seed for batching and dropout.
    ///   - earlyStoppingPatience: epochs without a better validation score before stopping.
    static func configuration(epochs: Int, stepsPerEpoch: Int, batchSize: Int, learningRate: Float, warmupRatio: Double,
                              seed: UInt64, earlyStoppingPatience: Int? = nil) -> TrainingConfiguration {
        TrainingConfiguration(
            epochs: epochs, batchSize: batchSize, learningRate: learningRate, optimizer: .adamw, weightDecay: 0.01,
            warmupSteps: Int((Double(stepsPerEpoch * epochs) * warmupRatio).rounded()), decay: .linear,
            gradientClipNorm: 1, seed: seed, earlyStoppingPatience: earlyStoppingPatience)
    }

    /// Where the checkpoints of a model saved to `output` go: beside it (`OUTPUT.checkpoints`),
    /// because saving the model replaces the folder `output` whole.
    static func checkpoints(for output: URL) -> URL {
        output.deletingLastPathComponent().appendingPathComponent(output.lastPathComponent + ".checkpoints")
    }
}
