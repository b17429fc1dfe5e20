import Core
import CKernels

/// The memory of an HNSW graph: one slot per node, with its vector, id, layer, flags, lock and
/// neighbour lists.
///
/// Layout. Every array is indexed by slot. Layer-0 lists are fixed-size records of
/// `links0Stride` words: `[count, n₀, n₁, …]` (up to `maxM0` neighbours, padded to whole cache
/// lines). A node on layer `L > 0` also owns `L` records of `1 + m` words for layers 1...L,
/// allocated when it is inserted (`upper[slot]`). Flags: `ready` once the vector is written,
/// `deleted` for tombstones, `ownsUpper` when `upper[slot]` was allocated (rather than pointing
/// into a mapped file).
///
/// Concurrency (enforced by ``HNSWIndex``): the arrays are replaced only by ``grow(to:)`` and by
/// compaction, under the index's exclusive lock. Under the shared lock, writers change a node's
/// lists only while holding that node's spin lock, and store each neighbour id, then the count,
/// with release ordering; readers load them with acquire ordering and without locks. A reader may
/// therefore see a list mid-rewrite — a mix of old and new neighbours, each a valid, fully written
/// node — which can change which nodes a search visits but never makes it read out of bounds.
///
/// `@unchecked Sendable`: the protocol above is the synchronisation; see ``HNSWIndex``.
final class HNSWGraph: @unchecked Sendable {
    static let flagReady: UInt8 = 1
    static let flagDeleted: UInt8 = 2
    static let flagOwnsUpper: UInt8 = 4
    /// Layers above 0 a node can have (levels are drawn as ⌊−ln U / ln M⌋, so 31 is never reached
    /// in practice; the cap keeps crafted files and bad seeds harmless).
    static let maxLevel = 31

    let dimension: Int
    let metric: Metric
    let m: Int
    let maxM0: Int
    let links0Stride: Int
    let upperStride: Int

    private(set) var capacity: Int
    private(set) var vectors: UnsafeMutablePointer<Float>
    private(set) var links0: UnsafeMutablePointer<UInt32>
    private(set) var upper: UnsafeMutablePointer<UnsafeMutablePointer<UInt32>?>
    private(set) var levels: UnsafeMutablePointer<UInt8>
    private(set) var flags: UnsafeMutablePointer<UInt8>
    private(set) var labels: UnsafeMutablePointer<UInt64>
    private(set) var locks: UnsafeMutablePointer<UInt32>
    /// [0] slots handed out, [1] entry point (packed, 0 = none), [2] tombstones, [3] entry lock.
    let counters = AlignedBuffer<UInt64>(count: 8)
    /// The aligned buffers the arrays live in.
    private var buffers: [AnyObject] = []
    /// A loaded file's mapping: arrays (until the first growth) and upper records (until
    /// compaction) may point into it, so it lives as long as the graph.
    private let fileOwner: AnyObject?

    init(dimension: Int, metric: Metric, m: Int, capacity: Int) {
        self.dimension = dimension
        self.metric = metric
        self.m = m
        maxM0 = 2 * m
        links0Stride = (1 + 2 * m + 15) / 16 * 16
        upperStride = 1 + m
        self.capacity = max(1, capacity)
        let vb = AlignedBuffer<Float>(count: self.capacity * dimension, zeroed: false)
        let lb = AlignedBuffer<UInt32>(count: self.capacity * links0Stride)
        let ub = AlignedBuffer<UnsafeMutablePointer<UInt32>?>(count: self.capacity)
        let levb = AlignedBuffer<UInt8>(count: self.capacity)
        let fb = AlignedBuffer<UInt8>(count: self.capacity)
        let labb = AlignedBuffer<UInt64>(count: self.capacity, zeroed: false)
        let lockb = AlignedBuffer<UInt32>(count: self.capacity)
        vectors = vb.pointer
        links0 = lb.pointer
        upper = ub.pointer
        levels = levb.pointer
        flags = fb.pointer
        labels = labb.pointer
        locks = lockb.pointer
        buffers = [vb, lb, ub, levb, fb, labb, lockb]
        fileOwner = nil
    }

    /// A graph over arrays that already exist (a loaded file): `slots` nodes, `capacity == slots`.
    /// `owner` keeps the memory alive; `upperOwned` says whether `upper` entries were allocated
    /// (and must be freed) or point into `owner`.
    init(dimension: Int, metric: Metric, m: Int, slots: Int, vectors: UnsafeMutablePointer<Float>,
         links0: UnsafeMutablePointer<UInt32>, upper: AlignedBuffer<UnsafeMutablePointer<UInt32>?>, levels: UnsafeMutablePointer<UInt8>,
         flags: UnsafeMutablePointer<UInt8>, labels: UnsafeMutablePointer<UInt64>, owner: AnyObject, entry: UInt64, tombstones: Int) {
        self.dimension = dimension
        self.metric = metric
        self.m = m
        maxM0 = 2 * m
        links0Stride = (1 + 2 * m + 15) / 16 * 16
        upperStride = 1 + m
        capacity = slots  // exactly the file's nodes: the first add grows into owned memory
        self.vectors = vectors
        self.links0 = links0
        self.upper = upper.pointer
        self.levels = levels
        self.flags = flags
        self.labels = labels
        let lockb = AlignedBuffer<UInt32>(count: max(1, slots))
        locks = lockb.pointer
        buffers = [upper, lockb]
        fileOwner = owner
        counters.pointer[0] = UInt64(slots)
        counters.pointer[1] = entry
        counters.pointer[2] = UInt64(tombstones)
    }

