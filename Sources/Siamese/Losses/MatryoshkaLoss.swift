import Tensors

/// Matryoshka representation learning (Kusupati et al. 2022, "Matryoshka Representation
/// Learning"), as sentence-transformers' `MatryoshkaLoss`: an inner loss applied to prefixes of
/// the embeddings, so that the first d dimensions alone make a usable embedding for every trained
/// d — one model, truncated at search time to 64…384 dimensions as speed and memory require.
///
/// With dimensions d₁ > d₂ > … and weights w_k, for embedding blocks E (anchors, positives, …):
///
///     ℓ = Σ_k w_k · inner( normalise(E[:, :d_k]) )
///
/// Each prefix is L2-renormalised (sentence-transformers' `shrink`): cosine losses do not see the
/// difference, dot-product losses then compare unit vectors as at full width. The model runs once;
/// every dimension reuses its embeddings (the gradient sums over the prefixes).
///
/// Dimensions are sorted largest first, each weight following its dimension, as in
/// sentence-transformers. The widest dimension should be the model's own width, so that the full
/// embedding is trained too (sentence-transformers warns otherwise).
public struct MatryoshkaLoss: Sendable {
    /// Prefix widths, largest first.
    public let dimensions: [Int]
    /// The weight of each dimension's loss, in the order of ``dimensions``.
    public let weights: [Float]

    /// - Parameters:
    ///   - dimensions: prefix widths, each at least 1, no repeats (any order; sorted largest first).
    ///   - weights: one weight per dimension, in the order given; nil weighs every dimension 1.
    public init(dimensions: [Int], weights: [Float]? = nil) {
        let weights = weights ?? Array(repeating: 1, count: dimensions.count)
        lossPrecondition(!dimensions.isEmpty, "MatryoshkaLoss", "needs at least one dimension")
        lossPrecondition(dimensions.allSatisfy { $0 >= 1 }, "MatryoshkaLoss", "dimensions must be at least 1, got \(dimensions)")
        lossPrecondition(Set(dimensions).count == dimensions.count, "MatryoshkaLoss", "dimensions repeat: \(dimensions)")
        lossPrecondition(weights.count == dimensions.count, "MatryoshkaLoss", "\(weights.count) weights for \(dimensions.count) dimensions")
        let sorted = zip(dimensions, weights).sorted { $0.0 > $1.0 }
        self.dimensions = sorted.map(\.0)
        self.weights = sorted.map(\.1)
    }

    /// The weighted sum of `inner` over the renormalised prefixes of `embeddings`.
    ///
    /// - Parameters:
    ///   - embeddings: embedding blocks `[n_i, d]` of one width d ≥ the largest dimension.
    ///   - inner: the loss of prefix blocks (same order and row counts as `embeddings`).
    public func callAsFunction(_ embeddings: [Tensor], inner: ([Tensor]) -> Tensor) -> Tensor {
        lossPrecondition(!embeddings.isEmpty, "MatryoshkaLoss", "needs at least one embedding block")
        let width = embeddings[0].shape.last ?? 0
        for e in embeddings {
            lossPrecondition(e.rank == 2 && e.shape[1] == width, "MatryoshkaLoss", "embedding blocks must be [n, \(width)], got \(e.shape)")
        }
        lossPrecondition(dimensions[0] <= width, "MatryoshkaLoss", "dimension \(dimensions[0]) exceeds the embedding width \(width)")
        var total: Tensor? = nil
        for (d, w) in zip(dimensions, weights) {
            let prefixes = embeddings.map { (d == width ? $0 : $0.slice(axis: 1, 0..<d)).l2Normalized() }
            let term = inner(prefixes) * w
            total = total.map { $0 + term } ?? term
        }
        return total!
    }
}
