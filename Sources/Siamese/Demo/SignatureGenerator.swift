import Foundation
import Tensors

/// Synthetic on-line handwritten signatures: pen trajectories (x, y, pressure over time), generated
/// per writer from a seed, with genuine samples and skilled forgeries.
///
/// A writer is a *shape* — a path `P(s)`, `s ∈ [0, 1]`, made of a left-to-right drift plus
/// writer-specific sinusoids, with pressure that drops to zero at two or three writer-specific pen
/// lifts (so a signature has a few strokes) — and *dynamics*: a speed profile `v(t)` (how fast the
/// pen moves along the path at each moment) and a pressure profile.
///
/// - A **genuine** sample follows the writer's path at the writer's speed profile, with small
///   changes of that profile (time warping), start and end times (±2 %), scale (±10 %), rotation
///   (about 2°), pressure gain and position jitter.
/// - A **skilled forgery** copies the path (with the same kind of geometric variation) but not the
///   dynamics: the forger's own, flatter speed profile with two to four hesitations (near-stops), a tremor on
///   the position, and a flatter pressure profile of the forger's own (same pen lifts).
///
/// Every sample is resampled to ``steps`` equally spaced moments of time and stored channel-major,
/// `[x₀…x₍steps−1₎, y₀…, p₀…]` (the layout ``SequenceEncoder`` reads from a flat row), with x and
/// y centred on their mean. The same seed, writer and sample number always give the same values,
/// on every machine.
public struct SignatureGenerator: Sendable {
    /// Values per time step: x, y, pressure.
    public static let channels = 3

    /// Time steps per sample.
    public let steps: Int
    /// Seed of the whole population of writers.
    public let seed: UInt64

    /// - Parameters:
    ///   - steps: time steps per sample (at least 16, so that strokes and pauses are visible).
    ///   - seed: the population's seed.
    public init(steps: Int = 64, seed: UInt64) {
        ensure(steps >= 16, "SignatureGenerator: at least 16 steps needed, got \(steps)")
        self.steps = steps
        self.seed = seed
    }

    /// Values per sample: `channels × steps`.
    public var featureCount: Int { Self.channels * steps }

    /// Column names of a flat sample (`x0…`, `y0…`, `p0…`), for model folders and CSV files.
    public var featureColumns: [String] {
        ["x", "y", "p"].flatMap { c in (0..<steps).map { "\(c)\($0)" } }
    }

    /// One genuine signature of `writer`, channel-major (see the type's documentation).
    public func genuine(writer: Int, sample: Int) -> [Float] {
        let w = Writer(seed: seed, id: writer)
        var g = SeededGenerator(seed: mix(seed, UInt64(bitPattern: Int64(writer)), 1, UInt64(bitPattern: Int64(sample))))
        let speed = w.speed.perturbed(by: 0.08, generator: &g)
        return render(w, speed: speed, pressure: w.pressure, pressureGain: 1 + 0.08 * g.nextNormal(),
                      tremor: 0, hesitations: [], generator: &g)
    }

    /// One skilled forgery of `writer`'s signature: the shape copied, the dynamics the forger's own.
    public func forgery(writer: Int, sample: Int) -> [Float] {
        let w = Writer(seed: seed, id: writer)
        var g = SeededGenerator(seed: mix(seed, UInt64(bitPattern: Int64(writer)), 2, UInt64(bitPattern: Int64(sample))))
        // Forgers draw carefully: a flatter speed profile of their own, a few near-stops where they
        // check the model, a tremor, and a flatter pressure profile (the pen lifts are copied).
        let speed = Profile.random(harmonics: 3, amplitude: 0.12, generator: &g)
        let pressure = Profile.random(harmonics: 3, amplitude: 0.08, generator: &g)
        let hesitations = (0..<(2 + g.nextInt(below: 3))).map { _ in 0.1 + 0.8 * Double(g.nextUniform()) }
        return render(w, speed: speed, pressure: pressure, pressureGain: 0.9 + 0.2 * g.nextUniform(),
                      tremor: 0.04 + 0.04 * Double(g.nextUniform()), hesitations: hesitations, generator: &g)
    }

