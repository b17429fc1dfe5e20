import Foundation

/// k-nearest-neighbour classification of frozen embeddings, as DINO's and lightly's k-NN
/// evaluation of self-supervised representations (Wu et al. 2018; Caron et al. 2021): the k
/// gallery rows of highest cosine similarity vote for their labels with weight exp(s / T), and the
/// label of largest total wins (ties: the label seen first in the gallery).
///
/// Defaults: k = 20, T = 0.07 (DINO's `eval_knn.py`).
public enum KNNClassifier {
    /// The outcome of a k-NN evaluation.
    public struct Result: Sendable, Equatable {
        /// Fraction of queries whose predicted label is their own.
        public var accuracy: Double
        /// Number of queries classified.
        public var queries: Int
        /// The predicted label of each query, as an index into the gallery's distinct labels in order of first appearance.
        public var predictions: [Int]
    }

    /// Classifies each query by the temperature-weighted votes of its k most similar gallery rows.
    /// Without queries (`queries == nil`), every gallery row is classified by the others (leave-one-out).
    /// - Parameters:
    ///   - gallery: labelled embeddings (the training set).
    ///   - galleryLabels: one label per gallery row.
    ///   - queries: embeddings to classify (nil: leave-one-out on the gallery).
    ///   - queryLabels: their labels (nil with `queries` nil).
    ///   - k: neighbours (at least 1; fewer when the gallery is smaller).
    ///   - temperature: T > 0 of the vote weights exp(s / T).
    /// - Throws: ``EvaluationError`` on count mismatches, mismatched dimensions or an all-zero row.
    public static func evaluate<L: Hashable>(gallery: EmbeddingMatrix, galleryLabels: [L], queries: EmbeddingMatrix? = nil,
                                             queryLabels: [L]? = nil, k: Int = 20, temperature: Double = 0.07) throws(EvaluationError) -> Result {
        guard galleryLabels.count == gallery.rows else { throw EvaluationError("\(galleryLabels.count) labels for \(gallery.rows) gallery rows") }
        guard k >= 1, temperature > 0, temperature.isFinite else { throw EvaluationError("k-NN needs k ≥ 1 and a positive temperature") }
        let leaveOneOut = queries == nil
        let q = queries ?? gallery
        let truth = queryLabels ?? galleryLabels
        guard truth.count == q.rows else { throw EvaluationError("\(truth.count) labels for \(q.rows) query rows") }
        guard q.dim == gallery.dim else { throw EvaluationError("queries have \(q.dim) dimensions, the gallery \(gallery.dim)") }
        guard !leaveOneOut || gallery.rows >= 2 else { throw EvaluationError("leave-one-out k-NN needs at least 2 gallery rows") }
        var classIndex: [L: Int] = [:]
        for l in galleryLabels where classIndex[l] == nil { classIndex[l] = classIndex.count }
        let classes = galleryLabels.map { classIndex[$0]! }
        let g = try gallery.normalizedRows()
        let x = try leaveOneOut ? g : q.normalizedRows()
        let dim = gallery.dim, n = gallery.rows, keep = min(k, leaveOneOut ? n - 1 : n)
        var predictions = [Int](repeating: 0, count: q.rows)
        var correct = 0
        let block = 64
        var similarities = [Float](repeating: 0, count: block * n)
        var votes = [Double](repeating: 0, count: classIndex.count)
        var top: [(similarity: Float, row: Int)] = []
        top.reserveCapacity(keep + 1)
        for q0 in stride(from: 0, to: q.rows, by: block) {
            let count = min(block, q.rows - q0)
            x.withUnsafeBufferPointer { xs in
                g.withUnsafeBufferPointer { gs in
                    similarities.withUnsafeMutableBufferPointer { out in
                        BlockedDot.similarities(queries: xs, q0: q0, count: count, gallery: gs, galleryRows: n, dim: dim, into: out)
                    }
                }
            }
            for b in 0..<count {
                let i = q0 + b
                // The k largest by insertion into a short sorted list; ties go to the earlier row.
                top.removeAll(keepingCapacity: true)
                for j in 0..<n where !(leaveOneOut && j == i) {
                    let s = similarities[b * n + j]
                    if top.count == keep, s <= top[keep - 1].similarity { continue }
                    var at = top.count
                    while at > 0 && top[at - 1].similarity < s { at -= 1 }
                    top.insert((s, j), at: at)
                    if top.count > keep { top.removeLast() }
                }
                for c in votes.indices { votes[c] = 0 }
                // e^{(s − 1)/T}: e^{s/T} scaled by a constant, so a small T cannot overflow.
                for (s, j) in top { votes[classes[j]] += Foundation.exp((Double(s) - 1) / temperature) }
                var best = 0
                for c in votes.indices where votes[c] > votes[best] { best = c }
                predictions[i] = best
                if let t = classIndex[truth[i]], t == best { correct += 1 }
            }
        }
        return Result(accuracy: Double(correct) / Double(q.rows), queries: q.rows, predictions: predictions)
    }
}
