import ArgumentParser

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Engine self-check and a tiny trained example.")
    func run() throws { print("demo") }
}
struct TrainStepBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train-step")
    func run() throws {}
}