    /// Samples of several writers in one labelled set: `genuinePerWriter` genuine samples then
    /// `forgeriesPerWriter` skilled forgeries for each writer, in writer order.
    public func samples(writers: Range<Int>, genuinePerWriter: Int, forgeriesPerWriter: Int) -> SignatureSet {
        ensure(genuinePerWriter >= 0 && forgeriesPerWriter >= 0, "SignatureGenerator.samples: negative counts")
        var values: [Float] = [], owners: [Int] = [], forged: [Bool] = []
        values.reserveCapacity(writers.count * (genuinePerWriter + forgeriesPerWriter) * featureCount)
        for w in writers {
            for s in 0..<genuinePerWriter { values += genuine(writer: w, sample: s); owners.append(w); forged.append(false) }
            for s in 0..<forgeriesPerWriter { values += forgery(writer: w, sample: s); owners.append(w); forged.append(true) }
        }
        return SignatureSet(features: Tensor(shape: [owners.count, featureCount], values), writers: owners, isForgery: forged,
                            steps: steps)
    }

    /// Draws the path along the time warp given by `speed`, then resamples, rotates, scales and
    /// jitters it.
    private func render(_ w: Writer, speed: Profile, pressure: Profile, pressureGain: Float, tremor: Double,
                        hesitations: [Double], generator g: inout SeededGenerator) -> [Float] {
        // Cumulative speed on a fine grid gives the path position s(t); pauses slow the pen to a crawl.
        let fine = steps * 8
        var cumulative = [Double](repeating: 0, count: fine + 1)
        for i in 0..<fine {
            let t = (Double(i) + 0.5) / Double(fine)
            var v = max(0.05, speed.value(t))
            for h in hesitations { v *= 1 - 0.9 * exp(-pow((t - h) / 0.03, 2)) }
            cumulative[i + 1] = cumulative[i] + v
        }
        // The recording starts and stops a little early or late: up to 2 % of the time either side.
        let lead = 0.02 * (2 * Double(g.nextUniform()) - 1), trail = 0.02 * (2 * Double(g.nextUniform()) - 1)
        let total = cumulative[fine]
        let angle = Double(g.nextNormal()) * 0.035, scale = 1 + 0.1 * (2 * Double(g.nextUniform()) - 1)
        let tremorPhase = 2 * Double.pi * Double(g.nextUniform()), tremorFrequency = 18 + 6 * Double(g.nextUniform())
        var xs = [Double](), ys = [Double](), ps = [Float]()
        for k in 0..<steps {
            let t = Double(k) / Double(steps - 1)
            let stretched = min(1, max(0, lead + t * (1 - lead + trail)))
            let s = cumulative[Int((stretched * Double(fine)).rounded())] / total
            var (x, y) = w.position(s)
            x += tremor * sin(2 * .pi * tremorFrequency * t + tremorPhase) + 0.003 * Double(g.nextNormal())
            y += tremor * cos(2 * .pi * tremorFrequency * 1.3 * t + tremorPhase) + 0.003 * Double(g.nextNormal())
            xs.append(scale * (cos(angle) * x - sin(angle) * y))
            ys.append(scale * (sin(angle) * x + cos(angle) * y))
            let p = w.penDown(s) ? pressureGain * Float(max(0.05, min(1, 0.6 + 0.4 * pressure.value(s)))) : 0
            ps.append(max(0, p + 0.01 * g.nextNormal()))
        }
        let mx = xs.reduce(0, +) / Double(steps), my = ys.reduce(0, +) / Double(steps)
        return xs.map { Float($0 - mx) } + ys.map { Float($0 - my) } + ps
    }
}

