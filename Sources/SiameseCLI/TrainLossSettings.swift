import ArgumentParser
import Siamese

/// The loss settings of `siamese train` beyond `--margin`: each loss reads only some of them, and
/// one it does not read is refused (it would silently do nothing).
extension TrainCommand {
    /// The settings each loss reads, with what each means for it and its default.
    static let lossSettings: [String: [(flag: String, meaning: String)]] = [
        "contrastive": [("--margin", "margin, default 0.5")],
        "online-contrastive": [("--margin", "margin, default 0.5")],
        "triplet": [("--margin", "margin, default 0.3")],
        "mnrl": [("--loss-scale", "scale, default 20")],
        "bce": [], "cosine": [],
        "multi-similarity": [("--loss-alpha", "alpha, default 2"), ("--loss-beta", "beta, default 50"), ("--loss-base", "base, default 0.5")],
        "circle": [("--margin", "m, default 0.4"), ("--loss-scale", "gamma, default 80")],
        "supcon": [("--loss-temperature", "temperature, default 0.1")],
        "arcface": [("--margin", "angular margin in degrees, default 28.6"), ("--loss-scale", "scale, default 64")],
        "cosface": [("--margin", "margin, default 0.35"), ("--loss-scale", "scale, default 64")],
        "proxy-anchor": [("--margin", "margin, default 0.1"), ("--loss-alpha", "alpha, default 32")],
    ]

    /// Refuses a loss setting the chosen loss does not read, naming those it does; checks values.
    func checkLossSettings() throws {
        let given: [(String, Float?)] = [("--margin", margin), ("--loss-scale", lossScale), ("--loss-temperature", lossTemperature),
                                         ("--loss-alpha", lossAlpha), ("--loss-beta", lossBeta), ("--loss-base", lossBase)]
        guard let reads = Self.lossSettings[loss] else { return }  // an unknown loss is reported where the task is built
        for (flag, value) in given {
            guard let value else { continue }
            guard reads.contains(where: { $0.flag == flag }) else {
                let takes = reads.isEmpty ? "takes none of these settings"
                    : "reads " + reads.map { "\($0.flag) (\($0.meaning))" }.joined(separator: ", ")
                throw ValidationError("\(flag) does not apply to --loss \(loss), which \(takes)")
            }
            guard value.isFinite else { throw ValidationError("\(flag) must be a finite number, got \(value)") }
            if flag != "--margin" && flag != "--loss-base", value <= 0 { throw ValidationError("\(flag) must be positive, got \(value)") }
        }
    }
}
