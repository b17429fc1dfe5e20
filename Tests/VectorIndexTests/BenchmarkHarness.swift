import Foundation
import NPY
import Tensors
import Testing
@testable import VectorIndex

/// Opt-in timing run on the benchmark corpus (`Benchmarks/peers/index_data.py`): set
/// `SIAMESE_INDEX_BENCH_DIR` to its folder. Prints JSON lines; asserts nothing about speed.
/// `Benchmarks/index.sh` measures through the CLI instead; this harness exists for profiling.
@Suite("Index benchmark harness", .enabled(if: ProcessInfo.processInfo.environment["SIAMESE_INDEX_BENCH_DIR"] != nil))
struct BenchmarkHarness {
    static let dir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["SIAMESE_INDEX_BENCH_DIR"] ?? "/nonexistent")
    static let what = Set((ProcessInfo.processInfo.environment["SIAMESE_INDEX_BENCH"] ?? "exact,hnsw,mining").split(separator: ",").map(String.init))

    static func matrix(_ name: String) throws -> (rows: Int, cols: Int, values: [Float]) {
        try NPY.read(dir.appendingPathComponent(name)).float32Matrix()
    }

    static func time<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let r = try body()
        return (r, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }

    @Test("timings on the benchmark corpus")
    func run() throws {
        let x = try Self.matrix("X.npy"), q = try Self.matrix("Q.npy")
        let truthArray = try NPY.read(Self.dir.appendingPathComponent("truth.npy"))
        let truthIDs = try truthArray.int64Values()
        let tk = truthArray.cols
        func recallAt10(_ r: SearchResults) -> Double {
            var hit = 0
            for i in 0..<r.queries {
                let t = Set(truthIDs[(i * tk)..<(i * tk + 10)].map { UInt64($0) })
                hit += r[i].filter { t.contains($0.id) }.count
            }
            return Double(hit) / Double(r.queries * 10)
        }
        let threads = Int(ProcessInfo.processInfo.environment["SIAMESE_THREADS"] ?? "2") ?? 2
        if Self.what.contains("exact") {
            Threading.threadCount = threads
            var exact = ExactIndex(dimension: x.cols, metric: .dot)
            try exact.add(x.values)
            var best = Double.infinity
            var result: SearchResults? = nil
            for _ in 0..<4 {
                let (r, t) = try Self.time { try exact.search(queries: q.values, k: 10) }
                best = min(best, t)
                result = r
            }
            print("{\"ours\":\"exact\",\"threads\":\(threads),\"qps\":\(Double(q.rows) / best),\"recall\":\(recallAt10(result!))}")
        }
        if Self.what.contains("mining") {
            Threading.threadCount = threads
            let m = try Self.matrix("mine.npy")
            var best = Double.infinity
            var count = 0
            for _ in 0..<4 {
                let (pairs, t) = try Self.time { try ParaphraseMining.topK(m.values, dimension: m.cols, k: 10) }
                best = min(best, t)
                count = pairs.count
            }
            print("{\"ours\":\"mining\",\"threads\":\(threads),\"seconds\":\(best),\"pairs\":\(count)}")
        }
        if Self.what.contains("hnsw") {
            Threading.threadCount = threads
            let (index, build) = try Self.time {
                try HNSWIndex(vectors: x.values, dimension: x.cols, metric: .dot, configuration: HNSWConfiguration(m: 16, efConstruction: 200))
            }
            print("{\"ours\":\"hnsw-build\",\"threads\":\(threads),\"seconds\":\(build)}")
            Threading.threadCount = 1
            for ef in [32, 64, 96, 128, 192, 256] {
                var best = Double.infinity
                var result: SearchResults? = nil
                for _ in 0..<3 {
                    let (r, t) = try Self.time { try index.search(queries: q.values, k: 10, ef: ef) }
                    best = min(best, t)
                    result = r
                }
                print("{\"ours\":\"hnsw-search\",\"ef\":\(ef),\"qps\":\(Double(q.rows) / best),\"recall\":\(recallAt10(result!))}")
            }
        }
    }
}
