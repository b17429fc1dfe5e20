import Foundation
import NN
import FileSupport
import SafeTensors
import Tensors

/// Where a run stands: enough, with the weights and optimiser state, to continue it exactly.
public struct TrainerState: Codable, Equatable, Sendable {
    public var epoch: Int
    /// Batches of `epoch` already done.
    public var stepInEpoch: Int
    public var globalStep: Int
    /// Mean loss of each completed epoch.
    public var epochLosses: [Double]
    /// Validation result of each completed epoch (when a validation set is given).
    public var validations: [ValidationResult] = []
    /// Best validation score so far and the epoch (0-based) that reached it.
    public var bestScore: Double?
    public var bestEpoch: Int?
    /// True once early stopping has ended the run.
    public var stoppedEarly = false
    public var configuration: TrainingConfiguration
    /// The run's ``Trainer/dataFingerprint`` (data and setup); a resume with another is refused.
    public var dataFingerprint: String?

    public init(configuration: TrainingConfiguration) {
        epoch = 0
        stepInEpoch = 0
        globalStep = 0
        epochLosses = []
        self.configuration = configuration
    }
}

/// Checkpoints in a directory: `step-00000042/` holds `model.safetensors`, `optimizer.safetensors`,
/// `state.json` and `plan.json` (the current epoch's remaining batches).
///
/// A checkpoint is written into `step-….tmp/`, every file synced, then the folder is renamed into
/// place: a kill at any moment leaves the previous checkpoints intact and never a half-written one
/// under a final name. Old checkpoints beyond the keep count are removed only after the new one is complete.
public struct CheckpointDirectory: Sendable {
    public let url: URL

    public init(_ url: URL) { self.url = url }

    static let prefix = "step-"

    /// Completed checkpoints, oldest first.
    public func checkpoints() -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { $0.hasPrefix(Self.prefix) && !$0.hasSuffix(".tmp") && Int($0.dropFirst(Self.prefix.count)) != nil }
            .sorted()
            .map { url.appendingPathComponent($0) }
    }

    /// The newest completed checkpoint, if any.
    public var latest: URL? { checkpoints().last }

    /// Removes every checkpoint and the best epoch's weights (a run that starts from scratch must
    /// not leave older, higher-numbered checkpoints for the next resume to pick up).
    public func removeAll() throws {
        let fm = FileManager.default
        let names = (try? fm.contentsOfDirectory(atPath: url.path)) ?? []
        for name in names where name.hasPrefix(Self.prefix) { try fm.removeItem(at: url.appendingPathComponent(name)) }
        if fm.fileExists(atPath: best.path) { try fm.removeItem(at: best) }
    }

    /// Weights of the best validated epoch (kept beside the checkpoints for early stopping).
    public var best: URL { url.appendingPathComponent("best.safetensors") }

    func save<Batch: Encodable>(model: any Module, optimizer: any StatefulOptimizer, state: TrainerState,
                                plan: [Batch], keep: Int) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: url, withIntermediateDirectories: true)
        let name = Self.prefix + String(format: "%08d", state.globalStep)
        let final = url.appendingPathComponent(name)
        let temporary = url.appendingPathComponent(name + ".tmp")
        try? fm.removeItem(at: temporary)
        try fm.createDirectory(at: temporary, withIntermediateDirectories: false)

        try WeightsIO.save(model, to: temporary.appendingPathComponent("model.safetensors"))
        let (tensors, counters) = optimizer.stateDictionary()
        var writer = SafeTensorsWriter(metadata: counters.mapValues(String.init))
        for (n, t) in tensors { try writer.add(n, t) }
        try writer.write(to: temporary.appendingPathComponent("optimizer.safetensors"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(state), to: temporary.appendingPathComponent("state.json"))
        try AtomicFile.write(try JSONEncoder().encode(plan), to: temporary.appendingPathComponent("plan.json"))

        if fm.fileExists(atPath: final.path) { try fm.removeItem(at: final) }
        guard rename(temporary.path, final.path) == 0 else {
            throw ModelFormatError("\(final.path): could not move the checkpoint into place (errno \(errno))")
        }
        syncDirectory(url)
        for old in checkpoints().dropLast(keep) { try? fm.removeItem(at: old) }
    }

    func load<Batch: Decodable>(_ checkpoint: URL, into model: any Module, optimizer: any StatefulOptimizer,
                                batch: Batch.Type) throws -> (TrainerState, [Batch]) {
        try WeightsIO.load(model, from: checkpoint.appendingPathComponent("model.safetensors"))
        let file = try SafeTensorsFile(contentsOf: checkpoint.appendingPathComponent("optimizer.safetensors"))
        var tensors: [String: Tensor] = [:]
        for n in file.names { tensors[n] = try file.tensor(named: n) }
        try optimizer.loadState(tensors: tensors, counters: file.metadata.compactMapValues { Int($0) })
        let decoder = JSONDecoder()
        let statePath = checkpoint.appendingPathComponent("state.json")
        let state: TrainerState
        do { state = try decoder.decode(TrainerState.self, from: Data(contentsOf: statePath)) } catch {
            throw ModelFormatError("\(statePath.path): unreadable trainer state (\(error))")
        }
        let planPath = checkpoint.appendingPathComponent("plan.json")
        let plan: [Batch]
        do { plan = try decoder.decode([Batch].self, from: Data(contentsOf: planPath)) } catch {
            throw ModelFormatError("\(planPath.path): unreadable batch plan (\(error))")
        }
        return (state, plan)
    }
}

/// Makes a directory's entries (a rename) durable; best effort where the file system refuses.
func syncDirectory(_ url: URL) {
    let fd = open(url.path, O_RDONLY | O_CLOEXEC)
    if fd >= 0 {
        _ = fsync(fd)
        close(fd)
    }
}