/// Generated signatures with who wrote (or was forged) and whether each is a forgery.
public struct SignatureSet: Sendable {
    /// `[samples, 3 × steps]`, channel-major rows.
    public var features: Tensor
    /// The writer whose signature each row is (for a forgery: the writer it imitates).
    public var writers: [Int]
    /// True for skilled forgeries.
    public var isForgery: [Bool]
    /// Time steps per sample.
    public var steps: Int

    public var count: Int { writers.count }
}

/// A smooth periodic profile over [0, 1]: `1 + Σ aₖ sin(2πkt + φₖ)`.
struct Profile: Sendable {
    var amplitudes: [Double]
    var phases: [Double]

    func value(_ t: Double) -> Double {
        var v = 1.0
        for k in amplitudes.indices { v += amplitudes[k] * sin(2 * .pi * Double(k + 1) * t + phases[k]) }
        return v
    }

    static func random(harmonics: Int, amplitude: Double, generator g: inout SeededGenerator) -> Profile {
        Profile(amplitudes: (0..<harmonics).map { _ in amplitude * Double(g.nextNormal()) },
                phases: (0..<harmonics).map { _ in 2 * .pi * Double(g.nextUniform()) })
    }

    /// The same profile with each amplitude and phase moved a little (a genuine writer's variation).
    func perturbed(by amount: Double, generator g: inout SeededGenerator) -> Profile {
        Profile(amplitudes: amplitudes.map { $0 + amount * Double(g.nextNormal()) },
                phases: phases.map { $0 + amount * Double(g.nextNormal()) })
    }
}

/// One writer's shape and habits, all drawn from (population seed, writer id).
struct Writer: Sendable {
    var xAmplitudes: [Double], xFrequencies: [Double], xPhases: [Double]
    var yAmplitudes: [Double], yFrequencies: [Double], yPhases: [Double]
    var drift: Double
    /// Centres of the pen lifts along the path.
    var lifts: [Double]
    var speed: Profile
    var pressure: Profile

    init(seed: UInt64, id: Int) {
        var g = SeededGenerator(seed: mix(seed, UInt64(bitPattern: Int64(id)), 0, 0))
        func draw(_ n: Int, _ f: (inout SeededGenerator) -> Double) -> [Double] { (0..<n).map { _ in f(&g) } }
        xAmplitudes = draw(3) { 0.35 * Double($0.nextNormal()) }
        xFrequencies = draw(3) { 1 + 5 * Double($0.nextUniform()) }
        xPhases = draw(3) { 2 * .pi * Double($0.nextUniform()) }
        yAmplitudes = draw(3) { 0.5 * Double($0.nextNormal()) }
        yFrequencies = draw(3) { 1 + 7 * Double($0.nextUniform()) }
        yPhases = draw(3) { 2 * .pi * Double($0.nextUniform()) }
        drift = 2 + Double(g.nextUniform())
        let liftCount = 1 + g.nextInt(below: 2)
        lifts = (0..<liftCount).map { i in (Double(i) + 0.5 + 0.6 * (Double(g.nextUniform()) - 0.5)) / Double(liftCount) }
        speed = Profile.random(harmonics: 3, amplitude: 0.4, generator: &g)
        pressure = Profile.random(harmonics: 3, amplitude: 0.35, generator: &g)
    }

    func position(_ s: Double) -> (Double, Double) {
        var x = drift * s, y = 0.0
        for k in 0..<3 {
            x += xAmplitudes[k] * sin(2 * .pi * xFrequencies[k] * s + xPhases[k])
            y += yAmplitudes[k] * sin(2 * .pi * yFrequencies[k] * s + yPhases[k])
        }
        return (x, y)
    }

    func penDown(_ s: Double) -> Bool { lifts.allSatisfy { abs(s - $0) > 0.04 } }
}

/// A 64-bit mix of a few numbers (SplitMix64 finaliser), so each (seed, writer, kind, sample)
/// gets an independent random stream.
private func mix(_ values: UInt64...) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15
    for v in values {
        h = (h ^ v) &+ 0x9E37_79B9_7F4A_7C15
        h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 31
    }
    return h
}
