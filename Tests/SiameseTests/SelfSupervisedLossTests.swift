import Foundation
import Testing
@testable import Siamese
import Tensors
import GradientChecking

// The self-supervised losses (NT-Xent, negative cosine with stop-gradient, Barlow Twins, VICReg,
// DINO), checked as LossTests.swift checks the supervised ones:
// 1. against Fixtures/ssl_losses_reference.json, written by
//    Benchmarks/reference/ssl_losses_reference.py: float64 autograd through lightly 1.6's own loss
//    classes on float32 inputs. Values and the gradients with respect to every input (zero for the
//    stop-gradient inputs: BYOL/SimSiam targets, DINO's teacher) within rtol 1e-5 / atol 1e-6
//    (`toleranceRatio`), and DINO's centre after lightly's moving-average update.
// 2. against central finite differences of our float32 loss, for the inputs that get gradients.

struct SSLReferenceCase: Decodable, Sendable, CustomTestStringConvertible {
    struct Params: Decodable, Sendable {
        var temperature: Float?
        var lambda: Float?
        var mu: Float?
        var nu: Float?
        var teacher_temperature: Float?
        var student_temperature: Float?
        var centre_momentum: Float?
        var teacher_views: Int?
        var student_views: Int?
    }
    let name: String
    let loss: String
    let params: Params
    let inputs: [String: FixtureArray]
    let value: FixtureArray
    let grads: [String: FixtureArray]
    let centre_after: FixtureArray?

    var testDescription: String { name }

    /// The inputs that receive gradients (the stop-gradient ones are held fixed in finite differences).
    var trainedInputs: [String] {
        inputs.keys.filter { !$0.hasPrefix("teacher") && $0 != "targets" && $0 != "centre" }.sorted()
    }
}

enum SSLLossFixture {
    struct File: Decodable { let cases: [SSLReferenceCase] }

    static let cases: [SSLReferenceCase] = {
        guard let url = Bundle.module.url(forResource: "ssl_losses_reference", withExtension: "json", subdirectory: "Fixtures") else {
            fatalError("Fixtures/ssl_losses_reference.json is missing from the test bundle")
        }
        do {
            return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
        } catch {
            fatalError("cannot read ssl_losses_reference.json: \(error)")
        }
    }()

    static func cases(_ loss: String) -> [SSLReferenceCase] { cases.filter { $0.loss == loss } }
}

/// The DINO loss of a case, with its centre set from the fixture.
func dinoLoss(_ c: SSLReferenceCase) -> DINOLoss {
    let p = c.params, centre = c.inputs["centre"]!.tensor
    var loss = DINOLoss(outputDimension: centre.count, teacherTemperature: p.teacher_temperature!,
                        studentTemperature: p.student_temperature!, centreMomentum: p.centre_momentum!)
    loss.centre = centre
    return loss
}

/// Runs the loss a case names on `inputs`.
func evaluateSSL(_ c: SSLReferenceCase, _ inputs: [String: Tensor]) -> Tensor {
    let p = c.params
    switch c.loss {
    case "ntxent": return NTXentLoss(temperature: p.temperature!)(inputs["view0"]!, inputs["view1"]!)
    case "negative_cosine": return NegativeCosineSimilarity()(inputs["predictions"]!, inputs["targets"]!)
    case "barlow": return BarlowTwinsLoss(lambda: p.lambda!)(inputs["view0"]!, inputs["view1"]!)
    case "vicreg": return VICRegLoss(lambda: p.lambda!, mu: p.mu!, nu: p.nu!)(inputs["view0"]!, inputs["view1"]!)
    case "dino":
        return dinoLoss(c)(teacher: (0..<p.teacher_views!).map { inputs["teacher\($0)"]! },
                           student: (0..<p.student_views!).map { inputs["student\($0)"]! })
    default: fatalError("unknown loss \(c.loss) in the fixture")
    }
}

