import CKernels
import Tensors

/// Approximate nearest-neighbour search on a hierarchical navigable small-world graph
/// (Malkov & Yashunin), built on every thread, growing as vectors are added, with deletes,
/// updates, filters and concurrent use.
///
/// ```swift
/// let index = try HNSWIndex(dimension: 384, metric: .cosine)
/// try index.add(vectors)                                  // ids 0, 1, 2, … by default
/// let hits = try index.search(query, k: 10, ef: 128)
/// try index.remove(42)                                    // a tombstone
/// index.compact()                                         // reclaims tombstones
/// ```
///
/// ## Concurrency
/// An `HNSWIndex` may be shared between threads. Any number of searches run at once, and at the
/// same time as ``add(_:ids:)``, ``upsert(_:id:)`` and ``remove(_:)`` from other threads
/// (a readers-writer lock is held shared by all of these; writers coordinate through per-node
/// spin locks). Growth of the arrays, ``compact()`` and saving take the lock exclusively: searches
/// wait for them, and they wait for searches in flight. Guarantees:
/// - a search never crashes or returns an id that was never added, whatever runs beside it;
/// - a vector whose `add` returned before a search started can be found by it (as any vector
///   can: the search is approximate); one added during the search may or may not be;
/// - a vector whose `remove` returned before a search started is never returned by it;
/// - results are always ordered best first with scores computed against the stored vectors.
///
/// `@unchecked Sendable`: every access to the graph goes through the locks described above.
public final class HNSWIndex: @unchecked Sendable {
    /// Components per vector.
    public let dimension: Int
    /// How closeness is measured.
    public let metric: Metric
    /// Graph parameters.
    public let configuration: HNSWConfiguration

    var graph: HNSWGraph
    let rw = ReadWriteLock()
    /// Guards `nodeOfID` and the insertion sequence counter.
    let mapLock = PlainLock()
    var nodeOfID: [UInt64: UInt32] = [:]
    var insertionSequence: UInt64 = 0
    /// The id given to the next vector added without one: one past the largest id ever added.
    var nextDefaultID: UInt64 = 0
    /// [0]: insertions between reserving slots and finishing their links (see `withQuiescentExclusive`).
    let inFlight = AlignedBuffer<UInt64>(count: 8)
    private(set) var scratchPool: ScratchPool<HNSWScratch>

    /// An empty index with room for `capacity` vectors before its first growth.
    /// - Parameters:
    ///   - dimension: Components per vector, at least 1.
    ///   - metric: How closeness is measured.
    ///   - configuration: Graph parameters (default ``HNSWConfiguration/init(m:efConstruction:efSearch:seed:)``'s defaults).
    ///   - capacity: Vectors it holds before its first growth (default 1024).
    /// - Throws: ``IndexError`` for a dimension below 1 or above the index file format's maximum, or an invalid configuration.
    public init(dimension: Int, metric: Metric, configuration: HNSWConfiguration = HNSWConfiguration(), capacity: Int = 1024) throws(IndexError) {
        guard dimension > 0 else { throw .invalidArgument("dimension must be positive, got \(dimension)") }
        // Checked before the graph reserves capacity × dimension floats (a crafted 10^17 would ask for exabytes).
        guard dimension <= IndexFileFormat.maxDimension else {
            throw .invalidArgument("dimension \(dimension) is above \(IndexFileFormat.maxDimension), the most an index file holds")
        }
        try configuration.validate()
        self.dimension = dimension
        self.metric = metric
        self.configuration = configuration
        graph = HNSWGraph(dimension: dimension, metric: metric, m: configuration.m, capacity: max(16, capacity))
        let maxM0 = configuration.maxM0
        // Visited marks grow to the graph on first use; the closure must not keep a graph alive.
        scratchPool = ScratchPool { HNSWScratch(nodes: 1024, maxLinks: maxM0) }
    }

