import Foundation
import NN
import Testing
@testable import Siamese
import Tensors
import GradientChecking

// The pytorch-metric-learning style losses (MultiSimilarity + its miner, Circle, SupCon, ArcFace,
// CosFace, ProxyAnchor), checked as LossTests.swift checks the others:
// 1. against Fixtures/metric_losses_reference.json, written by
//    Benchmarks/reference/metric_losses_reference.py: float64 PyTorch autograd on float32 inputs,
//    every case cross-checked there (value, gradients, mined pair counts) against
//    pytorch-metric-learning 2.9's own classes. Value and gradients with respect to every input
//    (embeddings, and the class weights / proxies where the loss has them) must agree within the
//    same rtol 1e-5 / atol 1e-6 as LossTests (`toleranceRatio`); mined counts exactly.
// 2. against central finite differences of our float32 loss (gradCheck).

struct MetricFixtureParams: Decodable, Sendable {
    var labels: [Int]
    var alpha: Float?
    var beta: Float?
    var base: Float?
    var epsilon: Float?
    var m: Float?
    var gamma: Float?
    var temperature: Float?
    var margin: Float?
    var scale: Float?
}

struct MetricReferenceCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let loss: String
    let params: MetricFixtureParams
    let inputs: [String: FixtureArray]
    let value: FixtureArray
    let grads: [String: FixtureArray]
    let counts: [String: Int]?

    var testDescription: String { name }
}

enum MetricLossFixture {
    struct File: Decodable { let cases: [MetricReferenceCase] }

    static let cases: [MetricReferenceCase] = {
        guard let url = Bundle.module.url(forResource: "metric_losses_reference", withExtension: "json", subdirectory: "Fixtures") else {
            fatalError("Fixtures/metric_losses_reference.json is missing from the test bundle")
        }
        do {
            return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
        } catch {
            fatalError("cannot read metric_losses_reference.json: \(error)")
        }
    }()

    static func cases(_ loss: String) -> [MetricReferenceCase] { cases.filter { $0.loss == loss } }
}

/// Runs the loss a fixture case names. `circleWeightsFrom` holds Circle's pair weights at fixed
/// embeddings (the finite-difference check; the analytic gradient treats them as constants).
func evaluateMetric(_ c: MetricReferenceCase, _ inputs: [String: Tensor], circleWeightsFrom: Tensor? = nil) -> Evaluation {
    let p = c.params, x = inputs["embeddings"]!
    switch c.loss {
    case "multi_similarity":
        let loss = MultiSimilarityLoss(alpha: p.alpha!, beta: p.beta!, base: p.base!, miner: p.epsilon.map { MultiSimilarityMiner(epsilon: $0) })
        let r = loss(x, labels: p.labels)
        return Evaluation(value: r.loss, counts: ["positive_pairs": r.positivePairs, "negative_pairs": r.negativePairs])
    case "circle":
        return Evaluation(value: CircleLoss(m: p.m!, gamma: p.gamma!).loss(x, labels: p.labels, weightsFrom: circleWeightsFrom))
    case "supcon":
        return Evaluation(value: SupConLoss(temperature: p.temperature!)(x, labels: p.labels))
    case "arcface":
        return Evaluation(value: ArcFaceLoss(marginDegrees: p.margin!, scale: p.scale!)(x, labels: p.labels, weights: inputs["weights"]!))
    case "cosface":
        return Evaluation(value: CosFaceLoss(margin: p.margin!, scale: p.scale!)(x, labels: p.labels, weights: inputs["weights"]!))
    case "proxy_anchor":
        return Evaluation(value: ProxyAnchorLoss(margin: p.margin!, alpha: p.alpha!)(x, labels: p.labels, proxies: inputs["weights"]!))
    default:
        fatalError("unknown loss \(c.loss) in the fixture")
    }
}

func checkMetricAgainstReference(_ c: MetricReferenceCase) throws {
    let tracked = c.inputs.mapValues { $0.tensor.requiringGrad() }
    let out = evaluateMetric(c, tracked)
    #expect(out.value.shape == c.value.shape, "\(c.name): shape \(out.value.shape), reference \(c.value.shape)")
    let v = toleranceRatio(out.value, c.value)
    #expect(v.ratio <= 1, "\(c.name) value: \(v.worst)")
    try out.value.backward()
    for (name, reference) in c.grads.sorted(by: { $0.key < $1.key }) {
        let g = tracked[name]!.grad ?? Tensor.zeros(tracked[name]!.shape)
        #expect(g.allFinite, "\(c.name): gradient of \(name) is not finite")
        let r = toleranceRatio(g, reference)
        #expect(r.ratio <= 1, "\(c.name) gradient of \(name): \(r.worst)")
    }
    for (key, expected) in c.counts ?? [:] {
        #expect(out.counts[key] == expected, "\(c.name): \(key) is \(out.counts[key] ?? -1), reference \(expected)")
    }
}

