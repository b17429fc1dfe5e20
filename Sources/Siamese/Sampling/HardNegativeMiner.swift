import Tensors

/// Offline hard-negative mining: embed the whole training set with the current model, then give
/// each anchor a negative that the model finds similar — but not suspiciously similar.
///
/// For anchor a with positive p, candidates are items of other classes ranked by similarity to a
/// (most similar first). A candidate qualifies when its rank is in ``rankRange`` (skipping the very
/// top, where mislabelled duplicates hide) and its similarity is at most sim(a, p) − ``margin``
/// (sentence-transformers' `mine_hard_negatives` rule). One qualifying candidate is drawn at random.
/// Re-mine every ``refreshEvery`` epochs, as the model's notion of "hard" changes.
public struct HardNegativeMiner: Sendable, Codable, Equatable {
    public var rankRange: Range<Int>
    public var margin: Float
    public var refreshEvery: Int
    /// Anchors compared per GEMM block: bounds memory at chunk × items floats.
    public var chunkSize: Int

    public init(rankRange: Range<Int> = 0..<50, margin: Float = 0, refreshEvery: Int = 1, chunkSize: Int = 1024) {
        ensure(rankRange.lowerBound >= 0 && !rankRange.isEmpty, "HardNegativeMiner: rank range must be non-empty and non-negative, got \(rankRange)")
        ensure(refreshEvery >= 1 && chunkSize >= 1, "HardNegativeMiner: refreshEvery and chunkSize must be positive")
        self.rankRange = rankRange
        self.margin = margin
        self.refreshEvery = refreshEvery
        self.chunkSize = chunkSize
    }

    /// Mined triplets for every anchor that has a positive and a qualifying negative.
    ///
    /// - Parameters:
    ///   - embeddings: [n, d] embeddings of the training items (any scale; cosine similarity is used).
    ///   - labels: class of each item.
    public func mine(embeddings: Tensor, labels: [Int], epoch: Int, seed: UInt64) -> [IndexTriplet] {
        ensure(embeddings.rank == 2 && embeddings.shape[0] == labels.count,
                     "HardNegativeMiner.mine: embeddings \(embeddings.shape) do not match \(labels.count) labels")
        let n = labels.count
        let index = ClassIndex(labels: labels)
        var g = SeededGenerator.forEpoch(epoch, seed: seed, stream: 5)
        let normalized = withoutGradients { embeddings.detached().l2Normalized() }
        var out: [IndexTriplet] = []
        for start in stride(from: 0, to: n, by: chunkSize) {
            let end = min(start + chunkSize, n)
            let sims = withoutGradients { Tensor.pairwiseDot(normalized.slice(axis: 0, start..<end), normalized) }
            sims.withUnsafeBufferPointer { s in
                for a in start..<end {
                    guard let p = index.randomPositive(for: a, generator: &g) else { continue }
                    let row = s.baseAddress! + (a - start) * n
                    let limit = row[p] - margin
                    let candidates = Self.topOtherClass(row: row, count: n, labels: labels, anchor: a, keep: rankRange.upperBound)
                    guard rankRange.lowerBound < candidates.count else { continue }
                    let qualifying = candidates[rankRange.lowerBound...].filter { row[$0] <= limit }
                    guard !qualifying.isEmpty else { continue }
                    out.append(IndexTriplet(anchor: a, positive: p, negative: qualifying[g.nextInt(below: qualifying.count)]))
                }
            }
        }
        g.shuffle(&out)
        return out
    }

    /// The `keep` most similar items of other classes than the anchor's, most similar first (ties by
    /// index). A sorted window of `keep` entries: linear in n for the small `keep` used here.
    static func topOtherClass(row: UnsafePointer<Float>, count n: Int, labels: [Int], anchor: Int, keep: Int) -> [Int] {
        var top: [Int] = []
        top.reserveCapacity(keep + 1)
        for j in 0..<n where labels[j] != labels[anchor] {
            let v = row[j]
            if top.count == keep, let last = top.last, !(v > row[last]) { continue }
            var pos = top.count
            while pos > 0 && v > row[top[pos - 1]] { pos -= 1 }
            top.insert(j, at: pos)
            if top.count > keep { top.removeLast() }
        }
        return top
    }
}
