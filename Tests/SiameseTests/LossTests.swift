import Foundation
import NN
import Testing
@testable import Siamese
import Tensors
import GradientChecking

// Every loss is checked two ways:
// 1. Against Fixtures/losses_reference.json, written once by Benchmarks/reference/losses_reference.py:
//    float64 PyTorch autograd on float32 inputs, cross-checked there against sentence-transformers,
//    pytorch-metric-learning and torch.nn where they define the loss. Value and the gradient with
//    respect to every input must agree elementwise within
//        |ours − ref| ≤ rtol·|ref| + atol·max(1, ‖ref‖∞)        rtol = 1e-5, atol = 1e-6
//    (the atol term covers gradients that are exactly zero in the reference and float32 rounding of
//    entries much smaller than the largest one). Mining counts must match exactly.
// 2. Against central finite differences of our own float32 loss (gradCheck, step 1e-3 relative).
//    The fixture's random cases keep every hinge/selection decision ≥ 1e-2 from its boundary, so
//    the finite-difference steps never cross a kink.

/// Relative and absolute tolerances for the comparison with the float64 reference (see above).
let referenceRelativeTolerance = 1e-5
let referenceAbsoluteTolerance = 1e-6

// MARK: - Fixture

struct FixtureArray: Decodable, Sendable {
    let shape: [Int]
    let data: [Double]
    var tensor: Tensor { Tensor(shape: shape, data.map { Float($0) }) }
}

struct FixtureParams: Decodable, Sendable {
    var margin: Float?
    var distance: String?
    var reduction: String?
    var halved: Bool?
    var labels: [Double]?
    var scores: [Float]?
    var strategy: String?
    var scale: Float?
    var similarity: String?
    var symmetric: Bool?
    var include_product: Bool?

    var floatLabels: [Float] { (labels ?? []).map { Float($0) } }
    var classLabels: [Int] { (labels ?? []).map { Int($0) } }
    var distanceKind: Distance { Distance(rawValue: distance ?? "")! }
    var similarityKind: Distance { Distance(rawValue: similarity ?? "")! }
    var reductionKind: LossReduction { LossReduction(rawValue: reduction ?? "mean")! }
}

struct ReferenceCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let loss: String
    let params: FixtureParams
    let inputs: [String: FixtureArray]
    let value: FixtureArray
    let seed: FixtureArray?
    let grads: [String: FixtureArray]
    let counts: [String: Int]?

    var testDescription: String { name }
}

struct ReferenceFixture: Decodable, Sendable {
    let cases: [ReferenceCase]
}

