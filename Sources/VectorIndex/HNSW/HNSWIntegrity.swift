/// Structural checks of an HNSW graph, for tests after concurrent mutation, compaction and
/// loading: what a search relies on but never verifies on its hot path.
extension HNSWGraph {
    /// Every broken invariant, described (empty when the graph is sound): link counts within
    /// their lists, targets in range, no self-loops, no link listed twice, upper-layer links only
    /// to nodes that exist on that layer, an entry point at the top level, and — when
    /// `reachability` — every live node reachable from the entry point on layer 0 (single
    /// upserts do not repair reachability; batches, saves and compaction do).
    func integrityProblems(reachability: Bool) -> [String] {
        var problems: [String] = []
        let n = slotCount
        let ready = (0..<n).filter { isReady(UInt32($0)) }
        guard let e = entry else {
            if !ready.isEmpty { problems.append("no entry point for \(ready.count) nodes") }
            return problems
        }
        if Int(e.node) >= n { return ["the entry point \(e.node) is beyond the \(n) slots"] }
        if Int(levels[Int(e.node)]) != e.level { problems.append("the entry point's level \(e.level) is not its node's \(levels[Int(e.node)])") }
        for s in ready {
            let node = UInt32(s), top = Int(levels[s])
            if top > e.level { problems.append("node \(s) at level \(top) is above the entry point's \(e.level)") }
            for level in 0...top {
                let record = links(node, level: level)
                let count = Int(record[0])
                guard count <= maxLinks(level: level) else {
                    problems.append("node \(s) lists \(count) links on level \(level), at most \(maxLinks(level: level))")
                    continue
                }
                var seen = Set<UInt32>()
                for i in 0..<count {
                    let t = record[1 + i]
                    if Int(t) >= n { problems.append("node \(s) links to \(t) on level \(level), beyond the \(n) slots"); continue }
                    if t == node { problems.append("node \(s) links to itself on level \(level)") }
                    if !seen.insert(t).inserted { problems.append("node \(s) lists \(t) twice on level \(level)") }
                    if Int(levels[Int(t)]) < level { problems.append("node \(s) links to \(t) on level \(level), above \(t)'s top level \(levels[Int(t)])") }
                }
            }
        }
        if reachability {
            let reached = reachableFromEntry()
            let stranded = ready.filter { !reached[$0] && !isDeleted(UInt32($0)) }
            if !stranded.isEmpty { problems.append("\(stranded.count) live nodes are unreachable from the entry point, e.g. \(stranded.prefix(5))") }
        }
        return problems
    }
}

extension HNSWIndex {
    /// The graph's broken invariants (see `HNSWGraph.integrityProblems(reachability:)`), read
    /// under the exclusive lock with no insertion in flight.
    func integrityProblems(reachability: Bool = true) -> [String] {
        withQuiescentExclusive { graph.integrityProblems(reachability: reachability) }
    }
}
