import ArgumentParser
import Foundation
import Service

/// The `siamese` command: every capability of the package, reachable from a shell.
struct SiameseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "siamese",
        abstract: "Build, evaluate and serve match/mismatch systems on Siamese networks.",
        discussion: HelpText.reflow("""
        Results go to stdout (--format text|json|jsonl where a command prints results), progress and timings to stderr. Exit status: 0 success, 1 failure (the message names the file, line and field), 2 usage error.

        Options can also come from the environment, SIAMESE_<COMMAND>_<OPTION> (SIAMESE_SEARCH_K=20, SIAMESE_INDEX_BUILD_EF_CONSTRUCTION=400), and from the JSON file named by SIAMESE_CONFIG, one section per command ({"search": {"k": 20}, "index build": {"hnsw": true}}); flags win over the environment, which wins over the file. serve reads SIAMESE_<SETTING> and the file's top-level keys or "serve" section (see siamese serve --help). SIAMESE_THREADS sets the kernel threads of every command.

        Example:
          siamese demo --output sig-model && siamese serve --model sig-model
        """),
        subcommands: [
            DemoCommand.self,
            TrainCommand.self,
            PretrainCommand.self,
            EmbedCommand.self,
            EvaluateCommand.self,
            CalibrateCommand.self,
            VerifyCommand.self,
            ScoreCommand.self,
            ReportCommand.self,
            EvaluateRetrievalCommand.self,
            FineTuneCommand.self,
            IndexCommand.self,
            SearchCommand.self,
            RerankCommand.self,
            DedupeCommand.self,
            ClusterCommand.self,
            StoreCommand.self,
            IngestCommand.self,
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
        // Before any other task starts (see ServiceApp.runTasksOnEventLoops).
        if CommandLine.arguments.dropFirst().first == "serve" { ServiceApp.runTasksOnEventLoops() }
        do {
            let arguments = try CommandDefaults.apply(to: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
            var command = try SiameseCommand.parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = SiameseCommand.exitCode(for: error)
            var message = SiameseCommand.fullMessage(for: error)
            // One form for every failure: `error: FILE:LINE: FIELD: message` (ArgumentParser
            // writes "Error: "; some errors already carry the lower-case prefix).
            if message.hasPrefix("Error: ") { message = "error: " + message.dropFirst(7) }
            if code != .success, !message.isEmpty, !message.hasPrefix("error: "), !message.hasPrefix("Usage:") { message = "error: " + message }
            if code == .success {
                if !message.isEmpty { print(message) }
                exit(0)
            }
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            exit(code == .validationFailure ? 2 : 1)
        }
    }
}