enum LossFixture {
    static let fixture: ReferenceFixture = {
        guard let url = Bundle.module.url(forResource: "losses_reference", withExtension: "json", subdirectory: "Fixtures") else {
            fatalError("Fixtures/losses_reference.json is missing from the test bundle")
        }
        do {
            return try JSONDecoder().decode(ReferenceFixture.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot read losses_reference.json: \(error)")
        }
    }()

    static func cases(_ losses: String...) -> [ReferenceCase] {
        fixture.cases.filter { losses.contains($0.loss) }
    }
}

// MARK: - Running a case through our losses

struct Evaluation {
    var value: Tensor
    var counts: [String: Int] = [:]
}

/// Runs the loss a fixture case names on `inputs` (tensors by the fixture's input names).
func evaluate(_ c: ReferenceCase, _ inputs: [String: Tensor]) -> Evaluation {
    let p = c.params
    func input(_ name: String) -> Tensor { inputs[name]! }
    switch c.loss {
    case "contrastive":
        let loss = ContrastiveLoss(margin: p.margin!, distance: p.distanceKind, reduction: p.reductionKind, halved: p.halved!)
        return Evaluation(value: loss(input("a"), input("b"), labels: p.floatLabels))
    case "online_contrastive":
        let loss = OnlineContrastiveLoss(margin: p.margin!, distance: p.distanceKind, reduction: p.reductionKind)
        let r = loss(input("a"), input("b"), labels: p.floatLabels)
        return Evaluation(value: r.loss, counts: ["hard_positives": r.hardPositives, "hard_negatives": r.hardNegatives])
    case "triplet":
        let loss = TripletMarginLoss(margin: p.margin!, distance: p.distanceKind, reduction: p.reductionKind)
        return Evaluation(value: loss(anchor: input("anchor"), positive: input("positive"), negative: input("negative")))
    case "batch_triplet":
        let loss = BatchTripletLoss(strategy: TripletMiningStrategy(rawValue: p.strategy!)!, margin: p.margin!, distance: p.distanceKind)
        let r = loss(input("embeddings"), labels: p.classLabels)
        return Evaluation(value: r.loss, counts: ["active": r.activeTriplets, "valid": r.validTriplets])
    case "mnrl":
        let loss = MultipleNegativesRankingLoss(scale: p.scale!, similarity: p.similarityKind, symmetric: p.symmetric!, reduction: p.reductionKind)
        let negatives = inputs.keys.filter { $0.hasPrefix("negatives") }.sorted().map { inputs[$0]! }
        return Evaluation(value: loss(anchors: input("anchors"), positives: input("positives"), hardNegatives: negatives))
    case "cosent":
        return Evaluation(value: CoSENTLoss(scale: p.scale!)(input("a"), input("b"), scores: p.scores!))
    case "cosine_similarity":
        return Evaluation(value: CosineSimilarityLoss(reduction: p.reductionKind)(input("a"), input("b"), scores: p.scores!))
    case "bce_logits":
        return Evaluation(value: BinaryCrossEntropy(reduction: p.reductionKind)(logits: input("logits"), labels: p.floatLabels))
    case "bce_probabilities":
        return Evaluation(value: BinaryCrossEntropy(reduction: p.reductionKind)(probabilities: input("probabilities"), labels: p.floatLabels))
    case "learned_head":
        var rng = SeededGenerator(seed: 1)
        let head = LearnedHead(dimension: input("a").shape[1], includesProduct: p.include_product!, generator: &rng)
        head.linear.weight.value = input("weight")
        head.linear.bias!.value = input("bias")
        return Evaluation(value: BinaryCrossEntropy()(logits: head(input("a"), input("b")), labels: p.floatLabels))
    default:
        fatalError("unknown loss \(c.loss) in the fixture")
    }
}

/// Largest violation of |ours − ref| ≤ rtol·|ref| + atol·max(1, ‖ref‖∞), as a ratio (≤ 1 passes).
func toleranceRatio(_ ours: Tensor, _ reference: FixtureArray) -> (ratio: Double, worst: String) {
    let scale = max(1, reference.data.map(abs).max() ?? 0)
    var worst = (0.0, "")
    for (i, (o, r)) in zip(ours.scalars, reference.data).enumerated() {
        let allowed = referenceRelativeTolerance * abs(r) + referenceAbsoluteTolerance * scale
        let ratio = o.isFinite ? abs(Double(o) - r) / allowed : .infinity
        if ratio > worst.0 { worst = (ratio, "element \(i): ours \(o), reference \(r)") }
    }
    return worst
}

func checkAgainstReference(_ c: ReferenceCase) throws {
    let tracked = c.inputs.mapValues { $0.tensor.requiringGrad() }
    let out = evaluate(c, tracked)
    #expect(out.value.shape == c.value.shape, "\(c.name): shape \(out.value.shape), reference \(c.value.shape)")
    let v = toleranceRatio(out.value, c.value)
    #expect(v.ratio <= 1, "\(c.name) value: \(v.worst)")
    if let seed = c.seed {
        try out.value.backward(seed: seed.tensor)
    } else {
        try out.value.backward()
    }
    for (name, reference) in c.grads.sorted(by: { $0.key < $1.key }) {
        let x = tracked[name]!
        let g = x.grad ?? Tensor.zeros(x.shape)
        #expect(g.allFinite, "\(c.name): gradient of \(name) is not finite")
        let r = toleranceRatio(g, reference)
        #expect(r.ratio <= 1, "\(c.name) gradient of \(name): \(r.worst)")
    }
    for (key, expected) in c.counts ?? [:] {
        #expect(out.counts[key] == expected, "\(c.name): \(key) is \(out.counts[key] ?? -1), reference \(expected)")
    }
}

// MARK: - Reference tests

/// Suites are nested in `LossTests` so that `--filter LossTests` selects them all.
@Suite("Losses")
struct LossTests {}

extension LossTests {
    @Suite("against the PyTorch reference")
    struct Reference {
        @Test("contrastive: value and gradients", arguments: LossFixture.cases("contrastive"))
        func contrastive(_ c: ReferenceCase) throws { try checkAgainstReference(c) }

