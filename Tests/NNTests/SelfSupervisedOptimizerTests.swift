import Foundation
import Testing
@testable import NN
@testable import Tensors

/// LARS, the EMA teacher update and lightly's cosine schedule, against updates computed by hand.
@Suite struct SelfSupervisedOptimizerTests {
    @Test("LARS: trust-ratio update with weight decay, plain momentum SGD for an excluded bias")
    func larsByHand() {
        let w = Parameter(Tensor(shape: [1, 2], [3, 4]))   // rank 2: adapted
        let b = Parameter(Tensor([1]))                      // rank 1: excluded (no decay, no adaptation)
        let lars = LARS([w, b], learningRate: 0.5, momentum: 0.9, weightDecay: 0.1, trustCoefficient: 0.001)
        #expect(lars.excluded == [false, true])
        func step() {
            lars.zeroGrad()
            w.value.setGradient(Tensor(shape: [1, 2], [0.6, 0.8]))
            b.value.setGradient(Tensor([0.5]))
            lars.step()
        }
        step()
        // Step 1: ‖w‖ = 5, ‖g‖ = 1, ratio = 0.001·5 / (1 + 0.1·5) = 1/300,
        // d = (g + 0.1·w)/300 = [0.003, 0.004], w = w − 0.5·d.
        #expect(abs(w.value[0, 0] - 2.9985) < 1e-6 && abs(w.value[0, 1] - 3.998) < 1e-6, "\(w.value.scalars)")
        #expect(abs(b.value[0] - 0.75) < 1e-6, "\(b.value.scalars)")
        step()
        // Step 2: w₁ = 0.9995·[3, 4], ‖w₁‖ = 4.9975; ratio₂ = 0.001·4.9975 / (1 + 0.1·4.9975);
        // d₂ = ([0.6, 0.8] + 0.1·w₁)·ratio₂; buffer = 0.9·[0.003, 0.004] + d₂; w₂ = w₁ − 0.5·buffer.
        let w1 = [2.9985, 3.998], norm = 4.9975
        let ratio = 0.001 * norm / (1 + 0.1 * norm)
        let d2 = [(0.6 + 0.1 * w1[0]) * ratio, (0.8 + 0.1 * w1[1]) * ratio]
        let expected = [w1[0] - 0.5 * (0.9 * 0.003 + d2[0]), w1[1] - 0.5 * (0.9 * 0.004 + d2[1])]
        #expect(abs(Double(w.value[0, 0]) - expected[0]) < 1e-6 && abs(Double(w.value[0, 1]) - expected[1]) < 1e-6,
                "\(w.value.scalars) vs \(expected)")
        // Bias: buffer 0.9·0.5 + 0.5 = 0.95, 0.75 − 0.5·0.95 = 0.275.
        #expect(abs(b.value[0] - 0.275) < 1e-6, "\(b.value.scalars)")
    }

    @Test("LARS: without weight decay there is no adaptation (lightly's rule), and its state resumes exactly")
    func larsNoDecayAndState() throws {
        let w = Parameter(Tensor(shape: [1, 2], [3, 4]))
        let lars = LARS([w], learningRate: 0.1, momentum: 0.9)
        w.value.setGradient(Tensor(shape: [1, 2], [1, 1]))
        lars.step()
        #expect(abs(w.value[0, 0] - 2.9) < 1e-6 && abs(w.value[0, 1] - 3.9) < 1e-6)
        let saved = lars.stateDictionary()
        let copy = Parameter(w.value.detached())
        let other = LARS([copy], learningRate: 0.1, momentum: 0.9)
        try other.loadState(tensors: Dictionary(uniqueKeysWithValues: saved.tensors.map { ($0.name, $0.tensor) }), counters: saved.counters)
        for (p, o) in [(w, lars), (copy, other)] as [(Parameter, LARS)] {
            p.zeroGrad(); p.value.setGradient(Tensor(shape: [1, 2], [0.5, -0.5])); o.step()
        }
        #expect(w.value.scalars == copy.value.scalars)
    }

    @Test("weight-decay exclusion: with biases and norms excluded, SGD, Adam, AdamW and LARS move a bias as without decay, a weight not",
          arguments: ["sgd", "adam", "adamw", "lars"])
    func weightDecayExclusion(_ kind: String) {
        func make(_ parameters: [Parameter], decay: Float) -> any Optimizer {
            switch kind {
            case "sgd": SGD(parameters, learningRate: 0.5, momentum: 0.9, weightDecay: decay)
            case "adam": Adam(parameters, learningRate: 0.5, weightDecay: decay)
            case "adamw": Adam(parameters, learningRate: 0.5, weightDecay: decay, decoupledWeightDecay: true)
            default: LARS(parameters, learningRate: 0.5, momentum: 0.9, weightDecay: decay, exclude: { _ in false })
            }
        }
        // Decayed run (exclusion on) and undecayed run, from the same values and gradients.
        let w = Parameter(Tensor(shape: [1, 2], [3, 4])), b = Parameter(Tensor([2]))
        let w0 = Parameter(Tensor(shape: [1, 2], [3, 4])), b0 = Parameter(Tensor([2]))
        excludeNormsAndBiasesFromWeightDecay([w, b])
        #expect(w.weightDecayScale == 1 && b.weightDecayScale == 0)
        let decayed = make([w, b], decay: 0.1), plain = make([w0, b0], decay: 0)
        for _ in 0..<2 {
            for (p, g) in [(w, [0.6, 0.8]), (w0, [0.6, 0.8]), (b, [0.5]), (b0, [0.5])] as [(Parameter, [Float])] {
                p.zeroGrad(); p.value.setGradient(Tensor(shape: p.shape, g))
            }
            decayed.step(); plain.step()
        }
        #expect(b.value.scalars == b0.value.scalars, "\(kind): the bias was decayed: \(b.value.scalars) vs \(b0.value.scalars)")
        #expect(w.value.scalars != w0.value.scalars, "\(kind): the weight was not decayed")
    }

    @Test("EMA teacher: θ_t ← m·θ_t + (1 − m)·θ_s, buffers copied by copyWeights")
    func momentumUpdate() {
        var g = SeededGenerator(seed: 1)
        let teacher = Linear(2, 1, generator: &g), student = Linear(2, 1, generator: &g)
        teacher.weight.value = Tensor(shape: [1, 2], [1, 2]); teacher.bias!.value = Tensor([0])
        student.weight.value = Tensor(shape: [1, 2], [3, 4]); student.bias!.value = Tensor([10])
        updateMomentum(teacher: teacher, student: student, momentum: 0.9)
        #expect(zip(teacher.weight.value.scalars, [1.2, 2.2] as [Float]).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(abs(teacher.bias!.value[0] - 1) < 1e-6)
        #expect(teacher.weight.value.requiresGrad)   // still a trainable leaf, but not a view of the student
        let bnTeacher = BatchNorm(2), bnStudent = BatchNorm(2)
        _ = bnStudent(Tensor(shape: [3, 2], [1, 2, 3, 4, 5, 9]))
        copyWeights(from: bnStudent, to: bnTeacher)
        #expect(bnTeacher.statistics.mean.scalars == bnStudent.statistics.mean.scalars)
    }

    @Test("cosine schedule: start at step 0, midpoint halfway, end at the last step and after (lightly's cosine_schedule)")
    func cosineMomentum() {
        #expect(cosineSchedule(step: 0, totalSteps: 5, start: 0.996, end: 1) == 0.996)
        #expect(abs(cosineSchedule(step: 2, totalSteps: 5, start: 0.996, end: 1) - 0.998) < 1e-7)
        // cos(π/4): 1 − 0.004·(cos(π/4) + 1)/2
        #expect(abs(Double(cosineSchedule(step: 1, totalSteps: 5, start: 0.996, end: 1)) - (1 - 0.004 * (cos(Double.pi / 4) + 1) / 2)) < 1e-7)
        #expect(cosineSchedule(step: 4, totalSteps: 5, start: 0.996, end: 1) == 1)
        #expect(cosineSchedule(step: 9, totalSteps: 5, start: 0.996, end: 1) == 1)
        #expect(cosineSchedule(step: 0, totalSteps: 1, start: 0.5, end: 1) == 1)
    }
}