/// Suites nested in `SelfSupervisedLossTests` so that `--filter SelfSupervisedLossTests` selects them all.
@Suite("Self-supervised losses")
struct SelfSupervisedLossTests {}

extension SelfSupervisedLossTests {
    @Suite("against lightly (float64)")
    struct Reference {
        @Test("value and gradients of every input", arguments: SSLLossFixture.cases)
        func reference(_ c: SSLReferenceCase) throws {
            let tracked = c.inputs.mapValues { $0.tensor.requiringGrad() }
            let value = evaluateSSL(c, tracked)
            #expect(value.shape == c.value.shape, "\(c.name): shape \(value.shape), reference \(c.value.shape)")
            let v = toleranceRatio(value, c.value)
            #expect(v.ratio <= 1, "\(c.name) value: \(v.worst)")
            // A loss with no path to the inputs (none in the fixture so far) leaves every gradient nil,
            // compared as zero. (A typed `catch .noGradientPath` here crashes the Swift 6.3.1 compiler.)
            if value.requiresGrad { try value.backward() }
            for (name, reference) in c.grads.sorted(by: { $0.key < $1.key }) {
                let g = tracked[name]!.grad ?? Tensor.zeros(tracked[name]!.shape)
                #expect(g.allFinite, "\(c.name): gradient of \(name) is not finite")
                let r = toleranceRatio(g, reference)
                #expect(r.ratio <= 1, "\(c.name) gradient of \(name): \(r.worst)")
            }
        }

        @Test("DINO: the centre after the update equals lightly's", arguments: SSLLossFixture.cases("dino"))
        func dinoCentre(_ c: SSLReferenceCase) {
            var loss = dinoLoss(c)
            loss.updateCentre(teacher: (0..<c.params.teacher_views!).map { c.inputs["teacher\($0)"]!.tensor })
            let r = toleranceRatio(loss.centre, c.centre_after!)
            #expect(r.ratio <= 1, "\(c.name) centre: \(r.worst)")
        }

        @Test("the fixture covers every loss, the stop-gradients and multi-crop DINO")
        func coverage() {
            let cases = SSLLossFixture.cases
            #expect(Set(cases.map(\.loss)) == ["ntxent", "negative_cosine", "barlow", "vicreg", "dino"])
            // Stop-gradient inputs have an all-zero reference gradient; the trained ones do not.
            for c in cases {
                for (name, g) in c.grads {
                    let zero = g.data.allSatisfy { $0 == 0 }
                    let stopped = name.hasPrefix("teacher") || name == "targets" || name == "centre"
                    if stopped { #expect(zero, "\(c.name): \(name) should get no gradient") }
                    // NT-Xent of one item is constant (its only candidate is the twin); with one teacher
                    // view, student view 0 pairs with nothing but that same view, which DINO skips.
                    else if !(c.loss == "ntxent" && c.inputs[name]!.shape[0] == 1) && !(c.params.teacher_views == 1 && name == "student0") {
                        #expect(!zero, "\(c.name): \(name) got no gradient")
                    }
                }
            }
            #expect(cases.contains { $0.loss == "dino" && $0.params.student_views! > $0.params.teacher_views! })
        }
    }

    @Suite("against finite differences")
    struct FiniteDifferences {
        @Test("gradients of the trained inputs match central differences", arguments: SSLLossFixture.cases)
        func finiteDifferences(_ c: SSLReferenceCase) throws {
            let names = c.trainedInputs
            let fixed = c.inputs.mapValues(\.tensor)
            let result = try gradCheck(names.map { fixed[$0]! }, epsilon: 1e-3, maxElementsPerInput: 48) { xs in
                var all = fixed
                for (name, x) in zip(names, xs) { all[name] = x }
                return evaluateSSL(c, all)
            }
            #expect(result.maxError < finiteDifferenceTolerance, "\(c.name): \(result)")
        }
    }
}
