import Evaluation
import Foundation
import SafeTensors
import Siamese
import Tensors
import Testing
import VectorIndex

/// How the binary seeds under `Corpus/` were made: model folders (with their companion weights),
/// calibration records, index files of every kind and safetensors files. Runs only when asked:
///
///     SIAMESE_FUZZ_WRITE_SEEDS=Tests/FuzzTests/Corpus swift test -c release --filter SeedWriter
///
/// The text seeds (CSV, JSON bodies, tokenizer files) are written by hand.
@Suite("fuzz corpus seed writer") struct SeedWriter {
    static let output = ProcessInfo.processInfo.environment["SIAMESE_FUZZ_WRITE_SEEDS"]

    @Test("writes the binary seeds", .enabled(if: output != nil, "set SIAMESE_FUZZ_WRITE_SEEDS to the corpus folder"))
    func write() throws {
        let root = URL(fileURLWithPath: Self.output!)
        func folder(_ name: String) throws -> URL {
            let url = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            return url
        }

        // Model folders: MLP (cosine), MLP with a learned head, CNN, sequence encoder.
        var g = SeededGenerator(seed: 7)
        let models: [(String, SiameseNetwork, [String]?)] = [
            ("mlp", SiameseNetwork(encoder: MLPEncoder(MLPConfiguration(layers: [4, 6], embeddingDimension: 3), generator: &g), distance: .cosine), ["a", "b", "c", "d"]),
            ("mlp-head", SiameseNetwork(encoder: MLPEncoder(MLPConfiguration(layers: [3], embeddingDimension: 2, dropout: 0.1), generator: &g),
                                        head: LearnedHead(dimension: 2, includesProduct: true, generator: &g)), nil),
            ("cnn", SiameseNetwork(encoder: CNNEncoder(CNNConfiguration(channels: 1, height: 4, width: 4, blockChannels: [2], kernelSize: 3, embeddingDimension: 3),
                                                       generator: &g), distance: .euclidean), nil),
            ("sequence", SiameseNetwork(encoder: SequenceEncoder(SequenceConfiguration(channels: 2, length: 5, blockChannels: [2], kernelSize: 3, embeddingDimension: 2),
                                                                 generator: &g), distance: .dot), nil),
        ]
        let modelRoot = try folder("model-folder")
        let weightsRoot = try folder("model-folder/weights")
        for (name, network, columns) in models {
            let tmp = Fuzz.scratch("seed-\(name)")
            try ModelFolder(tmp).save(network, featureColumns: columns, classNames: columns == nil ? nil : ["x", "y"])
            try Data(contentsOf: tmp.appendingPathComponent(ModelFolder.weightsFile)).write(to: weightsRoot.appendingPathComponent("\(name).safetensors"))
            try Data(contentsOf: tmp.appendingPathComponent(ModelFolder.configurationFile)).write(to: modelRoot.appendingPathComponent("\(name).json"))
        }

        // Calibration records: each rule, with and without intervals and Platt scaling.
        let calibration = try folder("calibration")
        let rules: [ThresholdRule] = [.equalErrorRate, .targetFAR(0.01), .fixed(0.5), .maxF1]
        for (i, rule) in rules.enumerated() {
            let record = CalibrationRecord(threshold: [0.42, -1.5, 0.5, 3][i], scoreDirection: i % 2 == 0 ? .higherIsSame : .lowerIsSame, rule: rule,
                                           far: 0.01, frr: 0.2, farInterval: i == 1 ? ConfidenceInterval(lower: 0.001, upper: 0.03, level: 0.95, method: "percentile bootstrap") : nil,
                                           frrInterval: nil, genuineCount: 100, impostorCount: 900, dataFingerprint: "sha256:" + String(repeating: "ab", count: 32),
                                           created: Date(timeIntervalSince1970: 1_760_000_000))
            try record.jsonData().write(to: calibration.appendingPathComponent("record-\(i).json"))
        }

        // Index files: every kind, every metric, a fingerprint, string ids, an HNSW graph with a tombstone.
        let index = try folder("index")
        let dim = 4
        let vectors = (0..<(24 * dim)).map { Float(sin(Double($0) * 0.7)) }
        var exact = ExactIndex(dimension: dim, metric: .cosine)
        try exact.add(Array(vectors[0..<(6 * dim)]))
        try exact.save(to: index.appendingPathComponent("exact-cosine.idx").path, fingerprint: "sha256:seed")
        var dot = ExactIndex(dimension: 2, metric: .dot)
        try dot.add([1, 2, 3, 4], ids: [7, 1 << 40])
        try dot.save(to: index.appendingPathComponent("exact-dot.idx").path)
        let hnsw = try HNSWIndex(vectors: vectors, dimension: dim, metric: .l2, configuration: HNSWConfiguration(m: 4, efConstruction: 16))
        _ = hnsw.remove(3)
        try hnsw.save(to: index.appendingPathComponent("hnsw-l2.idx").path, fingerprint: "fp")
        try ScalarQuantizedIndex(vectors: Array(vectors[0..<(8 * dim)]), dimension: dim, metric: .dot)
            .save(to: index.appendingPathComponent("scalar-dot.idx").path)
        try BinaryQuantizedIndex(vectors: Array(vectors[0..<(8 * dim)]), dimension: dim, metric: .cosine)
            .save(to: index.appendingPathComponent("binary-cosine.idx").path)
        // String ids (the "NAME" section).
        var named = ExactIndex(dimension: dim, metric: .l2)
        try named.add(Array(vectors[0..<(3 * dim)]))
        var names = IndexNames()
        for (label, name) in ["python3-ipalib", "é/ü ?%", "3"].enumerated() { names.insert(name, label: UInt64(label)) }
        try named.save(to: index.appendingPathComponent("exact-named.idx").path, names: names)

        // Safetensors: every dtype family, metadata, a scalar, an empty tensor.
        let st = try folder("safetensors")
        var w = SafeTensorsWriter(metadata: ["format": "pt"])
        try w.add("w", Tensor(shape: [3, 2], [1, 2, 3, 4, 5, 6]))
        try w.add("h", Tensor([0.5, -1]), as: .float16)
        try w.add("b", Tensor([7]), as: .bfloat16)
        try w.addRaw("ids", dtype: .int64, shape: [1, 2], bytes: [UInt8](repeating: 1, count: 16))
        try w.addRaw("flag", dtype: .bool, shape: [1], bytes: [1])
        try w.addRaw("empty", dtype: .float32, shape: [0, 3], bytes: [])
        try Data(w.serialized()).write(to: st.appendingPathComponent("mixed.safetensors"))
        var s = SafeTensorsWriter()
        try s.add("scalar", Tensor(shape: [], [3]))
        try Data(s.serialized()).write(to: st.appendingPathComponent("scalar.safetensors"))
        try Data(contentsOf: weightsRoot.appendingPathComponent("mlp.safetensors")).write(to: st.appendingPathComponent("model-weights.safetensors"))
    }
}