    deinit {
        let n = slotCount
        for s in 0..<n where flags[s] & Self.flagOwnsUpper != 0 { upper[s]?.deallocate() }
    }

    // MARK: - Counters

    /// Slots handed out so far (inserted nodes and tombstones; some may still be mid-insert).
    @inline(__always) var slotCount: Int { Int(ck_ix_load_u64(counters.pointer)) }
    @inline(__always) var tombstones: Int { Int(ck_ix_load_u64(counters.pointer + 2)) }

    /// The entry point: node and its level, or nil while the graph is empty.
    @inline(__always) var entry: (node: UInt32, level: Int)? {
        let e = ck_ix_load_u64(counters.pointer + 1)
        if e == 0 { return nil }
        return (UInt32(truncatingIfNeeded: (e >> 8) - 1), Int(e & 0xFF))
    }

    static func packEntry(node: UInt32, level: Int) -> UInt64 { (UInt64(node) + 1) << 8 | UInt64(level) }

    /// Makes `node` the entry point if the graph is empty or `level` is above the current top.
    /// Returns true when it did.
    @discardableResult
    func offerEntry(node: UInt32, level: Int) -> Bool {
        let lock = UnsafeMutableRawPointer(counters.pointer + 3).assumingMemoryBound(to: UInt32.self)
        ck_ix_lock(lock)
        defer { ck_ix_unlock(lock) }
        if let e = entry, e.level >= level { return false }
        ck_ix_store_u64(counters.pointer + 1, Self.packEntry(node: node, level: level))
        return true
    }

    func setEntry(_ e: (node: UInt32, level: Int)?) {
        ck_ix_store_u64(counters.pointer + 1, e.map { Self.packEntry(node: $0.node, level: $0.level) } ?? 0)
    }

    /// Hands out `n` consecutive slots, or returns nil when they do not fit in the capacity.
    func reserveSlots(_ n: Int) -> Int? {
        while true {
            let s = ck_ix_load_u64(counters.pointer)
            guard Int(s) + n <= capacity else { return nil }
            if ck_ix_cas_u64(counters.pointer, s, s + UInt64(n)) != 0 { return Int(s) }
        }
    }

    func addTombstones(_ n: Int) { _ = ck_ix_fetch_add_u64(counters.pointer + 2, UInt64(bitPattern: Int64(n))) }

    // MARK: - Nodes

    @inline(__always) func vector(_ node: UInt32) -> UnsafeMutablePointer<Float> { vectors + Int(node) * dimension }

    /// The record `[count, ids…]` of `node` on `level`.
    @inline(__always)
    func links(_ node: UInt32, level: Int) -> UnsafeMutablePointer<UInt32> {
        level == 0 ? links0 + Int(node) * links0Stride : upper[Int(node)]! + (level - 1) * upperStride
    }

    @inline(__always) func maxLinks(level: Int) -> Int { level == 0 ? maxM0 : m }

    @inline(__always) func isDeleted(_ node: UInt32) -> Bool { ck_ix_load_u8(flags + Int(node)) & Self.flagDeleted != 0 }
    @inline(__always) func isReady(_ node: UInt32) -> Bool { ck_ix_load_u8(flags + Int(node)) & Self.flagReady != 0 }

    func setFlag(_ node: UInt32, _ flag: UInt8) {
        let p = flags + Int(node)
        ck_ix_store_u8(p, ck_ix_load_u8(p) | flag)
    }

    @inline(__always) func lock(_ node: UInt32) { ck_ix_lock(locks + Int(node)) }
    @inline(__always) func unlock(_ node: UInt32) { ck_ix_unlock(locks + Int(node)) }

    /// Prepares slot `node` for `level`: allocates its upper records (empty lists).
    func allocateUpper(_ node: UInt32, level: Int) {
        levels[Int(node)] = UInt8(level)
        links0[Int(node) * links0Stride] = 0
        if level > 0 {
            let p = UnsafeMutablePointer<UInt32>.allocate(capacity: level * upperStride)
            p.initialize(repeating: 0, count: level * upperStride)
            upper[Int(node)] = p
            flags[Int(node)] |= Self.flagOwnsUpper
        } else {
            upper[Int(node)] = nil
        }
    }

    // MARK: - Growth

    /// Moves every array to new memory of `newCapacity` slots. Exclusive lock only.
    func grow(to newCapacity: Int) {
        guard newCapacity > capacity else { return }
        let n = slotCount
        func move<T>(_ old: UnsafeMutablePointer<T>, _ stride: Int, zeroed: Bool = true) -> (UnsafeMutablePointer<T>, AlignedBuffer<T>) {
            let b = AlignedBuffer<T>(count: newCapacity * stride, zeroed: zeroed)
            b.pointer.update(from: old, count: n * stride)
            return (b.pointer, b)
        }
        let (v, vb) = move(vectors, dimension, zeroed: false)
        let (l, lb) = move(links0, links0Stride)
        let (u, ub) = move(upper, 1)
        let (lv, lvb) = move(levels, 1)
        let (f, fb) = move(flags, 1)
        let (lab, labb) = move(labels, 1, zeroed: false)
        let lockb = AlignedBuffer<UInt32>(count: newCapacity)
        vectors = v
        links0 = l
        upper = u
        levels = lv
        flags = f
        labels = lab
        locks = lockb.pointer
        buffers = [vb, lb, ub, lvb, fb, labb, lockb]
        capacity = newCapacity
    }
}
