import NN
import Tensors

/// What a ``Trainer`` trains on: how an epoch splits into batches, and the loss of a batch.
///
/// Batches are small `Codable` plans (item indices), not tensors, so that a checkpoint can store the
/// current epoch's plan and a resumed run replays exactly the remaining batches — even when the
/// plan came from mining with the model as it was at the start of the epoch.
public protocol TrainingTask {
    associatedtype Batch: Codable
    /// What is trained: a ``SiameseNetwork``, a text bi-encoder, any module with named parameters.
    associatedtype Model: Module = SiameseNetwork
    /// Number of training items (for progress and logs).
    var itemCount: Int { get }
    /// The batches of one epoch. May embed the data with `model` (offline hard-negative mining).
    func batches(epoch: Int, seed: UInt64, model: Model) throws -> [Batch]
    /// The loss of one batch: a scalar connected to the model's parameters.
    func loss(_ model: Model, _ batch: Batch) -> BatchLoss
    /// Embeddings of a fixed sample of training items, for collapse detection (nil: not checked).
    func probeEmbeddings(_ model: Model) -> Tensor?
    /// The loss value a collapsed model (all embeddings equal) gets, e.g. the margin of a triplet
    /// loss; an epoch whose mean loss sits there triggers a warning (nil: not checked).
    var collapsedLoss: Double? { get }
}

extension TrainingTask {
    public func probeEmbeddings(_ model: Model) -> Tensor? { nil }
    public var collapsedLoss: Double? { nil }
}

/// A batch's loss and what the loss saw.
public struct BatchLoss {
    /// Scalar loss tensor to differentiate.
    public var value: Tensor
    /// Pairs/triplets that contributed (for mining losses; nil when every example counts).
    public var active: Int?
    /// Computes the parameters' gradients in place of `value.backward()`, for a loss whose graph is
    /// not kept whole (``GradientCache`` re-runs the model in mini-batches); nil: `value.backward()`.
    public var backward: (() throws(AutodiffError) -> Void)?
    /// - Parameters:
    ///   - value: the scalar loss.
    ///   - active: pairs/triplets that contributed, for mining losses.
    ///   - backward: a custom gradient computation (see ``backward``); nil differentiates `value`.
    public init(_ value: Tensor, active: Int? = nil, backward: (() throws(AutodiffError) -> Void)? = nil) {
        self.value = value
        self.active = active
        self.backward = backward
    }
}
