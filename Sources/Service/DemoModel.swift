import Evaluation
import FileSupport
import Foundation
import Siamese
import Tensors
#if canImport(Glibc)
import Glibc
#endif

/// The model `siamese serve` uses when no `--model` is given: the signature verifier that
/// `siamese demo` trains (``SignatureDemo``), with the threshold it calibrated on validation
/// writers.
///
/// Inputs are on-line signatures flattened channel-major, `[x₀…x₆₃, y₀…y₆₃, p₀…p₆₃]` (192
/// numbers; see ``SignatureGenerator``). Training is deterministic for the seed and takes about ten
/// seconds on two cores, so it happens once: the model folder is cached under
/// ``defaultCacheDirectory()`` (or the folder given with `--demo-cache`) and loaded from there on
/// later starts. The folder's name carries a digest of the training configuration, so a changed
/// demo never serves a stale cache, and it appears by one directory rename, so a crash or a second
/// server starting at the same moment never leaves a half-written model behind.
public enum DemoModelProvider {
    /// Seed of the writers, the initialisation and the sampling (the one `siamese demo` uses).
    public static let seed: UInt64 = 7
    /// The served demo's training configuration.
    public static var configuration: SignatureDemo.Configuration { .standard }
    /// Input length of the demo model: channels × time steps.
    public static var inputDimension: Int { SignatureGenerator.channels * configuration.steps }

    /// What ``load(cacheDirectory:configuration:seed:)`` did.
    public struct Loaded {
        public let model: SiameseModelAdapter
        /// The model folder.
        public let folder: URL
        /// True when this call trained the model (no usable cache).
        public let trained: Bool
    }

    /// Loads the cached demo model, training and caching it first when there is none.
    ///
    /// - Parameter cacheDirectory: where model folders are cached (default ``defaultCacheDirectory()``).
    public static func load(cacheDirectory: URL? = nil, configuration: SignatureDemo.Configuration = DemoModelProvider.configuration,
                            seed: UInt64 = DemoModelProvider.seed) throws -> Loaded {
        let directory = cacheDirectory ?? defaultCacheDirectory()
        let folder = directory.appendingPathComponent(folderName(configuration, seed: seed))
        if let model = try? cached(folder, configuration: configuration, seed: seed) {
            return Loaded(model: model, folder: folder, trained: false)
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ConfigurationError("\(directory.path): cannot create the demo model cache (\(error.localizedDescription)); choose another with --demo-cache DIR")
        }
        let demo = try SignatureDemo.run(configuration, seed: seed)
        let staging = directory.appendingPathComponent(".\(folder.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: staging) }
        try SignatureDemo.save(demo.network, calibration: demo.calibration, steps: configuration.steps, to: staging)
        try publish(staging, as: folder)
        return Loaded(model: try cached(folder, configuration: configuration, seed: seed), folder: folder, trained: true)
    }

    /// `$XDG_CACHE_HOME/siamese`, else `~/.cache/siamese`.
    public static func defaultCacheDirectory() -> URL {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return base.appendingPathComponent("siamese")
    }

    /// `signature-demo-<digest>`: the digest covers the configuration, the seed, this type's
    /// format and a sample of the generated data (a genuine signature and a forgery), so that a
    /// change to the demo's training or to its data gets a folder of its own.
    static func folderName(_ configuration: SignatureDemo.Configuration, seed: UInt64) -> String {
        let generator = SignatureGenerator(steps: configuration.steps, seed: seed)
        let sample = (generator.genuine(writer: 0, sample: 0) + generator.forgery(writer: 0, sample: 0)).map { String($0.bitPattern, radix: 16) }
        let key = "signature-demo v1 seed \(seed) \(configuration) data \(sample.joined(separator: ","))"
        return "signature-demo-" + SHA256.hash(Array(key.utf8)).hexString.prefix(16)
    }

    /// The model in `folder` when it is complete: weights matching their digest, the expected
    /// input length and a calibration.
    static func cached(_ folder: URL, configuration: SignatureDemo.Configuration, seed: UInt64) throws -> SiameseModelAdapter {
        let model = try SiameseModelAdapter(folder: folder, name: "signature-demo")
        guard model.calibration != nil, model.inputDimension == SignatureGenerator.channels * configuration.steps else {
            throw ConfigurationError("\(folder.path): not a complete demo model")
        }
        model.examples = examples(configuration, seed: seed)
        return model
    }

    /// Renames the finished `staging` folder to `folder`. When `folder` exists already (another
    /// server won the race, or an unusable leftover), a usable one is kept and a broken one replaced.
    static func publish(_ staging: URL, as folder: URL) throws {
        if rename(staging.path, folder.path) == 0 {
            syncDirectory(folder.deletingLastPathComponent())
            return
        }
        let code = errno
        guard code == ENOTEMPTY || code == EEXIST else {
            throw renameError(folder, code)
        }
        if (try? SiameseModelAdapter(folder: folder))?.calibration != nil { return }
        let aside = folder.deletingLastPathComponent().appendingPathComponent(".\(folder.lastPathComponent).broken-\(getpid())")
        guard rename(folder.path, aside.path) == 0 else { throw renameError(folder, errno) }
        try? FileManager.default.removeItem(at: aside)
        guard rename(staging.path, folder.path) == 0 else { throw renameError(folder, errno) }
        syncDirectory(folder.deletingLastPathComponent())
    }

    private static func renameError(_ folder: URL, _ code: Int32) -> ConfigurationError {
        ConfigurationError("\(folder.path): cannot move the trained demo model into place (\(String(cString: strerror(code)))); choose another cache with --demo-cache DIR")
    }

    private static func syncDirectory(_ directory: URL) {
        let fd = open(directory.path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }

    /// Pairs for people and scripts to try the model with, drawn from writers that neither
    /// training, calibration nor the demo's evaluation used: two genuine signatures of one writer,
    /// a genuine signature and a skilled forgery of it, and genuine signatures of two writers.
    public static func examples(_ configuration: SignatureDemo.Configuration = DemoModelProvider.configuration,
                                seed: UInt64 = DemoModelProvider.seed) -> [ExamplePair] {
        let generator = SignatureGenerator(steps: configuration.steps, seed: seed)
        let w = configuration.trainWriters + configuration.validationWriters + configuration.testWriters
        let reference = generator.genuine(writer: w, sample: 0)
        return [
            ExamplePair(name: "genuine", a: .vector(reference), b: .vector(generator.genuine(writer: w, sample: 1)), same: true),
            ExamplePair(name: "skilled_forgery", a: .vector(reference), b: .vector(generator.forgery(writer: w, sample: 0)), same: false),
            ExamplePair(name: "other_writer", a: .vector(reference), b: .vector(generator.genuine(writer: w + 1, sample: 0)), same: false),
        ]
    }
}

/// Two inputs to try a model with and whether they truly belong together (the ground truth, not
/// the model's decision).
public struct ExamplePair: Sendable, Equatable {
    public var name: String
    public var a: ModelInput
    public var b: ModelInput
    public var same: Bool

    public init(name: String, a: ModelInput, b: ModelInput, same: Bool) {
        self.name = name
        self.a = a
        self.b = b
        self.same = same
    }
}
