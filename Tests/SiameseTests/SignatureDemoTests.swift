import Foundation
import Testing
import Evaluation
@testable import Siamese
import Tensors

/// Planar points of one channel-major sample.
private func path(_ row: [Float], steps: Int) -> [(Double, Double)] {
    (0..<steps).map { (Double(row[$0]), Double(row[steps + $0])) }
}

/// Speed at each step, as a share of the whole path length: the dynamics, whatever the size.
private func speedProfile(_ row: [Float], steps: Int) -> [Double] {
    let p = path(row, steps: steps)
    let speeds = (1..<steps).map { hypot(p[$0].0 - p[$0 - 1].0, p[$0].1 - p[$0 - 1].1) }
    let total = speeds.reduce(0, +)
    return speeds.map { $0 / total }
}

/// The path resampled at equal arc-length positions: the shape, whatever the timing.
private func shape(_ row: [Float], steps: Int, points: Int = 32) -> [(Double, Double)] {
    let p = path(row, steps: steps)
    var cumulative = [0.0]
    for i in 1..<steps { cumulative.append(cumulative[i - 1] + hypot(p[i].0 - p[i - 1].0, p[i].1 - p[i - 1].1)) }
    let total = cumulative.last!
    var out: [(Double, Double)] = []
    var j = 1
    for k in 0..<points {
        let target = total * Double(k) / Double(points - 1)
        while j < steps - 1 && cumulative[j] < target { j += 1 }
        let span = cumulative[j] - cumulative[j - 1]
        let f = span > 0 ? min(1, max(0, (target - cumulative[j - 1]) / span)) : 0
        out.append((p[j - 1].0 + f * (p[j].0 - p[j - 1].0), p[j - 1].1 + f * (p[j].1 - p[j - 1].1)))
    }
    return out
}

/// Standard deviation of the pressure over the pen-down steps.
private func pressureSpread(_ row: [Float], steps: Int) -> Double {
    let down = row[(2 * steps)...].map(Double.init).filter { $0 > 0.05 }
    let m = down.reduce(0, +) / Double(down.count)
    return (down.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(down.count)).squareRoot()
}

private func distance(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
}

private func distance(_ a: [(Double, Double)], _ b: [(Double, Double)]) -> Double {
    zip(a, b).map { ($0.0 - $1.0) * ($0.0 - $1.0) + ($0.1 - $1.1) * ($0.1 - $1.1) }.reduce(0, +).squareRoot()
}

private func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

@Suite("Synthetic signatures and the signature-verification demo")
struct SignatureDemoTests {
    @Test("the generator is deterministic per seed and has the documented layout")
    func generatorLayout() throws {
        let steps = 64, width = 3 * 64
        let g = SignatureGenerator(steps: steps, seed: 11)
        let set = g.samples(writers: 3..<6, genuinePerWriter: 4, forgeriesPerWriter: 2)
        #expect(set.features.shape == [18, width])
        #expect(set.writers == [3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5])
        #expect(set.isForgery == Array(repeating: [false, false, false, false, true, true], count: 3).flatMap { $0 })
        #expect(g.featureColumns.count == width && g.featureColumns[0] == "x0" && g.featureColumns[steps] == "y0" && g.featureColumns[2 * steps] == "p0")
        // Same seed: same values, from a fresh generator and regardless of what was generated before.
        let again = SignatureGenerator(steps: steps, seed: 11)
        #expect(again.genuine(writer: 4, sample: 1) == Array(set.features.scalars[(7 * width)..<(8 * width)]))
        #expect(again.forgery(writer: 5, sample: 0) == Array(set.features.scalars[(16 * width)..<(17 * width)]))
        // Another seed or another sample: different values.
        #expect(SignatureGenerator(steps: steps, seed: 12).genuine(writer: 4, sample: 1) != again.genuine(writer: 4, sample: 1))
        #expect(again.genuine(writer: 4, sample: 2) != again.genuine(writer: 4, sample: 1))
        for i in 0..<set.count {
            let row = Array(set.features.scalars[(i * width)..<((i + 1) * width)])
            let finite = row.allSatisfy { $0.isFinite }
            #expect(finite)
            // x and y are centred; pressure is in [0, 1.3] and drops to 0 at a pen lift.
            #expect(abs(mean(row[0..<steps].map(Double.init))) < 1e-5 && abs(mean(row[steps..<(2 * steps)].map(Double.init))) < 1e-5)
            let pressure = row[(2 * steps)...]
            #expect(pressure.allSatisfy { $0 >= 0 && $0 <= 1.3 })
            #expect(pressure.contains { $0 < 0.05 }, "sample \(i) has no pen lift")
            #expect(pressure.filter { $0 > 0.2 }.count > steps / 2, "sample \(i) is mostly pen-up")
        }
    }

