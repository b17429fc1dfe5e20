import ArgumentParser
import Foundation
import Tensors

/// `siamese bench gemm`: GFLOP/s of `Kernels.sgemm` / `sgemmBatched` on the shapes of issue 2.
///
/// Each case: one warm-up call, then blocks of at least 30 ms until at least `--seconds` have
/// passed (and five blocks); `gflops` is the best block, `gflops_median` the median. Each case
/// also reports how busy the rest of the machine was meanwhile (`busy_others`, in cores, from
/// `/proc/stat` minus this process's CPU time), since a busy core makes 2-thread figures
/// meaningless on a 2-core machine.
struct GEMMBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "GEMM GFLOP/s on the issue's shapes at 1 and 2 threads.",
        discussion: HelpText.reflow("""
            Shapes are M×K×N (batch × M×K×N for the batched one). With --json every line is one \
            object with keys m, n, k, batch, threads, gflops (best block), gflops_median, isa, \
            busy_others.
            """)
    )

    @Flag(help: "Print one JSON object per line.")
    var json = false

    @Option(help: "Measure only this thread count (default: 1 and 2).")
    var threads: Int?

    @Option(help: "Instruction set: generic, avx2 or avx512 (clamped to what the CPU has).")
    var isa: String?

    @Option(help: "Minimum measuring time per case, in seconds.")
    var seconds: Double = 0.3

    @Option(help: "Only these shapes, comma-separated, as MxKxN or BATCHxMxKxN (e.g. 1024x1024x1024,384x128x32x128).")
    var shapes: String?

    struct Shape {
        var batch: Int, m: Int, k: Int, n: Int
        var label: String { batch == 1 ? "\(m)×\(k)×\(n)" : "\(batch)×(\(m)×\(k)·\(k)×\(n))" }
    }

    static let defaultShapes: [Shape] = [
        Shape(batch: 1, m: 1024, k: 1024, n: 1024),
        Shape(batch: 1, m: 2048, k: 2048, n: 2048),
        Shape(batch: 1, m: 4096, k: 384, n: 1152),
        Shape(batch: 1, m: 4096, k: 384, n: 1536),
        Shape(batch: 1, m: 4096, k: 1536, n: 384),
        Shape(batch: 1, m: 1000, k: 384, n: 10000),
        Shape(batch: 384, m: 128, k: 32, n: 128),
    ]

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let isa, !["generic", "avx2", "avx512"].contains(isa) {
            throw ValidationError("--isa must be generic, avx2 or avx512")
        }
        if seconds <= 0 { throw ValidationError("--seconds must be positive") }
        _ = try parsedShapes()
    }

    func parsedShapes() throws -> [Shape] {
        guard let shapes else { return Self.defaultShapes }
        return try shapes.split(separator: ",").map { spec in
            let parts = spec.split(separator: "x").compactMap { Int($0) }
            guard parts.count == spec.split(separator: "x").count, parts.allSatisfy({ $0 > 0 }) else {
                throw ValidationError("bad shape '\(spec)': expected MxKxN or BATCHxMxKxN")
            }
            switch parts.count {
            case 3: return Shape(batch: 1, m: parts[0], k: parts[1], n: parts[2])
            case 4: return Shape(batch: parts[0], m: parts[1], k: parts[2], n: parts[3])
            default: throw ValidationError("bad shape '\(spec)': expected MxKxN or BATCHxMxKxN")
            }
        }
    }

    func run() throws {
        if let isa { Kernels.setISA(isa) }
        let savedThreads = Threading.threadCount
        defer { Threading.threadCount = savedThreads }
        let threadCounts = threads.map { [$0] } ?? [1, 2]
        if !json {
            print("GEMM, isa \(Kernels.isa) (CPU best: \(Kernels.detectedISA)), \(ProcessInfo.processInfo.activeProcessorCount) CPUs")
        }
        let idle = MachineLoad.othersBusy(sampling: 0.3)
        if let idle, idle > 0.1 {
            let warning = String(format: "warning: the machine is busy (other processes use %.2f cores): multi-thread figures are unreliable", idle)
            if json { FileHandle.standardError.write(Data((warning + "\n").utf8)) } else { print(warning) }
        }
        for shape in try parsedShapes() {
            let problem = Problem(shape)
            for t in threadCounts {
                Threading.threadCount = t
                let r = problem.measure(minSeconds: seconds)
                if json {
                    print(#"{"m":\#(shape.m),"n":\#(shape.n),"k":\#(shape.k),"batch":\#(shape.batch),"threads":\#(t),"#
                        + String(format: #""gflops":%.2f,"gflops_median":%.2f,"#, r.best, r.median)
                        + #""isa":"\#(Kernels.isa)","busy_others":\#(r.othersBusy.map { String(format: "%.2f", $0) } ?? "null")}"#)
                } else {
                    let busy = r.othersBusy.map { $0 > 0.1 ? String(format: "  (others busy: %.2f cores)", $0) : "" } ?? ""
                    print(shape.label.padding(toLength: 26, withPad: " ", startingAt: 0)
                        + String(format: "threads %d  %7.1f GFLOP/s  (median %.1f)", t, r.best, r.median) + busy)
                }
            }
        }
    }

    /// Operands for one shape, 64-byte aligned, filled with values in [-1, 1).
    final class Problem {
        let shape: Shape
        let a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>

        init(_ shape: Shape) {
            self.shape = shape
            func buffer(_ count: Int, seed: UInt32) -> UnsafeMutablePointer<Float> {
                let p = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: Float.self, capacity: count)
                var s = seed
                for i in 0..<count {
                    s = s &* 1_664_525 &+ 1_013_904_223
                    p[i] = Float(s >> 8) / Float(1 << 23) - 1
                }
                return p
            }
            a = buffer(shape.batch * shape.m * shape.k, seed: 1)
            b = buffer(shape.batch * shape.k * shape.n, seed: 2)
            c = buffer(shape.batch * shape.m * shape.n, seed: 3)
        }

        deinit {
            a.deallocate()
            b.deallocate()
            c.deallocate()
        }

        func call() {
            let s = shape
            if s.batch == 1 {
                Kernels.sgemm(transposeA: false, transposeB: false, m: s.m, n: s.n, k: s.k,
                              a: a, lda: s.k, b: b, ldb: s.n, c: c, ldc: s.n)
            } else {
                Kernels.sgemmBatched(batch: s.batch, transposeA: false, transposeB: false, m: s.m, n: s.n, k: s.k,
                                     a: a, lda: s.k, strideA: s.m * s.k, b: b, ldb: s.n, strideB: s.k * s.n,
                                     c: c, ldc: s.n, strideC: s.m * s.n)
            }
        }

        struct Result { var best: Double, median: Double, othersBusy: Double? }

        func measure(minSeconds: Double) -> Result {
            let flops = 2.0 * Double(shape.batch) * Double(shape.m) * Double(shape.n) * Double(shape.k)
            call()
            var reps = 1
            var first: Double
            while true {
                first = time(reps)
                if first >= 0.03 { break }
                reps *= 2
            }
            var rates = [flops * Double(reps) / first]
            var total = first
            let load = MachineLoad()
            while total < minSeconds || rates.count < 5 {
                let dt = time(reps)
                total += dt
                rates.append(flops * Double(reps) / dt)
            }
            rates.sort()
            return Result(best: rates.last! / 1e9, median: rates[rates.count / 2] / 1e9, othersBusy: load?.othersBusySince())
        }

        private func time(_ reps: Int) -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<reps { call() }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
    }
}

