import Evaluation
import FileSupport
import Foundation
import Testing
import NN
@testable import Siamese
import Tensors

/// Model folders under attack (issue 12): a kill mid-save, a stale calibration, a crafted
/// `siamese.json`, a CSV naming a column twice, a resume after the data changed.
@Suite struct ModelFolderHardeningTests {
    static func network(seed: UInt64, distance: Distance = .cosine) -> SiameseNetwork {
        SiameseNetwork(encoder: EncoderConfiguration.mlp(MLPConfiguration(layers: [4, 8], embeddingDimension: 3)).makeEncoder(seed: seed),
                       distance: distance)
    }

    static func record(_ threshold: Double, _ direction: ScoreDirection = .higherIsSame) -> CalibrationRecord {
        CalibrationRecord(threshold: threshold, scoreDirection: direction, rule: .equalErrorRate, far: 0.1, frr: 0.1,
                          farInterval: nil, frrInterval: nil, genuineCount: 10, impostorCount: 10, dataFingerprint: "sha256:test")
    }

    static func weights(_ folder: ModelFolder) throws -> [Float] {
        let (net, _) = try folder.load()
        return net.parameters.flatMap { $0.value.scalars }
    }

    /// A kill at every point of a save leaves the old model or the new one, whole and loadable;
    /// the next save cleans up whatever the interrupted one left beside the folder.
    @Test(arguments: AtomicFolder.Interruption.allCases)
    func interruptedSaveLeavesOldOrNewModel(_ point: AtomicFolder.Interruption) throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = ModelFolder(dir.appendingPathComponent("model"))
        let old = Self.network(seed: 1), new = Self.network(seed: 2)
        try folder.save(old)
        let oldWeights = try Self.weights(folder)
        try folder.save(new)
        let newWeights = try Self.weights(folder)
        try folder.save(old)
        #expect(oldWeights != newWeights)

        #expect(throws: AtomicFolder.Interrupted.self) { try folder.save(new, interruption: point) }
        let after = try Self.weights(folder)  // load recovers a swap cut between its two renames
        switch point {
        case .whileStaging, .afterStaging: #expect(after == oldWeights)
        case .afterMovingOldAside, .afterSwap: #expect(after == newWeights)
        }
        // A kill after the swap left `.model.old` beside the new folder: the load removed it (a
        // reader need not wait for the next save; the kill-during-finetune script found it left).
        if point == .afterSwap { #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model"]) }
        try folder.save(old)
        #expect(try Self.weights(folder) == oldWeights)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model"])
    }

