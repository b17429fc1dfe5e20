import CKernels
import Foundation

extension HNSWGraph {
    /// The layer of the `sequence`-th inserted node: ⌊−ln U · 1/ln M⌋ with U drawn from a
    /// SplitMix64 stream keyed by the seed, so levels do not depend on thread timing.
    static func level(sequence: UInt64, seed: UInt64, m: Int) -> Int {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* (sequence &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let u = (Double(z >> 11) + 0.5) / Double(1 << 53)  // in (0, 1)
        let level = Int(-Foundation.log(u) / Foundation.log(Double(m)))
        return min(level, maxLevel)
    }

    /// hnswlib's neighbour-selection heuristic: walks the candidates closest first and keeps one
    /// only when it is closer to the base than to every neighbour already kept, so the kept
    /// links point in diverse directions. `candidates` are packed keys sorted ascending.
    func selectNeighbours(_ candidates: [UInt64], max: Int) -> [UInt64] {
        if candidates.count <= max { return candidates }
        let distance = distanceFunction
        let dim = Int64(dimension)
        var kept: [UInt64] = []
        kept.reserveCapacity(max)
        for c in candidates {
            let dc = keyDistance(c)
            let vc = vector(keyNode(c))
            var good = true
            for r in kept where distance(vc, vector(keyNode(r)), dim) < dc {
                good = false
                break
            }
            if good {
                kept.append(c)
                if kept.count >= max { break }
            }
        }
        return kept
    }

    /// Writes `node`'s list on `level` (caller holds the node's lock): ids first, count last.
    @inline(__always)
    func writeLinks(_ node: UInt32, level: Int, _ ids: some Collection<UInt32>) {
        let record = links(node, level: level)
        var i = 1
        for id in ids {
            ck_ix_store_u32(record + i, id)
            i += 1
        }
        ck_ix_store_u32(record, UInt32(i - 1))
    }

    /// Links `node` to the chosen `neighbours` on `level` and each of them back to it, pruning a
    /// full neighbour list with the heuristic (hnswlib's `mutuallyConnectNewElement`).
    func connect(_ node: UInt32, neighbours: [UInt64], level: Int) {
        lock(node)
        writeLinks(node, level: level, neighbours.lazy.map(keyNode))
        unlock(node)
        let maxLinks = maxLinks(level: level)
        let distance = distanceFunction
        let dim = Int64(dimension)
        for key in neighbours {
            let other = keyNode(key)
            guard Int(levels[Int(other)]) >= level else { continue }
            lock(other)
            let record = links(other, level: level)
            let n = Int(min(ck_ix_load_u32(record), UInt32(maxLinks)))
            var present = false
            for i in 0..<n where record[1 + i] == node { present = true }
            if !present {
                if n < maxLinks {
                    ck_ix_store_u32(record + 1 + n, node)
                    ck_ix_store_u32(record, UInt32(n + 1))
                } else {
                    let base = vector(other)
                    var candidates: [UInt64] = [packKey(keyDistance(key), node)]
                    candidates.reserveCapacity(n + 1)
                    for i in 0..<n {
                        let id = record[1 + i]
                        candidates.append(packKey(distance(base, vector(id), dim), id))
                    }
                    candidates.sort()
                    writeLinks(other, level: level, selectNeighbours(candidates, max: maxLinks).lazy.map(keyNode))
                }
            }
            unlock(other)
        }
    }

    /// Inserts the node in `slot` (vector, label and level already written, `ready` set) into the
    /// graph: descend greedily to its top layer, then on each layer down to 0 search with
    /// `efConstruction`, link to the heuristic's choice, and continue from the closest found.
    func insert(_ slot: UInt32, efConstruction: Int, scratch: HNSWScratch) {
        let level = Int(levels[Int(slot)])
        guard let e = entry else {
            if offerEntry(node: slot, level: level) { return }
            return insert(slot, efConstruction: efConstruction, scratch: scratch)
        }
        let q = UnsafePointer(vector(slot))
        let dim = Int64(dimension)
        var node = e.node
        var d = distanceFunction(q, vector(node), dim)
        var lc = e.level
        while lc > level {
            greedy(q, node: &node, distance: &d, level: lc, scratch: scratch)
            lc -= 1
        }
        lc = min(level, e.level)
        while lc >= 0 {
            searchLayer(q, entry: node, entryDistance: d, ef: efConstruction, level: lc, admission: .live, scratch: scratch)
            var found = scratch.results.sortedAscending()
            found.removeAll { keyNode($0) == slot }
            if found.isEmpty {
                // Everything reachable is a tombstone: link to the entry anyway so the node is reachable.
                found = [packKey(d, node)]
            }
            let chosen = selectNeighbours(found, max: m)
            connect(slot, neighbours: chosen, level: lc)
            node = keyNode(found[0])
            d = keyDistance(found[0])
            lc -= 1
        }
        if level > e.level { offerEntry(node: slot, level: level) }
    }
}