    @Test("skilled forgeries copy the shape but not the dynamics")
    func forgeriesDifferInDynamics() {
        let steps = 64
        let g = SignatureGenerator(steps: steps, seed: 5)
        var genuinePressure: [Double] = [], forgedPressure: [Double] = []
        var genuineSpeed: [Double] = [], forgedSpeed: [Double] = [], forgedShape: [Double] = [], otherShape: [Double] = [], ownShape: [Double] = []
        for w in 0..<12 {
            let real = (0..<5).map { g.genuine(writer: w, sample: $0) }
            let fake = (0..<5).map { g.forgery(writer: w, sample: $0) }
            let other = (0..<5).map { g.genuine(writer: w + 100, sample: $0) }
            genuinePressure += real.map { pressureSpread($0, steps: steps) }
            forgedPressure += fake.map { pressureSpread($0, steps: steps) }
            for i in 0..<5 {
                for j in (i + 1)..<5 {
                    genuineSpeed.append(distance(speedProfile(real[i], steps: steps), speedProfile(real[j], steps: steps)))
                    ownShape.append(distance(shape(real[i], steps: steps), shape(real[j], steps: steps)))
                }
                for j in 0..<5 {
                    forgedSpeed.append(distance(speedProfile(real[i], steps: steps), speedProfile(fake[j], steps: steps)))
                    forgedShape.append(distance(shape(real[i], steps: steps), shape(fake[j], steps: steps)))
                    otherShape.append(distance(shape(real[i], steps: steps), shape(other[j], steps: steps)))
                }
            }
        }
        // Dynamics: a forgery's speed profile is much further from the genuine ones than they are
        // from each other.
        #expect(mean(forgedSpeed) > 1.25 * mean(genuineSpeed), "speed-profile distances: genuine \(mean(genuineSpeed)), forged \(mean(forgedSpeed))")
        // Pressure: forgers press more evenly (spread of the pen-down pressure over time).
        #expect(mean(forgedPressure) < 0.7 * mean(genuinePressure), "pressure spread: genuine \(mean(genuinePressure)), forged \(mean(forgedPressure))")
        // Shape: a forgery is far closer to the writer's path than another writer's signature is.
        #expect(mean(forgedShape) < 0.5 * mean(otherShape), "shape distances: forged \(mean(forgedShape)), other writers \(mean(otherShape))")
        #expect(mean(forgedShape) < 3 * mean(ownShape), "shape distances: forged \(mean(forgedShape)), genuine \(mean(ownShape))")
    }

    @Test("the trained verifier beats the untrained twin on held-out writers, and its numbers check out")
    func trainedBeatsUntrained() throws {
        // The demo's own configuration (20–30 seconds): what the test vouches for is what users run.
        let config = SignatureDemo.Configuration.standard
        let result = try SignatureDemo.run(config, seed: 3)
        let r = result.report
        #expect(r.trainingSteps > 0 && r.epochLosses.count == config.epochs)
        #expect(r.epochLosses.last! < 0.5 * r.epochLosses.first!, "losses \(r.epochLosses)")
        // Real margins, not just "better", each at the model's own calibrated threshold: skilled
        // forgeries are what the training targets.
        let trained = r.trained, untrained = r.untrained
        #expect(trained.skilled.far < untrained.skilled.far - 0.05, "skilled FAR trained \(trained.skilled.far), untrained \(untrained.skilled.far)")
        #expect(trained.skilled.accuracy > untrained.skilled.accuracy + 0.03, "skilled accuracy trained \(trained.skilled.accuracy), untrained \(untrained.skilled.accuracy)")
        #expect(trained.skilled.eer < untrained.skilled.eer - 0.02, "skilled EER trained \(trained.skilled.eer), untrained \(untrained.skilled.eer)")
        #expect(trained.random.eer < untrained.random.eer, "random EER trained \(trained.random.eer), untrained \(untrained.random.eer)")
        #expect(trained.skilled.accuracy > 0.7 && trained.random.accuracy > 0.85)

        // Recount the held-out skilled-forgery accuracy at the calibrated threshold from the
        // embeddings, in Double, without the demo's pair code.
        let g = SignatureGenerator(steps: config.steps, seed: 3)
        let first = config.trainWriters + config.validationWriters
        let test = g.samples(writers: first..<(first + config.testWriters), genuinePerWriter: config.genuinePerWriter,
                             forgeriesPerWriter: config.forgeriesPerWriter)
        let e = result.network.embedAll(test.features)
        let d = e.shape[1]
        func cosine(_ i: Int, _ j: Int) -> Double {
            var dot = 0.0, a = 0.0, b = 0.0
            for k in 0..<d {
                let x = Double(e[i, k]), y = Double(e[j, k])
                dot += x * y; a += x * x; b += y * y
            }
            return dot / (a * b).squareRoot()
        }
        var correct = 0, total = 0
        for i in 0..<test.count where !test.isForgery[i] {
            for j in 0..<test.count where j != i && test.writers[j] == test.writers[i] {
                if test.isForgery[j] {
                    total += 1; if cosine(i, j) < result.calibration.threshold { correct += 1 }
                } else if j > i {
                    total += 1; if cosine(i, j) >= result.calibration.threshold { correct += 1 }
                }
            }
        }
        let perWriter = config.genuinePerWriter
        #expect(total == config.testWriters * (perWriter * (perWriter - 1) / 2 + perWriter * config.forgeriesPerWriter))
        #expect(abs(Double(correct) / Double(total) - r.trained.skilled.accuracy) < 2.0 / Double(total),
                "recounted \(Double(correct) / Double(total)), reported \(r.trained.skilled.accuracy)")

        // Saved as a model folder with its calibration, it loads back and scores the same.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("signature-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try SignatureDemo.save(result.network, calibration: result.calibration, steps: config.steps, to: folder)
        let (loaded, saved) = try ModelFolder(folder).load()
        #expect(saved.featureColumns == g.featureColumns)
        #expect(try CalibrationRecord.load(fromModelDirectory: folder)?.threshold == result.calibration.threshold)
        let again = loaded.embedAll(test.features)
        #expect(zip(again.scalars, e.scalars).allSatisfy { abs($0 - $1) < 1e-5 })
    }
}
