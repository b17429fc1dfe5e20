import CKernels
import Tensors

extension HNSWIndex {
    /// Runs `body` under the exclusive lock once no insertion is between reserving its slots and
    /// linking them (a batch add releases the lock between those steps, and renumbering or saving
    /// a half-inserted node would lose it).
    func withQuiescentExclusive<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        while true {
            rw.lockExclusive()
            if ck_ix_load_u64(inFlight.pointer) == 0 {
                defer { rw.unlockExclusive() }
                return try body()
            }
            rw.unlockExclusive()
            sched_yield()
        }
    }

    /// Reclaims tombstones: every live node that linked to a removed one is relinked (the
    /// heuristic picks from its live neighbours plus the removed neighbours' live neighbours, so
    /// paths through removed nodes survive), then live nodes are renumbered densely into fresh
    /// memory. Takes the exclusive lock: searches wait while it runs. Returns the number of
    /// tombstones reclaimed.
    @discardableResult
    public func compact() -> Int {
        withQuiescentExclusive {
            let old = graph
            let n = old.slotCount
            let removed = old.tombstones
            guard removed > 0 else { return 0 }
            repairLinks(old, nodes: n)
            graph = renumbered(old, nodes: n)
            // Relinking away from tombstones prunes too: give any node it stranded a way in.
            repairReachabilityLocked()
            return removed
        }
    }

    /// Step 1 of compaction: relink live nodes away from tombstones, in parallel. Each task
    /// writes only its own node's lists and reads its own and tombstones' lists (never written
    /// here), so tasks do not race.
    private func repairLinks(_ g: HNSWGraph, nodes n: Int) {
        let chunk = 256
        Threading.parallelFor((n + chunk - 1) / chunk) { c in
            let distance = g.distanceFunction
            let dim = Int64(g.dimension)
            for s in (c * chunk)..<min(n, (c + 1) * chunk) {
                let u = UInt32(s)
                if g.isDeleted(u) { continue }
                for level in 0...Int(g.levels[s]) {
                    let record = g.links(u, level: level)
                    let count = Int(record[0])
                    let ids = (0..<count).map { record[1 + $0] }
                    guard ids.contains(where: { g.isDeleted($0) }) else { continue }
                    var candidates = Set<UInt32>()
                    for id in ids {
                        if !g.isDeleted(id) {
                            candidates.insert(id)
                        } else if Int(g.levels[Int(id)]) >= level {
                            let r = g.links(id, level: level)
                            for j in 0..<Int(r[0]) where r[1 + j] != u && !g.isDeleted(r[1 + j]) { candidates.insert(r[1 + j]) }
                        }
                    }
                    let base = g.vector(u)
                    let keys = candidates.map { packKey(distance(base, g.vector($0), dim), $0) }.sorted()
                    let kept = g.selectNeighbours(keys, max: g.maxLinks(level: level))
                    g.writeLinks(u, level: level, kept.lazy.map(keyNode))
                }
            }
        }
    }

    /// Step 2 of compaction: a new graph holding the live nodes in order, links renumbered.
    private func renumbered(_ old: HNSWGraph, nodes n: Int) -> HNSWGraph {
        var newIndex = [UInt32](repeating: .max, count: n)
        var live = 0
        for s in 0..<n where !old.isDeleted(UInt32(s)) {
            newIndex[s] = UInt32(live)
            live += 1
        }
        let g = HNSWGraph(dimension: old.dimension, metric: old.metric, m: old.m, capacity: max(16, live))
        _ = g.reserveSlots(live)
        var top: (node: UInt32, level: Int)? = nil
        var ids: [UInt64: UInt32] = [:]
        ids.reserveCapacity(live)
        for s in 0..<n {
            let t = newIndex[s]
            guard t != .max else { continue }
            let level = Int(old.levels[s])
            g.vector(t).update(from: old.vector(UInt32(s)), count: old.dimension)
            g.labels[Int(t)] = old.labels[s]
            ids[old.labels[s]] = t
            g.allocateUpper(t, level: level)
            g.setFlag(t, HNSWGraph.flagReady)
            for l in 0...level {
                let r = old.links(UInt32(s), level: l)
                let mapped = (0..<Int(r[0])).compactMap { j -> UInt32? in
                    let target = newIndex[Int(r[1 + j])]
                    return target == .max ? nil : target
                }
                g.writeLinks(t, level: l, mapped)
            }
            if top == nil || level > top!.level { top = (t, level) }
        }
        if let e = old.entry, newIndex[Int(e.node)] != .max {
            g.setEntry((newIndex[Int(e.node)], e.level))
        } else {
            g.setEntry(top)
        }
        nodeOfID = ids
        return g
    }
}
