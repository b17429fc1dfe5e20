import Foundation
import NN
import Siamese
import Tensors

/// Fine-tuning a ``SentenceTransformer`` on text pairs with the ``Trainer``.
///
/// - multiple-negatives ranking, its cached (GradCache) form and GISTEmbed (triplets; batches from
///   ``NoDuplicatesBatchSampler`` so that no text appears twice in a batch, where it would be a
///   false negative);
/// - CoSENT, AnglE and cosine-similarity regression (scored pairs);
/// - contrastive (labelled pairs);
/// - Matryoshka around any of them (the inner loss on prefixes of the embeddings).
///
/// Each batch runs the model once over all its texts (anchors, positives and negatives together),
/// in training mode (dropout on, as sentence-transformers fine-tunes) — in mini-batches for the
/// cached loss. Each batch's plan carries the seed of its dropout masks, so a run resumed from a
/// checkpoint draws the masks the uninterrupted run drew (unsupervised SimCSE lives on them). GISTEmbed's guide embeds the same texts with the inference engine (no graph, no
/// dropout: it is frozen).
public struct TextPairTrainingTask: TrainingTask {
    /// The model trained: a sentence-transformers bi-encoder.
    public typealias Model = SentenceTransformer

    /// One step's plan: the examples, and the seed of the step's dropout masks.
    public struct Batch: Codable, Sendable, Equatable {
        /// Indices into ``TextPairTrainingTask/data``'s examples.
        public var items: [Int]
        /// Seeds the model's dropout generator before the step's forward pass.
        public var dropoutSeed: UInt64

        /// - Parameters:
        ///   - items: indices of the batch's examples.
        ///   - dropoutSeed: the seed of the step's dropout masks.
        public init(items: [Int], dropoutSeed: UInt64) {
            self.items = items
            self.dropoutSeed = dropoutSeed
        }
    }

    /// The loss, with its settings.
    public indirect enum Loss: Sendable {
        /// In-batch negatives (triplets; the negative is optional).
        case multipleNegativesRanking(MultipleNegativesRankingLoss)
        /// The same loss and gradients in bounded memory (mini-batches, ``GradientCache``).
        case cachedMultipleNegativesRanking(CachedMultipleNegativesRankingLoss)
        /// In-batch negatives filtered by the task's guide model.
        case gistEmbed(GISTEmbedLoss)
        /// Ranking of scored pairs by cosine.
        case coSENT(CoSENTLoss)
        /// Ranking of scored pairs by the AnglE similarity.
        case angle(AnglELoss)
        /// Labelled pairs (1 similar, 0 not).
        case contrastive(ContrastiveLoss)
        /// Squared error between cosine and score.
        case cosineSimilarity(CosineSimilarityLoss)
        /// The inner loss on renormalised prefixes of the embeddings.
        case matryoshka(MatryoshkaLoss, inner: Loss)

        /// The dataset kind the loss reads.
        public var kind: TextPairDataset.Kind {
            switch self {
            case .multipleNegativesRanking, .cachedMultipleNegativesRanking, .gistEmbed: .triplets
            case .coSENT, .angle, .cosineSimilarity: .scored
            case .contrastive: .labelled
            case .matryoshka(_, let inner): inner.kind
            }
        }

        /// Whether the other texts of a batch serve as negatives (batches must not repeat a text).
        var usesInBatchNegatives: Bool { kind == .triplets }

        /// The mini-batch size of a cached loss (here or inside Matryoshka); nil when not cached.
        var cacheMiniBatchSize: Int? {
            switch self {
            case .cachedMultipleNegativesRanking(let l): l.miniBatchSize
            case .matryoshka(_, let inner): inner.cacheMiniBatchSize
            default: nil
            }
        }

        /// Whether GISTEmbed takes part (here or inside Matryoshka): a guide model is needed.
        public var needsGuide: Bool {
            switch self {
            case .gistEmbed: true
            case .matryoshka(_, let inner): inner.needsGuide
            default: false
            }
        }
    }

    /// The training examples.
    public let data: TextPairDataset
    /// The loss.
    public let loss: Loss
    /// Examples per step.
    public let batchSize: Int
    /// GISTEmbed's frozen guide model.
    public let guide: SentenceTransformer?

