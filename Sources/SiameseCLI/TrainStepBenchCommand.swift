import ArgumentParser
import Foundation
import NN
import Tensors

/// `siamese bench train-step`: the per-step cost of a small model, where framework overhead dominates.
struct TrainStepBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-step",
        abstract: "Time forward + backward + Adam on a 64→128→64→32 MLP (batch 128).",
        discussion: HelpText.reflow("""
        Example:
          siamese bench train-step --threads 1 --json
        Prints the median and best step time over the measured steps.
        """)
    )

    @OptionGroup var threading: ThreadsOption
    /// `--threads`, or nil for the default.
    var threads: Int? { threading.threads }

    @Option(help: "Steps to measure after warm-up.") var steps = 2000
    @Option(help: "Batch size.") var batch = 128
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        threading.apply()
        var g = SeededGenerator(seed: 1)
        let model = Sequential(
            Linear(64, 128, generator: &g), Lambda.relu,
            Linear(128, 64, generator: &g), Lambda.relu,
            Linear(64, 32, generator: &g)
        )
        let x = Tensor.randomNormal([batch, 64], generator: &g)
        let target = Tensor.randomNormal([batch, 32], generator: &g)
        let optimizer = Adam(model.parameters, learningRate: 1e-3)
        func step() throws {
            optimizer.zeroGrad()
            try (model(x) - target).squared().mean().backward()
            optimizer.step()
        }
        for _ in 0..<200 { try step() }
        var times: [Double] = []
        times.reserveCapacity(steps)
        for _ in 0..<steps {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try step()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        times.sort()
        let median = times[times.count / 2], best = times[0]
        if json {
            print(#"{"model":"mlp-64-128-64-32","batch":\#(batch),"threads":\#(Threading.threadCount),"median_ms":\#(median),"best_ms":\#(best)}"#)
        } else {
            print(String(format: "MLP 64-128-64-32, batch %d, %d thread(s): median %.3f ms, best %.3f ms per step (forward+backward+Adam)",
                         batch, Threading.threadCount, median, best))
        }
    }
}