    /// An index over a graph read from a file.
    init(graph: HNSWGraph, configuration: HNSWConfiguration, nodeOfID: [UInt64: UInt32], insertionSequence: UInt64, nextDefaultID: UInt64) {
        self.nextDefaultID = nextDefaultID
        dimension = graph.dimension
        metric = graph.metric
        self.configuration = configuration
        self.graph = graph
        self.nodeOfID = nodeOfID
        self.insertionSequence = insertionSequence
        let maxM0 = configuration.maxM0
        scratchPool = ScratchPool { HNSWScratch(nodes: 1024, maxLinks: maxM0) }
    }

    /// Builds an index over row-major `vectors` on every thread (``Tensors/Threading/threadCount``).
    /// - Parameters:
    ///   - vectors: `count × dimension` floats, row-major.
    ///   - ids: One distinct id per vector, or nil for ids assigned in order (default nil).
    ///   - dimension: Components per vector, at least 1.
    ///   - metric: How closeness is measured.
    ///   - configuration: Graph parameters (default hnswlib's usual ones).
    /// - Throws: ``IndexError`` as ``add(_:ids:)`` does.
    public convenience init(vectors: [Float], ids: [UInt64]? = nil, dimension: Int, metric: Metric,
                            configuration: HNSWConfiguration = HNSWConfiguration()) throws(IndexError) {
        try self.init(dimension: dimension, metric: metric, configuration: configuration, capacity: max(16, vectors.count / max(1, dimension)))
        try add(vectors, ids: ids)
    }

    // MARK: - Size

    /// Live vectors (added and not removed).
    public var count: Int { rw.withShared { graph.slotCount - graph.tombstones } }
    /// Removed vectors whose nodes still route searches until ``compact()``.
    public var tombstoneCount: Int { rw.withShared { graph.tombstones } }
    /// Node slots before the next growth.
    public var capacity: Int { rw.withShared { graph.capacity } }

    /// True when a live vector has this id.
    public func contains(_ id: UInt64) -> Bool { mapLock.withLock { nodeOfID[id] != nil } }

    /// The ids of the live vectors, in node order.
    public var ids: [UInt64] {
        rw.withShared {
            let n = graph.slotCount
            return (0..<n).compactMap { s in
                let node = UInt32(s)
                return graph.isReady(node) && !graph.isDeleted(node) ? graph.labels[s] : nil
            }
        }
    }

    /// The stored vector for `id` (normalised under cosine), or nil.
    public func vector(for id: UInt64) -> [Float]? {
        rw.withShared {
            guard let node = mapLock.withLock({ nodeOfID[id] }) else { return nil }
            return Array(UnsafeBufferPointer(start: graph.vector(node), count: dimension))
        }
    }

    // MARK: - Adding

    /// Adds row-major vectors, inserting them on every thread when there are many.
    ///
    /// - Parameter ids: one per vector; by default consecutive ids from one past the largest id
    ///   added so far (0, 1, 2, … for a fresh index, so ids are row numbers of the input).
    /// - Throws: ``IndexError`` for a ragged array, NaN/Inf (or zero vectors under cosine), or an
    ///   id already present or given twice; nothing is added then.
    public func add(_ vectors: [Float], ids: [UInt64]? = nil) throws(IndexError) {
        guard vectors.count % dimension == 0 else { throw .ragged(count: vectors.count, dimension: dimension) }
        let n = vectors.count / dimension
        guard n > 0 else { return }
        if let ids, ids.count != n { throw .idCountMismatch(vectors: n, ids: ids.count) }
        // Check the vectors before touching the index.
        let prepared = AlignedBuffer<Float>(count: n * dimension, zeroed: false)
        try vectors.withUnsafeBufferPointer { (b) throws(IndexError) in
            try VectorPreparation.copy(b.baseAddress!, rows: n, dimension: dimension, metric: metric, into: prepared.pointer, stride: dimension)
        }
        let first = try reserve(n, ids: ids, replacing: false)
        do {
            defer { _ = ck_ix_fetch_add_u64(inFlight.pointer, UInt64.max) }  // −1: reserve counted this batch
            fill(first: first, count: n, from: prepared)
            insertAll(first: first, count: n)
        }
        // A large batch (a build, or a sixteenth of the graph or more) ends with every node
        // reachable; the walk costs about as much as inserting a sixteenth of the graph again.
        if n >= 64 && n * 16 >= rw.withShared({ graph.slotCount }) {
            _ = withQuiescentExclusive { repairReachabilityLocked() }
        }
    }

