import CKernels

extension HNSWGraph {
    /// Which slots layer-0 links reach from the entry point (tombstones included: they still
    /// route searches). Empty when the graph has no entry.
    func reachableFromEntry() -> [Bool] {
        let n = slotCount
        var seen = [Bool](repeating: false, count: n)
        guard let e = entry, Int(e.node) < n else { return seen }
        seen[Int(e.node)] = true
        var stack: [UInt32] = [e.node]
        markReachable(from: &stack, into: &seen)
        return seen
    }

    /// Depth-first walk over layer-0 links from the nodes on `stack`, marking what it reaches.
    private func markReachable(from stack: inout [UInt32], into seen: inout [Bool]) {
        let n = UInt32(seen.count)
        while let s = stack.popLast() {
            let record = links(s, level: 0)
            let count = Int(min(record[0], UInt32(maxM0)))
            for i in 0..<count {
                let t = record[1 + i]
                if t < n, !seen[Int(t)] {
                    seen[Int(t)] = true
                    stack.append(t)
                }
            }
        }
    }

    /// Gives every live node that layer-0 links cannot reach from the entry point an in-link,
    /// so that a search can find it. The heuristic pruning of full neighbour lists (here as in
    /// hnswlib) drops the only in-link of some nodes — exact duplicates and inner-product graphs
    /// lose thousands — and a node nobody links to is never returned. Each stranded node is
    /// linked from the closest reachable node with room in its list (found by a graph search,
    /// then by a scan when the search's candidates are all full); only when no reachable node
    /// has room does a link get replaced, and the walk is then checked again.
    ///
    /// Single-threaded; the caller holds the index's exclusive lock with no insertion in flight.
    /// Returns how many nodes were linked.
    @discardableResult
    func repairReachability(ef: Int, scratch: HNSWScratch) -> Int {
        guard entry != nil else { return 0 }
        let n = slotCount
        let distance = distanceFunction
        let dim = Int64(dimension)
        var linked = 0
        for _ in 0..<4 {
            var seen = reachableFromEntry()
            let stranded = (0..<n).filter { !seen[$0] && isReady(UInt32($0)) && !isDeleted(UInt32($0)) }
            if stranded.isEmpty { return linked }
            var replacedAny = false
            for s in stranded where !seen[s] {
                let u = UInt32(s)
                let q = UnsafePointer(vector(u))
                // Candidates: the search's answer, closest first, limited to reached nodes (the
                // descent through upper layers can land outside the reached part).
                let found = search(q, k: ef, ef: ef, admission: .live, scratch: scratch).map(\.node).filter { seen[Int($0)] }
                var source = found.first { links(UInt32($0), level: 0)[0] < UInt32(maxM0) }
                if source == nil {
                    var best: (d: Float, node: UInt32)? = nil
                    for t in 0..<n where seen[t] && links(UInt32(t), level: 0)[0] < UInt32(maxM0) {
                        let d = distance(q, vector(UInt32(t)), dim)
                        if best == nil || d < best!.d { best = (d, UInt32(t)) }
                    }
                    source = best?.node
                }
                if let source {
                    let record = links(source, level: 0)
                    let count = Int(record[0])
                    ck_ix_store_u32(record + 1 + count, u)
                    ck_ix_store_u32(record, UInt32(count + 1))
                } else {
                    // Every reached list is full: replace the farthest link of the closest node.
                    let at = found.first ?? entry!.node
                    let record = links(at, level: 0)
                    let base = vector(at)
                    let count = Int(record[0])
                    var worst = 0
                    var worstDistance = -Float.infinity
                    for i in 0..<count {
                        let d = distance(base, vector(record[1 + i]), dim)
                        if d > worstDistance { worstDistance = d; worst = i }
                    }
                    ck_ix_store_u32(record + 1 + worst, u)
                    replacedAny = true
                }
                linked += 1
                seen[s] = true
                var stack = [u]
                markReachable(from: &stack, into: &seen)
            }
            if !replacedAny { return linked }
        }
        return linked
    }
}
