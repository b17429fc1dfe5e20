import Foundation
@testable import Siamese
import Tensors

/// Clustered synthetic data: `classes` centres in `dimension` dimensions, `perClass` noisy points each.
func clusteredData(classes: Int, perClass: Int, dimension: Int, noise: Float = 0.6, seed: UInt64) throws -> FeatureDataset {
    var g = SeededGenerator(seed: seed)
    let centres = Tensor.randomNormal([classes, dimension], generator: &g)
    var rows: [Float] = []
    var labels: [Int] = []
    for c in 0..<classes {
        for _ in 0..<perClass {
            for d in 0..<dimension { rows.append(centres[c, d] + noise * g.nextNormal()) }
            labels.append(c)
        }
    }
    return try FeatureDataset(features: Tensor(shape: [classes * perClass, dimension], rows), labels: labels)
}

/// A fresh temporary directory, removed by the caller.
func temporaryDirectory() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-tests-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Fraction of (same, different) pair comparisons ranked correctly: the AUC, by brute force.
func pairAUC(_ embeddings: Tensor, labels: [Int]) -> Double {
    let sims = Tensor.pairwiseCosineSimilarity(embeddings, embeddings)
    var same: [Float] = [], different: [Float] = []
    for i in 0..<labels.count {
        for j in (i + 1)..<labels.count { (labels[i] == labels[j] ? { same.append(sims[i, j]) } : { different.append(sims[i, j]) })() }
    }
    var wins = 0.0
    for s in same { for d in different { wins += s > d ? 1 : (s == d ? 0.5 : 0) } }
    return wins / Double(same.count * different.count)
}