    /// Links nodes that pruning left without a way in (see ``HNSWGraph/repairReachability(ef:scratch:)``).
    /// The caller holds the exclusive lock with no insertion in flight, or owns the index alone.
    @discardableResult
    func repairReachabilityLocked() -> Int {
        scratchPool.with { scratch in graph.repairReachability(ef: configuration.efConstruction, scratch: scratch) }
    }

    /// Adds one vector under `id`, or replaces the vector already stored under it: the old node
    /// becomes a tombstone and the new one is inserted (so concurrent searches see one or the
    /// other, never a half-written vector).
    public func upsert(_ vector: [Float], id: UInt64) throws(IndexError) {
        guard vector.count == dimension else { throw .dimensionMismatch(expected: dimension, got: vector.count) }
        let prepared = AlignedBuffer<Float>(count: dimension, zeroed: false)
        try vector.withUnsafeBufferPointer { (b) throws(IndexError) in
            try VectorPreparation.copy(b.baseAddress!, rows: 1, dimension: dimension, metric: metric, into: prepared.pointer, stride: dimension)
        }
        let first = try reserve(1, ids: [id], replacing: true)
        defer { _ = ck_ix_fetch_add_u64(inFlight.pointer, UInt64.max) }
        fill(first: first, count: 1, from: prepared)
        insertAll(first: first, count: 1)
    }

    /// Hands out `n` slots, growing the arrays under the exclusive lock when they are full, and
    /// records the ids (tombstoning replaced nodes when `replacing`). Everything that can fail is
    /// checked before a slot is taken, so a refused add leaves no trace.
    private func reserve(_ n: Int, ids: [UInt64]?, replacing: Bool) throws(IndexError) -> Int {
        while true {
            let first: Int? = try rw.withShared { () throws(IndexError) -> Int? in
                // Every reservation happens under mapLock, so nothing else takes slots meanwhile.
                try mapLock.withLock { () throws(IndexError) -> Int? in
                    let assigned = ids ?? (0..<n).map { nextDefaultID + UInt64($0) }
                    var seen = Set<UInt64>(minimumCapacity: n)
                    for id in assigned where (!replacing && nodeOfID[id] != nil) || !seen.insert(id).inserted { throw .duplicateID(id) }
                    guard let first = graph.reserveSlots(n) else { return nil }
                    // Counted while the shared lock is held, so a compaction or save that takes the
                    // exclusive lock next sees it and waits.
                    _ = ck_ix_fetch_add_u64(inFlight.pointer, 1)
                    var replaced = 0
                    for (j, id) in assigned.enumerated() {
                        let node = UInt32(first + j)
                        if let old = nodeOfID.updateValue(node, forKey: id) {
                            graph.setFlag(old, HNSWGraph.flagDeleted)
                            replaced += 1
                        }
                        nextDefaultID = max(nextDefaultID, id &+ 1)
                        graph.labels[first + j] = id
                        let level = HNSWGraph.level(sequence: insertionSequence, seed: configuration.seed, m: configuration.m)
                        insertionSequence += 1
                        graph.allocateUpper(node, level: level)
                    }
                    if replaced > 0 { graph.addTombstones(replaced) }
                    return first
                }
            }
            if let first { return first }
            guard graph.capacity + n < Int(UInt32.max) else { throw .capacityExceeded(graph.capacity + n) }
            rw.withExclusive {
                let used = graph.slotCount
                if used + n > graph.capacity { graph.grow(to: max(used + n, graph.capacity * 2)) }
            }
        }
    }