    /// - Parameters:
    ///   - data: the examples, of the kind the loss reads.
    ///   - loss: the loss.
    ///   - batchSize: examples per step, at least 2.
    ///   - guide: the guide model, required by GISTEmbed and refused otherwise.
    public init(data: TextPairDataset, loss: Loss, batchSize: Int, guide: SentenceTransformer? = nil) throws(TextEncoderError) {
        guard data.kind == loss.kind else {
            throw TextEncoderError("the loss needs \(loss.kind.rawValue) examples, the data holds \(data.kind.rawValue)")
        }
        guard batchSize >= 2 else { throw TextEncoderError("batch size must be at least 2, got \(batchSize)") }
        guard loss.needsGuide == (guide != nil) else {
            throw TextEncoderError(loss.needsGuide ? "GISTEmbed needs a guide model" : "a guide model is used by GISTEmbed only")
        }
        self.data = data
        self.loss = loss
        self.batchSize = batchSize
        self.guide = guide
    }

    /// The number of examples.
    public var itemCount: Int { data.count }

    /// The epoch's batches: without repeated texts for in-batch negatives, shuffled otherwise; each
    /// with its dropout seed (from the run's seed and the epoch).
    public func batches(epoch: Int, seed: UInt64, model: SentenceTransformer) throws -> [Batch] {
        let plans: [[Int]]
        if loss.usesInBatchNegatives {
            let keys = data.examples.map { [$0.first, $0.second] + ($0.negative.map { [$0] } ?? []) }
            plans = try NoDuplicatesBatchSampler(keys: keys, batchSize: batchSize).batches(epoch: epoch, seed: seed).filter { $0.count >= 2 }
        } else {
            var g = SeededGenerator.forEpoch(epoch, seed: seed, stream: 11)
            var order = Array(data.examples.indices)
            g.shuffle(&order)
            plans = chunked(order, size: batchSize)
        }
        var dropout = SeededGenerator.forEpoch(epoch, seed: seed, stream: 12)
        return plans.map { Batch(items: $0, dropoutSeed: dropout.next()) }
    }

    /// The batch's loss; for a cached loss with its mini-batch backward pass (``BatchLoss/backward``).
    public func loss(_ model: SentenceTransformer, _ batch: Batch) -> BatchLoss {
        model.bert.dropoutGenerator = SeededGenerator(seed: batch.dropoutSeed)
        let examples = batch.items.map { data.examples[$0] }
        let n = examples.count
        let negatives = examples.compactMap(\.negative)
        let texts = examples.map(\.first) + examples.map(\.second) + negatives
        let targets = examples.map(\.target)
        // Blocks of n rows: first, second, and the hard negatives when there are any.
        func blocks(_ e: Tensor) -> [Tensor] { (0..<(texts.count / n)).map { e.slice(axis: 0, ($0 * n)..<(($0 + 1) * n)) } }
        let guideBlocks = guide.map { blocks($0.encode(texts)) } ?? []
        let loss = self.loss
        if let miniBatchSize = loss.cacheMiniBatchSize {
            let bert = model.bert
            return GradientCache(miniBatchSize: miniBatchSize)(
                rows: texts.count, embed: { model.embed(Array(texts[$0])) },
                randomState: (get: { bert.dropoutGenerator }, set: { bert.dropoutGenerator = $0 })) { e in
                Self.value(loss, blocks(e), targets: targets, guide: guideBlocks)
            }
        }
        return BatchLoss(Self.value(loss, blocks(model.embed(texts)), targets: targets, guide: guideBlocks))
    }

    /// The loss of embedding blocks [first, second, negatives…] (and the guide's, for GISTEmbed).
    static func value(_ loss: Loss, _ e: [Tensor], targets: [Float], guide: [Tensor]) -> Tensor {
        switch loss {
        case .multipleNegativesRanking(let l):
            return l(anchors: e[0], positives: e[1], hardNegatives: Array(e.dropFirst(2)))
        case .cachedMultipleNegativesRanking(let l):
            return l.loss(anchors: e[0], positives: e[1], hardNegatives: Array(e.dropFirst(2)))
        case .gistEmbed(let l):
            return l(anchors: e[0], positives: e[1], hardNegatives: Array(e.dropFirst(2)),
                     guideAnchors: guide[0], guidePositives: guide[1], guideNegatives: Array(guide.dropFirst(2))).loss
        case .coSENT(let l):
            return l(e[0], e[1], scores: targets)
        case .angle(let l):
            return l(e[0], e[1], scores: targets)
        case .contrastive(let l):
            return l(e[0], e[1], labels: targets)
        case .cosineSimilarity(let l):
            return l(e[0], e[1], scores: targets)
        case .matryoshka(let m, let inner):
            return m(e) { value(inner, $0, targets: targets, guide: guide) }
        }
    }
}
