import Foundation
import Testing
@testable import Siamese
import Tensors
import GradientChecking

// The sentence-transformers losses of issue 16 (AnglE, Matryoshka, CachedMultipleNegativesRanking,
// GISTEmbed), checked as the other losses are (see LossTests.swift for the tolerances):
// 1. against Fixtures/st_losses_reference.json, written by Benchmarks/reference/st_losses_reference.py
//    from sentence-transformers' own loss classes in float64;
// 2. against central finite differences of our float32 loss.

struct STCase: Decodable, Sendable, CustomTestStringConvertible {
    struct Params: Decodable, Sendable {
        var scale: Float?
        var scores: [Float]?
        var inner: String?
        var dimensions: [Int]?
        var weights: [Float]?
        var mini_batch_size: Int?
        var anchors: Int?
        var temperature: Float?
        var margin_strategy: String?
        var margin: Float?
        var contrast_anchors: Bool?
        var contrast_positives: Bool?
    }
    let name: String
    let loss: String
    let params: Params
    let inputs: [String: FixtureArray]
    let constants: [String: FixtureArray]
    let value: FixtureArray
    let grads: [String: FixtureArray]
    let counts: [String: Int]?

    var testDescription: String { name }

    /// Hard-negative blocks in order (`negatives0`, `negatives1`, …) from a name → tensor map.
    func negatives(_ tensors: [String: Tensor], prefix: String = "negatives") -> [Tensor] {
        tensors.keys.filter { $0.hasPrefix(prefix) }.sorted().map { tensors[$0]! }
    }
}

enum STLossFixture {
    static let cases: [STCase] = {
        struct File: Decodable { let cases: [STCase] }
        guard let url = Bundle.module.url(forResource: "st_losses_reference", withExtension: "json", subdirectory: "Fixtures") else {
            fatalError("Fixtures/st_losses_reference.json is missing from the test bundle")
        }
        do { return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases } catch {
            fatalError("cannot read st_losses_reference.json: \(error)")
        }
    }()

    static func cases(_ loss: String) -> [STCase] { cases.filter { $0.loss == loss } }
}

/// Runs a fixture case through our loss; `inputs` are the differentiable inputs by name. For
/// `cached_mnrl` this is the plain loss on the whole batch (what the cache must reproduce).
func evaluateST(_ c: STCase, _ inputs: [String: Tensor], temperatureFactor: Float = 1) -> (value: Tensor, counts: [String: Int]) {
    let p = c.params
    let constants = c.constants.mapValues(\.tensor)
    switch c.loss {
    case "angle":
        return (AnglELoss(scale: p.scale!)(inputs["a"]!, inputs["b"]!, scores: p.scores!), [:])
    case "matryoshka":
        let loss = MatryoshkaLoss(dimensions: p.dimensions!, weights: p.weights)
        if p.inner == "cosent" {
            return (loss([inputs["a"]!, inputs["b"]!]) { CoSENTLoss(scale: p.scale!)($0[0], $0[1], scores: p.scores!) }, [:])
        }
        let blocks = [inputs["anchors"]!, inputs["positives"]!] + c.negatives(inputs)
        let mnrl = MultipleNegativesRankingLoss(scale: p.scale!)
        return (loss(blocks) { mnrl(anchors: $0[0], positives: $0[1], hardNegatives: Array($0.dropFirst(2))) }, [:])
    case "gist":
        let loss = GISTEmbedLoss(temperature: p.temperature! * temperatureFactor, marginStrategy: .init(rawValue: p.margin_strategy!)!,
                                 margin: p.margin!, contrastAnchors: p.contrast_anchors!, contrastPositives: p.contrast_positives!)
        let r = loss(anchors: inputs["anchors"]!, positives: inputs["positives"]!, hardNegatives: c.negatives(inputs),
                     guideAnchors: constants["guide_anchors"]!, guidePositives: constants["guide_positives"]!,
                     guideNegatives: c.negatives(constants, prefix: "guide_negatives"))
        return (r.loss, ["dropped": r.dropped])
    case "cached_mnrl":
        let e = (constants["x"]!.matmul(inputs["w"]!)).tanh()
        return (CachedMultipleNegativesRankingLoss(MultipleNegativesRankingLoss(scale: p.scale!)).blocks(e, anchors: p.anchors!), [:])
    default:
        fatalError("unknown loss \(c.loss) in st_losses_reference.json")
    }
}

