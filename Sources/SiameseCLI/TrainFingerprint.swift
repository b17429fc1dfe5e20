import FileSupport
import Foundation
import Siamese
import Tensors

extension TrainCommand {
    /// The fingerprint of a training run's data and setup, stored in its checkpoints: SHA-256 over
    /// the arrays actually trained on (after any validation split) and the flags that shape the
    /// model and the loss. A resume with another fingerprint is refused (`--no-resume` starts over).
    func runFingerprint(_ data: TrainingData, trainingSet: FeatureDataset?, model: EncoderConfiguration) -> String {
        var hash = SHA256()
        func add(_ t: Tensor) {
            add("\(t.shape)")
            t.withUnsafeBufferPointer { hash.update(UnsafeRawBufferPointer($0)) }
        }
        func add(_ text: String) { hash.update(Array((text + "\n").utf8)) }
        switch data {
        case .labelled(let all, let columns, _):
            let d = trainingSet ?? all
            add("labelled \(columns)")
            add(d.features)
            add("\(d.labels)")
        case .pairs(let p, let columns):
            add("pairs \(columns)")
            add(p.left); add(p.right)
            add("\(p.labels)")
        case .triplets(let t, let columns):
            add("triplets \(columns)")
            add(t.anchor); add(t.positive); add(t.negative)
        }
        // Sorted keys: the encoder's key order varies from run to run (hash seeding).
        let json = JSONEncoder()
        json.outputFormatting = [.sortedKeys]
        let encoded = (try? json.encode(model)).map { String(decoding: $0, as: UTF8.self) } ?? "\(model)"
        add("model \(encoded) distance \(distance)")
        add("loss \(loss) margin \(margin.map { "\($0)" } ?? "-") miner \(miner ?? "-") hard \(hardNegatives) ranks \(mineRanks) every \(mineEvery) ratio \(pairRatio) balance \(balanceClasses)")
        // Only when given, so that runs without them keep the fingerprint they had before the flags existed.
        let settings = [("scale", lossScale), ("temperature", lossTemperature), ("alpha", lossAlpha), ("beta", lossBeta), ("base", lossBase)]
            .compactMap { name, value in value.map { "\(name) \($0)" } }
        if !settings.isEmpty { add("loss settings " + settings.joined(separator: " ")) }
        // Only when set, so that the checkpoints of earlier runs still resume.
        if classLearningRateScale != 1 { add("class learning rate scale \(classLearningRateScale)") }
        return hash.finalize().hexString
    }
}