        @Test("online contrastive: value, gradients and hard-pair counts", arguments: LossFixture.cases("online_contrastive"))
        func onlineContrastive(_ c: ReferenceCase) throws { try checkAgainstReference(c) }

        @Test("triplet margin (explicit triplets)", arguments: LossFixture.cases("triplet"))
        func triplet(_ c: ReferenceCase) throws { try checkAgainstReference(c) }

        @Test("batch triplet (all / hard / semi-hard): value, gradients, counts", arguments: LossFixture.cases("batch_triplet"))
        func batchTriplet(_ c: ReferenceCase) throws { try checkAgainstReference(c) }

        @Test("multiple negatives ranking (plain, symmetric, hard negatives)", arguments: LossFixture.cases("mnrl"))
        func multipleNegatives(_ c: ReferenceCase) throws { try checkAgainstReference(c) }

        @Test("CoSENT", arguments: LossFixture.cases("cosent"))
        func coSENT(_ c: ReferenceCase) throws { try checkAgainstReference(c) }

        @Test("cosine-similarity regression", arguments: LossFixture.cases("cosine_similarity"))
        func cosineSimilarity(_ c: ReferenceCase) throws { try checkAgainstReference(c) }

        @Test("binary cross-entropy on logits and probabilities", arguments: LossFixture.cases("bce_logits", "bce_probabilities"))
        func binaryCrossEntropy(_ c: ReferenceCase) throws { try checkAgainstReference(c) }

        @Test("learned head + BCE: gradients for embeddings and head parameters", arguments: LossFixture.cases("learned_head"))
        func learnedHead(_ c: ReferenceCase) throws { try checkAgainstReference(c) }

        @Test("the fixture covers every loss")
        func coverage() {
            let losses = Set(LossFixture.fixture.cases.map(\.loss))
            #expect(losses == ["contrastive", "online_contrastive", "triplet", "batch_triplet", "mnrl", "cosent",
                               "cosine_similarity", "bce_logits", "bce_probabilities", "learned_head"])
            #expect(LossFixture.fixture.cases.count >= 60)
        }
    }
}

// MARK: - Finite differences

/// Finite-difference tolerance: gradCheck's max |analytic − numeric| / max(1, |numeric|). The loss
/// is evaluated in float32, so the quotient carries about 1e-7·|L| / step of rounding noise.
let finiteDifferenceTolerance = 3e-3

extension LossTests {
    @Suite("against finite differences")
    struct FiniteDifferences {
        @Test("gradients match central differences", arguments: LossFixture.fixture.cases)
        func finiteDifferences(_ c: ReferenceCase) throws {
            let names = c.inputs.keys.sorted()
            let inputs = names.map { c.inputs[$0]!.tensor }
            // 1/p has a large third derivative near p = 0: a smaller step keeps the truncation error of
            // the central difference (∝ step²·f‴) below the tolerance for probabilities down to 0.03.
            let epsilon = c.loss == "bce_probabilities" ? 1e-4 : 1e-3
            let result = try gradCheck(inputs, epsilon: epsilon, maxElementsPerInput: 64) { xs in
                evaluate(c, Dictionary(uniqueKeysWithValues: zip(names, xs))).value
            }
            #expect(result.maxError < finiteDifferenceTolerance, "\(c.name): \(result)")
        }
    }
}

