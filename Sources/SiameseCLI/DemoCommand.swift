import ArgumentParser

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Engine self-check and a tiny trained example.")
    func run() throws { print("demo") }
}
