import ArgumentParser
import Foundation
import Siamese
import TextEncoders

/// The loss options of `siamese finetune`: which loss, and the settings of each. A setting the chosen
/// loss does not use is refused (it would silently do nothing).
struct FineTuneLossOptions: ParsableArguments {
    static let names = ["mnrl", "cached-mnrl", "gist", "cosent", "angle", "contrastive", "cosine", "matryoshka"]

    @Option(help: "Loss: mnrl, cached-mnrl (mnrl in bounded memory), gist (mnrl with a guide model), cosent, angle, contrastive, cosine, or matryoshka (wraps --matryoshka-inner).") var loss = "mnrl"
    @Option(name: .customLong("scale"), help: "Scale of mnrl, cached-mnrl, cosent and angle (1 / temperature; default 20).") var scaleOption: Float?
    @Option(name: .customLong("margin"), help: "Margin of the contrastive loss (cosine distance; default 0.5).") var marginOption: Float?

    /// `--scale`, or its default.
    var scale: Float { scaleOption ?? 20 }
    /// `--margin`, or its default.
    var margin: Float { marginOption ?? 0.5 }
    @Option(help: "cached-mnrl: texts per forward pass (memory bound; default 32). The loss and gradients are those of the whole --batch-size.") var miniBatchSize: Int?
    @Option(help: ArgumentHelp("gist: the frozen guide model (folder or name) whose similarities drop in-batch false negatives.", valueName: "dir|name")) var guide: String?
    @Option(help: "gist: softmax temperature (default 0.01).") var temperature: Float?
    @Option(help: "gist: a candidate is dropped when the guide scores it above the positive's similarity minus this margin (default 0).") var guideMargin: Float?
    @Option(help: ArgumentHelp("matryoshka: prefix widths to train, e.g. 384,256,128,64 (default: the model's width, then 256, 128, 64 below it).", valueName: "d1,d2,…")) var matryoshkaDims: String?
    @Option(help: ArgumentHelp("matryoshka: one weight per dimension (default: all 1).", valueName: "w1,w2,…")) var matryoshkaWeights: String?
    @Option(help: "matryoshka: the loss applied at each width: mnrl, cached-mnrl, gist, cosent, angle, contrastive or cosine.") var matryoshkaInner: String?

    /// The base loss (the inner one for matryoshka).
    var base: String { loss == "matryoshka" ? (matryoshkaInner ?? "mnrl") : loss }

    func validate() throws {
        guard Self.names.contains(loss) else {
            throw ValidationError("--loss must be one of \(Self.names.joined(separator: ", ")), got \(loss)")
        }
        if loss != "matryoshka" {
            for (flag, value) in [("--matryoshka-dims", matryoshkaDims), ("--matryoshka-weights", matryoshkaWeights), ("--matryoshka-inner", matryoshkaInner)] where value != nil {
                throw ValidationError("\(flag) applies to --loss matryoshka only (the loss is \(loss))")
            }
        } else if let inner = matryoshkaInner, !Self.names.contains(inner) || inner == "matryoshka" {
            throw ValidationError("--matryoshka-inner must be one of \(Self.names.dropLast().joined(separator: ", ")), got \(inner)")
        }
        let on = loss == "matryoshka" ? "\(base) (inside matryoshka)" : loss
        if base != "cached-mnrl", miniBatchSize != nil { throw ValidationError("--mini-batch-size applies to cached-mnrl only (the loss is \(on))") }
        if let m = miniBatchSize, m < 1 { throw ValidationError("--mini-batch-size must be at least 1") }
        if base == "gist" {
            guard guide != nil else { throw ValidationError("gist needs --guide MODEL (a sentence-transformers folder or name)") }
        } else {
            for (flag, set) in [("--guide", guide != nil), ("--temperature", temperature != nil), ("--guide-margin", guideMargin != nil)] where set {
                throw ValidationError("\(flag) applies to gist only (the loss is \(on))")
            }
        }
        if let t = temperature, !(t > 0 && t.isFinite) { throw ValidationError("--temperature must be positive") }
        if let m = guideMargin, !m.isFinite { throw ValidationError("--guide-margin must be a finite number") }
        guard scale > 0, scale.isFinite else { throw ValidationError("--scale must be positive") }
        if scaleOption != nil, !["mnrl", "cached-mnrl", "cosent", "angle"].contains(base) {
            throw ValidationError("--scale applies to mnrl, cached-mnrl, cosent and angle (the loss is \(on)\(base == "gist" ? "; gist takes --temperature" : ""))")
        }
        if marginOption != nil, base != "contrastive" { throw ValidationError("--margin applies to contrastive only (the loss is \(on))") }
        _ = try dimensions(width: nil)
        _ = try weights()
    }

