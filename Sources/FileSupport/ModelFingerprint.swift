import Foundation

/// The fingerprint of the weights in a model folder, as the loaders compute it: a Siamese model
/// folder (`siamese.json`) is the hex SHA-256 of its `model.safetensors`; a sentence-transformers
/// folder is the SHA-256 over the digests of every weights file (and `modules.json`,
/// `config.json`), so that a fine-tuned copy never shares a fingerprint with its parent.
///
/// Calibrations record it so that a threshold is only applied to the weights it was chosen for.
public enum ModelFingerprint {
    /// The folder's fingerprint, or `nil` when it holds no weights.
    public static func of(_ folder: URL) throws -> String? {
        let fm = FileManager.default
        if fm.fileExists(atPath: folder.appendingPathComponent("siamese.json").path) {
            let weights = folder.appendingPathComponent("model.safetensors")
            guard fm.fileExists(atPath: weights.path) else { return nil }
            return try SHA256.hex(ofFile: weights)
        }
        var parts: [String] = []
        if let walker = fm.enumerator(at: folder, includingPropertiesForKeys: nil) {
            for case let url as URL in walker {
                let n = url.lastPathComponent
                guard n.hasSuffix(".safetensors") || n.hasSuffix(".bin") || n == "modules.json" || n == "config.json" else { continue }
                let relative = String(url.path.dropFirst(folder.path.count))
                parts.append("\(relative):\(try SHA256.hex(ofFile: url))")
            }
        }
        guard !parts.isEmpty else { return nil }
        return SHA256.hash(Array(parts.sorted().joined(separator: "\n").utf8)).hexString
    }
}