    /// A writer killed while staging leaves `.model.tmp-PID-…`; the next load removes it when that
    /// process is gone (a reader need not wait for the next save), and leaves a live writer's alone.
    @Test func aLoadRemovesTheStagingFolderOfADeadWriter() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = ModelFolder(dir.appendingPathComponent("model"))
        try folder.save(Self.network(seed: 1))
        let fm = FileManager.default
        // pid 999999999 is above any pid_max (dead); pid 1 is always running.
        for name in [".model.tmp-999999999-42", ".model.tmp-1-42"] {
            try fm.createDirectory(at: dir.appendingPathComponent(name), withIntermediateDirectories: false)
            try Data("partial".utf8).write(to: dir.appendingPathComponent(name).appendingPathComponent("model.safetensors"))
        }
        _ = try Self.weights(folder)
        #expect(try fm.contentsOfDirectory(atPath: dir.path).sorted() == [".model.tmp-1-42", "model"])
    }

    /// Training again into a folder drops the calibration made for the old weights and keeps
    /// the checkpoints; a calibration saved with the model names the new weights.
    @Test func savingAgainDropsTheOldCalibrationAndKeepsCheckpoints() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model")
        let folder = ModelFolder(url)
        let first = try folder.save(Self.network(seed: 1), calibration: Self.record(0.5))
        let saved = try #require(try CalibrationRecord.load(fromModelDirectory: url))
        #expect(saved.modelFingerprint == first.weightsSHA256)
        try FileManager.default.createDirectory(at: url.appendingPathComponent("checkpoints/step-00000001"), withIntermediateDirectories: true)
        try Data("state".utf8).write(to: url.appendingPathComponent("checkpoints/step-00000001/state.json"))

        try folder.save(Self.network(seed: 2))
        #expect(try CalibrationRecord.load(fromModelDirectory: url) == nil)
        #expect(try String(contentsOf: url.appendingPathComponent("checkpoints/step-00000001/state.json"), encoding: .utf8) == "state")
    }

    /// A calibration made for other weights, or the other direction, is ignored with a warning;
    /// one without a fingerprint is used, flagged as unverified.
    @Test func staleCalibrationIsIgnoredWithAWarning() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try ModelFolder(dir).save(Self.network(seed: 1))
        var record = Self.record(0.5)
        record.modelFingerprint = String(repeating: "0", count: 64)
        try record.save(toModelDirectory: dir)
        var checked = try CalibrationRecord.load(fromModelDirectory: dir, fingerprint: config.weightsSHA256, higherIsSame: true)
        #expect(checked.record == nil)
        #expect(checked.warning?.contains("made for weights 000000000000") == true)

        record.modelFingerprint = config.weightsSHA256
        record.scoreDirection = .lowerIsSame
        try record.save(toModelDirectory: dir)
        checked = try CalibrationRecord.load(fromModelDirectory: dir, fingerprint: config.weightsSHA256, higherIsSame: true)
        #expect(checked.record == nil)
        #expect(checked.warning?.contains("lower_is_same") == true)

        record.scoreDirection = .higherIsSame
        try record.save(toModelDirectory: dir)
        checked = try CalibrationRecord.load(fromModelDirectory: dir, fingerprint: config.weightsSHA256, higherIsSame: true)
        #expect(checked.record == record && checked.warning == nil)

        record.modelFingerprint = nil
        try record.save(toModelDirectory: dir)
        checked = try CalibrationRecord.load(fromModelDirectory: dir, fingerprint: config.weightsSHA256, higherIsSame: true)
        #expect(checked.record == record)
        #expect(checked.warning?.contains("no model_fingerprint") == true)
    }

    /// Every field of a crafted `siamese.json` is checked against the weights before anything is
    /// built: an error naming the field, never a trap or a terabyte allocation.
    @Test(arguments: [
        (#""layers" : [-4, 8]"#, "encoder.layers[0]"),
        (#""layers" : [4000000000000, 8]"#, "encoder.layers[0]"),
        (#""embeddingDimension" : 100000"#, "encoder"),
        (#""dropout" : 1.5"#, "encoder.dropout"),
        (#""feature_columns" : ["a", "b"]"#, "feature_columns"),
        (#""feature_columns" : ["a", "a", "b", "c"]"#, "feature_columns"),
    ])
    func craftedConfigurationIsRefusedNamingTheField(_ replacement: String, _ field: String) throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = ModelFolder(dir)
        try folder.save(Self.network(seed: 1), featureColumns: ["a", "b", "c", "d"])
        let url = dir.appendingPathComponent(ModelFolder.configurationFile)
        var text = try String(contentsOf: url, encoding: .utf8)
        let key = String(replacement[..<replacement.range(of: ":")!.lowerBound])
        let pattern = try NSRegularExpression(pattern: NSRegularExpression.escapedPattern(for: key) + #":\s*(\[[^\]]*\]|[-0-9.e]+)"#)
        let range = try #require(pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text))).range
        text = (text as NSString).replacingCharacters(in: range, with: replacement)
        try Data(text.utf8).write(to: url)
        let error = try #require(throws: ModelFormatError.self) { try folder.load() }
        #expect(error.message.contains("field \(field):"), "\(error.message)")
        #expect(error.message.hasPrefix(url.path))
    }

    /// A header that names a column twice is refused by training and by the readers that pick
    /// columns by name (which used to trap on the short row).
    @Test func duplicateColumnNamesAreRefused() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("dup.csv")
        try Data("x,x,label\n1,2,a\n3,4,b\n".utf8).write(to: url)
        let train = try #require(throws: InputError.self) { try FeatureCSV.read(url, labelColumn: "label") }
        #expect(train.description == "\(url.path):1: x: the header names this column twice; column names must be unique")
        let read = try #require(throws: InputError.self) { try FeatureCSV.readFeatures(url, columns: ["x"]) }
        #expect(read.description.contains("x: the header names this column twice"))
        let model = try #require(throws: InputError.self) { try FeatureCSV.readFeatures(url, columns: ["x", "x"]) }
        #expect(model.description.contains("the model names this column twice"))
        // Duplicates among columns the model does not read are harmless.
        try Data("x,y,y\n1,2,3\n".utf8).write(to: url)
        #expect(try FeatureCSV.readFeatures(url, columns: ["x"]).scalars == [1])
    }

    /// A checkpoint made on other data is not resumed (that kept the old weights and trained
    /// "0 steps"); `fit(resume: false)` starts over and removes the old checkpoints.
    @Test func resumeOnOtherDataIsRefused() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try clusteredData(classes: 4, perClass: 8, dimension: 4, seed: 1)
        let config = TrainingConfiguration(epochs: 2, batchSize: 8, learningRate: 1e-2, seed: 3)
        func trainer(_ fingerprint: String) throws -> Trainer<PairTrainingTask> {
            let t = try Trainer(model: Self.network(seed: 1), task: PairTrainingTask(data: data, loss: .contrastive(ContrastiveLoss()), batchSize: 8),
                                configuration: config, checkpointDirectory: dir)
            t.dataFingerprint = fingerprint
            return t
        }
        let first = try trainer("data-1").fit()
        #expect(first.stepsThisRun > 0)
        #expect(try trainer("data-1").fit().stepsThisRun == 0)  // the same data: nothing left to do
        let error = try #require(throws: TrainingError.self) { try trainer("data-2").fit() }
        #expect(error.message.contains("other training data or setup") && error.message.contains("--no-resume"), "\(error.message)")
        let fresh = try trainer("data-2").fit(resume: false)
        #expect(fresh.stepsThisRun == first.stepsThisRun && fresh.resumedFrom == nil)
        #expect(try trainer("data-2").fit().stepsThisRun == 0)
    }
}
