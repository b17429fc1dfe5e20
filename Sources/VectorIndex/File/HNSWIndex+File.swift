import Core
import CKernels

extension HNSWIndex {
    /// Saves the graph atomically (temporary file, fsync, rename); tombstones are kept (call
    /// ``compact()`` first to drop them). Holds the exclusive lock while writing, after in-flight
    /// insertions finish, so the file is a consistent snapshot.
    ///
    /// - Parameters:
    ///   - fingerprint: the model that made the vectors, stored in the file.
    ///   - names: string ids of the vectors, saved in the same file (see ``IndexNames``).
    public func save(to path: String, fingerprint: String? = nil, names: IndexNames? = nil) throws(IndexFileError) {
        try save(to: path, fingerprint: fingerprint, names: names, failAfterBytes: nil)
    }

    func save(to path: String, fingerprint: String?, names: IndexNames? = nil, failAfterBytes: Int?) throws(IndexFileError) {
        try withQuiescentExclusive { () throws(IndexFileError) in
            // Single upserts do not run the reachability walk; a saved file always passes it.
            repairReachabilityLocked()
            let g = graph
            let n = g.slotCount
            var parameters = ByteWriter()
            parameters.u32(UInt32(configuration.m))
            parameters.u32(UInt32(configuration.efConstruction))
            parameters.u32(UInt32(configuration.efSearch))
            parameters.u32(0)
            parameters.u64(configuration.seed)
            parameters.u64(ck_ix_load_u64(g.counters.pointer + 1))
            parameters.u64(UInt64(g.tombstones))
            parameters.u64(insertionSequence)
            parameters.u64(nextDefaultID)
            parameters.u64(0)
            // Only the tombstone bit is persistent; `ready` and ownership are properties of memory.
            let flags = (0..<n).map { g.flags[$0] & HNSWGraph.flagDeleted }
            var upper: [UInt32] = []
            for s in 0..<n where g.levels[s] > 0 {
                upper.append(contentsOf: UnsafeBufferPointer(start: g.upper[s]!, count: Int(g.levels[s]) * g.upperStride))
            }
            try withBytes(of: parameters.data) { (pb) throws(IndexFileError) in
                try withBytes(of: flags) { (fb) throws(IndexFileError) in
                    try withBytes(of: upper) { (ub) throws(IndexFileError) in
                        try Annotations.withSections(fingerprint: fingerprint, names: names, path: path) { (optional) throws(IndexFileError) in
                            let sections: [IndexFileFormat.Section] = [
                                .init(tag: "PARM", bytes: pb),
                                .init(tag: "VECS", bytes: UnsafeRawBufferPointer(start: g.vectors, count: n * g.dimension * 4)),
                                .init(tag: "LABL", bytes: UnsafeRawBufferPointer(start: g.labels, count: n * 8)),
                                .init(tag: "LVLS", bytes: UnsafeRawBufferPointer(start: g.levels, count: n)),
                                .init(tag: "FLAG", bytes: fb),
                                .init(tag: "LNK0", bytes: UnsafeRawBufferPointer(start: g.links0, count: n * g.links0Stride * 4)),
                                .init(tag: "LNKU", bytes: ub),
                            ] + optional
                            try IndexFileFormat.write(path: path, kind: .hnsw, metric: metric, dimension: dimension, count: n,
                                                      sections: sections, failAfterBytes: failAfterBytes)
                        }
                    }
                }
            }
        }
    }

