import ArgumentParser
import Foundation
import NN
import Siamese
import Tensors

/// `siamese bench cnn-step`: one training step of the digits CNN (contrastive pairs, Adam), the
/// shape `Benchmarks/siamese_train.sh` trains, on random 8×8 images.
struct BenchCNNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnn-step",
        abstract: "Time forward + backward + Adam of the small digits CNN (batch of pairs, contrastive loss).",
        discussion: HelpText.reflow("""
        Example:
          siamese bench cnn-step --threads 1 --json
        The model: Conv2d 1→16 3×3 → BatchNorm → ReLU → MaxPool 2 → Conv2d 16→32 → BatchNorm → ReLU →
        MaxPool 2 → Linear 128→32 → L2 normalise; each step embeds 2·pairs images in one pass.
        Prints the median and best step time over the measured steps.
        """)
    )

    @OptionGroup var threading: ThreadsOption
    /// `--threads`, or nil for the default.
    var threads: Int? { threading.threads }

    @Option(help: "Steps to measure after warm-up.") var steps = 500
    @Option(help: "Pairs per batch (images per step = 2 × pairs).") var pairs = 128
    @Option(help: "Also time each layer's forward and backward alone over this many repetitions (0: off).")
    var layers = 0
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        threading.apply()
        var g = SeededGenerator(seed: 1)
        let encoder = CNNEncoder(CNNConfiguration(height: 8, width: 8, embeddingDimension: 32), generator: &g)
        let a = Tensor.randomUniform([pairs, 64], low: 0, high: 16, generator: &g)
        let b = Tensor.randomUniform([pairs, 64], low: 0, high: 16, generator: &g)
        let labels = (0..<pairs).map { Float($0 % 2) }
        let loss = ContrastiveLoss(margin: 0.5)
        let optimizer = Adam(encoder.parameters, learningRate: 1e-3)
        func step() throws {
            optimizer.zeroGrad()
            let e = encoder(Tensor.concatenate([a, b], axis: 0))
            let ea = e.slice(axis: 0, 0..<pairs), eb = e.slice(axis: 0, pairs..<(2 * pairs))
            try loss(ea, eb, labels: labels).backward()
            optimizer.step()
        }
        for _ in 0..<50 { try step() }
        var times: [Double] = []
        times.reserveCapacity(steps)
        for _ in 0..<steps {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try step()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        let mean = times.reduce(0, +) / Double(times.count)
        times.sort()
        let median = times[times.count / 2], best = times[0]
        if json {
            print(#"{"model":"cnn-digits","images":\#(2 * pairs),"threads":\#(Threading.threadCount),"median_ms":\#(median),"best_ms":\#(best),"mean_ms":\#(mean)}"#)
        } else {
            print(String(format: "digits CNN, %d images, %d thread(s): median %.3f ms, best %.3f ms, mean %.3f ms per step (forward+backward+Adam)",
                         2 * pairs, Threading.threadCount, median, best, mean))
        }
        if layers > 0 { try timeLayers(repetitions: layers) }
    }

    /// Forward and backward of each op of the CNN alone, at the step's shapes.
    private func timeLayers(repetitions: Int) throws {
        var g = SeededGenerator(seed: 2)
        let n = 2 * pairs
        func time(_ name: String, _ body: () throws -> Void) rethrows {
            for _ in 0..<5 { try body() }
            var ts: [Double] = []
            for _ in 0..<repetitions {
                let t0 = DispatchTime.now().uptimeNanoseconds
                try body()
                ts.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3)
            }
            ts.sort()
            print(String(format: "  %-28@ median %8.1f µs  best %8.1f µs", name as NSString, ts[ts.count / 2], ts[0]))
        }
        func layer(_ name: String, _ input: [Int], inputGradient: Bool = true, _ f: (Tensor) -> Tensor) throws {
            var x = Tensor.randomNormal(input, generator: &g)
            if inputGradient { x = x.requiringGrad() }
            time(name + " fwd") { _ = withoutGradients { f(x) } }
            let y = f(x)
            let seed = Tensor.randomNormal(y.shape, generator: &g)
            try time(name + " fwd+bwd") {
                x.zeroGrad()
                try f(x).backward(seed: seed)
            }
        }
        let w1 = Tensor.randomNormal([16, 1, 3, 3], generator: &g).requiringGrad()
        let w2 = Tensor.randomNormal([32, 16, 3, 3], generator: &g).requiringGrad()
        var s1 = BatchNormStatistics(channels: 16), s2 = BatchNormStatistics(channels: 32)
        let gm1 = Tensor.ones([16]).requiringGrad(), bt1 = Tensor.zeros([16]).requiringGrad()
        let gm2 = Tensor.ones([32]).requiringGrad(), bt2 = Tensor.zeros([32]).requiringGrad()
        try layer("conv1 1→16 8×8", [n, 1, 8, 8], inputGradient: false) { Tensor.conv2d($0, weight: w1, padding: 1) }
        try layer("bn1", [n, 16, 8, 8]) { $0.batchNorm(gamma: gm1, beta: bt1, statistics: &s1, training: true) }
        try layer("relu1", [n, 16, 8, 8]) { $0.relu() }
        try layer("pool1", [n, 16, 8, 8]) { $0.maxPool2d(kernelSize: 2) }
        try layer("conv2 16→32 4×4", [n, 16, 4, 4]) { Tensor.conv2d($0, weight: w2, padding: 1) }
        try layer("bn2", [n, 32, 4, 4]) { $0.batchNorm(gamma: gm2, beta: bt2, statistics: &s2, training: true) }
        try layer("relu2", [n, 32, 4, 4]) { $0.relu() }
        try layer("pool2", [n, 32, 4, 4]) { $0.maxPool2d(kernelSize: 2) }
    }
}
