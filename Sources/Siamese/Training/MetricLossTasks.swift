import Tensors

/// Labelled batches with m items per class and a loss over the pairs inside each batch:
/// multi-similarity (with or without its miner), circle or SupCon (pytorch-metric-learning's
/// usual pairing with an m-per-class sampler).
public struct PairMetricTask: TrainingTask {
    /// The in-batch pair loss.
    public enum Loss: Sendable {
        case multiSimilarity(MultiSimilarityLoss)
        case circle(CircleLoss)
        case supCon(SupConLoss)
    }

    public let data: FeatureDataset
    public let sampler: MPerClassSampler
    public let lossKind: Loss

    /// - Parameters:
    ///   - data: labelled items.
    ///   - loss: the pair loss.
    ///   - batchSize: items per batch.
    ///   - m: items per class in a batch (at least 2, so that every batch has positive pairs).
    public init(data: FeatureDataset, loss: Loss, batchSize: Int, itemsPerClass m: Int = 4) throws {
        self.data = data
        sampler = try MPerClassSampler(labels: data.labels, m: m, batchSize: batchSize)
        lossKind = loss
    }

    public var itemCount: Int { data.count }

    public func batches(epoch: Int, seed: UInt64, model: SiameseNetwork) throws -> [[Int]] {
        sampler.batches(epoch: epoch, seed: seed)
    }

    public func probeEmbeddings(_ model: SiameseNetwork) -> Tensor? { probe(model, data) }

    public func loss(_ model: SiameseNetwork, _ batch: [Int]) -> BatchLoss {
        let embeddings = model.embed(data.rows(batch))
        let labels = batch.map { data.labels[$0] }
        switch lossKind {
        case .multiSimilarity(let loss):
            let r = loss(embeddings, labels: labels)
            return BatchLoss(r.loss, active: r.positivePairs + r.negativePairs)
        case .circle(let loss):
            return BatchLoss(loss(embeddings, labels: labels))
        case .supCon(let loss):
            return BatchLoss(loss(embeddings, labels: labels))
        }
    }
}
