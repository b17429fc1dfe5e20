/// Semantic textual similarity: agreement between predicted similarities and gold scores.
public enum STS {
    /// Pearson's r; throws when the lengths differ, fewer than two pairs are given, or either side is constant.
    public static func pearson(_ x: [Double], _ y: [Double]) throws(EvaluationError) -> Double {
        try check(x, y)
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in x.indices {
            let dx = x[i] - mx, dy = y[i] - my
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy
        }
        guard sxx > 0, syy > 0 else { throw EvaluationError("correlation is undefined when one side is constant") }
        return max(-1, min(1, sxy / (sxx * syy).squareRoot()))
    }

    /// Spearman's ρ: Pearson's r between ranks, tied values sharing their average rank (as
    /// `scipy.stats.spearmanr` does).
    public static func spearman(_ x: [Double], _ y: [Double]) throws(EvaluationError) -> Double {
        try check(x, y)
        return try pearson(averageRanks(x), averageRanks(y))
    }

    /// Cosine similarity of each row of `a` with the same row of `b` (the predicted STS scores).
    public static func pairedCosine(_ a: EmbeddingMatrix, _ b: EmbeddingMatrix) throws(EvaluationError) -> [Double] {
        guard a.rows == b.rows, a.dim == b.dim else { throw EvaluationError("paired embeddings differ in shape: \(a.rows)×\(a.dim) vs \(b.rows)×\(b.dim)") }
        let x = try a.normalizedRows(), y = try b.normalizedRows()
        return (0..<a.rows).map { r in
            var s = 0.0
            for c in 0..<a.dim { s += Double(x[r * a.dim + c]) * Double(y[r * a.dim + c]) }
            return s
        }
    }

    /// 1-based ranks with ties averaged.
    static func averageRanks(_ v: [Double]) -> [Double] {
        let order = v.indices.sorted { v[$0] < v[$1] }
        var ranks = [Double](repeating: 0, count: v.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
            let average = Double(i + j) / 2 + 1
            for t in i...j { ranks[order[t]] = average }
            i = j + 1
        }
        return ranks
    }

    private static func check(_ x: [Double], _ y: [Double]) throws(EvaluationError) {
        guard x.count == y.count else { throw EvaluationError("\(x.count) predictions but \(y.count) gold scores") }
        guard x.count >= 2 else { throw EvaluationError(x.isEmpty ? "no STS pairs to evaluate: the input is empty" : "correlation needs at least two pairs") }
        guard x.allSatisfy(\.isFinite), y.allSatisfy(\.isFinite) else { throw EvaluationError("STS scores must be finite numbers") }
    }
}
