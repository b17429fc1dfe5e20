import ArgumentParser
import Evaluation
import Foundation
import NN
import Siamese
import Tensors

/// `siamese demo`: an engine self-check, then a signature verifier trained, calibrated and evaluated
/// end to end on built-in synthetic pen trajectories (no downloads; nothing written unless --output).
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Engine self-check, then a signature verifier trained, calibrated and evaluated end to end.",
        discussion: HelpText.reflow("""
        Generates synthetic on-line signatures (x, y, pressure over time) for 100 writers: genuine samples that vary in speed, scale, rotation and jitter, and skilled forgeries that copy each writer's shape with different dynamics (speed, hesitations, tremor, pressure). A twin 1-D time-delay network is trained with triplets (forgeries as hard negatives) on 60 writers, the threshold is calibrated at the equal-error rate on 20 other writers, and EER and accuracy are reported on 20 writers seen by neither, for random and skilled forgeries separately.

        Example:
          siamese demo
          siamese demo --output demo-model      # then: siamese verify --model demo-model --a a.json --b b.json
        """)
    )

    @Option(help: "Random seed (writers, initialisation, sampling).") var seed: UInt64 = 7
    @Option(help: "Training epochs.") var epochs: Int?
    @Option(help: "Triplets drawn per training writer and epoch.") var tripletsPerWriter: Int?
    @Option(help: "Share of triplets whose negative is a skilled forgery.") var skilledFraction: Double?
    @Option(help: "Adam learning rate.") var lr: Float?
    @Option(help: "Triplet margin (cosine).") var margin: Float?
    @OptionGroup var threading: ThreadsOption
    /// `--threads`, or nil for the default.
    var threads: Int? { threading.threads }

    @Option(help: "Save the trained verifier (model folder with calibration.json) here.") var output: String?
    @Flag(help: "Skip the engine self-check.") var skipSelfCheck = false
    @Flag(help: "A reduced run (fewer writers, shorter signatures, a smaller network) for smoke tests.") var quick = false

    func validate() throws {
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if let tripletsPerWriter, tripletsPerWriter < 1 { throw ValidationError("--triplets-per-writer must be at least 1") }
        if let skilledFraction, !(0...1).contains(skilledFraction) { throw ValidationError("--skilled-fraction must be in [0, 1]") }
        if let lr, !(lr > 0) { throw ValidationError("--lr must be positive") }
        if let margin, !(margin > 0) { throw ValidationError("--margin must be positive") }
    }

    func run() throws {
        threading.apply()
        if !skipSelfCheck {
            print("== Engine self-check ==")
            try EngineSelfCheck.run()
            print("")
        }
        print("== Signature verification: a twin time-delay network, trained, calibrated and evaluated ==")
        var config = quick ? SignatureDemo.Configuration.small : SignatureDemo.Configuration.standard
        if let epochs { config.epochs = epochs }
        if let tripletsPerWriter { config.tripletsPerWriter = tripletsPerWriter }
        if let skilledFraction { config.skilledFraction = skilledFraction }
        if let lr { config.learningRate = lr }
        if let margin { config.margin = margin }
        try DemoTraining(configuration: config, seed: seed, output: output).run()
    }
}

/// Checks that the kernels and autodiff agree with independent references on this machine.
enum EngineSelfCheck {
    static func run() throws {
        print("kernels: \(Kernels.isa), \(Threading.threadCount) thread(s)")
        var g = SeededGenerator(seed: 1)
        let n = 384
        let a = Tensor.randomNormal([n, n], generator: &g), b = Tensor.randomNormal([n, n], generator: &g)
        let c = Tensor.matmul(a, b)
        // Spot-check rows against a Double-precision dot product.
        var worst = 0.0
        for i in stride(from: 0, to: n, by: 37) {
            for j in stride(from: 0, to: n, by: 41) {
                var s = 0.0
                for k in 0..<n { s += Double(a[i, k]) * Double(b[k, j]) }
                worst = max(worst, abs(Double(c[i, j]) - s) / max(1, abs(s)))
            }
        }
        let repeats = 20
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<repeats { _ = Tensor.matmul(a, b) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let gflops = 2 * Double(n * n * n) * Double(repeats) / seconds / 1e9
        print(String(format: "GEMM %d³: max relative error vs Double %.1e, %.0f GFLOP/s", n, worst, gflops))

        // Autodiff of a small twin with a contrastive loss, against central differences.
        var h = SeededGenerator(seed: 2)
        let w = Tensor.randomNormal([6, 4], std: 0.5, generator: &h)
        let x1 = Tensor.randomNormal([5, 6], generator: &h), x2 = Tensor.randomNormal([5, 6], generator: &h)
        let labels: [Float] = [1, 0, 1, 0, 0]
        func loss(_ w: Tensor) -> Tensor {
            ContrastiveLoss(margin: 0.5)(x1.matmul(w).tanh(), x2.matmul(w).tanh(), labels: labels)
        }
        let tracked = w.requiringGrad()
        try loss(tracked).backward()
        let analytic = tracked.grad!.scalars
        var maxError = 0.0
        for i in 0..<w.count {
            var plus = w, minus = w
            let eps: Float = 1e-3
            plus.withUnsafeMutableBufferPointer { $0[i] += eps }
            minus.withUnsafeMutableBufferPointer { $0[i] -= eps }
            let numeric = (Double(loss(plus).item) - Double(loss(minus).item)) / (2 * Double(eps))
            maxError = max(maxError, abs(numeric - Double(analytic[i])) / max(1, abs(numeric)))
        }
        print(String(format: "autodiff: twin encoder + contrastive loss gradient vs central differences, max error %.1e over %d weights", maxError, w.count))
        guard worst < 1e-4, maxError < 5e-3 else {
            throw ValidationError("self-check failed: GEMM error \(worst), gradient error \(maxError)")
        }
        print("self-check passed")
    }
}
