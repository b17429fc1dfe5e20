import ArgumentParser

// Placeholders until the Evaluation module lands.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evaluate")
    func run() throws { throw ValidationError("not built yet") }
}
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "calibrate")
    func run() throws { throw ValidationError("not built yet") }
}
struct EvaluateRetrievalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evaluate-retrieval")
    func run() throws { throw ValidationError("not built yet") }
}
