import NN
import Tensors

/// A Siamese network trained together with learnable class vectors (ArcFace, CosFace,
/// ProxyAnchor): what the ``Trainer`` optimises and checkpoints (`network.…` and
/// `class_weights.weight`). The model that is saved and used afterwards is ``network`` alone: the
/// class vectors only serve the loss.
public final class NetworkWithClassWeights: Module {
    /// The twin encoder: what is saved and used after training.
    public let network: SiameseNetwork
    /// One learnable vector per class, used by the loss only.
    public let classWeights: ClassWeights

    /// - Parameters:
    ///   - network: the twin encoder being trained.
    ///   - classWeights: one learnable vector per class, of the network's embedding size.
    public init(network: SiameseNetwork, classWeights: ClassWeights) {
        self.network = network
        self.classWeights = classWeights
    }

    /// Training mode of the network (the class vectors have none of their own).
    public var isTraining: Bool {
        get { network.isTraining }
        set { network.isTraining = newValue; classWeights.isTraining = newValue }
    }

    /// `network.…` then `class_weights.weight`: both are optimised and checkpointed.
    public var namedParameters: [(name: String, parameter: Parameter)] {
        scoped("network", network.namedParameters) + scoped("class_weights", classWeights.namedParameters)
    }

    /// The network's buffers (batch-norm statistics), under `network.`.
    public var namedBuffers: [(name: String, tensor: Tensor)] { scoped("network", network.namedBuffers) }

    /// Sets a `network.…` buffer by name.
    public func setBuffer(_ name: String, _ value: Tensor) -> Bool {
        name.hasPrefix("network.") && network.setBuffer(String(name.dropFirst("network.".count)), value)
    }
}

/// Labelled items in shuffled batches with a loss against learnable class vectors: ArcFace,
/// CosFace or ProxyAnchor. Labels must be class indices below the number of class vectors.
public struct ClassWeightTask: TrainingTask {
    /// The network together with its class vectors.
    public typealias Model = NetworkWithClassWeights

    /// The class-vector loss.
    public enum Loss: Sendable {
        /// ``ArcFaceLoss`` against the class vectors.
        case arcFace(ArcFaceLoss)
        /// ``CosFaceLoss`` against the class vectors.
        case cosFace(CosFaceLoss)
        /// ``ProxyAnchorLoss`` with the class vectors as proxies.
        case proxyAnchor(ProxyAnchorLoss)
    }

    /// The labelled items.
    public let data: FeatureDataset
    /// The class-vector loss.
    public let lossKind: Loss
    /// Items per batch.
    public let batchSize: Int

    /// - Parameters:
    ///   - data: labelled items.
    ///   - loss: the class-vector loss.
    ///   - batchSize: items per batch.
    public init(data: FeatureDataset, loss: Loss, batchSize: Int) throws {
        guard batchSize > 0 else { throw TrainingError("the batch size must be positive, got \(batchSize)") }
        guard data.count > 0 else { throw TrainingError("no training items") }
        self.data = data
        lossKind = loss
        self.batchSize = batchSize
    }

    /// Classes the data need: one vector per label index.
    public static func classCount(_ data: FeatureDataset) -> Int {
        max(data.classNames.count, (data.labels.max() ?? -1) + 1)
    }

    /// Number of training items.
    public var itemCount: Int { data.count }

    /// The epoch's items, shuffled (seeded) and cut into batches; fails when the model has fewer
    /// class vectors than the data have classes.
    public func batches(epoch: Int, seed: UInt64, model: NetworkWithClassWeights) throws -> [[Int]] {
        guard model.classWeights.classes >= Self.classCount(data) else {
            throw TrainingError("\(Self.classCount(data)) classes but \(model.classWeights.classes) class vectors")
        }
        var g = SeededGenerator.forEpoch(epoch, seed: seed, stream: 5)
        var order = Array(0..<data.count)
        g.shuffle(&order)
        return chunked(order, size: batchSize)
    }

    /// The first items embedded by the network, for collapse detection.
    public func probeEmbeddings(_ model: NetworkWithClassWeights) -> Tensor? { probe(model.network, data) }

    /// The loss of one batch against the current class vectors.
    public func loss(_ model: NetworkWithClassWeights, _ batch: [Int]) -> BatchLoss {
        let embeddings = model.network.embed(data.rows(batch))
        let labels = batch.map { data.labels[$0] }
        let weights = model.classWeights.weight.value
        switch lossKind {
        case .arcFace(let loss): return BatchLoss(loss(embeddings, labels: labels, weights: weights))
        case .cosFace(let loss): return BatchLoss(loss(embeddings, labels: labels, weights: weights))
        case .proxyAnchor(let loss): return BatchLoss(loss(embeddings, labels: labels, proxies: weights))
        }
    }
}
