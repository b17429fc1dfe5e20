import Tensors

/// Pairs with same/different targets: contrastive, online contrastive, or binary cross-entropy on
/// the learned head.
public struct PairTrainingTask: TrainingTask {
    public enum Loss: Sendable {
        case contrastive(ContrastiveLoss)
        case onlineContrastive(OnlineContrastiveLoss)
        /// Binary cross-entropy on the model's learned head (the model must have one).
        case binaryCrossEntropy
    }

    public let data: FeatureDataset
    public let sampler: PairSampler
    public let lossKind: Loss
    public let batchSize: Int

    public init(data: FeatureDataset, loss: Loss, batchSize: Int, positiveFraction: Double = 0.5, balanceClasses: Bool = false) throws {
        self.data = data
        sampler = try PairSampler(labels: data.labels, positiveFraction: positiveFraction, balanceClasses: balanceClasses)
        lossKind = loss
        self.batchSize = batchSize
    }

    public var itemCount: Int { data.count }

    public func batches(epoch: Int, seed: UInt64, model: SiameseNetwork) throws -> [[IndexPair]] {
        if case .binaryCrossEntropy = lossKind, model.head == nil {
            throw TrainingError("binary cross-entropy needs a model with a learned head")
        }
        return chunked(sampler.pairs(epoch: epoch, seed: seed), size: batchSize)
    }

    public func probeEmbeddings(_ model: SiameseNetwork) -> Tensor? { probe(model, data) }

    public func loss(_ model: SiameseNetwork, _ batch: [IndexPair]) -> BatchLoss {
        let e = model.embedBranches([data.rows(batch.map(\.a)), data.rows(batch.map(\.b))])
        let labels = batch.map(\.label)
        switch lossKind {
        case .contrastive(let loss):
            return BatchLoss(loss(e[0], e[1], labels: labels))
        case .onlineContrastive(let loss):
            let r = loss(e[0], e[1], labels: labels)
            return BatchLoss(r.loss, active: r.hardPositives + r.hardNegatives)
        case .binaryCrossEntropy:
            return BatchLoss(BinaryCrossEntropy()(logits: model.head!(e[0], e[1]), labels: labels))
        }
    }
}

/// Triplets (anchor, positive, negative) with the triplet margin loss: drawn at random, or mined
/// offline with the current model every few epochs.
public struct TripletTrainingTask: TrainingTask {
    public let data: FeatureDataset
    public let sampler: TripletSampler
    public let loss: TripletMarginLoss
    public let batchSize: Int
    /// Offline hard-negative mining; nil draws random negatives.
    public let miner: HardNegativeMiner?

    public init(data: FeatureDataset, loss: TripletMarginLoss, batchSize: Int, miner: HardNegativeMiner? = nil) throws {
        self.data = data
        sampler = try TripletSampler(labels: data.labels)
        self.loss = loss
        self.batchSize = batchSize
        self.miner = miner
    }

    public var itemCount: Int { data.count }

    public func batches(epoch: Int, seed: UInt64, model: SiameseNetwork) throws -> [[IndexTriplet]] {
        var triplets = sampler.triplets(epoch: epoch, seed: seed)
        if let miner {
            // Mine on the epochs where a refresh is due, and reuse the same mining epoch in between so
            // that a resumed run sees the same triplets.
            let miningEpoch = epoch - epoch % miner.refreshEvery
            let mined = miner.mine(embeddings: model.embedAll(data.features), labels: data.labels, epoch: miningEpoch, seed: seed)
            // Anchors without a qualifying hard negative keep a random one.
            if !mined.isEmpty { triplets = mined }
        }
        return chunked(triplets, size: batchSize)
    }

    public func probeEmbeddings(_ model: SiameseNetwork) -> Tensor? { probe(model, data) }
    public var collapsedLoss: Double? { Double(loss.margin) }

    public func loss(_ model: SiameseNetwork, _ batch: [IndexTriplet]) -> BatchLoss {
        let e = model.embedBranches([data.rows(batch.map(\.anchor)), data.rows(batch.map(\.positive)), data.rows(batch.map(\.negative))])
        return BatchLoss(loss(anchor: e[0], positive: e[1], negative: e[2]))
    }
}

/// Labelled batches with m items per class, and a loss that mines inside each batch: batch-all,
/// batch-hard or semi-hard triplets.
/// The first items of a dataset embedded in evaluation mode, for collapse detection.
func probe(_ model: SiameseNetwork, _ data: FeatureDataset, count: Int = 256) -> Tensor {
    model.embedAll(data.features.slice(axis: 0, 0..<min(count, data.count)))
}

public struct BatchMiningTask: TrainingTask {
    public let data: FeatureDataset
    public let sampler: MPerClassSampler
    public let loss: BatchTripletLoss

    public init(data: FeatureDataset, loss: BatchTripletLoss, batchSize: Int, itemsPerClass m: Int = 4) throws {
        self.data = data
        sampler = try MPerClassSampler(labels: data.labels, m: m, batchSize: batchSize)
        self.loss = loss
    }

    public var itemCount: Int { data.count }

    public func batches(epoch: Int, seed: UInt64, model: SiameseNetwork) throws -> [[Int]] {
        sampler.batches(epoch: epoch, seed: seed)
    }

    public func probeEmbeddings(_ model: SiameseNetwork) -> Tensor? { probe(model, data) }
    public var collapsedLoss: Double? { Double(loss.margin) }

    public func loss(_ model: SiameseNetwork, _ batch: [Int]) -> BatchLoss {
        let r = loss(model.embed(data.rows(batch)), labels: batch.map { data.labels[$0] })
        return BatchLoss(r.loss, active: r.activeTriplets)
    }
}

/// In-batch negatives (multiple-negatives ranking / InfoNCE) from labelled items: each batch holds
/// one (anchor, positive) pair per class, so every other row is a true negative.
public struct InBatchNegativesTask: TrainingTask {
    public let data: FeatureDataset
    public let sampler: MPerClassSampler
    public let loss: MultipleNegativesRankingLoss

    public init(data: FeatureDataset, loss: MultipleNegativesRankingLoss, batchSize: Int) throws {
        self.data = data
        // Two items per class; the batch size counts items, so batchSize / 2 classes per batch.
        sampler = try MPerClassSampler(labels: data.labels, m: 2, batchSize: batchSize - batchSize % 2)
        self.loss = loss
    }

    public var itemCount: Int { data.count }

    public func batches(epoch: Int, seed: UInt64, model: SiameseNetwork) throws -> [[Int]] {
        sampler.batches(epoch: epoch, seed: seed)
    }

    public func probeEmbeddings(_ model: SiameseNetwork) -> Tensor? { probe(model, data) }

    public func loss(_ model: SiameseNetwork, _ batch: [Int]) -> BatchLoss {
        let anchors = stride(from: 0, to: batch.count, by: 2).map { batch[$0] }
        let positives = stride(from: 1, to: batch.count, by: 2).map { batch[$0] }
        let e = model.embedBranches([data.rows(anchors), data.rows(positives)])
        return BatchLoss(loss(anchors: e[0], positives: e[1]))
    }
}