    /// Loads a graph saved by ``save(to:fingerprint:)``, memory-mapped: small graphs (and any
    /// graph with `options.copyIntoMemory` off) use vectors and links in place (pages read on
    /// demand, copied only when changed or grown); large ones copy vectors and layer-0 links into
    /// huge-page memory, which searches faster. Every size,
    /// offset, id and link is checked first, so a damaged or crafted file gives an
    /// ``IndexFileError``, never a crash or an oversized allocation.
    public static func load(from path: String, options: IndexLoadOptions = .default) throws(IndexFileError) -> HNSWIndex {
        let c = try IndexFileFormat.Contents(path: path, verifyChecksums: options.verifyChecksums)
        try c.expectKind(.hnsw)
        let n = c.count, dim = c.dimension
        guard n < Int(UInt32.max) else { throw c.error(.malformed("\(n) nodes is more than an index can address")) }
        let p = try c.section("PARM", bytes: 64)
        var r = ByteReader(UnsafeRawBufferPointer(p))
        let m = Int(r.u32()), efConstruction = Int(r.u32()), efSearch = Int(r.u32())
        r.skip(4)
        let seed = r.u64(), entry = r.u64(), tombstones = r.u64(), sequence = r.u64(), nextID = r.u64()
        let configuration = HNSWConfiguration(m: m, efConstruction: efConstruction, efSearch: efSearch, seed: seed)
        do { try configuration.validate() } catch { throw c.error(.malformed("parameters: \(error)")) }
        let links0Stride = (1 + 2 * m + 15) / 16 * 16
        let vectors = try c.section("VECS", bytes: try c.size(n, dim, 4))
        let labels = try c.section("LABL", bytes: try c.size(n, 8))
        let levels = try c.section("LVLS", bytes: n)
        let flags = try c.section("FLAG", bytes: n)
        let links0 = try c.section("LNK0", bytes: try c.size(n, links0Stride, 4))
        try Annotations.check(c)

        let levelBytes = levels.bindMemory(to: UInt8.self)
        var upperWords = 0
        var topLevel = -1
        for s in 0..<n {
            let l = Int(levelBytes[s])
            guard l <= HNSWGraph.maxLevel else { throw c.error(.malformed("node \(s) has level \(l) (at most \(HNSWGraph.maxLevel))")) }
            upperWords += l * (1 + m)
            topLevel = max(topLevel, l)
        }
        let upperSection = try c.section("LNKU", bytes: try c.size(upperWords, 4))
        let v = vectors.baseAddress!.assumingMemoryBound(to: Float.self)
        try c.checkVectors(v, count: n, dimension: dim)

        // Flags: keep the tombstone bit, mark every node ready (it was fully inserted when saved).
        let f = flags.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var deleted = 0
        for s in 0..<n {
            f[s] = (f[s] & HNSWGraph.flagDeleted) | HNSWGraph.flagReady
            if f[s] & HNSWGraph.flagDeleted != 0 { deleted += 1 }
        }
        guard UInt64(deleted) == tombstones else { throw c.error(.malformed("\(deleted) tombstone flags but the header counts \(tombstones)")) }

        // Links: counts within bounds, ids within the graph and present on the layer.
        let l0 = links0.baseAddress!.assumingMemoryBound(to: UInt32.self)
        for s in 0..<n {
            let record = l0 + s * links0Stride
            let count = Int(UInt32(littleEndian: record[0]))
            guard count <= 2 * m else { throw c.error(.malformed("node \(s) has \(count) layer-0 links (at most \(2 * m))")) }
            for j in 0..<count where Int(UInt32(littleEndian: record[1 + j])) >= n {
                throw c.error(.malformed("node \(s) links to node \(UInt32(littleEndian: record[1 + j])) of \(n)"))
            }
        }
        let upperBase = upperSection.baseAddress?.assumingMemoryBound(to: UInt32.self)
        let upper = AlignedBuffer<UnsafeMutablePointer<UInt32>?>(count: max(1, n))
        var offset = 0
        for s in 0..<n {
            let l = Int(levelBytes[s])
            guard l > 0, let upperBase else { upper.pointer[s] = nil; continue }
            let records = upperBase + offset
            upper.pointer[s] = records
            for level in 1...l {
                let record = records + (level - 1) * (1 + m)
                let count = Int(UInt32(littleEndian: record[0]))
                guard count <= m else { throw c.error(.malformed("node \(s) has \(count) links on layer \(level) (at most \(m))")) }
                for j in 0..<count {
                    let target = Int(UInt32(littleEndian: record[1 + j]))
                    guard target < n, Int(levelBytes[target]) >= level else {
                        throw c.error(.malformed("node \(s) links on layer \(level) to node \(target), which is not on that layer"))
                    }
                }
            }
            offset += l * (1 + m)
        }

        // Entry point: the (or a) node on the top layer.
        if n == 0 {
            guard entry == 0 else { throw c.error(.malformed("an empty graph with an entry point")) }
        } else {
            let node = (entry >> 8) &- 1, level = Int(entry & 0xFF)
            guard entry != 0, node < UInt64(n), Int(levelBytes[Int(node)]) == level, level == topLevel else {
                throw c.error(.malformed("the entry point is not a node on the top layer"))
            }
        }

        try checkReachability(c, n: n, entry: entry, links0: l0, stride: links0Stride, upper: upper,
                              levels: UnsafeRawBufferPointer(levelBytes), m: m, flags: f)

        // Ids: unique among live nodes.
        let lab = labels.baseAddress!.assumingMemoryBound(to: UInt64.self)
        var nodeOfID: [UInt64: UInt32] = [:]
        nodeOfID.reserveCapacity(n - deleted)
        var maxID: UInt64? = nil
        for s in 0..<n {
            lab[s] = UInt64(littleEndian: lab[s])
            maxID = max(maxID ?? 0, lab[s])
            guard f[s] & HNSWGraph.flagDeleted == 0 else { continue }
            guard nodeOfID.updateValue(UInt32(s), forKey: lab[s]) == nil else { throw c.error(.malformed("id \(lab[s]) belongs to two live nodes")) }
        }
        #if _endian(big)
        #error("index files are little-endian; a big-endian loader must byte-swap links and vectors")
        #endif
        // Large graphs leave the mapping for huge-page memory (validated above; same bytes).
        var vectorsAt = v, links0At = l0
        var owner: AnyObject = c.file
        if options.copyIntoMemory, n * (dim + links0Stride) * 4 >= AlignedBuffer<Float>.hugePageThreshold {
            let vb = AlignedBuffer<Float>(count: n * dim, zeroed: false)
            let lb = AlignedBuffer<UInt32>(count: n * links0Stride, zeroed: false)
            vb.pointer.update(from: v, count: n * dim)
            lb.pointer.update(from: l0, count: n * links0Stride)
            vectorsAt = vb.pointer
            links0At = lb.pointer
            owner = KeepAlive([c.file, vb, lb])
        }
        let graph = HNSWGraph(dimension: dim, metric: c.metric, m: m, slots: n, vectors: vectorsAt, links0: links0At, upper: upper,
                              levels: levels.baseAddress!.assumingMemoryBound(to: UInt8.self), flags: f, labels: lab,
                              owner: owner, entry: entry, tombstones: deleted)
        let index = HNSWIndex(graph: graph, configuration: configuration, nodeOfID: nodeOfID, insertionSequence: max(sequence, UInt64(n)),
                              nextDefaultID: max(nextID, maxID.map { $0 &+ 1 } ?? 0))
        // Files from before the builder repaired reachability, and crafted ones, may hold live
        // nodes no link leads to: link them now (in private memory; the file is not changed).
        index.repairReachabilityLocked()
        return index
    }
}

