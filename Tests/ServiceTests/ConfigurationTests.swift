import Foundation
import Testing
@testable import Service

@Suite("Service configuration") struct ConfigurationTests {
    func temporaryFile(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-config-\(UUID().uuidString)")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    @Test func flagsBeatEnvironmentBeatFileBeatDefaults() throws {
        let file = try temporaryFile(#"{"port": 7000, "host": "0.0.0.0", "max_inputs": 9, "timeout_ms": "1234"}"#)
        let c = try ServiceConfiguration.resolve(flags: ["config": file, "port": "9000"],
                                                 environment: ["SIAMESE_PORT": "8000", "SIAMESE_HOST": "10.0.0.1", "SIAMESE_MAX_INPUTS": "5"])
        #expect(c.port == 9000)
        #expect(c.host == "10.0.0.1")
        #expect(c.maxInputs == 5)
        #expect(c.timeoutMilliseconds == 1234)
        #expect(c.maxBodyBytes == 1 << 20)
        let d = try ServiceConfiguration.resolve(flags: [:], environment: ["SIAMESE_CONFIG": file])
        #expect(d.port == 7000 && d.host == "0.0.0.0")
    }

    /// A config file shared with the other commands: their sections are skipped, a "serve"
    /// section counts like top-level keys.
    @Test func sharedConfigFileWithSections() throws {
        let file = try temporaryFile(#"{"search": {"k": 20}, "index build": {"hnsw": true}, "serve": {"port": 7100, "max_inputs": 3}, "host": "0.0.0.0"}"#)
        let c = try ServiceConfiguration.resolve(flags: [:], environment: ["SIAMESE_CONFIG": file])
        #expect(c.port == 7100 && c.maxInputs == 3 && c.host == "0.0.0.0")
        let bad = try temporaryFile(#"{"serve": {"prot": 1}}"#)
        #expect(throws: ConfigurationError.self) { try ServiceConfiguration.resolve(flags: ["config": bad], environment: [:]) }
    }

    @Test func badValuesNameTheirSource() throws {
        #expect(throws: ConfigurationError.self) { try ServiceConfiguration.resolve(flags: ["port": "70000"], environment: [:]) }
        do {
            _ = try ServiceConfiguration.resolve(flags: [:], environment: ["SIAMESE_MAX_INPUTS": "lots"])
            Issue.record("accepted a bad value")
        } catch let e as ConfigurationError {
            #expect(e.description.contains("SIAMESE_MAX_INPUTS"))
        }
        let file = try temporaryFile(#"{"prot": 1}"#)
        do {
            _ = try ServiceConfiguration.resolve(flags: ["config": file], environment: [:])
            Issue.record("accepted an unknown key")
        } catch let e as ConfigurationError {
            #expect(e.description.contains("unknown key 'prot'"))
        }
    }

    @Test func apiKeyFromFile() throws {
        let key = try temporaryFile("  abcdefghijklmnopqrstuvwxyz\n")
        #expect(try ServiceConfiguration.resolve(flags: ["api_key_file": key], environment: [:]).apiKey == "abcdefghijklmnopqrstuvwxyz")
        let short = try temporaryFile("short")
        #expect(throws: ConfigurationError.self) { try ServiceConfiguration.resolve(flags: ["api_key_file": short], environment: [:]) }
    }

    @Test func storeOfAnotherModelIsRefused() throws {
        let s = try TestService()
        try s.state.storeIndex.upsert([.init(id: "a", vector: Array(repeating: 0.25, count: 16))], fingerprint: "another-model")
        #expect(throws: ConfigurationError.self) {
            try ServiceState(model: s.model, storePath: s.folder.appendingPathComponent("store.sqlite").path, indexPath: nil, configuration: ServiceConfiguration())
        }
    }
}
