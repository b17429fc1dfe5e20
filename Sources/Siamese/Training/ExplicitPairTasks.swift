import Tensors

/// Trains on pre-built pairs (a ``PairDataset``) rather than pairs sampled from class labels: each
/// epoch visits every given pair once, in a seeded shuffled order, in batches of `batchSize`.
///
/// A batch is the list of pair row numbers, so a checkpoint stores the epoch's plan and a resumed
/// run replays the same batches.
public struct ExplicitPairTask: TrainingTask {
    public enum Loss: Sendable {
        /// Contrastive loss on 0/1 targets.
        case contrastive(ContrastiveLoss)
        /// Contrastive loss on the hard pairs of each batch only; 0/1 targets.
        case onlineContrastive(OnlineContrastiveLoss)
        /// Binary cross-entropy on the model's learned head (the model must have one); 0/1 targets.
        case binaryCrossEntropy
        /// Squared error between the cosine similarity and the target score (in [-1, 1]).
        case cosineSimilarity(CosineSimilarityLoss)
    }

    public let data: PairDataset
    public let lossKind: Loss
    public let batchSize: Int

    /// Checks that the targets suit the loss: 0/1 for the same/different losses, [-1, 1] for the
    /// cosine-similarity regression (a cosine cannot reach anything outside).
    public init(data: PairDataset, loss: Loss, batchSize: Int) throws {
        guard batchSize >= 1 else { throw SamplingError("batch size must be at least 1, got \(batchSize)") }
        guard data.count > 0 else { throw SamplingError("no pairs to train on") }
        switch loss {
        case .cosineSimilarity:
            if let bad = data.labels.firstIndex(where: { $0 < -1 || $0 > 1 }) {
                throw SamplingError("pair \(bad) has score \(data.labels[bad]); the cosine-similarity loss needs scores in [-1, 1]")
            }
        case .contrastive, .onlineContrastive, .binaryCrossEntropy:
            if let bad = data.labels.firstIndex(where: { $0 != 0 && $0 != 1 }) {
                throw SamplingError("pair \(bad) has target \(data.labels[bad]); this loss needs 0 (different) or 1 (same)")
            }
        }
        self.data = data
        lossKind = loss
        self.batchSize = batchSize
    }

    public var itemCount: Int { data.count }

    public func batches(epoch: Int, seed: UInt64, model: SiameseNetwork) throws -> [[Int]] {
        if case .binaryCrossEntropy = lossKind, model.head == nil {
            throw TrainingError("binary cross-entropy needs a model with a learned head")
        }
        return chunked(shuffledRows(data.count, epoch: epoch, seed: seed), size: batchSize)
    }

    /// The first items' embeddings, for the trainer's collapse warning.
    public func probeEmbeddings(_ model: SiameseNetwork) -> Tensor? {
        model.embedAll(data.left.slice(axis: 0, 0..<min(probeCount, data.count)))
    }

    /// The contrastive loss of a collapsed model: every distance 0, so each "different" pair costs
    /// margin² (halved by default) and each "same" pair nothing. Nil for the other losses, whose
    /// collapsed value depends on the model (BCE) or on the batch (online contrastive).
    public var collapsedLoss: Double? {
        guard case .contrastive(let loss) = lossKind, loss.reduction == .mean else { return nil }
        let different = Double(data.labels.filter { $0 == 0 }.count) / Double(data.count)
        return different * Double(loss.margin * loss.margin) * (loss.halved ? 0.5 : 1)
    }

    public func loss(_ model: SiameseNetwork, _ batch: [Int]) -> BatchLoss {
        let e = model.embedBranches([data.left.indexSelect(batch), data.right.indexSelect(batch)])
        let labels = batch.map { data.labels[$0] }
        switch lossKind {
        case .contrastive(let loss):
            return BatchLoss(loss(e[0], e[1], labels: labels))
        case .onlineContrastive(let loss):
            let r = loss(e[0], e[1], labels: labels)
            return BatchLoss(r.loss, active: r.hardPositives + r.hardNegatives)
        case .binaryCrossEntropy:
            return BatchLoss(BinaryCrossEntropy()(logits: model.head!(e[0], e[1]), labels: labels))
        case .cosineSimilarity(let loss):
            return BatchLoss(loss(e[0], e[1], scores: labels))
        }
    }
}

/// Trains on pre-built (anchor, positive, negative) triplets (a ``TripletDataset``) with the
/// triplet margin loss: every triplet once per epoch, in a seeded shuffled order.
public struct ExplicitTripletTask: TrainingTask {
    public let data: TripletDataset
    public let loss: TripletMarginLoss
    public let batchSize: Int

    public init(data: TripletDataset, loss: TripletMarginLoss, batchSize: Int) throws {
        guard batchSize >= 1 else { throw SamplingError("batch size must be at least 1, got \(batchSize)") }
        guard data.count > 0 else { throw SamplingError("no triplets to train on") }
        self.data = data
        self.loss = loss
        self.batchSize = batchSize
    }

    public var itemCount: Int { data.count }

    public func batches(epoch: Int, seed: UInt64, model: SiameseNetwork) throws -> [[Int]] {
        chunked(shuffledRows(data.count, epoch: epoch, seed: seed), size: batchSize)
    }

    /// The first anchors' embeddings, for the trainer's collapse warning.
    public func probeEmbeddings(_ model: SiameseNetwork) -> Tensor? {
        model.embedAll(data.anchor.slice(axis: 0, 0..<min(probeCount, data.count)))
    }

    /// A collapsed model makes both distances equal, so every triplet costs the margin.
    public var collapsedLoss: Double? { Double(loss.margin) }

    public func loss(_ model: SiameseNetwork, _ batch: [Int]) -> BatchLoss {
        let e = model.embedBranches([data.anchor.indexSelect(batch), data.positive.indexSelect(batch), data.negative.indexSelect(batch)])
        return BatchLoss(loss(anchor: e[0], positive: e[1], negative: e[2]))
    }
}

/// How many items the collapse check embeds.
private let probeCount = 256

/// Row numbers 0..<n in this epoch's order, from a random stream of its own (the samplers use 1–5)
/// so that it does not repeat a sampler's sequence.
private func shuffledRows(_ n: Int, epoch: Int, seed: UInt64) -> [Int] {
    var g = SeededGenerator.forEpoch(epoch, seed: seed, stream: 6)
    var rows = Array(0..<n)
    g.shuffle(&rows)
    return rows
}
