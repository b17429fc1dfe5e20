import Foundation

/// A one-line progress bar on standard error, drawn only when standard error is a terminal, so
/// pipes and logs stay clean. Redraws at most ten times a second.
final class ProgressBar: @unchecked Sendable {
    let label: String
    let enabled: Bool
    private var lastDraw = 0.0
    private let start = Date()
    private var drawn = false

    init(label: String, enabled: Bool = isatty(2) == 1) {
        self.label = label
        self.enabled = enabled
    }

    /// `fraction` in [0, 1]; `detail` follows the bar.
    func update(fraction: Double, detail: String = "") {
        guard enabled else { return }
        let now = Date().timeIntervalSince(start)
        guard now - lastDraw >= 0.1 || fraction >= 1 else { return }
        lastDraw = now
        let width = 30
        let filled = Int((min(max(fraction, 0), 1) * Double(width)).rounded())
        let eta = fraction > 0.01 ? String(format: " eta %.0fs", now / fraction - now) : ""
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(label) \(bar) \(Int(fraction * 100))% \(detail)\(eta)".utf8))
        drawn = true
    }

    /// A line above the bar (epoch summaries); shown on a terminal, or always when `always` (warnings).
    func log(_ line: String, always: Bool = false) {
        guard enabled || always else { return }
        let prefix = enabled && drawn ? "\r\u{1B}[2K" : ""
        FileHandle.standardError.write(Data((prefix + line + "\n").utf8))
        lastDraw = 0
    }

    /// Ends the line.
    func finish() {
        if enabled && drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
