import Core

/// The rows of an ``ExactIndex``: vectors (normalised under cosine), their ids, and for L2 the
/// negated squared norms that turn a GEMM's `2·q·x` into `−‖q − x‖² + ‖q‖²`.
///
/// `@unchecked Sendable`: an `ExactStorage` is only written through `ExactIndex`'s mutating
/// methods, and only after `isKnownUniquelyReferenced` confirmed that no other index value (and
/// so no other thread) shares it; copies made for writing start unshared.
final class ExactStorage: @unchecked Sendable {
    let dimension: Int
    let metric: Metric
    private(set) var capacity: Int
    var count: Int
    /// `capacity × dimension` floats; rows past `count` are unused.
    private(set) var vectors: UnsafeMutablePointer<Float>
    /// Keeps `vectors` alive: an ``AlignedBuffer`` or a mapped index file.
    private var owner: AnyObject
    var ids: [UInt64]
    var negatedSquaredNorms: [Float]
    var rowOfID: [UInt64: Int]

    init(dimension: Int, metric: Metric, capacity: Int = 0) {
        self.dimension = dimension
        self.metric = metric
        self.capacity = capacity
        count = 0
        let buffer = AlignedBuffer<Float>(count: capacity * dimension, zeroed: false)
        vectors = buffer.pointer
        owner = buffer
        ids = []
        negatedSquaredNorms = []
        rowOfID = [:]
    }

    /// Storage whose vectors live in memory owned by `owner` (a mapped file); it is copied to
    /// owned memory before its first change.
    init(dimension: Int, metric: Metric, count: Int, vectors: UnsafeMutablePointer<Float>, owner: AnyObject, ids: [UInt64]) {
        self.dimension = dimension
        self.metric = metric
        self.capacity = count
        self.count = count
        self.vectors = vectors
        self.owner = owner
        self.ids = ids
        negatedSquaredNorms = []
        rowOfID = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        if metric == .l2 { recomputeNorms(from: 0) }
    }

    func copy() -> ExactStorage {
        let s = ExactStorage(dimension: dimension, metric: metric, capacity: count)
        s.vectors.update(from: vectors, count: count * dimension)
        s.count = count
        s.ids = ids
        s.negatedSquaredNorms = negatedSquaredNorms
        s.rowOfID = rowOfID
        return s
    }

    /// Makes room for `extra` more rows (amortised growth; mapped rows move to owned memory when
    /// they grow, and are otherwise written in place: the mapping is private, copy-on-write).
    func reserve(extra: Int) {
        let needed = count + extra
        guard needed > capacity else { return }
        let newCapacity = max(needed, capacity + capacity / 2, 16)
        let buffer = AlignedBuffer<Float>(count: newCapacity * dimension, zeroed: false)
        buffer.pointer.update(from: vectors, count: count * dimension)
        vectors = buffer.pointer
        owner = buffer
        capacity = newCapacity
    }

    func recomputeNorms(from row: Int) {
        guard metric == .l2 else { return }
        negatedSquaredNorms.removeSubrange(min(row, negatedSquaredNorms.count)...)
        for r in row..<count {
            let v = vectors + r * dimension
            var s: Float = 0
            for d in 0..<dimension { s += v[d] * v[d] }
            negatedSquaredNorms.append(-s)
        }
    }

    func updateNorm(row: Int) {
        guard metric == .l2 else { return }
        let v = vectors + row * dimension
        var s: Float = 0
        for d in 0..<dimension { s += v[d] * v[d] }
        negatedSquaredNorms[row] = -s
    }

    /// Removes rows (sorted ascending, distinct), keeping the others in order.
    func removeRows(_ rows: [Int]) {
        guard !rows.isEmpty else { return }
        var write = rows[0]
        var next = 0
        for read in rows[0]..<count {
            if next < rows.count, rows[next] == read {
                next += 1
                continue
            }
            if write != read {
                (vectors + write * dimension).update(from: vectors + read * dimension, count: dimension)
                ids[write] = ids[read]
                if metric == .l2 { negatedSquaredNorms[write] = negatedSquaredNorms[read] }
            }
            write += 1
        }
        count = write
        ids.removeSubrange(write...)
        if metric == .l2 { negatedSquaredNorms.removeSubrange(write...) }
        rowOfID = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
    }
}
