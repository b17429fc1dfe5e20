import Foundation
import Tensors
import Testing
@testable import TextEncoders

/// The differentiable BERT path against central finite differences, on a tiny configuration.
@Suite struct GradientTests {
    /// In training mode too: the masks are fixed by reseeding the dropout generator before every
    /// evaluation, so the backward pass must scale by the very masks the forward pass drew.
    @Test(arguments: [false, true])
    func gradientsMatchFiniteDifferences(dropout: Bool) throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var o = TinyModel.Options()
        o.hidden = 8; o.heads = 2; o.intermediate = 12; o.layers = 2
        // Max pooling is not differentiable where two tokens tie; with dropout's rescaled values a
        // near-tie lies within the finite-difference step, so its gradient is checked without dropout.
        o.pooling = dropout ? ["mean", "cls"] : ["mean", "max", "cls"]
        let model = try SentenceTransformer(folder: try TinyModel.write(to: dir.file("m"), o))
        let texts = ["the cat sat", "a dog is good!", "hello"]
        var g = SeededGenerator(seed: 3)
        let weights = Tensor.randomNormal([texts.count, model.dimension], generator: &g)
        model.isTraining = dropout
        func loss() -> Tensor {
            model.bert.dropoutGenerator = SeededGenerator(seed: 11)
            return (model.embed(texts) * weights).sum()
        }

        model.zeroGrad()
        try loss().backward()
        let checked = ["embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight", "embeddings.LayerNorm.weight",
                       "encoder.layer.0.attention.self.query.weight", "encoder.layer.0.attention.self.key.bias",
                       "encoder.layer.1.attention.self.value.weight", "encoder.layer.1.attention.output.dense.weight",
                       "encoder.layer.0.intermediate.dense.weight", "encoder.layer.1.output.dense.bias",
                       "encoder.layer.1.output.LayerNorm.bias"]
        var worst = 0.0
        for name in checked {
            let p = try #require(model.namedParameters.first { $0.name == name }?.parameter)
            let analytic = try #require(p.grad).scalars
            // A few elements with the largest gradients (the rest may be structurally zero).
            let picks = analytic.indices.sorted { abs(analytic[$0]) > abs(analytic[$1]) }.prefix(3)
            for i in picks {
                let h: Float = 1e-2
                let original = p.value.scalars[i]
                func set(_ v: Float) { var t = p.value.detached(); t.withUnsafeMutableBufferPointer { $0[i] = v }; p.value = t }
                set(original + h)
                let up = withoutGradients { loss().item }
                set(original - h)
                let down = withoutGradients { loss().item }
                set(original)
                let numeric = Double(up - down) / Double(2 * h)
                let error = abs(numeric - Double(analytic[i])) / max(1, abs(numeric))
                worst = max(worst, error)
                #expect(error < 2e-2, "\(name)[\(i)]: analytic \(analytic[i]), numeric \(numeric)")
            }
        }
        print("BERT gradient check (dropout \(dropout)): worst relative error \(worst)")
    }

    /// Training mode draws dropout masks from the model's seeded generator: outputs differ from
    /// evaluation mode, and the same seed gives the same masks.
    @Test func dropoutOnlyInTraining() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let folder = try TinyModel.write(to: dir.file("m"))
        let a = try SentenceTransformer(folder: folder), b = try SentenceTransformer(folder: folder)
        let eval = withoutGradients { a.embed(TinyModel.sentences) }.scalars
        a.isTraining = true; b.isTraining = true
        let ta = withoutGradients { a.embed(TinyModel.sentences) }.scalars
        let tb = withoutGradients { b.embed(TinyModel.sentences) }.scalars
        #expect(ta == tb)
        #expect(ta != eval)
        a.isTraining = false
        #expect(withoutGradients { a.embed(TinyModel.sentences) }.scalars == eval)
    }
}