    /// Copies prepared vectors into their slots and marks them ready (slots are private until linked).
    private func fill(first: Int, count n: Int, from prepared: AlignedBuffer<Float>) {
        rw.withShared {
            graph.vectors.advanced(by: first * dimension).update(from: prepared.pointer, count: n * dimension)
            for j in 0..<n { graph.setFlag(UInt32(first + j), HNSWGraph.flagReady) }
        }
    }

    /// Links slots `first ..< first + n` into the graph, in parallel when there are many. Each
    /// insertion holds the shared lock on its own (never across the parallel loop, which would
    /// deadlock against a writer waiting for the exclusive lock).
    private func insertAll(first: Int, count n: Int) {
        let ef = configuration.efConstruction
        let pool = scratchPool
        let insertOne: @Sendable (Int) -> Void = { [self] j in
            rw.withShared {
                pool.with { scratch in graph.insert(UInt32(first + j), efConstruction: ef, scratch: scratch) }
            }
        }
        var start = 0
        // The first node of an empty graph becomes the entry point; insert it alone.
        if rw.withShared({ graph.entry == nil }) {
            insertOne(0)
            start = 1
        }
        let remaining = n - start
        if remaining <= 0 { return }
        if remaining < 64 {
            for j in start..<n { insertOne(j) }
        } else {
            let offset = start
            Threading.parallelFor(remaining) { j in insertOne(offset + j) }
        }
    }

    // MARK: - Removing

    /// Removes the vector with this id: its node becomes a tombstone that still routes searches
    /// but is never returned. Returns false when the id is unknown. ``compact()`` reclaims them.
    @discardableResult
    public func remove(_ id: UInt64) -> Bool {
        rw.withShared {
            mapLock.withLock {
                guard let node = nodeOfID.removeValue(forKey: id) else { return false }
                graph.setFlag(node, HNSWGraph.flagDeleted)
                graph.addTombstones(1)
                return true
            }
        }
    }

    /// Removes every listed id; returns how many were present.
    @discardableResult
    public func remove(_ ids: some Sequence<UInt64>) -> Int {
        var n = 0
        for id in ids where remove(id) { n += 1 }
        return n
    }

    // MARK: - Searching

    /// The `k` nearest live vectors to `query`, best first.
    ///
    /// - Parameters:
    ///   - ef: the candidate list size (recall rises with it, speed falls); default
    ///     ``HNSWConfiguration/efSearch``, raised to `k` when smaller.
    ///   - filter: only ids it allows are returned. The graph is traversed as usual and the
    ///     filter applied to results; when the filter lets few vectors through (estimated below
    ///     ``filterExactFallback`` of them) the allowed vectors are scanned exactly instead, which
    ///     is both faster and exact there.
    public func search(_ query: [Float], k: Int, ef: Int? = nil, filter: SearchFilter? = nil) throws(IndexError) -> [SearchResult] {
        guard k >= 1 else { throw .invalidArgument("k must be at least 1, got \(k)") }
        let ef = ef ?? configuration.efSearch
        guard ef >= 1 else { throw .invalidArgument("ef must be at least 1, got \(ef)") }
        let q = try query.withUnsafeBufferPointer { (b) throws(IndexError) in try VectorPreparation.query(b, dimension: dimension, metric: metric) }
        return rw.withShared { q.withUnsafeBufferPointer { searchLocked($0.baseAddress!, k: k, ef: ef, filter: filter) } }
    }

