import ArgumentParser

/// `siamese bench …`: micro-benchmarks of the engine, printed as text or JSON lines.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the engine's kernels and training-step overhead.",
        subcommands: [GEMMBenchCommand.self, TrainStepBenchCommand.self, BenchCNNCommand.self, TextBenchCommand.self]
    )
}
