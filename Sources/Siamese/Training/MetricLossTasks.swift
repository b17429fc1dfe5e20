import Tensors

/// Labelled batches with m items per class and a loss over the pairs inside each batch:
/// multi-similarity (with or without its miner), circle or SupCon (pytorch-metric-learning's
/// usual pairing with an m-per-class sampler).
public struct PairMetricTask: TrainingTask {
    /// The in-batch pair loss.
    public enum Loss: Sendable {
        /// ``MultiSimilarityLoss``, with its miner when it has one.
        case multiSimilarity(MultiSimilarityLoss)
        /// ``CircleLoss``.
        case circle(CircleLoss)
        /// ``SupConLoss``.
        case supCon(SupConLoss)
    }

    /// The labelled items.
    public let data: FeatureDataset
    /// Draws m items of each of batchSize / m classes per batch.
    public let sampler: MPerClassSampler
    /// The pair loss applied to each batch.
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

    /// Number of training items.
    public var itemCount: Int { data.count }

    /// The epoch's m-per-class batches (item indices).
    public func batches(epoch: Int, seed: UInt64, model: SiameseNetwork) throws -> [[Int]] {
        sampler.batches(epoch: epoch, seed: seed)
    }

    /// The first items embedded, for collapse detection.
    public func probeEmbeddings(_ model: SiameseNetwork) -> Tensor? { probe(model, data) }

    /// The loss of one batch; `active` counts the pairs multi-similarity used.
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
