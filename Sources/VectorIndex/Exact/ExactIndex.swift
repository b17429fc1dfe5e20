import CKernels
import Tensors

/// Brute-force nearest-neighbour search: every query is compared with every vector.
///
/// Exact, so it is the reference that approximate indexes are measured against, and fast enough
/// for hundreds of thousands of vectors: batched queries run as one blocked matrix product
/// (``Tensors/Kernels/sgemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``) whose
/// score tiles stream through a SIMD top-k selection, on every thread, in bounded memory;
/// single queries stream the rows through SIMD dot products.
///
/// ```swift
/// var index = ExactIndex(dimension: 384, metric: .cosine)
/// try index.add(vectors)                       // ids 0, 1, 2, … by default
/// let hits = try index.search(query, k: 10)    // best first
/// let batch = try index.search(queries: many, k: 10, filter: .ids(allowed))
/// ```
///
/// `ExactIndex` is a value type with copy-on-write storage: copies are cheap until one of them
/// changes, and a value can be searched from many threads at once.
public struct ExactIndex: Sendable {
    /// Components per vector.
    public let dimension: Int
    /// How closeness is measured.
    public let metric: Metric
    var storage: ExactStorage

    /// An empty index.
    /// - Parameters:
    ///   - dimension: Components per vector; must be positive (checked: misuse stops with a message).
    ///   - metric: How closeness is measured.
    public init(dimension: Int, metric: Metric) {
        ensure(dimension > 0, "ExactIndex: dimension must be positive, got \(dimension)")
        self.dimension = dimension
        self.metric = metric
        storage = ExactStorage(dimension: dimension, metric: metric)
    }

    init(storage: ExactStorage) {
        dimension = storage.dimension
        metric = storage.metric
        self.storage = storage
    }

    /// Number of vectors.
    public var count: Int { storage.count }

    /// The ids, in storage order (the order vectors were added, less removals).
    public var ids: [UInt64] { storage.ids }

    /// True when a vector with this id is in the index.
    public func contains(_ id: UInt64) -> Bool { storage.rowOfID[id] != nil }

    /// The stored vector for `id` (normalised under cosine), or nil.
    public func vector(for id: UInt64) -> [Float]? {
        guard let row = storage.rowOfID[id] else { return nil }
        return Array(UnsafeBufferPointer(start: storage.vectors + row * dimension, count: dimension))
    }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    // MARK: - Changing

    /// Adds row-major vectors (`vectors.count` a multiple of ``dimension``).
    ///
    /// - Parameter ids: one id per vector; by default consecutive ids from one past the largest
    ///   id present (0, 1, 2, … for the first call, so ids are row numbers of the input).
    /// - Throws: ``IndexError`` for a ragged array, NaN/Inf (or zero vectors under cosine), or an
    ///   id that is given twice or already present. Nothing is added when it throws.
    public mutating func add(_ vectors: [Float], ids: [UInt64]? = nil) throws(IndexError) {
        guard vectors.count % dimension == 0 else { throw .ragged(count: vectors.count, dimension: dimension) }
        let n = vectors.count / dimension
        let next = storage.ids.max().map { $0 &+ 1 } ?? 0
        let newIDs = ids ?? (0..<n).map { next + UInt64($0) }
        guard newIDs.count == n else { throw .idCountMismatch(vectors: n, ids: newIDs.count) }
        var seen = Set<UInt64>(minimumCapacity: n)
        for id in newIDs where storage.rowOfID[id] != nil || !seen.insert(id).inserted { throw .duplicateID(id) }
        makeUnique()
        storage.reserve(extra: n)
        let start = storage.count
        try vectors.withUnsafeBufferPointer { (buffer) throws(IndexError) in
            try VectorPreparation.copy(buffer.baseAddress!, rows: n, dimension: dimension, metric: metric,
                                       into: storage.vectors + start * dimension, stride: dimension)
        }
        storage.count += n
        storage.ids.append(contentsOf: newIDs)
        for (j, id) in newIDs.enumerated() { storage.rowOfID[id] = start + j }
        storage.recomputeNorms(from: start)
    }

    /// Adds one vector under `id`.
    public mutating func add(_ vector: [Float], id: UInt64) throws(IndexError) {
        guard vector.count == dimension else { throw .dimensionMismatch(expected: dimension, got: vector.count) }
        try add(vector, ids: [id])
    }

    /// Replaces the vector stored under `id`, or adds it when the id is new.
    public mutating func upsert(_ vector: [Float], id: UInt64) throws(IndexError) {
        guard vector.count == dimension else { throw .dimensionMismatch(expected: dimension, got: vector.count) }
        guard let row = storage.rowOfID[id] else { return try add(vector, ids: [id]) }
        var prepared = [Float](repeating: 0, count: dimension)
        try vector.withUnsafeBufferPointer { (src) throws(IndexError) in
            try prepared.withUnsafeMutableBufferPointer { (dst) throws(IndexError) in
                try VectorPreparation.copy(src.baseAddress!, rows: 1, dimension: dimension, metric: metric,
                                           into: dst.baseAddress!, stride: dimension)
            }
        }
        makeUnique()
        (storage.vectors + row * dimension).update(from: prepared, count: dimension)
        storage.updateNorm(row: row)
    }

    /// Removes the vectors with these ids (unknown ids are ignored) and returns how many went.
    /// Rows close up in one pass, so removing many at once costs the same as removing one.
    @discardableResult
    public mutating func remove(_ ids: some Sequence<UInt64>) -> Int {
        let rows = Set(ids.compactMap { storage.rowOfID[$0] }).sorted()
        guard !rows.isEmpty else { return 0 }
        makeUnique()
        storage.removeRows(rows)
        return rows.count
    }

    // MARK: - Searching

    /// The `k` vectors closest to `query`, best first (fewer when the index, or the filtered
    /// part of it, is smaller).
    public func search(_ query: [Float], k: Int, filter: SearchFilter? = nil) throws(IndexError) -> [SearchResult] {
        guard k >= 1 else { throw .invalidArgument("k must be at least 1, got \(k)") }
        let q = try query.withUnsafeBufferPointer { (b) throws(IndexError) in try VectorPreparation.query(b, dimension: dimension, metric: metric) }
        let r = ExactSearch(storage: storage).searchOne(q, k: k, filter: filter)
        return r
    }

    /// The `k` closest vectors for each of many queries (row-major), as one blocked matrix
    /// product on every thread; see ``SearchResults``.
    public func search(queries: [Float], k: Int, filter: SearchFilter? = nil) throws(IndexError) -> SearchResults {
        guard k >= 1 else { throw .invalidArgument("k must be at least 1, got \(k)") }
        let q = try queries.withUnsafeBufferPointer { (b) throws(IndexError) in try VectorPreparation.queries(b, dimension: dimension, metric: metric) }
        return ExactSearch(storage: storage).searchBatch(q, k: k, filter: filter)
    }
}