/// Suites nested in `MetricLossTests` so that `--filter MetricLossTests` selects them all.
@Suite("Metric-learning losses")
struct MetricLossTests {}

extension MetricLossTests {
    @Suite("against the PyTorch / pytorch-metric-learning reference")
    struct Reference {
        @Test("multi-similarity, with and without its miner: value, gradients, mined pairs", arguments: MetricLossFixture.cases("multi_similarity"))
        func multiSimilarity(_ c: MetricReferenceCase) throws { try checkMetricAgainstReference(c) }

        @Test("circle", arguments: MetricLossFixture.cases("circle"))
        func circle(_ c: MetricReferenceCase) throws { try checkMetricAgainstReference(c) }

        @Test("SupCon", arguments: MetricLossFixture.cases("supcon"))
        func supCon(_ c: MetricReferenceCase) throws { try checkMetricAgainstReference(c) }

        @Test("ArcFace: gradients for embeddings and class weights", arguments: MetricLossFixture.cases("arcface"))
        func arcFace(_ c: MetricReferenceCase) throws { try checkMetricAgainstReference(c) }

        @Test("CosFace: gradients for embeddings and class weights", arguments: MetricLossFixture.cases("cosface"))
        func cosFace(_ c: MetricReferenceCase) throws { try checkMetricAgainstReference(c) }

        @Test("ProxyAnchor: gradients for embeddings and proxies", arguments: MetricLossFixture.cases("proxy_anchor"))
        func proxyAnchor(_ c: MetricReferenceCase) throws { try checkMetricAgainstReference(c) }

        @Test("the fixture covers every loss, its empty batches, and mining that keeps some pairs")
        func coverage() {
            let cases = MetricLossFixture.cases
            #expect(Set(cases.map(\.loss)) == ["multi_similarity", "circle", "supcon", "arcface", "cosface", "proxy_anchor"])
            for loss in ["multi_similarity", "circle", "supcon"] {
                let labelSets = cases.filter { $0.loss == loss }.map(\.params.labels)
                #expect(labelSets.contains { $0.count > 1 && Set($0).count == 1 }, "\(loss): no one-class batch")
                #expect(labelSets.contains { $0.count > 1 && Set($0).count == $0.count }, "\(loss): no all-distinct batch")
            }
            let mined = cases.filter { $0.params.epsilon != nil }.compactMap(\.counts)
            #expect(mined.contains { ($0["positive_pairs"] ?? 0) > 0 && ($0["negative_pairs"] ?? 0) > 0 })
            #expect(cases.count >= 40)
        }
    }
}

extension MetricLossTests {
    @Suite("against finite differences")
    struct FiniteDifferences {
        @Test("gradients match central differences", arguments: MetricLossFixture.cases)
        func finiteDifferences(_ c: MetricReferenceCase) throws {
            let names = c.inputs.keys.sorted()
            let inputs = names.map { c.inputs[$0]!.tensor }
            let fixed = c.inputs["embeddings"]!.tensor
            let result = try gradCheck(inputs, epsilon: 1e-3, maxElementsPerInput: 64) { xs in
                evaluateMetric(c, Dictionary(uniqueKeysWithValues: zip(names, xs)), circleWeightsFrom: fixed).value
            }
            #expect(result.maxError < finiteDifferenceTolerance, "\(c.name): \(result)")
        }
    }
}

extension MetricLossTests {
    @Suite("behaviour")
    struct Behaviour {
        /// Degenerate batches: repeated rows, a zero row, one class, all distinct classes, one item.
        static func degenerate() -> [(String, Tensor, [Int])] {
            let row: [Float] = [0.3, -0.2, 0.5]
            let repeated = Tensor(rows: [row, row, row, [0, 0, 0], row])
            return [("repeated rows, two classes", repeated, [0, 0, 1, 1, 0]),
                    ("repeated rows, one class", repeated, [2, 2, 2, 2, 2]),
                    ("repeated rows, all distinct", repeated, [0, 1, 2, 3, 4]),
                    ("one item", Tensor(rows: [row]), [0])]
        }