extension GEMMBenchCommand {
    /// CPU time used by other processes, from `/proc/stat` (all CPUs) minus this process's own.
    struct MachineLoad {
        let busyTicks: Double, selfSeconds: Double, wall: Double

        init?() {
            guard let busy = Self.machineBusySeconds() else { return nil }
            busyTicks = busy
            selfSeconds = Self.selfCPUSeconds()
            wall = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        }

        /// Cores' worth of CPU used by other processes since `init`.
        func othersBusySince() -> Double? {
            guard let busy = Self.machineBusySeconds() else { return nil }
            let dt = Double(DispatchTime.now().uptimeNanoseconds) / 1e9 - wall
            guard dt > 0 else { return nil }
            return max(0, ((busy - busyTicks) - (Self.selfCPUSeconds() - selfSeconds)) / dt)
        }

        static func othersBusy(sampling seconds: Double) -> Double? {
            guard let start = MachineLoad() else { return nil }
            Thread.sleep(forTimeInterval: seconds)
            return start.othersBusySince()
        }

        /// Busy seconds of all CPUs (user + nice + system + irq + softirq + steal).
        static func machineBusySeconds() -> Double? {
            guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
                  let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
            let f = line.split(separator: " ").dropFirst().compactMap { Double($0) }
            guard f.count >= 8 else { return nil }
            let ticks = sysconf(Int32(_SC_CLK_TCK))
            return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / Double(ticks > 0 ? ticks : 100)
        }

        static func selfCPUSeconds() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }
    }
}