/// The cached loss of a `cached_mnrl` case: embeddings tanh(X[rows]·W) in mini-batches, W a leaf.
func cachedMNRL(_ c: STCase, w: Tensor) throws -> (value: Tensor, grad: Tensor) {
    let x = c.constants["x"]!.tensor
    let loss = CachedMultipleNegativesRankingLoss(MultipleNegativesRankingLoss(scale: c.params.scale!), miniBatchSize: c.params.mini_batch_size!)
    var embedded: [Int] = []
    let batch = loss(anchors: c.params.anchors!, rows: x.shape[0]) { range in
        embedded.append(range.count)
        return x.slice(axis: 0, range).matmul(w).tanh()
    }
    #expect(embedded.allSatisfy { $0 <= c.params.mini_batch_size! }, "\(c.name): a forward pass of \(embedded.max() ?? 0) rows")
    try #require(batch.backward != nil)
    try batch.backward!()
    // Every row embedded twice: once without graph, once replayed with it.
    #expect(embedded.reduce(0, +) == 2 * x.shape[0], "\(c.name): rows embedded \(embedded)")
    return (batch.value, try #require(w.grad))
}

@Suite("sentence-transformers losses (AnglE, Matryoshka, CachedMNRL, GISTEmbed)")
struct SentenceTransformerLossTests {
    @Test("value and gradients match sentence-transformers (float64)", arguments: STLossFixture.cases)
    func reference(_ c: STCase) throws {
        let tracked = c.inputs.mapValues { $0.tensor.requiringGrad() }
        let value: Tensor
        if c.loss == "cached_mnrl" {
            let (v, _) = try cachedMNRL(c, w: tracked["w"]!)
            value = v
        } else {
            let out = evaluateST(c, tracked)
            value = out.value
            try value.backward()
            for (key, expected) in c.counts ?? [:] {
                #expect(out.counts[key] == expected, "\(c.name): \(key) \(out.counts[key] ?? -1), reference \(expected)")
            }
        }
        let v = toleranceRatio(value, c.value)
        #expect(v.ratio <= 1, "\(c.name) value: \(v.worst)")
        for (name, reference) in c.grads.sorted(by: { $0.key < $1.key }) {
            let g = tracked[name]!.grad ?? Tensor.zeros(tracked[name]!.shape)
            #expect(g.allFinite, "\(c.name): gradient of \(name) is not finite")
            let r = toleranceRatio(g, reference)
            #expect(r.ratio <= 1, "\(c.name) gradient of \(name): \(r.worst)")
        }
    }

    /// At GISTEmbed's temperatures below 0.1 (default 0.01) the loss is so curved (∝ 1/T³) that a
    /// float32 central difference is mostly truncation or rounding error; its finite differences run
    /// at 10× the temperature (the same code path), while the reference test above checks the
    /// fixture's temperatures exactly.
    @Test("gradients match central differences", arguments: STLossFixture.cases)
    func finiteDifferences(_ c: STCase) throws {
        let names = c.inputs.keys.sorted()
        let factor: Float = c.loss == "gist" && c.params.temperature! < 0.1 ? 10 : 1
        let result = try gradCheck(names.map { c.inputs[$0]!.tensor }, epsilon: 1e-3, maxElementsPerInput: 48) { xs in
            evaluateST(c, Dictionary(uniqueKeysWithValues: zip(names, xs)), temperatureFactor: factor).value
        }
        #expect(result.maxError < finiteDifferenceTolerance, "\(c.name): \(result)")
    }

    @Test("the cached loss gives the plain loss's value and gradient on the whole batch", arguments: STLossFixture.cases("cached_mnrl"))
    func cachedEqualsPlain(_ c: STCase) throws {
        let w1 = c.inputs["w"]!.tensor.requiringGrad(), w2 = c.inputs["w"]!.tensor.requiringGrad()
        let cached = try cachedMNRL(c, w: w1)
        let plain = evaluateST(c, ["w": w2]).value
        try plain.backward()
        #expect(abs(cached.value.item - plain.item) <= 1e-5 * max(1, abs(plain.item)))
        #expect(maxAbsDifference(cached.grad, try #require(w2.grad)) <= 1e-5 * max(1, w2.grad!.scalars.map(abs).max()!))
    }

    @Test("the fixture covers the four losses")
    func coverage() {
        #expect(Set(STLossFixture.cases.map(\.loss)) == ["angle", "matryoshka", "cached_mnrl", "gist"])
        #expect(STLossFixture.cases("gist").allSatisfy { ($0.counts?["dropped"] ?? 0) > 0 }, "every GIST case must drop something")
    }

    /// Dropout draws the same masks when a mini-batch is replayed: the cached gradient equals the
    /// gradient through the very embeddings the loss saw (the mini-batches embedded with graph,
    /// from the same random state).
    @Test func cachedReplaysTheRandomState() throws {
        var rng = SeededGenerator(seed: 3)
        let x = Tensor.randomNormal([8, 5], generator: &rng)
        let w0 = Tensor.randomNormal([5, 6], std: 0.5, generator: &rng)
        final class Box: @unchecked Sendable { var g = SeededGenerator(seed: 42) }
        let box = Box()
        func embed(_ w: Tensor, _ range: Range<Int>) -> Tensor {
            x.slice(axis: 0, range).matmul(w).dropout(probability: 0.3, training: true, generator: &box.g).tanh()
        }
        let loss = CachedMultipleNegativesRankingLoss(miniBatchSize: 3)
        let w1 = w0.requiringGrad()
        let batch = loss(anchors: 4, rows: 8, embed: { embed(w1, $0) }, randomState: (get: { box.g }, set: { box.g = $0 }))
        try batch.backward!()
        let after = box.g.next()

        box.g = SeededGenerator(seed: 42)
        let w2 = w0.requiringGrad()
        let e = Tensor.concatenate([0..<3, 3..<6, 6..<8].map { embed(w2, $0) }, axis: 0)
        let plain = loss.blocks(e, anchors: 4)
        try plain.backward()
        #expect(abs(batch.value.item - plain.item) <= 1e-5 * max(1, abs(plain.item)))
        #expect(maxAbsDifference(try #require(w1.grad), try #require(w2.grad)) <= 1e-5)
        // The random state continues from where the first pass left it, as without the cache.
        #expect(box.g.next() == after)
    }

    @Test func matryoshkaSortsDimensionsWithTheirWeights() {
        let m = MatryoshkaLoss(dimensions: [64, 384, 128], weights: [3, 1, 2])
        #expect(m.dimensions == [384, 128, 64])
        #expect(m.weights == [1, 2, 3])
        #expect(MatryoshkaLoss(dimensions: [8, 4]).weights == [1, 1])
    }
}
