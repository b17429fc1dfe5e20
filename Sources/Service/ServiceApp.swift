import Foundation
import Hummingbird
import Logging

/// Starts the service from a resolved configuration: loads the model, opens the store and
/// serves until SIGTERM or SIGINT, then finishes in-flight requests and saves the index.
public enum ServiceApp {
    /// The application for `state`, bound to the configured host and port.
    public static func application(state: ServiceState, logger: Logger) -> some ApplicationProtocol {
        Application(
            router: ServiceRouter.make(state: state),
            configuration: .init(address: .hostname(state.configuration.host, port: state.configuration.port), serverName: "siamese"),
            logger: logger)
    }

    /// Loads what `configuration` names (the demo model and a fresh temporary store by default).
    public static func makeState(_ configuration: ServiceConfiguration, logger: Logger) throws -> ServiceState {
        let model: any ServedModel
        if let path = configuration.model {
            model = try ModelLoader.load(folder: URL(fileURLWithPath: path))
        } else {
            model = try DemoModelProvider.load()
        }
        let storePath: String
        if let s = configuration.store {
            storePath = s
        } else {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-serve-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            storePath = dir.appendingPathComponent("store.sqlite").path
        }
        let state = try ServiceState(model: model, storePath: storePath, indexPath: storePath + ".hnsw", configuration: configuration)
        logger.info("model loaded", metadata: [
            "model": .string(model.name), "kind": .string(model.kind.rawValue), "dimension": .stringConvertible(model.dimension),
            "fingerprint": .string(String(model.fingerprint.prefix(16))), "calibrated": .stringConvertible(model.calibration != nil),
        ])
        let items = try state.store.count()
        logger.info("store opened", metadata: ["path": .string(storePath), "items": .stringConvertible(items)])
        if configuration.apiKey == nil { logger.warning("no API key configured: item writes and admin routes are refused (use --api-key-file)") }
        return state
    }

    /// Serves until SIGTERM/SIGINT; returns after in-flight requests finished and the index was saved.
    public static func run(_ configuration: ServiceConfiguration, logger: Logger) async throws {
        let state = try makeState(configuration, logger: logger)
        let app = application(state: state, logger: logger)
        try await app.runService()
        // Items are durable as they are acknowledged; saving the index only spares the next
        // start a rebuild.
        try state.flush()
        logger.info("stopped; index saved")
    }
}
