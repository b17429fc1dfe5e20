import CKernels

/// Per-search working memory: visited marks, the two heaps, and neighbour buffers. Pooled by the
/// index, so a search allocates nothing once warm.
///
/// `@unchecked Sendable`: used by one search at a time (taken from and returned to a
/// ``ScratchPool``).
final class HNSWScratch: @unchecked Sendable {
    var visited: VisitedMarks
    var candidates: KeyHeap<MinFirst>
    var results: KeyHeap<MaxFirst>
    let neighbours: UnsafeMutablePointer<UInt32>
    let distances: UnsafeMutablePointer<Float>
    let width: Int

    init(nodes: Int, maxLinks: Int) {
        visited = VisitedMarks(capacity: nodes)
        candidates = KeyHeap(capacity: 256)
        results = KeyHeap(capacity: 256)
        width = maxLinks + 1
        neighbours = .allocate(capacity: width)
        distances = .allocate(capacity: width)
    }

    deinit {
        visited.deallocate()
        candidates.deallocate()
        results.deallocate()
        neighbours.deallocate()
        distances.deallocate()
    }
}

/// What a layer search may put in its results (it traverses every node regardless).
enum ResultAdmission {
    /// Every node that is not a tombstone.
    case live
    /// Live nodes whose id passes the filter.
    case filtered(SearchFilter)
}

extension HNSWGraph {
    /// The distance function for the ISA in use now.
    var distanceFunction: ck_ix_distance_fn { ck_ix_distance_function(metric.kernel)! }

    /// Greedy descent on one layer: moves to the closest neighbour until none is closer.
    @inline(__always)
    func greedy(_ q: UnsafePointer<Float>, node: inout UInt32, distance: inout Float, level: Int, scratch: HNSWScratch) {
        let kernel = metric.kernel, dim = Int64(dimension), limit = UInt32(capacity)
        let maxLinks = UInt32(m)
        var changed = true
        while changed {
            changed = false
            let record = links(node, level: level)
            let n = min(ck_ix_load_u32(record), maxLinks)
            var count = 0
            for i in 0..<Int(n) {
                let id = ck_ix_load_u32(record + 1 + i)
                if id < limit { scratch.neighbours[count] = id; count += 1 }
            }
            guard count > 0 else { break }
            ck_ix_distances_gather(kernel, q, vectors, Int64(dimension), scratch.neighbours, Int64(count), dim, scratch.distances)
            for i in 0..<count where scratch.distances[i] < distance {
                distance = scratch.distances[i]
                node = scratch.neighbours[i]
                changed = true
            }
        }
    }

    /// Best-first search of one layer from `entry` with a candidate list of `ef` (hnswlib's
    /// `searchBaseLayer`). Leaves up to `ef` admitted nodes in `scratch.results` (a max-heap of
    /// packed keys: the farthest on top).
    func searchLayer(_ q: UnsafePointer<Float>, entry: UInt32, entryDistance: Float, ef: Int, level: Int,
                     admission: ResultAdmission, scratch: HNSWScratch) {
        let kernel = metric.kernel, dim = Int64(dimension)
        let limit = UInt32(capacity)
        let maxLinks = UInt32(maxLinks(level: level))
        let vectors = self.vectors, flags = self.flags, labels = self.labels
        let neighbours = scratch.neighbours, distances = scratch.distances
        var filter: SearchFilter? = nil
        if case .filtered(let f) = admission { filter = f }
        // With tombstones or a filter, results may stay short of ef while candidates remain, so
        // the search only stops early once the results are full (as hnswlib does).
        let mustFill = filter != nil || tombstones > 0

        // The heaps and marks live in locals for the loop: class properties would be checked for
        // exclusive access on every use.
        var visited = scratch.visited
        var candidates = scratch.candidates
        var results = scratch.results
        defer {
            scratch.visited = visited
            scratch.candidates = candidates
            scratch.results = results
        }
        visited.begin(nodes: capacity)
        candidates.removeAll()
        results.removeAll()
        @inline(__always) func admits(_ node: UInt32) -> Bool {
            if ck_ix_load_u8(flags + Int(node)) & HNSWGraph.flagDeleted != 0 { return false }
            if let filter { return filter.allows(labels[Int(node)]) }
            return true
        }
        var lowerBound = Float.infinity
        if admits(entry) {
            results.push(packKey(entryDistance, entry))
            lowerBound = entryDistance
        }
        candidates.push(packKey(entryDistance, entry))
        _ = visited.insert(entry)
        let links0 = self.links0, stride = links0Stride
        let isBase = level == 0

        while !candidates.isEmpty {
            let current = candidates.top
            let currentDistance = keyDistance(current)
            if currentDistance > lowerBound, results.count >= ef || !mustFill { break }
            candidates.pop()
            let record = isBase ? links0 + Int(keyNode(current)) * stride : links(keyNode(current), level: level)
            let n = min(ck_ix_load_u32(record), maxLinks)
            var count = 0
            for i in 0..<Int(n) {
                let id = ck_ix_load_u32(record + 1 + i)
                if id < limit, visited.insert(id) {
                    neighbours[count] = id
                    count += 1
                }
            }
            if count == 0 { continue }
            // The next candidate's links are read next: fetch them while computing distances.
            if !candidates.isEmpty, isBase { ck_ix_prefetch(links0 + Int(keyNode(candidates.top)) * stride) }
            ck_ix_distances_gather(kernel, q, vectors, Int64(dimension), neighbours, Int64(count), dim, distances)
            for i in 0..<count {
                let d = distances[i]
                if results.count < ef || d < lowerBound {
                    let id = neighbours[i]
                    let key = packKey(d, id)
                    candidates.push(key)
                    if admits(id) {
                        results.push(key)
                        if results.count > ef { results.pop() }
                        lowerBound = keyDistance(results.top)
                    }
                }
            }
        }
    }

    /// Descends from the entry point to layer 0 and searches it; returns the up-to-`k` closest
    /// admitted nodes as (distance, node), closest first.
    func search(_ q: UnsafePointer<Float>, k: Int, ef: Int, admission: ResultAdmission, scratch: HNSWScratch) -> [(distance: Float, node: UInt32)] {
        guard let e = entry else { return [] }
        let distance = distanceFunction
        var node = e.node
        var d = distance(q, vector(node), Int64(dimension))
        var level = e.level
        while level > 0 {
            greedy(q, node: &node, distance: &d, level: level, scratch: scratch)
            level -= 1
        }
        searchLayer(q, entry: node, entryDistance: d, ef: max(ef, k), level: 0, admission: admission, scratch: scratch)
        var keys = scratch.results.sortedAscending()
        if keys.count > k { keys.removeSubrange(k...) }
        return keys.map { (keyDistance($0), keyNode($0)) }
    }
}
