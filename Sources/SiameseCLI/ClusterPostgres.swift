import Core
import Evaluation
import Foundation
import PostgresStore
import VectorIndex

/// `siamese cluster --store postgres://…`: the neighbour pairs come from the database's HNSW
/// index (``PostgresStore/minePairs(into:k:threshold:score:batchSize:progress:)``, as for
/// `dedupe`), then the same community detection or connected components as over a `.npy`
/// (``Clustering/communities(neighbours:minCommunitySize:)``,
/// ``Clustering/connectedComponents(count:pairs:minSize:)``), with item ids as members.
extension ClusterCommand {
    func runPostgres(_ location: String) throws {
        let pg = try postgres.open(location, metric: nil)
        let table = "siamese_pairs_cluster_\(UInt64.random(in: 1...UInt64.max) % 1_000_000_000_000)"
        let (k, threshold, score) = (topK, Double(threshold), noNormalize ? PostgresStore.PairScore.dot : .cosine)
        let t0 = DispatchTime.now().uptimeNanoseconds
        let (items, found, links) = try blocking { () async throws -> (Int, [String], [(a: Int, b: Int, score: Float)]) in
            // Ids become rows in the order they are first met; the pairs are kept as rows only.
            var rowOf: [String: Int] = [:]
            var ids: [String] = []
            var pairs: [(a: Int, b: Int, score: Float)] = []
            let progress = ProgressBar(label: "cluster")
            do {
                _ = try await pg.minePairs(into: table, k: k, threshold: threshold, score: score) { done, total in
                    progress.update(fraction: Double(done) / Double(max(1, total)), detail: "of \(total) items searched")
                }
                progress.finish()
                try await pg.readPairs(from: table) { page in
                    func row(_ id: String) -> Int {
                        if let r = rowOf[id] { return r }
                        rowOf[id] = ids.count
                        ids.append(id)
                        return ids.count - 1
                    }
                    for p in page { pairs.append((row(p.a), row(p.b), Float(p.score))) }
                }
                try await pg.dropPairs(table)
                let count = try await pg.count()
                await pg.close()
                return (count, ids, pairs)
            } catch {
                try? await pg.dropPairs(table)
                await pg.close()
                throw error
            }
        }
        var ids = found, pairs = links
        // Rows in the ids' byte order (the order `store export` writes them in), so that ties
        // between equal-sized groups break as they do over the exported vectors.
        let order = ids.indices.sorted { Array(ids[$0].utf8).lexicographicallyPrecedes(Array(ids[$1].utf8)) }
        var renumber = [Int](repeating: 0, count: ids.count)
        for (new, old) in order.enumerated() { renumber[old] = new }
        ids = order.map { ids[$0] }
        pairs = pairs.map { (renumber[$0.a], renumber[$0.b], $0.score) }
        let groups: [[Int]]
        if method == "communities" {
            // Each item is its own first neighbour (as in the in-process detection, where its
            // similarity to itself is the highest), then the others by score.
            var neighbours = (0..<ids.count).map { [(score: Float.infinity, row: $0)] }
            for p in pairs {
                neighbours[p.a].append((p.score, p.b))
                neighbours[p.b].append((p.score, p.a))
            }
            groups = Clustering.communities(neighbours: neighbours, minCommunitySize: minSize)
        } else {
            groups = Clustering.connectedComponents(count: ids.count, pairs: pairs.lazy.map { ($0.a, $0.b) }, minSize: max(2, minSize))
        }
        let elapsed = seconds(since: t0)
        var text = ""
        for (c, g) in groups.enumerated() {
            let members = g.map { JSONValue.string(ids[$0]).serialized(pretty: false) }.joined(separator: ",")
            text += "{\"cluster\":\(c),\"size\":\(g.count),\"members\":[\(members)]}\n"
        }
        try writeText(text, to: output)
        let covered = groups.reduce(0) { $0 + $1.count }
        formatting.emit(.object([("clusters", .int(groups.count)), ("method", .string(method)), ("covered", .int(covered)), ("items", .int(items)),
                                 ("pairs", .int(pairs.count)), ("seconds", .number(elapsed)), ("output", .string(output))])) {
            String(format: "%d %@ covering %d of %d items (%d pairs from each item's %d nearest) in %.3f s; wrote %@",
                   groups.count, method, covered, items, pairs.count, k, elapsed, output)
        }
    }
}
