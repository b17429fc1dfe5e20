import ArgumentParser

/// The `siamese` command: every capability of the package, reachable from a shell.
@main
struct SiameseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "siamese",
        abstract: "Build, evaluate and serve match/mismatch systems on Siamese networks.",
        subcommands: [
            DemoCommand.self,
            BenchCommand.self,
            EvaluateCommand.self,
            CalibrateCommand.self,
            EvaluateRetrievalCommand.self,
        ]
    )
}
