import Foundation
import NN
import SafeTensors
import Tensors

/// Loads named parameters from a safetensors file with checks that name the file and tensor.
enum WeightLoading {
    /// Every parameter must be in the file with its shape and finite values; file tensors that
    /// no parameter takes must satisfy `ignoring` (else the file belongs to another architecture).
    /// A `prefix` such as `bert.` on every name of the file is removed first. Values are assigned
    /// only once all were read. `source` names, for a parameter, where its shape comes from (the
    /// `config.json` fields), so that a shape error says which file disagrees with which.
    @discardableResult
    static func load(_ parameters: [(name: String, parameter: Parameter)], from url: URL,
                     ignoring: (String) -> Bool, source: (String) -> String? = { _ in nil }) throws(TextEncoderError) -> SafeTensorsFile {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(contentsOf: url) } catch { throw TextEncoderError("\(error)") }
        let strip = commonPrefix(file.names, expected: parameters.map(\.name))
        var byName: [String: String] = [:]
        for n in file.names { byName[n.hasPrefix(strip) ? String(n.dropFirst(strip.count)) : n] = n }
        let wanted = Set(parameters.map(\.name))
        let unexpected = byName.keys.filter { !wanted.contains($0) && !ignoring($0) }.sorted()
        guard unexpected.isEmpty else {
            throw TextEncoderError("\(url.path): tensors \(unexpected.prefix(5).joined(separator: ", ")) do not belong to this model")
        }
        var loaded: [(Parameter, Tensor)] = []
        for (name, p) in parameters {
            guard let fileName = byName[name] else { throw TextEncoderError("\(url.path): tensor \(name) is missing") }
            let t: Tensor
            do { t = try file.tensor(named: fileName) } catch { throw TextEncoderError("\(error)") }
            guard t.shape == p.shape else {
                let needs = source(name).map { "\($0) needs" } ?? "the model's configuration needs"
                throw TextEncoderError("\(url.path): tensor \(name) has shape \(t.shape), \(needs) \(p.shape)")
            }
            guard t.allFinite else { throw TextEncoderError("\(url.path): tensor \(name) contains NaN or infinite values") }
            loaded.append((p, t))
        }
        for (p, t) in loaded { p.value = t }
        return file
    }

    /// `bert.`, `mpnet.`, `roberta.` (or another single path component) when every expected name is
    /// found under it. XLM-RoBERTa's checkpoints use `roberta.` too (its classes reuse RoBERTa's prefix).
    static func commonPrefix(_ names: [String], expected: [String]) -> String {
        let set = Set(names)
        if expected.allSatisfy({ set.contains($0) }) { return "" }
        for prefix in ["bert.", "mpnet.", "roberta.", "model.", "0.auto_model."] where expected.allSatisfy({ set.contains(prefix + $0) }) { return prefix }
        return ""
    }
}
