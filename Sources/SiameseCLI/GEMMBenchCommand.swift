import ArgumentParser

// Placeholder until the kernels land.
struct GEMMBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gemm", abstract: "GEMM GFLOP/s.")
    func run() throws { throw ValidationError("not built yet") }
}
