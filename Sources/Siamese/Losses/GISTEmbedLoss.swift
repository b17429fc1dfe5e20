import Tensors

/// GISTEmbed loss (Solatorio 2024, "GISTEmbed: Guided In-sample Selection of Training Negatives
/// for Text Embedding Fine-tuning"), as sentence-transformers' `GISTEmbedLoss`.
///
/// In-batch negatives as in ``MultipleNegativesRankingLoss``, but a frozen guide model decides
/// which of them are false negatives: a candidate that the guide finds more similar to the anchor
/// than the anchor's own positive (less a margin) is dropped from the softmax. With g(·,·) the
/// guide's cosine, s(·,·) the model's, and the threshold tᵢ = g(aᵢ, pᵢ) − m ("absolute") or
/// g(aᵢ, pᵢ) − |g(aᵢ, pᵢ)|·m ("relative"), anchor i's logits are the rows
///
///     s(aᵢ, p_j)  (j ≠ i dropped when g(aᵢ, p_j) > tᵢ),
///     s(aᵢ, a_j)  (j = i dropped; others when g(aᵢ, a_j) > tᵢ)   — with `contrastAnchors`,
///     s(pᵢ, p_j)  (j = i dropped; others when g(pᵢ, p_j) > tᵢ)   — with `contrastPositives`,
///     s(aᵢ, n_j)  (dropped when g(aᵢ, n_j) > tᵢ)                 — for each hard-negative block,
///
/// divided by the temperature, and ℓᵢ = −log softmax at s(aᵢ, pᵢ); the loss is their mean.
/// Dropped logits are −∞ (no weight, no gradient). The guide's embeddings are constants: no
/// gradient reaches them.
///
/// Defaults (sentence-transformers): temperature 0.01, absolute margin 0, both contrasts on.
/// Shapes: model and guide blocks have the same row counts; widths may differ between the two
/// models. Scalar result.
public struct GISTEmbedLoss: Sendable {
    /// How the margin lowers the threshold.
    public enum MarginStrategy: String, Sendable, CaseIterable {
        /// Threshold g(aᵢ, pᵢ) − margin.
        case absolute
        /// Threshold g(aᵢ, pᵢ) − |g(aᵢ, pᵢ)|·margin.
        case relative
    }

    /// Divides the similarities before the softmax (sentence-transformers: 0.01).
    public var temperature: Float
    /// How ``margin`` lowers the guide's threshold.
    public var marginStrategy: MarginStrategy
    /// Lowers the threshold: 0 drops every candidate the guide ranks above the positive.
    public var margin: Float
    /// Also contrast each anchor with the other anchors.
    public var contrastAnchors: Bool
    /// Also contrast each positive with the other positives.
    public var contrastPositives: Bool

    /// - Parameters:
    ///   - temperature: divides the similarities (> 0).
    ///   - marginStrategy: how `margin` lowers the guide's threshold.
    ///   - margin: 0 drops every candidate the guide ranks above the positive.
    ///   - contrastAnchors: add the anchor–anchor logits.
    ///   - contrastPositives: add the positive–positive logits.
    public init(temperature: Float = 0.01, marginStrategy: MarginStrategy = .absolute, margin: Float = 0,
                contrastAnchors: Bool = true, contrastPositives: Bool = true) {
        lossPrecondition(temperature > 0 && temperature.isFinite, "GISTEmbedLoss", "temperature must be positive, got \(temperature)")
        self.temperature = temperature
        self.marginStrategy = marginStrategy
        self.margin = margin
        self.contrastAnchors = contrastAnchors
        self.contrastPositives = contrastPositives
    }

