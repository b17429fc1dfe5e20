import Core
import Foundation
import Testing
@testable import VectorIndex

enum TestData {
    /// `n × dim` standard normal values.
    static func gaussian(_ n: Int, _ dim: Int, seed: UInt64) -> [Float] {
        var g = SeededGenerator(seed: seed)
        return (0..<(n * dim)).map { _ in g.nextNormal() }
    }

    /// `n × dim` points around `clusters` random centres (spread `spread` per component): the
    /// structure real embeddings have, which is harder for graph indexes than uniform noise.
    static func clustered(_ n: Int, _ dim: Int, clusters: Int, spread: Float = 0.35, seed: UInt64) -> [Float] {
        var g = SeededGenerator(seed: seed)
        let centres = (0..<(clusters * dim)).map { _ in g.nextNormal() }
        var out = [Float](repeating: 0, count: n * dim)
        for i in 0..<n {
            let c = Int.random(in: 0..<clusters, using: &g)
            for d in 0..<dim { out[i * dim + d] = centres[c * dim + d] + spread * g.nextNormal() }
        }
        return out
    }

    /// Queries drawn near the data: random rows plus Gaussian noise of `noise` per component.
    static func near(_ data: [Float], _ dim: Int, count: Int, noise: Float, seed: UInt64) -> [Float] {
        var g = SeededGenerator(seed: seed)
        let n = data.count / dim
        var out: [Float] = []
        for _ in 0..<count {
            let r = Int.random(in: 0..<n, using: &g)
            for d in 0..<dim { out.append(data[r * dim + d] + noise * g.nextNormal()) }
        }
        return out
    }

    /// Rows rescaled to norms spread over [0.9, 1.1].
    static func nearUnit(_ data: [Float], _ dim: Int, seed: UInt64) -> [Float] {
        var g = SeededGenerator(seed: seed)
        var out = data
        for i in 0..<(data.count / dim) {
            let norm = (0..<dim).reduce(Float(0)) { $0 + data[i * dim + $1] * data[i * dim + $1] }.squareRoot()
            let scale = Float.random(in: 0.9...1.1, using: &g) / norm
            for d in 0..<dim { out[i * dim + d] *= scale }
        }
        return out
    }

    static func row(_ data: [Float], _ i: Int, _ dim: Int) -> [Float] { Array(data[(i * dim)..<((i + 1) * dim)]) }
}

/// Brute-force reference scores in Double: cosine, dot or squared L2.
enum Reference {
    static func score(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>, _ metric: Metric) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0, l2 = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
            l2 += (Double(x) - Double(y)) * (Double(x) - Double(y))
        }
        switch metric {
        case .cosine: return dot / (na.squareRoot() * nb.squareRoot())
        case .dot: return dot
        case .l2: return l2
        }
    }

    /// The `k` best ids (row numbers) for a query, best first, ties to the smaller row.
    static func topK(_ data: [Float], _ query: [Float], dim: Int, k: Int, metric: Metric, allowed: ((Int) -> Bool)? = nil) -> [(id: Int, score: Double)] {
        let n = data.count / dim
        var all: [(id: Int, score: Double)] = []
        for i in 0..<n where allowed?(i) ?? true {
            all.append((i, score(data[(i * dim)..<((i + 1) * dim)], query[...], metric)))
        }
        all.sort { metric == .l2 ? ($0.score < $1.score || ($0.score == $1.score && $0.id < $1.id)) : ($0.score > $1.score || ($0.score == $1.score && $0.id < $1.id)) }
        return Array(all.prefix(k))
    }
}

/// Recall@k of approximate results against exact ones (both `queries × k`, row-major).
func recall(_ approximate: SearchResults, _ exact: SearchResults) -> Double {
    var hit = 0, total = 0
    for q in 0..<exact.queries {
        let truth = Set(exact[q].map(\.id))
        total += truth.count
        hit += approximate[q].filter { truth.contains($0.id) }.count
    }
    return total == 0 ? 1 : Double(hit) / Double(total)
}

/// A directory removed when the value goes away.
final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("vectorindex-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func file(_ name: String) -> URL { url.appendingPathComponent(name) }
}
