import Foundation
import Tensors

/// How token vectors become one sentence vector, as sentence-transformers' `Pooling` module
/// (`1_Pooling/config.json`). Several modes concatenate their results in the order given.
public struct Pooling: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable {
        /// The first token (`[CLS]`).
        case cls
        /// Element-wise maximum over the real tokens.
        case max
        /// Average of the real tokens.
        case mean
        /// Sum of the real tokens divided by √(token count).
        case meanSqrtLength = "mean_sqrt_len_tokens"
        /// Average weighted by position (1, 2, …, n).
        case weightedMean = "weightedmean"
        /// The last real token.
        case lastToken = "lasttoken"
    }

    public var modes: [Mode]
    /// The width of the token vectors.
    public var dimension: Int
    /// Whether a prompt's tokens count in the pooling (`include_prompt`); when false, the tokens of
    /// the prompt put before each input (and the leading special token) are left out of the mean,
    /// max and weighted modes, as sentence-transformers masks them. Encoding only: fine-tuning
    /// embeds inputs without prompts.
    public var includePrompt: Bool

    /// A pooling of `dimension`-wide token vectors.
    /// - Parameters:
    ///   - modes: The modes, concatenated in this order.
    ///   - dimension: The width of the token vectors.
    ///   - includePrompt: Whether prompt tokens count (see ``includePrompt``).
    public init(modes: [Mode] = [.mean], dimension: Int, includePrompt: Bool = true) {
        self.modes = modes
        self.dimension = dimension
        self.includePrompt = includePrompt
    }

    /// The width of the pooled vector.
    public var outputDimension: Int { modes.count * dimension }

    /// Legacy boolean keys, in the order sentence-transformers concatenates them.
    static let legacyKeys: [(String, Mode)] = [
        ("pooling_mode_cls_token", .cls), ("pooling_mode_max_tokens", .max), ("pooling_mode_mean_tokens", .mean),
        ("pooling_mode_mean_sqrt_len_tokens", .meanSqrtLength), ("pooling_mode_weightedmean_tokens", .weightedMean),
        ("pooling_mode_lasttoken", .lastToken),
    ]

    /// Reads `1_Pooling/config.json`, in the current format (`pooling_mode`: a name or a list) or
    /// the legacy one (`pooling_mode_mean_tokens: true`, …).
    init(_ file: JSONFile) throws(TextEncoderError) {
        let dimensionKey = file.has("embedding_dimension") ? "embedding_dimension" : "word_embedding_dimension"
        let dimension = try file.int(dimensionKey, range: 1...1_000_000)
        var modes: [Mode] = []
        if file.has("pooling_mode") {
            let raw = file.object["pooling_mode"]
            let names: [String]
            if let s = raw as? String { names = [s] } else if let list = raw as? [String] { names = list } else {
                throw file.error("pooling_mode", "expected a mode name or a list of them")
            }
            for n in names {
                guard let m = Mode(rawValue: n) else {
                    throw file.error("pooling_mode", "unknown mode \"\(n)\" (\(Mode.allCases.map(\.rawValue).joined(separator: ", ")) are known)")
                }
                modes.append(m)
            }
        } else {
            for (key, mode) in Self.legacyKeys where try file.bool(key, default: false) { modes.append(mode) }
        }
        guard !modes.isEmpty else { throw TextEncoderError("\(file.path): no pooling mode is enabled") }
        self.init(modes: modes, dimension: dimension, includePrompt: try file.bool("include_prompt", default: true))
    }

    /// The legacy format, which every version of sentence-transformers reads.
    var jsonObject: [String: Any] {
        var o: [String: Any] = ["word_embedding_dimension": dimension]
        for (key, mode) in Self.legacyKeys { o[key] = modes.contains(mode) }
        o["include_prompt"] = includePrompt
        return o
    }

    /// Differentiable pooling of padded hidden states `[b·t, d]` with each row's length.
    func callAsFunction(_ hidden: Tensor, lengths: [Int], columns t: Int) -> Tensor {
        let b = lengths.count, d = dimension
        let h3 = hidden.reshaped([b, t, d])
        var mask = [Float](repeating: 0, count: b * t)
        for r in 0..<b { for j in 0..<lengths[r] { mask[r * t + j] = 1 } }
        let maskTensor = Tensor(shape: [b, t, 1], mask)
        var parts: [Tensor] = []
        for mode in modes {
            switch mode {
            case .cls:
                parts.append(hidden.indexSelect((0..<b).map { $0 * t }))
            case .lastToken:
                parts.append(hidden.indexSelect((0..<b).map { $0 * t + Swift.max(lengths[$0] - 1, 0) }))
            case .max:
                let padding = Tensor(shape: [b, t, 1], mask.map { $0 == 0 ? 1 : 0 })
                parts.append(h3.maskedFill(padding, with: -Float.infinity).max(axis: 1))
            case .mean, .meanSqrtLength:
                let sum = (h3 * maskTensor).sum(axis: 1)
                let counts = lengths.map { Swift.max(Float($0), 1e-9) }
                let denominators = mode == .mean ? counts : counts.map { $0.squareRoot() }
                parts.append(sum / Tensor(shape: [b, 1], denominators))
            case .weightedMean:
                var w = [Float](repeating: 0, count: b * t)
                var totals = [Float](repeating: 0, count: b)
                for r in 0..<b {
                    for j in 0..<lengths[r] { w[r * t + j] = Float(j + 1); totals[r] += Float(j + 1) }
                }
                let sum = (h3 * Tensor(shape: [b, t, 1], w)).sum(axis: 1)
                parts.append(sum / Tensor(shape: [b, 1], totals.map { Swift.max($0, 1e-9) }))
            }
        }
        return parts.count == 1 ? parts[0] : Tensor.concatenate(parts, axis: 1)
    }
}
