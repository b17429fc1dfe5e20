import Tensors

/// Labelled feature vectors: one row per item, one class label per item.
public struct FeatureDataset: Sendable {
    /// [items, features].
    public let features: Tensor
    /// Class index of each item (0-based, into ``classNames``).
    public let labels: [Int]
    /// The label text of each class, as it appeared in the data.
    public let classNames: [String]

    public init(features: Tensor, labels: [Int], classNames: [String]? = nil) throws {
        guard features.rank == 2 else { throw SamplingError("features must be [items, features], got \(features.shape)") }
        guard features.shape[0] == labels.count else {
            throw SamplingError("\(features.shape[0]) feature rows but \(labels.count) labels")
        }
        guard features.allFinite else { throw SamplingError("features contain NaN or infinite values") }
        self.features = features.detached()
        self.labels = labels
        self.classNames = classNames ?? Array(Set(labels)).sorted().map(String.init)
    }

    public var count: Int { labels.count }
    public var featureCount: Int { features.shape[1] }

    /// Rows of the given items, as a [indices.count, features] batch (no gradient).
    public func rows(_ indices: [Int]) -> Tensor { features.indexSelect(indices) }

    /// The items whose labels satisfy `keep`, e.g. an open-set split by class.
    public func filter(_ keep: (Int) -> Bool) throws -> FeatureDataset {
        let picked = labels.indices.filter { keep(labels[$0]) }
        return try FeatureDataset(features: rows(picked), labels: picked.map { labels[$0] }, classNames: classNames)
    }

    /// The items at `indices`.
    public func subset(_ indices: [Int]) throws -> FeatureDataset {
        try FeatureDataset(features: rows(indices), labels: indices.map { labels[$0] }, classNames: classNames)
    }

    /// A seeded random split: `fraction` of the items (per class, so both sides keep every class) go first.
    public func split(fraction: Double, seed: UInt64) throws -> (FeatureDataset, FeatureDataset) {
        var g = SeededGenerator(seed: seed)
        var first: [Int] = [], second: [Int] = []
        for group in ClassIndex(labels: labels).members {
            var items = group
            g.shuffle(&items)
            let cut = Int((Double(items.count) * fraction).rounded())
            first += items[..<cut]
            second += items[cut...]
        }
        return (try subset(first.sorted()), try subset(second.sorted()))
    }
}

extension SiameseNetwork {
    /// Embeddings of every row, in evaluation mode and without gradients, in batches of `batchSize`.
    public func embedAll(_ features: Tensor, batchSize: Int = 1024) -> Tensor {
        let wasTraining = isTraining
        isTraining = false
        defer { isTraining = wasTraining }
        return withoutGradients {
            let n = features.shape[0]
            guard n > batchSize else { return embed(features.detached()) }
            let parts = stride(from: 0, to: n, by: batchSize).map { start in
                embed(features.detached().slice(axis: 0, start..<min(start + batchSize, n)))
            }
            return Tensor.concatenate(parts, axis: 0)
        }
    }
}
