import Core

/// One hit of a search: the id the vector was added with and its score under the index's
/// ``Metric`` (similarity for cosine and dot, squared distance for L2).
public struct SearchResult: Sendable, Hashable, CustomStringConvertible {
    /// The caller's id of the matched vector.
    public var id: UInt64
    /// Similarity (cosine, dot: higher is closer) or squared Euclidean distance (L2: lower is closer).
    public var score: Float

    /// Creates a hit.
    /// - Parameters:
    ///   - id: The caller's id of the matched vector.
    ///   - score: Its score under the index's metric.
    public init(id: UInt64, score: Float) {
        self.id = id
        self.score = score
    }

    /// `"id: score"`.
    public var description: String { "\(id): \(score)" }
}

/// The results of many queries at once, stored flat: row `q` holds query `q`'s hits best first.
///
/// Queries that found fewer than `k` hits (a small or heavily filtered index) have their
/// trailing slots marked with ``SearchResults/missing`` in ``ids`` and a NaN score.
public struct SearchResults: Sendable, Equatable {
    /// The id that marks an empty slot.
    public static let missing = UInt64.max

    /// Number of queries.
    public let queries: Int
    /// Hits per query (the `k` asked for).
    public let k: Int
    /// `queries × k` ids, row-major; ``missing`` where a query had fewer than `k` hits.
    public var ids: [UInt64]
    /// `queries × k` scores, row-major; NaN where a query had fewer than `k` hits.
    public var scores: [Float]

    /// Wraps flat result arrays; their counts must be `queries × k` (checked: a mismatch stops with a message).
    /// - Parameters:
    ///   - queries: Number of queries.
    ///   - k: Hits per query.
    ///   - ids: `queries × k` ids, row-major, ``missing`` for empty slots.
    ///   - scores: `queries × k` scores, row-major, NaN for empty slots.
    public init(queries: Int, k: Int, ids: [UInt64], scores: [Float]) {
        ensure(ids.count == queries * k && scores.count == queries * k, "SearchResults: \(ids.count) ids and \(scores.count) scores for \(queries)×\(k)")
        self.queries = queries
        self.k = k
        self.ids = ids
        self.scores = scores
    }

    /// The hits of query `q`, best first, without empty slots.
    public subscript(q: Int) -> [SearchResult] {
        ensure(q >= 0 && q < queries, "SearchResults: query \(q) out of 0..<\(queries)")
        var out: [SearchResult] = []
        out.reserveCapacity(k)
        for j in 0..<k where ids[q * k + j] != Self.missing {
            out.append(SearchResult(id: ids[q * k + j], score: scores[q * k + j]))
        }
        return out
    }

    /// Every query's hits, best first.
    public var rows: [[SearchResult]] { (0..<queries).map { self[$0] } }
}
