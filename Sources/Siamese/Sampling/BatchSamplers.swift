import Tensors

/// Batches with `m` items from each of min(⌊batchSize / m⌋, classes) classes, so that in-batch miners
/// always find positives and negatives (pytorch-metric-learning's MPerClassSampler).
///
/// A class with fewer than `m` items contributes all of them, repeated as needed (with a warning
/// count in ``classesRepeated``); classes are visited in a shuffled round-robin so every class
/// appears about equally often.
public struct MPerClassSampler: Sendable {
    public let index: ClassIndex
    public let m: Int
    public let batchSize: Int
    /// Classes with fewer than `m` items (their items repeat within a batch).
    public let classesRepeated: Int

    public init(labels: [Int], m: Int, batchSize: Int) throws {
        guard m >= 2 else { throw SamplingError("m must be at least 2 for a positive to exist, got \(m)") }
        guard batchSize >= 2 * m else {
            throw SamplingError("batch size \(batchSize) must hold at least two classes of m = \(m) items")
        }
        index = ClassIndex(labels: labels)
        guard index.classes.count >= 2 else { throw SamplingError("needs at least two classes, found \(index.classes.count)") }
        self.m = m
        self.batchSize = batchSize
        classesRepeated = index.members.filter { $0.count < m }.count
    }

    /// Picks m so that a batch of `batchSize` covers every class when it can: ⌊batchSize / classes⌋,
    /// at least 2.
    public static func itemsPerClass(labels: [Int], batchSize: Int) -> Int {
        max(2, batchSize / max(1, Set(labels).count))
    }

    /// Batches of one epoch: about items / batchSize of them.
    public func batches(epoch: Int, seed: UInt64) -> [[Int]] {
        var g = SeededGenerator.forEpoch(epoch, seed: seed, stream: 3)
        let perBatch = min(batchSize / m, index.classes.count)
        let count = max(1, index.classOfItem.count / (perBatch * m))
        var order: [Int] = []
        var out: [[Int]] = []
        for _ in 0..<count {
            var batch: [Int] = []
            var used = Set<Int>()
            while batch.count < perBatch * m {
                if order.isEmpty { order = Array(index.classes.indices); g.shuffle(&order) }
                let c = order.removeLast()
                guard used.insert(c).inserted else { continue }
                var items = index.members[c]
                g.shuffle(&items)
                for k in 0..<m { batch.append(items[k % items.count]) }
            }
            out.append(batch)
        }
        return out
    }
}

/// Batches in which no key appears twice (sentence-transformers' NoDuplicatesBatchSampler): with
/// in-batch negatives, a duplicate text in a batch is a false negative.
///
/// Each example has one or more keys (anchor text, positive text); an example joins the current
/// batch only when none of its keys is already there, otherwise it waits for a later batch.
public struct NoDuplicatesBatchSampler: Sendable {
    public let keys: [[String]]
    public let batchSize: Int
    public let dropLast: Bool

    public init(keys: [[String]], batchSize: Int, dropLast: Bool = false) throws {
        guard batchSize >= 1 else { throw SamplingError("batch size must be positive, got \(batchSize)") }
        self.keys = keys
        self.batchSize = batchSize
        self.dropLast = dropLast
    }

    public func batches(epoch: Int, seed: UInt64) -> [[Int]] {
        var g = SeededGenerator.forEpoch(epoch, seed: seed, stream: 4)
        var remaining = Array(keys.indices)
        g.shuffle(&remaining)
        var out: [[Int]] = []
        while !remaining.isEmpty {
            var batch: [Int] = [], seen = Set<String>(), deferred: [Int] = []
            var i = 0
            while i < remaining.count && batch.count < batchSize {
                let ex = remaining[i]
                if keys[ex].allSatisfy({ !seen.contains($0) }) {
                    batch.append(ex)
                    seen.formUnion(keys[ex])
                } else {
                    deferred.append(ex)
                }
                i += 1
            }
            remaining = deferred + remaining[i...]
            if batch.count == batchSize || !dropLast { out.append(batch) }
            if batch.isEmpty { break }
        }
        return out
    }
}

/// Consecutive batches of a list (the last one may be short).
public func chunked<T>(_ items: [T], size: Int) -> [[T]] {
    ensure(size > 0, "chunked: size must be positive")
    return stride(from: 0, to: items.count, by: size).map { Array(items[$0..<min($0 + size, items.count)]) }
}