    /// Many queries (row-major) on every thread; see ``search(_:k:ef:filter:)``.
    public func search(queries: [Float], k: Int, ef: Int? = nil, filter: SearchFilter? = nil) throws(IndexError) -> SearchResults {
        guard k >= 1 else { throw .invalidArgument("k must be at least 1, got \(k)") }
        let ef = ef ?? configuration.efSearch
        guard ef >= 1 else { throw .invalidArgument("ef must be at least 1, got \(ef)") }
        let q = try queries.withUnsafeBufferPointer { (b) throws(IndexError) in try VectorPreparation.queries(b, dimension: dimension, metric: metric) }
        let nq = q.count / dimension
        var ids = [UInt64](repeating: SearchResults.missing, count: nq * k)
        var scores = [Float](repeating: .nan, count: nq * k)
        let dim = dimension
        let perTask = 16
        ids.withUnsafeMutableBufferPointer { ip in
            scores.withUnsafeMutableBufferPointer { sp in
                q.withUnsafeBufferPointer { qp in
                    // Tasks write disjoint rows of the outputs and only read the queries; all
                    // three arrays outlive the loop.
                    let shared = Unchecked((ip.baseAddress!, sp.baseAddress!, qp.baseAddress!))
                    Threading.parallelFor((nq + perTask - 1) / perTask) { [self] t in
                        let (ids, scores, queries) = shared.value
                        for j in (t * perTask)..<min(nq, (t + 1) * perTask) {
                            let hits = rw.withShared { searchLocked(queries + j * dim, k: k, ef: ef, filter: filter) }
                            for (i, h) in hits.enumerated() {
                                ids[j * k + i] = h.id
                                scores[j * k + i] = h.score
                            }
                        }
                    }
                }
            }
        }
        return SearchResults(queries: nq, k: k, ids: ids, scores: scores)
    }

    /// A filter that lets fewer vectors through than this is answered by an exact scan of the
    /// allowed vectors rather than a graph search (the graph would have to visit most of the
    /// index to find them).
    public var filterExactFallback: Int { max(2_000, graph.capacity / 50) }

    /// Search under the shared lock.
    func searchLocked(_ q: UnsafePointer<Float>, k: Int, ef: Int, filter: SearchFilter?) -> [SearchResult] {
        if let filter, estimatedAllowed(filter) < filterExactFallback {
            return exactFiltered(q, k: k, filter: filter)
        }
        return scratchPool.with { scratch in
            graph.search(q, k: k, ef: ef, admission: filter.map { .filtered($0) } ?? .live, scratch: scratch)
                .map { SearchResult(id: graph.labels[Int($0.node)], score: metric.score(fromDistance: $0.distance)) }
        }
    }

    /// How many live vectors a filter allows: exact for an id set, else from a sample of nodes.
    func estimatedAllowed(_ filter: SearchFilter) -> Int {
        if let n = filter.explicitCount { return n }
        let slots = graph.slotCount
        guard slots > 0 else { return 0 }
        let samples = min(slots, 512)
        var live = 0, allowed = 0
        for i in 0..<samples {
            let node = UInt32(i * slots / samples)
            guard graph.isReady(node), !graph.isDeleted(node) else { continue }
            live += 1
            if filter.allows(graph.labels[Int(node)]) { allowed += 1 }
        }
        guard live > 0 else { return 0 }
        return (slots - graph.tombstones) * allowed / live
    }

    /// The exact answer over the vectors a filter allows (the fallback for selective filters).
    func exactFiltered(_ q: UnsafePointer<Float>, k: Int, filter: SearchFilter) -> [SearchResult] {
        let distance = graph.distanceFunction
        let dim = Int64(dimension)
        var heap = KeyHeap<MaxFirst>(capacity: k + 1)
        defer { heap.deallocate() }
        func offer(_ node: UInt32) {
            guard graph.isReady(node), !graph.isDeleted(node), filter.allows(graph.labels[Int(node)]) else { return }
            let key = packKey(distance(q, graph.vector(node), dim), node)
            if heap.count < k { heap.push(key) } else if key < heap.top { heap.pop(); heap.push(key) }
        }
        if case .ids(let set) = filter.kind, set.count * 8 < graph.slotCount {
            let nodes = mapLock.withLock { set.compactMap { nodeOfID[$0] } }
            for node in nodes { offer(node) }
        } else {
            for s in 0..<graph.slotCount { offer(UInt32(s)) }
        }
        return heap.sortedAscending().map { SearchResult(id: graph.labels[Int(keyNode($0))], score: metric.score(fromDistance: keyDistance($0))) }
    }
}
