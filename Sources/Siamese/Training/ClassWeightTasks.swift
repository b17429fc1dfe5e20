import NN
import Tensors

/// A Siamese network trained together with learnable class vectors (ArcFace, CosFace,
/// ProxyAnchor): what the ``Trainer`` optimises and checkpoints (`network.…` and
/// `class_weights.weight`). The model that is saved and used afterwards is ``network`` alone: the
/// class vectors only serve the loss.
public final class NetworkWithClassWeights: Module {
    public let network: SiameseNetwork
    public let classWeights: ClassWeights

    /// - Parameters:
    ///   - network: the twin encoder being trained.
    ///   - classWeights: one learnable vector per class, of the network's embedding size.
    public init(network: SiameseNetwork, classWeights: ClassWeights) {
        self.network = network
        self.classWeights = classWeights
    }

    public var isTraining: Bool {
        get { network.isTraining }
        set { network.isTraining = newValue; classWeights.isTraining = newValue }
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        scoped("network", network.namedParameters) + scoped("class_weights", classWeights.namedParameters)
    }

    public var namedBuffers: [(name: String, tensor: Tensor)] { scoped("network", network.namedBuffers) }

    public func setBuffer(_ name: String, _ value: Tensor) -> Bool {
        name.hasPrefix("network.") && network.setBuffer(String(name.dropFirst("network.".count)), value)
    }
}

/// Labelled items in shuffled batches with a loss against learnable class vectors: ArcFace,
/// CosFace or ProxyAnchor. Labels must be class indices below the number of class vectors.
public struct ClassWeightTask: TrainingTask {
    public typealias Model = NetworkWithClassWeights

    /// The class-vector loss.
    public enum Loss: Sendable {
        case arcFace(ArcFaceLoss)
        case cosFace(CosFaceLoss)
        case proxyAnchor(ProxyAnchorLoss)
    }

    public let data: FeatureDataset
    public let lossKind: Loss
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

    public var itemCount: Int { data.count }

    public func batches(epoch: Int, seed: UInt64, model: NetworkWithClassWeights) throws -> [[Int]] {
        guard model.classWeights.classes >= Self.classCount(data) else {
            throw TrainingError("\(Self.classCount(data)) classes but \(model.classWeights.classes) class vectors")
        }
        var g = SeededGenerator.forEpoch(epoch, seed: seed, stream: 5)
        var order = Array(0..<data.count)
        g.shuffle(&order)
        return chunked(order, size: batchSize)
    }

    public func probeEmbeddings(_ model: NetworkWithClassWeights) -> Tensor? { probe(model.network, data) }

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
