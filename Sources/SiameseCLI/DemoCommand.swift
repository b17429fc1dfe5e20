import ArgumentParser
import Evaluation
import Foundation
import NN
import Siamese
import Tensors

/// `siamese demo`: an engine self-check, then a Siamese network trained and evaluated end to end on
/// built-in synthetic data (no downloads, no files written).
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Engine self-check and a small Siamese network trained and evaluated end to end.",
        discussion: """
        Example:
          siamese demo
          siamese demo --epochs 30 --threads 1
        Trains on 16 synthetic "writers" and evaluates on 8 writers never seen in training
        (open set): verification AUC/EER, retrieval precision@1, 5-way 1-shot accuracy, and the
        threshold that holds the false-accept rate at 1%.
        """
    )

    @Option(help: "Training epochs.") var epochs = 15
    @Option(help: "Random seed (data, initialisation, sampling).") var seed: UInt64 = 7
    @Option(help: "Kernel threads (default: all cores).") var threads: Int?
    @Option(help: "In-batch triplet mining: batch-all, batch-hard or semi-hard.") var miner = "batch-all"

    func run() throws {
        if let threads { Threading.threadCount = threads }
        print("== Engine self-check ==")
        try EngineSelfCheck.run()
        print("")
        print("== A Siamese network, trained and evaluated ==")
        guard let strategy = TripletMiningStrategy(rawValue: miner) else {
            throw ValidationError("--miner must be batch-all, batch-hard or semi-hard, got \(miner)")
        }
        try DemoTraining(epochs: epochs, strategy: strategy, seed: seed).run()
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
