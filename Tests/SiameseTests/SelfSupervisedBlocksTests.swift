import Foundation
import NN
import Testing
@testable import Siamese
import Tensors

/// Heads, augmentations and the self-supervised network's checkpointed state.
@Suite("Self-supervised building blocks")
struct SelfSupervisedBlocksTests {
    @Test("heads follow lightly's layer patterns: names, shapes, bias only without batch norm")
    func heads() {
        var g = SeededGenerator(seed: 1)
        let simclr = ProjectionHead.simCLR(input: 8, hidden: 16, output: 4, generator: &g)
        #expect(simclr.namedParameters.map(\.name) == ["blocks.0.linear.weight", "blocks.0.norm.weight", "blocks.0.norm.bias",
                                                       "blocks.1.linear.weight", "blocks.1.linear.bias"])
        #expect(simclr.namedBuffers.map(\.name) == ["blocks.0.norm.running_mean", "blocks.0.norm.running_var"])
        let simsiam = ProjectionHead.simSiamProjection(input: 8, hidden: 16, output: 4, generator: &g)
        // The last batch norm has no affine parameters, only running statistics.
        #expect(!simsiam.namedParameters.map(\.name).contains("blocks.2.norm.weight"))
        #expect(simsiam.namedBuffers.map(\.name).contains("blocks.2.norm.running_mean"))
        let x = Tensor.randomNormal([6, 8], generator: &g)
        #expect(simclr(x).shape == [6, 4] && simsiam(x).shape == [6, 4])
        // BYOL / Barlow / DINO shapes.
        #expect(ProjectionHead.barlowTwins(input: 8, hidden: 16, output: 32, generator: &g)(x).shape == [6, 32])
        #expect(ProjectionHead.dino(input: 8, hidden: 16, bottleneck: 4, generator: &g)(x).shape == [6, 4])
        // Training-mode BN output of SimSiam's last layer is standardised per feature.
        let z = simsiam(x)
        let mean = z.mean(axis: 0).scalars
        #expect(mean.allSatisfy { abs($0) < 1e-4 }, "\(mean)")
    }

    @Test("DINO's last layer is weight-normalised: each logit is the input's dot product with a unit prototype, whatever the weight's scale")
    func dinoLastLayerNormalisesItsWeight() throws {
        var g = SeededGenerator(seed: 4)
        let head = ProjectionHead.dinoLastLayer(bottleneck: 5, output: 7, generator: &g)
        #expect(head.namedParameters.map(\.name) == ["blocks.0.linear.weight"])
        let x = Tensor.randomNormal([3, 5], generator: &g)
        let w = try #require(head.namedParameters.first?.parameter)
        func expected() -> [Double] {
            let v = w.value.scalars.map(Double.init), xs = x.scalars.map(Double.init)
            return (0..<3).flatMap { r in
                (0..<7).map { o in
                    let row = v[(o * 5)..<(o * 5 + 5)]
                    let norm = row.map { $0 * $0 }.reduce(0, +).squareRoot()
                    return zip(xs[(r * 5)..<(r * 5 + 5)], row).map { $0 * $1 / norm }.reduce(0, +)
                }
            }
        }
        let before = head(x).scalars
        for (a, b) in zip(before, expected()) { #expect(abs(Double(a) - b) < 1e-5) }
        // The gradient reaches the raw weight through the normalisation: orthogonal to each row.
        w.zeroGrad()
        try head(x).sum().backward()
        let grad = try #require(w.grad).scalars, v = w.value.scalars
        #expect(grad.contains { $0 != 0 })
        for o in 0..<7 {
            let dot = (0..<5).map { Double(grad[o * 5 + $0]) * Double(v[o * 5 + $0]) }.reduce(0, +)
            #expect(abs(dot) < 1e-4, "row \(o): gradient · weight = \(dot)")
        }
        w.value = withoutGradients { w.value * 37 }
        for (a, b) in zip(withoutGradients { head(x) }.scalars, before) { #expect(abs(a - b) < 1e-5, "scaling the weight changed a logit") }
    }

    static let image: [Float] = (0..<(3 * 8 * 10)).map { Float(($0 * 37) % 101) / 100 }

    @Test("image augmentations: the same seed gives the same view, another seed another; values stay in [0, 1]",
          arguments: [1, 3])
    func imageSeeded(_ channels: Int) {
        let x = Array(Self.image.prefix(channels * 80))
        let a = ImageAugmentation(blurProbability: 0.5, solarizeProbability: 0.3, eraseProbability: 0.5)
        var g1 = SeededGenerator(seed: 7), g2 = SeededGenerator(seed: 7), g3 = SeededGenerator(seed: 8)
        let v1 = a(x, channels: channels, height: 8, width: 10, generator: &g1)
        let v2 = a(x, channels: channels, height: 8, width: 10, generator: &g2)
        let v3 = a(x, channels: channels, height: 8, width: 10, generator: &g3)
        #expect(v1 == v2)
        #expect(v1 != v3)
        #expect(v1.count == x.count && v1.allSatisfy { $0 >= 0 && $0 <= 1 })
        var g = SeededGenerator(seed: 1)
        #expect(ImageAugmentation.identity(x, channels: channels, height: 8, width: 10, generator: &g) == x)
    }

    @Test("each image operation does what it says")
    func imageOperations() {
        let (h, w) = (8, 10)
        let x = Array(Self.image.prefix(h * w))
        // Flip: column q becomes column w − 1 − q.
        let flipped = ImageAugmentation.flipped(x, channels: 1, height: h, width: w)
        #expect(flipped[3 * w + 0] == x[3 * w + 9] && ImageAugmentation.flipped(flipped, channels: 1, height: h, width: w) == x)
        // Solarise: values ≥ 0.5 inverted.
        #expect(ImageAugmentation.solarized([0.2, 0.5, 0.9]) == [0.2, 0.5, 0.100000024])
        // Blur keeps a constant image and smooths an impulse symmetrically.
        let constant = [Float](repeating: 0.4, count: h * w)
        #expect(ImageAugmentation.blurred(constant, channels: 1, height: h, width: w, sigma: 1).allSatisfy { abs($0 - 0.4) < 1e-6 })
        var impulse = [Float](repeating: 0, count: h * w); impulse[4 * w + 5] = 1
        let spread = ImageAugmentation.blurred(impulse, channels: 1, height: h, width: w, sigma: 1)
        #expect(spread[4 * w + 5] < 1 && abs(spread[4 * w + 4] - spread[4 * w + 6]) < 1e-6 && abs(spread.reduce(0, +) - 1) < 1e-4)
        // Brightness 1.5 (clamped) then contrast 1: only the scaling.
        #expect(ImageAugmentation.jittered([0.2, 0.8], channels: 1, brightness: 1.5, contrast: 1) == [0.3, 1])
        // Grayscale: ITU-R 601 luma in every channel.
        let grey = ImageAugmentation.grayscale([1, 0, 0], pixels: 1)
        #expect(grey.allSatisfy { abs($0 - 0.299) < 1e-6 })
        // A crop of the whole image is the image; a crop of a part is resized back to h × w.
        var g = SeededGenerator(seed: 2)
        #expect(ImageAugmentation.resizedCrop(x, channels: 1, height: h, width: w, scale: 1...1, ratio: 1.25...1.25, generator: &g) == x)
        let part = ImageAugmentation.resizedCrop(x, channels: 1, height: h, width: w, scale: 0.2...0.3, ratio: 1...1, generator: &g)
        #expect(part.count == x.count && part != x)
        // Erasing zeroes a rectangle in every channel, 2–33 % of the area.
        let ones = [Float](repeating: 1, count: 2 * h * w)
        let erased = ImageAugmentation.erased(ones, channels: 2, height: h, width: w, generator: &g)
        let zeros = erased.filter { $0 == 0 }.count
        #expect(zeros > 0 && zeros % 2 == 0 && zeros / 2 <= h * w / 3 + 1)
        #expect(Array(erased[0..<(h * w)]) == Array(erased[(h * w)...]))
    }

    @Test("sequence augmentations: seeded; each operation on a ramp")
    func sequenceOperations() {
        let (c, l) = (2, 50)
        let x: [Float] = (0..<(c * l)).map { Float($0 % l) / Float(l - 1) + Float($0 / l) }
        let a = SequenceAugmentation(cropProbability: 1, warpProbability: 1, maskProbability: 1)
        var g1 = SeededGenerator(seed: 4), g2 = SeededGenerator(seed: 4), g3 = SeededGenerator(seed: 5)
        let v1 = a(x, channels: c, length: l, generator: &g1)
        #expect(v1 == a(x, channels: c, length: l, generator: &g2))
        #expect(v1 != a(x, channels: c, length: l, generator: &g3))
        #expect(v1.count == x.count && v1.allSatisfy(\.isFinite))
        // Nothing random: the identity.
        var g = SeededGenerator(seed: 1)
        let none = SequenceAugmentation(cropProbability: 0, warpProbability: 0, scaleSigma: 0, jitterSigma: 0, maskProbability: 0)
        #expect(none(x, channels: c, length: l, generator: &g) == x)
        // Time warp: a monotone re-timing keeps the ends and the ramp increasing.
        let warped = SequenceAugmentation.timeWarped(x, channels: c, length: l, strength: 0.1, generator: &g)
        #expect(abs(warped[0] - x[0]) < 1e-6 && abs(warped[l - 1] - x[l - 1]) < 1e-5)
        #expect(zip(warped.prefix(l), warped.prefix(l).dropFirst()).allSatisfy { $0 <= $1 + 1e-6 })
        // Masking alone zeroes one span, the same in both channels.
        let mask = SequenceAugmentation(cropProbability: 0, warpProbability: 0, scaleSigma: 0, jitterSigma: 0, maskProbability: 1, maskFraction: 0.3)
        let masked = mask(x.map { $0 + 5 }, channels: c, length: l, generator: &g)
        let zeroed = (0..<l).filter { masked[$0] == 0 }
        #expect(!zeroed.isEmpty && zeroed.count <= 15 && zeroed == (0..<l).filter { masked[l + $0] == 0 })
        #expect(zeroed.last! - zeroed.first! + 1 == zeroed.count)
    }

    @Test("the network's checkpointed state holds the teacher and DINO's centre, and restores them")
    func teacherBuffers() throws {
        let encoder = EncoderConfiguration.mlp(MLPConfiguration(layers: [6, 8], embeddingDimension: 4, normalize: false))
        let settings = SelfSupervisedSettings(method: .dino, hiddenDimension: 8, projectionDimension: 4, dinoOutputDimension: 5)
        let a = SelfSupervisedNetwork(encoder: encoder.makeEncoder(seed: 1), settings: settings, seed: 1)
        let names = a.namedBuffers.map(\.name)
        #expect(names.contains("dino_centre") && names.contains { $0.hasPrefix("teacher.encoder.") } && names.contains { $0.hasPrefix("teacher.last_layer.") })
        #expect(!a.namedParameters.map(\.name).contains { $0.hasPrefix("teacher") })
        // Move the student, then the teacher, then save and load into a fresh network.
        for p in a.parameters { p.value = p.value + 0.5 }
        a.updateTeacher(momentum: 0.5)
        a.dino!.centre = Tensor([1, 2, 3, 4, 5])
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("w.safetensors")
        try WeightsIO.save(a, to: file)
        let b = SelfSupervisedNetwork(encoder: encoder.makeEncoder(seed: 9), settings: settings, seed: 9)
        try WeightsIO.load(b, from: file)
        for ((n1, t1), (_, t2)) in zip(a.namedBuffers, b.namedBuffers) { #expect(t1.scalars == t2.scalars, "\(n1)") }
        for (p, q) in zip(a.parameters, b.parameters) { #expect(p.value.scalars == q.value.scalars) }
    }
}