        @Test("degenerate batches give finite losses and finite gradients for every loss", arguments: 0..<4)
        func degenerateBatches(_ k: Int) throws {
            let (what, x0, labels) = Self.degenerate()[k]
            var generator = SeededGenerator(seed: 3)
            let classWeights = ClassWeights(classes: 5, dimension: 3, initialization: .normal, generator: &generator)
            let losses: [(String, (Tensor) -> Tensor)] = [
                ("multi-similarity", { MultiSimilarityLoss()($0, labels: labels).loss }),
                ("multi-similarity mined", { MultiSimilarityLoss(miner: MultiSimilarityMiner())($0, labels: labels).loss }),
                ("circle", { CircleLoss()($0, labels: labels) }),
                ("supcon", { SupConLoss()($0, labels: labels) }),
                ("arcface", { ArcFaceLoss()($0, labels: labels, weights: classWeights.weight.value) }),
                ("cosface", { CosFaceLoss()($0, labels: labels, weights: classWeights.weight.value) }),
                ("proxy anchor", { ProxyAnchorLoss()($0, labels: labels, proxies: classWeights.weight.value) }),
            ]
            for (name, loss) in losses {
                classWeights.zeroGrad()
                let x = x0.requiringGrad()
                let value = loss(x)
                #expect(value.item.isFinite, "\(name), \(what): loss \(value.item)")
                try value.backward()
                #expect(x.grad.map(\.allFinite) ?? true, "\(name), \(what): embedding gradient not finite")
                #expect(classWeights.weight.grad.map(\.allFinite) ?? true, "\(name), \(what): weight gradient not finite")
            }
        }

        @Test("ArcFace: an embedding exactly on its class vector has a finite gradient (cos θ = 1)")
        func arcFaceOnClassVector() throws {
            let w = Tensor(rows: [[1, 0, 0], [0, 1, 0]]).requiringGrad()
            let x = Tensor(rows: [[2, 0, 0], [0, 3, 0]]).requiringGrad()
            let loss = ArcFaceLoss()(x, labels: [0, 1], weights: w)
            #expect(loss.item.isFinite)
            try loss.backward()
            #expect(x.grad?.allFinite == true && w.grad?.allFinite == true)
        }

        @Test("the multi-similarity miner keeps exactly the pairs inside the ε band")
        func minerRule() {
            // Anchor 0: positive 1 at 0.9, positive 2 at 0.3; negative 3 at 0.35, negative 4 at -0.5.
            // Hardest negative 0.35: positives below 0.45 are kept (2, not 1). Hardest positive 0.3:
            // negatives above 0.2 are kept (3, not 4).
            var s = [Float](repeating: 0, count: 25)
            let rows: [[Float]] = [[1, 0.9, 0.3, 0.35, -0.5], [0.9, 1, 0.8, -0.9, -0.9], [0.3, 0.8, 1, -0.9, -0.9],
                                   [0.35, -0.9, -0.9, 1, 0.5], [-0.5, -0.9, -0.9, 0.5, 1]]
            for i in 0..<5 { for j in 0..<5 { s[i * 5 + j] = rows[i][j] } }
            let kept = MultiSimilarityMiner(epsilon: 0.1).mine(similarities: s, labels: [0, 0, 0, 1, 1])
            #expect(kept.positive[0 * 5 + 2] == 1 && kept.positive[0 * 5 + 1] == 0)
            #expect(kept.negative[0 * 5 + 3] == 1 && kept.negative[0 * 5 + 4] == 0)
            #expect(MultiSimilarityMiner().mine(similarities: s, labels: [0, 0, 0, 0, 0]).positivePairs == 0)
        }

        @Test("class weights: shapes, names and pml's initial scales")
        func classWeights() {
            var g = SeededGenerator(seed: 5)
            let normal = ClassWeights(classes: 50, dimension: 40, initialization: .normal, generator: &g)
            let kaiming = ClassWeights(classes: 50, dimension: 40, initialization: .kaimingFanOut, generator: &g)
            #expect(normal.namedParameters.map(\.name) == ["weight"] && normal.classes == 50)
            func std(_ t: Tensor) -> Double {
                let v = t.scalars.map(Double.init), mean = v.reduce(0, +) / Double(v.count)
                return (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)).squareRoot()
            }
            #expect(abs(std(normal.weight.value) - 1) < 0.05)
            #expect(abs(std(kaiming.weight.value) - (2.0 / 50).squareRoot()) < 0.01)
        }
    }
}
