import Foundation
import Siamese

/// Progress of a long command on standard error, the same for every command: on a terminal a
/// one-line bar with the rate and the time left, redrawn at most ten times a second; otherwise
/// (a pipe, a log file, CI) one plain line every few seconds, so logs show progress without
/// drowning in it. Safe to update from several threads (parallel mining reports per tile).
final class ProgressBar: @unchecked Sendable {
    let label: String
    /// Whether the bar is drawn (standard error is a terminal).
    let enabled: Bool
    /// Seconds between plain lines when the bar is not drawn.
    let logInterval: Double
    private let lock = NSLock()
    private var lastDraw = 0.0
    private var lastLine = 0.0
    private let start = Date()
    private var drawn = false

    /// - Parameters:
    ///   - label: the command's word for the work ("training", "embedding", …).
    ///   - enabled: draw a bar (default: when standard error is a terminal).
    ///   - logInterval: seconds between plain progress lines when no bar is drawn.
    init(label: String, enabled: Bool = isatty(2) == 1, logInterval: Double = 5) {
        self.label = label
        self.enabled = enabled
        self.logInterval = logInterval
    }

    /// `fraction` in [0, 1]; `detail` follows the bar.
    func update(fraction: Double, detail: String = "") {
        lock.lock()
        defer { lock.unlock() }
        let now = Date().timeIntervalSince(start)
        let f = min(max(fraction, 0), 1)
        let eta = f > 0.01 && f < 1 ? String(format: ", %@ left", Self.duration(now / f - now)) : ""
        if enabled {
            guard now - lastDraw >= 0.1 || f >= 1 else { return }
            lastDraw = now
            let width = 30
            let filled = Int((f * Double(width)).rounded())
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(label) \(bar) \(Int(f * 100))% \(detail)\(eta)".utf8))
            drawn = true
        } else if now - lastLine >= logInterval {
            lastLine = now
            FileHandle.standardError.write(Data("\(label): \(Int(f * 100))%\(detail.isEmpty ? "" : " " + detail)\(eta)\n".utf8))
        }
    }

    /// Progress counted in items: `done` of `total` `unit`s, with the rate since the start.
    func update(done: Int, of total: Int, unit: String) {
        let seconds = max(Date().timeIntervalSince(start), 1e-9)
        update(fraction: total > 0 ? Double(done) / Double(total) : 1,
               detail: String(format: "%d/%d %@, %.0f %@/s", done, total, unit, Double(done) / seconds, unit))
    }

    /// A line above the bar (epoch summaries); shown on a terminal, or always when `always` (warnings).
    func log(_ line: String, always: Bool = false) {
        lock.lock()
        defer { lock.unlock() }
        guard enabled || always else { return }
        let prefix = enabled && drawn ? "\r\u{1B}[2K" : ""
        FileHandle.standardError.write(Data((prefix + line + "\n").utf8))
        lastDraw = 0
    }

    /// Ends the line.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if enabled && drawn { FileHandle.standardError.write(Data("\n".utf8)) }
        drawn = false
    }

    /// "42s", "3m05s", "1h02m".
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }
}

extension ProgressBar {
    /// Shows a trainer's progress: the fraction of all epochs done, the epoch and its mean loss.
    func update(_ p: TrainingProgress) {
        update(fraction: (Double(p.epoch) + Double(p.step) / Double(max(1, p.stepsInEpoch))) / Double(p.epochs),
               detail: String(format: "epoch %d/%d  loss %.4f", p.epoch + 1, p.epochs, p.meanLoss))
    }
}
