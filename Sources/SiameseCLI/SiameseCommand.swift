import ArgumentParser
import Foundation

/// The `siamese` command: every capability of the package, reachable from a shell.
struct SiameseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "siamese",
        abstract: "Build, evaluate and serve match/mismatch systems on Siamese networks.",
        subcommands: [
            DemoCommand.self,
            TrainCommand.self,
            EmbedCommand.self,
            EvaluateCommand.self,
            CalibrateCommand.self,
            VerifyCommand.self,
            ReportCommand.self,
            EvaluateRetrievalCommand.self,
            FineTuneCommand.self,
            IndexCommand.self,
            SearchCommand.self,
            DedupeCommand.self,
            ClusterCommand.self,
            ServeCommand.self,
            BenchCommand.self,
        ]
    )
}

/// Runs the command with the project's exit codes: 0 success, 1 failure, 2 usage error
/// (ArgumentParser's own default for usage errors is 64).
@main
enum Entry {
    static func main() async {
        do {
            var command = try SiameseCommand.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = SiameseCommand.exitCode(for: error)
            let message = SiameseCommand.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                exit(0)
            }
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            exit(code == .validationFailure ? 2 : 1)
        }
    }
}