// MARK: - Behaviour beyond the fixture

extension LossTests {
    @Suite("behaviour")
    struct Behaviour {
        @Test("reductions: none returns per-example terms whose mean and sum are the other reductions")
        func reductions() {
            let a = randomTensor([5, 4], seed: 1), b = randomTensor([5, 4], seed: 2)
            let labels: [Float] = [1, 0, 1, 0, 0]
            let none = ContrastiveLoss(reduction: .none)(a, b, labels: labels)
            #expect(none.shape == [5])
            let mean = ContrastiveLoss(reduction: .mean)(a, b, labels: labels).item
            let sum = ContrastiveLoss(reduction: .sum)(a, b, labels: labels).item
            let total = none.scalars.reduce(0, +)
            #expect(abs(total - sum) <= 1e-6 * max(1, abs(sum)))
            #expect(abs(total / 5 - mean) <= 1e-6 * max(1, abs(mean)))
            let unhalved = ContrastiveLoss(reduction: .sum, halved: false)(a, b, labels: labels).item
            #expect(abs(unhalved - 2 * sum) <= 1e-6 * max(1, abs(unhalved)))
        }

        @Test("precomputed distances give the same contrastive loss as embeddings")
        func contrastiveFromDistances() {
            let a = randomTensor([6, 3], seed: 3), b = randomTensor([6, 3], seed: 4)
            let labels: [Float] = [1, 0, 0, 1, 0, 1]
            let loss = OnlineContrastiveLoss(margin: 1, distance: .euclidean)
            let fromEmbeddings = loss(a, b, labels: labels)
            let fromDistances = loss(distances: Distance.euclidean.rowwiseDistance(a, b), labels: labels)
            #expect(fromEmbeddings.loss.item == fromDistances.loss.item)
            #expect(fromEmbeddings.hardPositives == fromDistances.hardPositives)
            #expect(fromEmbeddings.hardNegatives == fromDistances.hardNegatives)
        }

        @Test("online contrastive with no hard pair is a connected zero", arguments: LossReduction.allCases)
        func onlineContrastiveEmpty(_ reduction: LossReduction) throws {
            // Same pairs identical, different pairs opposite: nothing is out of order.
            let a = Tensor(rows: [[1, 0], [0, 1], [1, 1]]).requiringGrad()
            let b = Tensor(rows: [[1, 0], [0, -1], [1, 1]])
            let r = OnlineContrastiveLoss(reduction: reduction)(a, b, labels: [1, 0, 1])
            #expect(r.hardPositives == 0 && r.hardNegatives == 0)
            #expect(r.loss.scalars.allSatisfy { $0 == 0 })
            try r.loss.backward(seed: Tensor(shape: r.loss.shape, repeating: 1))
            #expect(a.grad.map { $0.allFinite && $0.scalars.allSatisfy { $0 == 0 } } ?? false)
        }

        @Test("batch triplet with duplicate embeddings stays finite (Euclidean, zero distances)",
              arguments: TripletMiningStrategy.allCases)
        func duplicatesStayFinite(_ strategy: TripletMiningStrategy) throws {
            let row: [Float] = [0.3, -0.2, 0.5]
            let x = Tensor(rows: [row, row, row, [0.3, -0.2, 0.6], row, [1, 1, 1]]).requiringGrad()
            let r = BatchTripletLoss(strategy: strategy, margin: 0.5)(x, labels: [0, 0, 1, 1, 0, 2])
            #expect(r.loss.item.isFinite)
            #expect(r.validTriplets > 0)
            try r.loss.backward()
            #expect(x.grad?.allFinite == true)
        }

