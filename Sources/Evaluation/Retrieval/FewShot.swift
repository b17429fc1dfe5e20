import Core

/// N-way K-shot episodic accuracy with a prototype classifier, the standard few-shot protocol.
///
/// Each episode draws N classes that have at least K + Q items, K support and Q query items per
/// class without replacement; a class's prototype is the mean of its unit-length support embeddings
/// and each query is assigned the class whose prototype has the highest cosine similarity (for K = 1
/// this is one-shot nearest neighbour). The interval is mean ± z·sd/√episodes over episode
/// accuracies, as few-shot papers report it.
public struct FewShotResult: Sendable, Equatable, Codable {
    /// N, the number of classes per episode.
    public var ways: Int
    /// K, the number of support items per class.
    public var shots: Int
    /// Q, the number of query items per class.
    public var queriesPerClass: Int
    /// Number of episodes averaged.
    public var episodes: Int
    /// Seed of the episode sampler; the same seed and data give the same result.
    public var seed: UInt64
    /// Mean episode accuracy, in [0, 1].
    public var accuracy: Double
    /// Normal interval mean ± z·sd/√episodes over the episode accuracies (method `"normal"`).
    public var interval: ConfidenceInterval
}

/// Few-shot evaluation of embeddings (see ``FewShotResult`` for the protocol).
public enum FewShot {
    /// Runs `episodes` N-way K-shot episodes with a prototype classifier over cosine similarity.
    /// - Parameters:
    ///   - embeddings: One embedding per item; rows are L2-normalised first.
    ///   - labels: The class of each row; `labels.count` must equal `embeddings.rows`.
    ///   - ways: N, classes per episode (at least 2).
    ///   - shots: K, support items per class (at least 1).
    ///   - queriesPerClass: Q, query items per class (at least 1, default 1).
    ///   - episodes: Number of episodes (at least 2, default 1000).
    ///   - seed: Seed of the sampler (default 42).
    ///   - level: Level of the reported interval (default 0.95).
    /// - Throws: ``EvaluationError`` on a label/row count mismatch, out-of-range settings, fewer than N
    ///   classes with K + Q items, or an all-zero embedding row.
    public static func evaluate<L: Hashable>(_ embeddings: EmbeddingMatrix, labels: [L], ways: Int, shots: Int, queriesPerClass: Int = 1,
                                             episodes: Int = 1000, seed: UInt64 = 42, level: Double = 0.95) throws(EvaluationError) -> FewShotResult {
        guard labels.count == embeddings.rows else { throw EvaluationError("\(labels.count) labels for \(embeddings.rows) embedding rows") }
        guard ways >= 2, shots >= 1, queriesPerClass >= 1, episodes >= 2 else {
            throw EvaluationError("few-shot needs ways ≥ 2, shots ≥ 1, queries per class ≥ 1 and at least 2 episodes")
        }
        var byClass: [L: [Int]] = [:]
        var classOrder: [L] = []
        for (i, l) in labels.enumerated() {
            if byClass[l] == nil { classOrder.append(l) }
            byClass[l, default: []].append(i)
        }
        let eligible = classOrder.compactMap { byClass[$0]!.count >= shots + queriesPerClass ? byClass[$0]! : nil }
        guard eligible.count >= ways else {
            throw EvaluationError("\(ways)-way \(shots)-shot with \(queriesPerClass) queries per class needs \(ways) classes with at least \(shots + queriesPerClass) items; only \(eligible.count) qualify")
        }
        let x = try embeddings.normalizedRows()
        let dim = embeddings.dim
        var rng = SeededGenerator(seed: seed)
        var accuracies = [Double]()
        accuracies.reserveCapacity(episodes)
        var prototypes = [Float](repeating: 0, count: ways * dim)
        var classes = Array(eligible.indices)
        for _ in 0..<episodes {
            // Partial Fisher–Yates: the first `ways` entries become a uniform sample without replacement.
            for i in 0..<ways { classes.swapAt(i, i + rng.nextInt(below: classes.count - i)) }
            var queries = [(item: Int, truth: Int)]()
            for w in 0..<ways {
                var members = eligible[classes[w]]
                for i in 0..<(shots + queriesPerClass) { members.swapAt(i, i + rng.nextInt(below: members.count - i)) }
                for c in 0..<dim {
                    var sum: Float = 0
                    for s in 0..<shots { sum += x[members[s] * dim + c] }
                    prototypes[w * dim + c] = sum / Float(shots)
                }
                for q in 0..<queriesPerClass { queries.append((members[shots + q], w)) }
            }
            var norms = [Float](repeating: 0, count: ways)
            for w in 0..<ways {
                var s: Float = 0
                for c in 0..<dim { s += prototypes[w * dim + c] * prototypes[w * dim + c] }
                norms[w] = max(s.squareRoot(), .leastNormalMagnitude)
            }
            var correct = 0
            for (item, truth) in queries {
                var best = 0, bestScore = -Float.infinity
                for w in 0..<ways {
                    var s: Float = 0
                    for c in 0..<dim { s += x[item * dim + c] * prototypes[w * dim + c] }
                    s /= norms[w]
                    if s > bestScore { bestScore = s; best = w }
                }
                if best == truth { correct += 1 }
            }
            accuracies.append(Double(correct) / Double(queries.count))
        }
        let n = Double(episodes)
        let mean = accuracies.reduce(0, +) / n
        let sd = (accuracies.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
        let half = NormalDistribution.quantile(0.5 + level / 2) * sd / n.squareRoot()
        return FewShotResult(ways: ways, shots: shots, queriesPerClass: queriesPerClass, episodes: episodes, seed: seed, accuracy: mean,
                             interval: ConfidenceInterval(lower: mean - half, upper: mean + half, level: level, method: "normal"))
    }
}