    /// The loss and how many in-batch candidates the guide dropped (self-pairs not counted).
    ///
    /// - Parameters:
    ///   - anchors, positives: the model's embeddings `[n, d]`.
    ///   - hardNegatives: the model's hard-negative blocks `[n, d]` (zero or more).
    ///   - guideAnchors, guidePositives, guideNegatives: the guide's embeddings of the same texts.
    public func callAsFunction(anchors: Tensor, positives: Tensor, hardNegatives: [Tensor] = [],
                               guideAnchors: Tensor, guidePositives: Tensor, guideNegatives: [Tensor] = []) -> (loss: Tensor, dropped: Int) {
        let n = anchors.shape[0]
        lossPrecondition(anchors.rank == 2 && anchors.shape == positives.shape, "GISTEmbedLoss",
                         "needs [n, d] anchors and positives of one shape, got \(anchors.shape) and \(positives.shape)")
        lossPrecondition(guideAnchors.rank == 2 && guideAnchors.shape == guidePositives.shape && guideAnchors.shape[0] == n,
                         "GISTEmbedLoss", "guide anchors and positives must be [\(n), d'], got \(guideAnchors.shape) and \(guidePositives.shape)")
        lossPrecondition(hardNegatives.count == guideNegatives.count, "GISTEmbedLoss",
                         "\(hardNegatives.count) hard-negative blocks but \(guideNegatives.count) guide blocks")
        for (m, g) in zip(hardNegatives, guideNegatives) {
            lossPrecondition(m.shape == anchors.shape && g.shape == guideAnchors.shape, "GISTEmbedLoss",
                             "hard negatives must be \(anchors.shape) and their guide \(guideAnchors.shape), got \(m.shape) and \(g.shape)")
        }
        if n == 0 { return (anchors.connectedZero(), 0) }
        let guideAP = withoutGradients { Tensor.pairwiseCosineSimilarity(guideAnchors.detached(), guidePositives.detached()) }
        let own = guideAP.scalars
        let thresholds = (0..<n).map { i -> Float in
            let g = own[i * n + i]
            return marginStrategy == .absolute ? g - margin : g - Swift.abs(g) * margin
        }
        var dropped = 0
        /// −∞ where the guide ranks a candidate above row i's threshold (or on the diagonal when
        /// `selfPairs` says so); the positive itself (diagonal of anchor–positive) is never masked.
        func masked(_ model: Tensor, guide: Tensor, diagonal: Diagonal) -> Tensor {
            let g = guide.scalars, cols = guide.shape[1]
            var mask = Tensor.zeros([n, cols])
            mask.withUnsafeMutableBufferPointer { p in
                for i in 0..<n {
                    for j in 0..<cols {
                        if i == j && diagonal != .none { p[i * cols + j] = diagonal == .drop ? 1 : 0; continue }
                        if g[i * cols + j] > thresholds[i] { p[i * cols + j] = 1; dropped += 1 }
                    }
                }
            }
            return model.maskedFill(mask, with: -.infinity)
        }
        func guideSimilarity(_ a: Tensor, _ b: Tensor) -> Tensor {
            withoutGradients { Tensor.pairwiseCosineSimilarity(a.detached(), b.detached()) }
        }
        var blocks = [masked(Tensor.pairwiseCosineSimilarity(anchors, positives), guide: guideAP, diagonal: .keep)]
        if contrastAnchors {
            blocks.append(masked(Tensor.pairwiseCosineSimilarity(anchors, anchors), guide: guideSimilarity(guideAnchors, guideAnchors), diagonal: .drop))
        }
        if contrastPositives {
            blocks.append(masked(Tensor.pairwiseCosineSimilarity(positives, positives), guide: guideSimilarity(guidePositives, guidePositives), diagonal: .drop))
        }
        for (m, g) in zip(hardNegatives, guideNegatives) {
            blocks.append(masked(Tensor.pairwiseCosineSimilarity(anchors, m), guide: guideSimilarity(guideAnchors, g), diagonal: .none))
        }
        let logits = Tensor.concatenate(blocks, axis: 1) * (1 / temperature)
        // The diagonal picked by index: a 0/1 mask times −∞ would give NaN.
        let target = logits.slice(axis: 1, 0..<n).reshaped([n * n]).indexSelect((0..<n).map { $0 * n + $0 })
        return ((logits.logSumExp(axis: 1) - target).mean(), dropped)
    }

    private enum Diagonal { case none, keep, drop }
}
