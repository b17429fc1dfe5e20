import Foundation
import NN
import Siamese
import Tensors

/// Fine-tuning a ``SentenceTransformer`` on text pairs with the ``Trainer``.
///
/// - multiple-negatives ranking (triplets; batches from ``NoDuplicatesBatchSampler`` so that no
///   text appears twice in a batch, where it would be a false negative);
/// - CoSENT and cosine-similarity regression (scored pairs);
/// - contrastive (labelled pairs).
///
/// Each batch runs the model once over all its texts (anchors, positives and negatives together),
/// in training mode (dropout on, as sentence-transformers fine-tunes).
public struct TextPairTrainingTask: TrainingTask {
    public typealias Model = SentenceTransformer

    public enum Loss: Sendable {
        case multipleNegativesRanking(MultipleNegativesRankingLoss)
        case coSENT(CoSENTLoss)
        case contrastive(ContrastiveLoss)
        case cosineSimilarity(CosineSimilarityLoss)

        /// The dataset kind the loss reads.
        public var kind: TextPairDataset.Kind {
            switch self {
            case .multipleNegativesRanking: .triplets
            case .coSENT, .cosineSimilarity: .scored
            case .contrastive: .labelled
            }
        }
    }

    public let data: TextPairDataset
    public let loss: Loss
    public let batchSize: Int

    public init(data: TextPairDataset, loss: Loss, batchSize: Int) throws(TextEncoderError) {
        guard data.kind == loss.kind else {
            throw TextEncoderError("the loss needs \(loss.kind.rawValue) examples, the data holds \(data.kind.rawValue)")
        }
        guard batchSize >= 2 else { throw TextEncoderError("batch size must be at least 2, got \(batchSize)") }
        self.data = data
        self.loss = loss
        self.batchSize = batchSize
    }

    public var itemCount: Int { data.count }

    public func batches(epoch: Int, seed: UInt64, model: SentenceTransformer) throws -> [[Int]] {
        if case .multipleNegativesRanking = loss {
            let keys = data.examples.map { [$0.first, $0.second] + ($0.negative.map { [$0] } ?? []) }
            return try NoDuplicatesBatchSampler(keys: keys, batchSize: batchSize).batches(epoch: epoch, seed: seed).filter { $0.count >= 2 }
        }
        var g = SeededGenerator.forEpoch(epoch, seed: seed, stream: 11)
        var order = Array(data.examples.indices)
        g.shuffle(&order)
        return chunked(order, size: batchSize)
    }

    public func loss(_ model: SentenceTransformer, _ batch: [Int]) -> BatchLoss {
        let examples = batch.map { data.examples[$0] }
        let n = examples.count
        var texts = examples.map(\.first) + examples.map(\.second)
        let negatives = examples.compactMap(\.negative)
        texts += negatives
        let e = model.embed(texts)
        let first = e.slice(axis: 0, 0..<n), second = e.slice(axis: 0, n..<(2 * n))
        let targets = examples.map(\.target)
        switch loss {
        case .multipleNegativesRanking(let l):
            let hard = negatives.isEmpty ? [] : [e.slice(axis: 0, (2 * n)..<(2 * n + negatives.count))]
            return BatchLoss(l(anchors: first, positives: second, hardNegatives: hard))
        case .coSENT(let l):
            return BatchLoss(l(first, second, scores: targets))
        case .contrastive(let l):
            return BatchLoss(l(first, second, labels: targets))
        case .cosineSimilarity(let l):
            return BatchLoss(l(first, second, scores: targets))
        }
    }
}
