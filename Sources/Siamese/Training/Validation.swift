import Evaluation
import Tensors

/// What validation measured after an epoch. `score` is what early stopping maximises.
public struct ValidationResult: Codable, Equatable, Sendable {
    public var score: Double
    public var metrics: [String: Double]
    public init(score: Double, metrics: [String: Double]) {
        self.score = score
        self.metrics = metrics
    }
}

/// Verification and retrieval on a held-out labelled set: every pair of items is scored with the
/// model's comparison, giving AUC and EER; leave-one-out nearest neighbours give recall@1.
/// The score for early stopping is the AUC.
public struct FeatureValidation: Sendable {
    public let data: FeatureDataset
    /// Pairs are capped (evenly strided) so that large validation sets stay cheap.
    public let maxPairs: Int

    public init(data: FeatureDataset, maxPairs: Int = 2_000_000) {
        self.data = data
        self.maxPairs = maxPairs
    }

    public func callAsFunction(_ model: SiameseNetwork) throws -> ValidationResult {
        let embeddings = model.embedAll(data.features)
        let n = data.count
        let sims = withoutGradients { Tensor.pairwiseCosineSimilarity(embeddings, embeddings) }
        let total = n * (n - 1) / 2
        let stride = max(1, total / maxPairs)
        var scores: [Double] = [], same: [Bool] = []
        scores.reserveCapacity(min(total, maxPairs) + 1)
        var k = 0
        sims.withUnsafeBufferPointer { s in
            for i in 0..<n {
                for j in (i + 1)..<n {
                    if k % stride == 0 {
                        scores.append(Double(s[i * n + j]))
                        same.append(data.labels[i] == data.labels[j])
                    }
                    k += 1
                }
            }
        }
        let curve = try VerificationCurve(scores: scores, labels: same, direction: .higherIsSame)
        let auc = curve.auc()
        let eer = curve.equalErrorRate().rate
        let matrix = try EmbeddingMatrix(rows: n, dim: embeddings.shape[1], values: embeddings.scalars)
        let recall = try Retrieval.leaveOneOut(matrix, labels: data.labels, k: 1).precisionAt1
        return ValidationResult(score: auc, metrics: ["auc": auc, "eer": eer, "recall_at_1": recall])
    }
}
