import CKernels

/// Clustering of embeddings by similarity threshold.
public enum Clustering {
    /// sentence-transformers' `community_detection`: every item with at least
    /// `minCommunitySize` items (itself included) at or above `threshold` proposes the community
    /// of those items, most similar first; proposals are taken largest first, each keeping the
    /// members not already taken, and kept when at least `minCommunitySize` remain.
    ///
    /// Returns communities (row numbers), largest first (ties in the order found: by the
    /// proposing item's row). Members are ordered by similarity to the proposing item (ties by
    /// row). Items in no community are left out. Memory: one tile per thread plus each item's
    /// neighbours above the threshold.
    public static func communities(_ vectors: [Float], dimension: Int, threshold: Float = 0.75, minCommunitySize: Int = 10,
                                   normalize: Bool = true) throws(IndexError) -> [[Int]] {
        guard minCommunitySize >= 1 else { throw .invalidArgument("minCommunitySize must be at least 1") }
        guard threshold.isFinite else { throw .invalidArgument("threshold must be finite") }
        let blocks = try SimilarityBlocks(vectors, dimension: dimension, normalize: normalize)
        let n = blocks.count
        guard n > 0 else { return [] }
        let minSize = min(minCommunitySize, n)
        // Each item's neighbours at or above the threshold, itself included (its own similarity,
        // computed like the others).
        var neighbours = [[(score: Float, row: Int)]](repeating: [], count: n)
        for r in 0..<n {
            let v = blocks.rows.pointer + r * dimension
            let selfScore = ck_ix_dot(v, v, Int64(dimension))
            if selfScore >= threshold { neighbours[r].append((selfScore, r)) }
        }
        SimilarityScan.above(blocks, threshold: threshold, band: 8) { found in
            for p in found {
                neighbours[p.a].append((p.score, p.b))
                neighbours[p.b].append((p.score, p.a))
            }
        }
        return communities(neighbours: neighbours, minCommunitySize: minSize)
    }

    /// ``communities(_:dimension:threshold:minCommunitySize:normalize:)`` from each item's
    /// neighbours at or above the threshold (itself included), however they were found — such as
    /// through a database's ANN index, for a store too large to compare all pairs of: the same
    /// proposals, taken the same way. Rows are indices into `neighbours`.
    public static func communities(neighbours: [[(score: Float, row: Int)]], minCommunitySize: Int) -> [[Int]] {
        let n = neighbours.count
        guard n > 0 else { return [] }
        let minSize = max(1, min(minCommunitySize, n))
        var proposals: [[Int]] = []
        for r in 0..<n where neighbours[r].count >= minSize {
            proposals.append(neighbours[r].sorted { $0.score > $1.score || ($0.score == $1.score && $0.row < $1.row) }.map(\.row))
        }
        // Largest first; a stable sort keeps equal sizes in row order, as Python's sorted does.
        proposals = proposals.enumerated().sorted { $0.element.count > $1.element.count || ($0.element.count == $1.element.count && $0.offset < $1.offset) }.map(\.element)
        var taken = [Bool](repeating: false, count: n)
        var out: [[Int]] = []
        for community in proposals {
            let remaining = community.filter { !taken[$0] }
            if remaining.count >= minSize {
                for r in remaining { taken[r] = true }
                out.append(remaining)
            }
        }
        return out.enumerated().sorted { $0.element.count > $1.element.count || ($0.element.count == $1.element.count && $0.offset < $1.offset) }.map(\.element)
    }

    /// Connected components of the graph linking every pair with similarity at or above
    /// `threshold` (single-linkage clustering at that threshold), largest first, each sorted by
    /// row, ties between equal sizes by smallest row. Components smaller than `minSize` are left
    /// out (with the default 1, every item appears once). Memory: one tile per thread plus
    /// a union-find over the items; pairs are never all held at once.
    public static func connectedComponents(_ vectors: [Float], dimension: Int, threshold: Float, minSize: Int = 1,
                                           normalize: Bool = true) throws(IndexError) -> [[Int]] {
        guard threshold.isFinite else { throw .invalidArgument("threshold must be finite") }
        let blocks = try SimilarityBlocks(vectors, dimension: dimension, normalize: normalize)
        var uf = UnionFind(count: blocks.count)
        SimilarityScan.above(blocks, threshold: threshold, band: 8) { found in
            for p in found { uf.union(p.a, p.b) }
        }
        return uf.groups(minSize: minSize)
    }

    /// ``connectedComponents(_:dimension:threshold:minSize:normalize:)`` of `count` items from
    /// the pairs that link them (each a pair of rows at or above the threshold), however they
    /// were found; the same order and the same `minSize`.
    public static func connectedComponents(count: Int, pairs: some Sequence<(Int, Int)>, minSize: Int = 1) -> [[Int]] {
        var uf = UnionFind(count: count)
        for (a, b) in pairs { uf.union(a, b) }
        return uf.groups(minSize: minSize)
    }
}

/// Disjoint sets with path halving and union by size.
struct UnionFind {
    private var parent: [Int]
    private var size: [Int]

    init(count: Int) {
        parent = Array(0..<count)
        size = [Int](repeating: 1, count: count)
    }

    mutating func find(_ x: Int) -> Int {
        var x = x
        while parent[x] != x {
            parent[x] = parent[parent[x]]
            x = parent[x]
        }
        return x
    }

    /// The sets of at least `minSize` items, largest first, each sorted, ties by smallest item.
    mutating func groups(minSize: Int) -> [[Int]] {
        var groups: [Int: [Int]] = [:]
        for r in 0..<parent.count { groups[find(r), default: []].append(r) }
        return groups.values.filter { $0.count >= max(1, minSize) }
            .sorted { $0.count > $1.count || ($0.count == $1.count && $0[0] < $1[0]) }
    }

    mutating func union(_ a: Int, _ b: Int) {
        var ra = find(a), rb = find(b)
        if ra == rb { return }
        if size[ra] < size[rb] { swap(&ra, &rb) }
        parent[rb] = ra
        size[ra] += size[rb]
    }
}
