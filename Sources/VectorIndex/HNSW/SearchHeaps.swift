/// (distance, node) pairs packed into one `UInt64` so that heap comparisons are single integer
/// compares: the high 32 bits order like the float distance, the low 32 bits hold the node
/// (so equal distances order by node).
@inline(__always)
func packKey(_ distance: Float, _ node: UInt32) -> UInt64 {
    let bits = distance.bitPattern
    // Negative floats order backwards as integers: flip all their bits; set the sign of the others.
    let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    return UInt64(ordered) << 32 | UInt64(node)
}

@inline(__always)
func keyDistance(_ key: UInt64) -> Float {
    let ordered = UInt32(truncatingIfNeeded: key >> 32)
    let bits = ordered & 0x8000_0000 != 0 ? ordered & 0x7FFF_FFFF : ~ordered
    return Float(bitPattern: bits)
}

@inline(__always)
func keyNode(_ key: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: key) }

/// Which key a ``KeyHeap`` keeps on top: the smallest (``MinFirst``) or the largest (``MaxFirst``).
protocol KeyHeapOrder {
    /// True when `a` belongs above `b`.
    static func above(_ a: UInt64, _ b: UInt64) -> Bool
}

/// A min-heap: the candidates of a graph search, nearest first.
enum MinFirst: KeyHeapOrder {
    @inline(__always) static func above(_ a: UInt64, _ b: UInt64) -> Bool { a < b }
}

/// A max-heap: the results of a graph search, the farthest kept on top to be replaced.
enum MaxFirst: KeyHeapOrder {
    @inline(__always) static func above(_ a: UInt64, _ b: UInt64) -> Bool { a > b }
}

/// A binary heap of packed keys on raw memory, ordered by `Order` (one implementation for the
/// min-heap of candidates and the max-heap of results; the order is a type, so each is
/// specialised with a plain integer compare). Grows by doubling.
struct KeyHeap<Order: KeyHeapOrder> {
    private(set) var storage: UnsafeMutablePointer<UInt64>
    private(set) var capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(16, capacity)
        storage = .allocate(capacity: self.capacity)
    }

    func deallocate() { storage.deallocate() }

    @inline(__always) mutating func removeAll() { count = 0 }
    @inline(__always) var isEmpty: Bool { count == 0 }
    @inline(__always) var top: UInt64 { storage[0] }

    private mutating func grow() {
        let bigger = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity * 2)
        bigger.update(from: storage, count: count)
        storage.deallocate()
        storage = bigger
        capacity *= 2
    }

    /// Adds `key`, sifting it up.
    @inline(__always)
    mutating func push(_ key: UInt64) {
        if count == capacity { grow() }
        var j = count
        count += 1
        while j > 0 {
            let p = (j - 1) >> 1
            let pk = storage[p]
            if !Order.above(key, pk) { break }
            storage[j] = pk
            j = p
        }
        storage[j] = key
    }

    /// Removes the top, sifting the last key down.
    @inline(__always)
    mutating func pop() {
        count -= 1
        if count == 0 { return }
        let key = storage[count]
        var j = 0
        while true {
            var c = 2 * j + 1
            if c >= count { break }
            if c + 1 < count, Order.above(storage[c + 1], storage[c]) { c += 1 }
            if !Order.above(storage[c], key) { break }
            storage[j] = storage[c]
            j = c
        }
        storage[j] = key
    }

    /// The keys in ascending order (consumes nothing; copies).
    func sortedAscending() -> [UInt64] {
        Array(UnsafeBufferPointer(start: storage, count: count)).sorted()
    }
}

/// "Visited" marks for one graph search at a time: an epoch counter per node, so that clearing
/// between searches is one increment instead of a pass over every node.
struct VisitedMarks {
    private(set) var marks: UnsafeMutablePointer<UInt16>
    private(set) var capacity: Int
    private var epoch: UInt16 = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        marks = .allocate(capacity: self.capacity)
        marks.initialize(repeating: 0, count: self.capacity)
    }

    func deallocate() { marks.deallocate() }

    /// Starts a search over `nodes` node slots.
    @inline(__always)
    mutating func begin(nodes: Int) {
        if nodes > capacity {
            marks.deallocate()
            capacity = max(nodes, capacity * 2)
            marks = .allocate(capacity: capacity)
            marks.initialize(repeating: 0, count: capacity)
            epoch = 0
        }
        epoch &+= 1
        if epoch == 0 {
            marks.update(repeating: 0, count: capacity)
            epoch = 1
        }
    }

    /// Marks `node`; returns false when it was already marked in this search.
    @inline(__always)
    func insert(_ node: UInt32) -> Bool {
        let p = marks + Int(node)
        if p.pointee == epoch { return false }
        p.pointee = epoch
        return true
    }
}
