import Foundation
import Testing
@testable import VectorIndex

/// Brute-force references computed in Double, independent of the tiled engine.
enum MiningReference {
    static func cosines(_ data: [Float], _ dim: Int) -> [[Double]] {
        let n = data.count / dim
        let norms = (0..<n).map { i in (0..<dim).reduce(0.0) { $0 + Double(data[i * dim + $1]) * Double(data[i * dim + $1]) }.squareRoot() }
        return (0..<n).map { i in
            (0..<n).map { j in (0..<dim).reduce(0.0) { $0 + Double(data[i * dim + $1]) * Double(data[j * dim + $1]) } / (norms[i] * norms[j]) }
        }
    }

    /// sentence-transformers' community_detection, transcribed.
    static func communities(_ s: [[Double]], threshold: Double, minSize: Int) -> [[Int]] {
        let n = s.count
        var extracted: [[Int]] = []
        for i in 0..<n {
            let members = (0..<n).filter { s[i][$0] >= threshold }.sorted { s[i][$0] > s[i][$1] || (s[i][$0] == s[i][$1] && $0 < $1) }
            if members.count >= min(minSize, n) { extracted.append(members) }
        }
        extracted = extracted.enumerated().sorted { $0.element.count > $1.element.count || ($0.element.count == $1.element.count && $0.offset < $1.offset) }.map(\.element)
        var taken = Set<Int>()
        var unique: [[Int]] = []
        for c in extracted {
            let rest = c.filter { !taken.contains($0) }
            if rest.count >= min(minSize, n) {
                unique.append(rest)
                taken.formUnion(rest)
            }
        }
        return unique.enumerated().sorted { $0.element.count > $1.element.count || ($0.element.count == $1.element.count && $0.offset < $1.offset) }.map(\.element)
    }
}

@Suite("Duplicate mining and clustering")
struct MiningTests {
    /// Clustered data whose pairwise cosines stay away from the thresholds used below, so float
    /// and Double agree on every comparison.
    static func data(_ n: Int, dim: Int, seed: UInt64) -> [Float] { TestData.clustered(n, dim, clusters: max(2, n / 40), spread: 0.3, seed: seed) }

    @Test("top-k per item matches brute force (several tiles, both triangle halves)")
    func topK() throws {
        let n = 2600, dim = 20, k = 5
        let data = Self.data(n, dim: dim, seed: 81)
        let pairs = try ParaphraseMining.topK(data, dimension: dim, k: k, maxPairs: 1_000_000)
        let s = MiningReference.cosines(data, dim)
        var expected = Set<[Int]>()
        for i in 0..<n {
            let best = (0..<n).filter { $0 != i }.sorted { s[i][$0] > s[i][$1] || (s[i][$0] == s[i][$1] && $0 < $1) }.prefix(k)
            for j in best { expected.insert([min(i, j), max(i, j)]) }
        }
        let got = Set(pairs.map { [$0.a, $0.b] })
        // Near-ties at rank k can swap between float and Double: allow a handful.
        #expect(got.symmetricDifference(expected).count <= n / 100, "\(got.symmetricDifference(expected).count) differences")
        #expect(pairs.allSatisfy { $0.a < $0.b && abs(Double($0.score) - s[$0.a][$0.b]) < 1e-5 })
        #expect(zip(pairs, pairs.dropFirst()).allSatisfy { $0.score >= $1.score }, "best first")
        #expect(Set(pairs.map { [$0.a, $0.b] }).count == pairs.count, "unique")
        let capped = try ParaphraseMining.topK(data, dimension: dim, k: k, maxPairs: 100)
        #expect(capped == Array(pairs.prefix(100)))
        #expect(try ParaphraseMining.topK([1, 2], dimension: 2, k: 3).isEmpty)
    }

    @Test("all pairs above a threshold match brute force", arguments: [0.9, 0.97] as [Float])
    func threshold(t: Float) throws {
        let n = 2300, dim = 16
        let data = Self.data(n, dim: dim, seed: 82)
        let s = MiningReference.cosines(data, dim)
        let got = try ParaphraseMining.pairs(data, dimension: dim, threshold: t)
        var expected = Set<[Int]>()
        for i in 0..<n { for j in (i + 1)..<n where s[i][j] >= Double(t) { expected.insert([i, j]) } }
        let gotSet = Set(got.map { [$0.a, $0.b] })
        let borderline = gotSet.symmetricDifference(expected).filter { abs(s[$0[0]][$0[1]] - Double(t)) > 1e-5 }
        #expect(borderline.isEmpty && got.count == gotSet.count)
        #expect(got.allSatisfy { $0.a < $0.b && $0.score >= t })
        // Streaming in bands sees the same pairs.
        var streamed: [ParaphraseMining.Pair] = []
        var batches = 0
        try ParaphraseMining.pairs(data, dimension: dim, threshold: t, band: 1) { streamed += $0; batches += 1 }
        #expect(Set(streamed) == Set(got) && batches == 3)
    }

    @Test("community detection matches sentence-transformers' algorithm (brute-force transcription)")
    func communities() throws {
        let n = 1500, dim = 16
        let data = Self.data(n, dim: dim, seed: 83)
        let s = MiningReference.cosines(data, dim)
        for (threshold, minSize) in [(0.9, 5), (0.8, 10), (0.95, 2)] {
            let got = try Clustering.communities(data, dimension: dim, threshold: Float(threshold), minCommunitySize: minSize)
            let expected = MiningReference.communities(s, threshold: threshold, minSize: minSize)
            #expect(got == expected, "threshold \(threshold), min size \(minSize): \(got.count) vs \(expected.count) communities")
            #expect(!got.isEmpty)
        }
        #expect(try Clustering.communities([], dimension: 4).isEmpty)
    }

    @Test("connected components equal a union-find over brute-force pairs")
    func components() throws {
        let n = 1200, dim = 12
        let data = Self.data(n, dim: dim, seed: 84)
        let s = MiningReference.cosines(data, dim)
        let got = try Clustering.connectedComponents(data, dimension: dim, threshold: 0.9)
        var label = Array(0..<n)
        func find(_ x: Int) -> Int { label[x] == x ? x : find(label[x]) }
        for i in 0..<n { for j in (i + 1)..<n where s[i][j] >= 0.9 { let a = find(i), b = find(j); if a != b { label[max(a, b)] = min(a, b) } } }
        var groups: [Int: [Int]] = [:]
        for i in 0..<n { groups[find(i), default: []].append(i) }
        let expected = groups.values.sorted { $0.count > $1.count || ($0.count == $1.count && $0[0] < $1[0]) }
        #expect(got == expected)
        #expect(got.reduce(0) { $0 + $1.count } == n)
        #expect(try Clustering.connectedComponents(data, dimension: dim, threshold: 0.9, minSize: 2).allSatisfy { $0.count >= 2 })
    }
}
