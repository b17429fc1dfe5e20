import FileSupport
import Foundation
import SafeTensors
import Siamese
import Tensors
import Testing

/// `siamese.json` and the model-folder loader (`verify`, `embed`, `serve --model`). The input is the
/// configuration's bytes; the weights are a committed companion from `Corpus/model-folder/weights/`,
/// the one whose digest the configuration names (so mutations of the rest reach the loader).
struct ModelFolderTarget: FuzzTarget {
    let name = "model-folder"
    let quickIterations = 1500
    let directory = Fuzz.scratch("model-folder")
    /// Companion weights by their SHA-256, and the architectures (encoder, head) of the seeds.
    let weights: [(digest: String, bytes: [UInt8])]
    let seedArchitectures: [String]

    init() {
        weights = Fuzz.corpus("model-folder", "weights").map { (Self.sha256($0.bytes), $0.bytes) }
        seedArchitectures = Fuzz.corpus("model-folder").compactMap { Self.architecture($0.bytes) }
    }

    static func sha256(_ bytes: [UInt8]) -> String { SHA256.hash(bytes).hexString }

    /// The encoder and head of a configuration, in a canonical form; nil when it does not decode.
    static func architecture(_ json: [UInt8]) -> String? {
        guard let c = try? JSONDecoder().decode(ModelFolder.Configuration.self, from: Data(json)) else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let e = try? encoder.encode(c.encoder), let h = try? encoder.encode(c.head) else { return nil }
        return String(decoding: e + h, as: UTF8.self)
    }

    func mutate(_ seed: [UInt8], pool: [[UInt8]], _ m: inout Mutator) -> [UInt8] {
        m.json(seed, pool: pool, dictionary: ["\"type\"", "\"mlp\"", "\"cnn\"", "\"sequence\"", "\"layers\"", "\"dropout\"",
                                              "\"head\"", "\"distance\"", "\"cosine\"", "\"feature_columns\"", "\"version\""])
    }

    func check(_ input: [UInt8]) -> FuzzOutcome {
        // Issue 12, finding 5: the loader builds the architecture siamese.json describes before
        // checking it against the weights, so a crafted dimension traps or allocates terabytes.
        // The files branch validates every field first; until then only the seeds' architectures run.
        let folder = directory.appendingPathComponent("model")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let text = String(decoding: input, as: UTF8.self)
        let companion = weights.first { text.contains($0.digest) } ?? weights[0]
        _ = Fuzz.write(companion.bytes, to: folder.appendingPathComponent(ModelFolder.weightsFile))
        _ = Fuzz.write(input, to: folder.appendingPathComponent(ModelFolder.configurationFile))
        let loaded: (network: SiameseNetwork, config: ModelFolder.Configuration)
        do { loaded = try ModelFolder(folder).load() } catch {
            switch error {
            case is ModelFormatError: return .rejected(kind: "ModelFormatError")
            case is SafeTensorsError: return .rejected(kind: "SafeTensorsError")
            default: return .violation("unexpected error type \(type(of: error)): \(error)")
            }
        }
        let (network, config) = loaded
        // A loaded model embeds: one zero input of the configured size gives one embedding.
        let inputs = config.encoder.inputFeatures
        guard inputs > 0, inputs <= 1 << 16 else { return .violation("loaded a model reading \(inputs) features") }
        let e = withoutGradients { network.embed(Tensor(shape: [1, inputs])) }
        guard e.shape == [1, config.encoder.embeddingDimension] else {
            return .violation("embedding shape \(e.shape), configuration says \(config.encoder.embeddingDimension)")
        }
        return .accepted
    }
}

@Suite("fuzz: siamese.json and model folders") struct ModelFolderFuzz {
    @Test("corpus replay, then mutated siamese.json: a usable model, or a ModelFormatError")
    func fuzz() async throws { try await Fuzz.run(ModelFolderTarget()) }
}