extension HNSWIndex {
    /// A graph must give searches somewhere to go: with two or more live nodes, every live node
    /// has a layer-0 link (the builder links each node it inserts, and compaction repairs the
    /// links it drops) and the entry point reaches at least one other node — a crafted graph
    /// without links answered 1 hit where 5 were asked. Not full reachability: the builder's
    /// pruning strands nodes in legitimate graphs (under `dot`, most of them), and a file this
    /// program wrote must load. One pass over the link counts and one breadth-first walk.
    static func checkReachability(_ c: IndexFileFormat.Contents, n: Int, entry: UInt64, links0 l0: UnsafeMutablePointer<UInt32>,
                                  stride: Int, upper: AlignedBuffer<UnsafeMutablePointer<UInt32>?>, levels: UnsafeRawBufferPointer,
                                  m: Int, flags f: UnsafeMutablePointer<UInt8>) throws(IndexFileError) {
        let live = (0..<n).filter { f[$0] & HNSWGraph.flagDeleted == 0 }.count
        guard live > 1 else { return }
        if let isolated = (0..<n).first(where: { f[$0] & HNSWGraph.flagDeleted == 0 && UInt32(littleEndian: (l0 + $0 * stride)[0]) == 0 }) {
            throw c.error(.malformed("live node \(isolated) has no links: a search can never reach past it"))
        }
        let start = Int((entry >> 8) &- 1)
        var seen = [Bool](repeating: false, count: n)
        var stack = [start]
        seen[start] = true
        func visit(_ record: UnsafeMutablePointer<UInt32>) {
            for j in 0..<Int(UInt32(littleEndian: record[0])) {
                let t = Int(UInt32(littleEndian: record[1 + j]))
                if !seen[t] { seen[t] = true; stack.append(t) }
            }
        }
        while let s = stack.popLast() {
            visit(l0 + s * stride)
            if let records = upper.pointer[s] {
                for level in 0..<Int(levels[s]) { visit(records + level * (1 + m)) }
            }
        }
        let reached = (0..<n).filter { seen[$0] && f[$0] & HNSWGraph.flagDeleted == 0 }.count
        guard reached >= 2 else {
            throw c.error(.malformed("only \(reached) of \(live) live nodes can be reached from the entry point through the graph's links"))
        }
    }
}

/// Objects kept alive together (a file mapping and the buffers copied out of it).
private final class KeepAlive {
    let objects: [AnyObject]
    init(_ objects: [AnyObject]) { self.objects = objects }
}