    /// The Matryoshka widths (checked against the model's width when given).
    func dimensions(width: Int?) throws -> [Int] {
        guard let text = matryoshkaDims else {
            guard let width else { return [] }
            return [width] + [256, 128, 64].filter { $0 < width }
        }
        let dims = try text.split(separator: ",", omittingEmptySubsequences: false).map { part -> Int in
            guard let d = Int(part.trimmingCharacters(in: .whitespaces)), d >= 1 else {
                throw ValidationError("--matryoshka-dims: '\(part)' is not a positive integer (expected e.g. 384,256,128,64)")
            }
            if let width, d > width { throw ValidationError("--matryoshka-dims: \(d) exceeds the model's embedding width \(width)") }
            return d
        }
        guard Set(dims).count == dims.count else { throw ValidationError("--matryoshka-dims: \(text) repeats a width") }
        return dims
    }

    func weights() throws -> [Float]? {
        guard let text = matryoshkaWeights else { return nil }
        let weights = try text.split(separator: ",", omittingEmptySubsequences: false).map { part -> Float in
            guard let w = Float(part.trimmingCharacters(in: .whitespaces)), w.isFinite, w >= 0 else {
                throw ValidationError("--matryoshka-weights: '\(part)' is not a non-negative number")
            }
            return w
        }
        if let dims = matryoshkaDims, dims.split(separator: ",", omittingEmptySubsequences: false).count != weights.count {
            throw ValidationError("--matryoshka-weights has \(weights.count) weights for the \(dims.split(separator: ",").count) widths of --matryoshka-dims")
        }
        return weights
    }

    /// The loss for a model of embedding width `width`.
    func make(width: Int) throws -> TextPairTrainingTask.Loss {
        func single(_ name: String) -> TextPairTrainingTask.Loss {
            switch name {
            case "mnrl": .multipleNegativesRanking(MultipleNegativesRankingLoss(scale: scale))
            case "cached-mnrl": .cachedMultipleNegativesRanking(CachedMultipleNegativesRankingLoss(MultipleNegativesRankingLoss(scale: scale), miniBatchSize: miniBatchSize ?? 32))
            case "gist": .gistEmbed(GISTEmbedLoss(temperature: temperature ?? 0.01, margin: guideMargin ?? 0))
            case "cosent": .coSENT(CoSENTLoss(scale: scale))
            case "angle": .angle(AnglELoss(scale: scale))
            case "contrastive": .contrastive(ContrastiveLoss(margin: margin))
            default: .cosineSimilarity(CosineSimilarityLoss())
            }
        }
        guard loss == "matryoshka" else { return single(loss) }
        let dims = try dimensions(width: width)
        let w = try weights()
        if let w, w.count != dims.count {
            throw ValidationError("--matryoshka-weights has \(w.count) weights for \(dims.count) widths (\(dims.map(String.init).joined(separator: ",")))")
        }
        return .matryoshka(MatryoshkaLoss(dimensions: dims, weights: w), inner: single(base))
    }

    /// What a checkpoint must have been made with to be resumed: the loss and every setting it uses.
    func fingerprint(guideFingerprint: String?) throws -> String {
        var parts = ["\(loss) \(scale) \(margin)"]  // as before this file existed, so old checkpoints still resume
        if loss == "matryoshka" { parts.append("dims=\(matryoshkaDims ?? "default") weights=\(matryoshkaWeights ?? "1") inner=\(base)") }
        if base == "cached-mnrl" { parts.append("mini=\(miniBatchSize ?? 32)") }
        if base == "gist" { parts.append("guide=\(guideFingerprint ?? "-") t=\(temperature ?? 0.01) m=\(guideMargin ?? 0)") }
        return parts.joined(separator: " ")
    }
}
