import Evaluation
import Foundation
import Siamese
import Tensors

/// The model `siamese serve` uses when no `--model` is given.
///
/// Kept behind this one function so the built-in demo can be swapped (for the signature
/// demo's trained model) without touching the service. Today it is a small seeded MLP twin
/// (8 features → 32 → 16, L2-normalised, cosine), calibrated at the equal-error rate on pairs drawn
/// from synthetic Gaussian classes. It is deterministic: the same weights, hence the same
/// fingerprint, on every run and machine, so a store made with it stays usable across restarts.
/// It is written once to `$XDG_CACHE_HOME/siamese/demo-model` (or `~/.cache/…`) and loaded from
/// there afterwards.
public enum DemoModelProvider {
    /// Input length of the demo model.
    public static let inputDimension = 8
    static let seed: UInt64 = 20_261_124

    /// Loads (building on first use) the demo model folder.
    public static func load() throws -> any ServedModel {
        let folder = cacheFolder()
        if let model = try? SiameseModelAdapter(folder: folder), model.calibration != nil {
            return model
        }
        try build(into: folder)
        return try SiameseModelAdapter(folder: folder)
    }

    /// `$XDG_CACHE_HOME/siamese/demo-model`, else `~/.cache/siamese/demo-model`.
    public static func cacheFolder() -> URL {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return base.appendingPathComponent("siamese").appendingPathComponent("demo-model")
    }

    /// Writes the model and its calibration into `folder` (each file atomically).
    static func build(into folder: URL) throws {
        var generator = SeededGenerator(seed: seed)
        let encoder = MLPEncoder(MLPConfiguration(layers: [inputDimension, 32], embeddingDimension: 16), generator: &generator)
        let network = SiameseNetwork(encoder: encoder, distance: .cosine)
        network.isTraining = false
        try ModelFolder(folder).save(network, featureColumns: (0..<inputDimension).map { "x\($0)" })
        try calibrate(network, generator: &generator).save(toModelDirectory: folder)
    }

    /// An equal-error-rate threshold from 300 genuine and 300 impostor pairs of synthetic classes
    /// (12 Gaussian centres, within-class noise 0.35).
    static func calibrate(_ network: SiameseNetwork, generator: inout SeededGenerator) throws -> CalibrationRecord {
        let classes = 12, noise: Float = 0.35
        let centres = (0..<classes).map { _ in (0..<inputDimension).map { _ in generator.nextNormal() } }
        func sample(_ c: Int) -> [Float] { centres[c].map { $0 + noise * generator.nextNormal() } }
        var a: [[Float]] = [], b: [[Float]] = [], labels: [Bool] = []
        for i in 0..<600 {
            let c = Int(generator.next() % UInt64(classes))
            var d = c
            if i % 2 == 1 { while d == c { d = Int(generator.next() % UInt64(classes)) } }
            a.append(sample(c))
            b.append(sample(d))
            labels.append(i % 2 == 0)
        }
        let scores = withoutGradients { network.score(Tensor(rows: a), Tensor(rows: b)) }.scalars.map { Double($0) }
        let pairs = try ScoredPairs(scores: scores, labels: labels)
        let curve = try VerificationCurve(pairs, direction: .higherIsSame)
        return try curve.calibrate(.equalErrorRate, pairs: pairs)
    }
}