        @Test("multiple negatives: duplicate-free batch of identical directions gives log n")
        func multipleNegativesUniform() {
            // All similarities equal: the softmax is uniform and the loss is log n in both directions.
            let x = Tensor(rows: [[1, 0], [1, 0], [1, 0], [1, 0]])
            for symmetric in [false, true] {
                let loss = MultipleNegativesRankingLoss(symmetric: symmetric)(anchors: x, positives: x).item
                #expect(abs(loss - Float(Foundation.log(4.0))) < 1e-5)
            }
            #expect(MultipleNegativesRankingLoss(scale: 50).temperature == 0.02)
        }

        @Test("CoSENT depends only on the order of the gold scores")
        func coSENTOrderOnly() {
            let a = randomTensor([5, 4], seed: 5), b = randomTensor([5, 4], seed: 6)
            let scores: [Float] = [0.1, 0.9, 0.4, 0.4, 0.7]
            let rescaled = scores.map { 3 * $0 * $0 + 1 }  // monotone on [0, 1]
            let l1 = CoSENTLoss()(a, b, scores: scores).item, l2 = CoSENTLoss()(a, b, scores: rescaled).item
            #expect(abs(l1 - l2) <= 1e-6 * max(1, abs(l1)))
        }

        @Test("BCE on probabilities 0 and 1 is finite, with finite gradients")
        func bceSaturated() throws {
            let p = Tensor([0, 1, 0, 1]).requiringGrad()
            let loss = BinaryCrossEntropy()(probabilities: p, labels: [1, 0, 0, 1])
            #expect(loss.item.isFinite && loss.item > 10)
            try loss.backward()
            #expect(p.grad?.allFinite == true)
            let logits = Tensor([1000, -1000]).requiringGrad()
            let l2 = BinaryCrossEntropy(reduction: .sum)(logits: logits, labels: [0, 1])
            #expect(abs(l2.item - 2000) < 1e-2)
            try l2.backward()
            #expect(logits.grad?.scalars == [1, -1])
        }

        @Test("learned head: named parameters, symmetry, probabilities")
        func learnedHead() {
            var rng = SeededGenerator(seed: 3)
            for product in [false, true] {
                let head = LearnedHead(dimension: 4, includesProduct: product, generator: &rng)
                #expect(head.namedParameters.map(\.name) == ["linear.weight", "linear.bias"])
                #expect(head.linear.weight.shape == [1, product ? 8 : 4])
                #expect(head.dimension == 4)
                let a = randomTensor([3, 4], seed: 7), b = randomTensor([3, 4], seed: 8)
                #expect(head(a, b).shape == [3])
                #expect(maxAbsDifference(head(a, b), head(b, a)) == 0)
                let p = head.probabilities(a, b).scalars
                #expect(p.allSatisfy { $0 > 0 && $0 < 1 })
            }
        }

        @Test("the learned head trains: BCE falls on a separable toy task")
        func learnedHeadTrains() throws {
            var rng = SeededGenerator(seed: 11)
            let head = LearnedHead(dimension: 2, generator: &rng)
            // Same pairs differ a little, different pairs a lot.
            let a = Tensor(rows: [[0, 0], [1, 1], [0, 1], [1, 0], [0, 0], [1, 1]])
            let b = Tensor(rows: [[0.1, 0], [1, 0.9], [0, 1.1], [3, 2], [-2, 1], [1, -2]])
            let labels: [Float] = [1, 1, 1, 0, 0, 0]
            func loss() -> Tensor { BinaryCrossEntropy()(logits: head(a, b), labels: labels) }
            let before = loss().item
            for _ in 0..<200 {
                head.zeroGrad()
                try loss().backward()
                for p in head.parameters { p.value = (p.value - 0.5 * p.grad!).detached() }
            }
            #expect(loss().item < 0.25 * before)
        }
    }
}
