import EmbeddingStore
import FileSupport
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import PostgresStore
import ServiceLifecycle
import TextEncoders

/// Starts the service from a resolved configuration: loads the model, opens the store and
/// serves until SIGTERM or SIGINT, then finishes in-flight requests and saves the index.
public enum ServiceApp {
    /// Runs Swift Concurrency's jobs on NIO's event loop threads — the threads that already do the
    /// service's socket and PostgreSQL I/O — instead of a second pool of threads. A request would
    /// otherwise hop between the two pools several times (HTTP read, handler, each database call,
    /// response write), each hop a thread wake-up, which on 2 cores cost more than the request's own
    /// work. Model inference keeps its own thread (``EmbedBatcher``), so no event loop waits on a
    /// forward pass. Process-wide and only possible before any task has started: `siamese serve`
    /// calls it first thing; returns false where it could not be installed (nothing changes then).
    @discardableResult
    public static func runTasksOnEventLoops() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    /// The application for `state`, bound to the configured host and port.
    public static func application(state: ServiceState, logger: Logger) -> some ApplicationProtocol {
        Application(
            router: ServiceRouter.make(state: state),
            server: server(state.configuration),
            configuration: .init(address: .hostname(state.configuration.host, port: state.configuration.port), serverName: "siamese"),
            logger: logger)
    }

    /// Loads the model `configuration` names, or the demo model (trained and cached on first use).
    public static func loadModel(_ configuration: ServiceConfiguration, logger: Logger) throws -> any ServedModel {
        // A path, or a name found in $SIAMESE_MODELS or the Hugging Face cache (as the CLI's --model).
        if let path = configuration.model { return try ModelLoader.load(folder: try ModelLocator.resolve(path)) }
        let cache = configuration.demoCache.map { URL(fileURLWithPath: $0) } ?? DemoModelProvider.defaultCacheDirectory()
        logger.info("loading the demo model (a signature verifier; trained on first use, about ten seconds, then cached)",
                    metadata: ["cache": .string(cache.path)])
        let clock = ContinuousClock(), start = clock.now
        let loaded: DemoModelProvider.Loaded
        do {
            loaded = try DemoModelProvider.load(cacheDirectory: cache)
        } catch let error as ConfigurationError where configuration.demoCache == nil {
            // The default cache is a convenience: an unwritable home must not stop the service.
            let fallback = FileManager.default.temporaryDirectory.appendingPathComponent("siamese-demo-cache")
            logger.warning("the demo model cannot be cached in the default folder; using a temporary one",
                           metadata: ["error": .string(error.description), "cache": .string(fallback.path)])
            loaded = try DemoModelProvider.load(cacheDirectory: fallback)
        }
        if loaded.trained {
            let seconds = (clock.now - start) / .seconds(1)
            logger.info("demo model trained and cached", metadata: ["folder": .string(loaded.folder.path), "seconds": .string(String(format: "%.1f", seconds))])
        }
        return loaded.model
    }

    /// The cross-encoder `configuration.rerankModel` names, if any.
    static func loadReranker(_ configuration: ServiceConfiguration, logger: Logger) throws -> CrossEncoder? {
        guard let path = configuration.rerankModel else { return nil }
        let reranker: CrossEncoder
        do { reranker = try CrossEncoder(folder: try ModelLocator.resolve(path)) } catch let e as TextEncoderError { throw ConfigurationError("--rerank-model: \(e.message)") }
        logger.info("cross-encoder loaded", metadata: ["model": .string(path), "labels": .stringConvertible(reranker.labels)])
        return reranker
    }

    /// Loads what `configuration` names (the demo model and a fresh temporary store by default).
    public static func makeState(_ configuration: ServiceConfiguration, logger: Logger) throws -> ServiceState {
        let model = try loadModel(configuration, logger: logger)
        let storePath: String
        if let s = configuration.store {
            storePath = s
        } else {
            TemporaryStores.removeStale(in: FileManager.default.temporaryDirectory, logger: logger)
            let dir = TemporaryStores.make(in: FileManager.default.temporaryDirectory)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            storePath = dir.appendingPathComponent("store.sqlite").path
        }
        let state = try ServiceState(model: model, storePath: storePath, indexPath: storePath + ".hnsw", configuration: configuration,
                                     reranker: try loadReranker(configuration, logger: logger))
        logger.info("model loaded", metadata: [
            "model": .string(model.name), "kind": .string(model.kind.rawValue), "dimension": .stringConvertible(model.dimension),
            "fingerprint": .string(String(model.fingerprint.prefix(16))), "calibrated": .stringConvertible(model.calibration != nil),
        ])
        let items = try state.store.count()
        logger.info("store opened", metadata: ["path": .string(storePath), "items": .stringConvertible(items)])
        if configuration.apiKey == nil { logger.warning("no API key configured: item writes and admin routes are refused (use --api-key-file)") }
        return state
    }

    /// Loads the model and opens the PostgreSQL store `configuration.store` names (its index
    /// metric is the model's), refusing a store of another model. The URL is logged without password.
    public static func makePostgresState(_ configuration: ServiceConfiguration, logger: Logger) async throws -> ServiceState {
        let model = try loadModel(configuration, logger: logger)
        let url: PostgresURL
        do { url = try PostgresURL(configuration.store ?? "") } catch { throw ConfigurationError(error.description) }
        var options = PostgresStoreOptions(metric: IndexMetric.metric(for: model))
        if let path = configuration.storePasswordFile {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8),
                  let line = text.split(separator: "\n", omittingEmptySubsequences: false).first, !line.isEmpty else {
                throw ConfigurationError("\(path): cannot read the store password file (its first line is the password)")
            }
            options.password = line.trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
        }
        let store: PostgresStore
        do { store = try await PostgresStore.open(url, options: options) } catch let e as StoreError { throw ConfigurationError(e.description) }
        let state: ServiceState
        do { state = try await ServiceState(model: model, postgres: store, configuration: configuration, reranker: try loadReranker(configuration, logger: logger)) } catch {
            await store.close()
            throw error
        }
        logger.info("model loaded", metadata: [
            "model": .string(model.name), "kind": .string(model.kind.rawValue), "dimension": .stringConvertible(model.dimension),
            "fingerprint": .string(String(model.fingerprint.prefix(16))), "calibrated": .stringConvertible(model.calibration != nil),
        ])
        let items = try await store.count()
        logger.info("store opened", metadata: ["store": .string(store.location), "items": .stringConvertible(items), "engine": "postgresql"])
        if configuration.apiKey == nil { logger.warning("no API key configured: item writes and admin routes are refused (use --api-key-file)") }
        return state
    }

    /// Serves until SIGTERM/SIGINT; returns after in-flight requests finished and the index was saved.
    public static func run(_ configuration: ServiceConfiguration, logger: Logger) async throws {
        // Process-wide allocator settings belong to the process that serves (this entry point,
        // `siamese serve`), not to the library calls a test process makes side by side with others.
        // The memory is returned before the server starts: nothing else runs yet.
        ResidentMemory.holdLessAfterFrees()
        if let store = configuration.store, PostgresURL.isPostgres(store) {
            // Every acknowledged write is committed in the database; there is no index to save.
            let state = try await makePostgresState(configuration, logger: logger)
            // Loading freed about as much as the model keeps (initial values, the trainable copy).
            ResidentMemory.returnFreedMemory()
            try await serviceGroup(state, application(state: state, logger: logger), logger: logger, onSignals: true).run()
            await state.vectorStore.close()
            logger.info("stopped")
            return
        }
        let state = try makeState(configuration, logger: logger)
        ResidentMemory.returnFreedMemory()
        let group = serviceGroup(state, application(state: state, logger: logger), logger: logger, onSignals: true)
        try await serve(group, state: state, logger: logger)
    }

    /// Runs `group` until it shuts down, then saves the index (or removes a temporary store).
    static func serve(_ group: ServiceGroup, state: ServiceState, logger: Logger) async throws {
        try await group.run()
        if state.configuration.store == nil {
            // A temporary store lives as long as its server: nothing will ever open it again.
            let folder = URL(fileURLWithPath: state.store.path).deletingLastPathComponent()
            try? FileManager.default.removeItem(at: folder)
            logger.info("stopped; temporary store removed", metadata: ["path": .string(folder.path)])
            return
        }
        // Items are durable as they are acknowledged; saving the index only spares the next
        // start a rebuild.
        try state.flush()
        logger.info("stopped; index saved")
    }

    /// `app` beside a ``ShutdownNotice``, shut down gracefully on SIGTERM and SIGINT when
    /// `onSignals` (and by `triggerGracefulShutdown()` in any case, as tests do).
    static func serviceGroup(_ state: ServiceState, _ app: some ApplicationProtocol, logger: Logger, onSignals: Bool) -> ServiceGroup {
        // The group shuts its services down in reverse order: first the notice (readiness goes
        // to 503, then the drain delay), then the server (stops accepting, finishes in-flight).
        let notice = ShutdownNotice(state: state, drain: .milliseconds(state.configuration.drainMilliseconds), logger: logger)
        let services: [any ServiceLifecycle.Service] = [app, notice]
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: onSignals ? [.sigterm, .sigint] : [], logger: logger)
        // A shutdown that does not finish (a request stuck on a database that went away and came
        // back was seen to hold it for ever) is escalated to cancellation after the drain delay
        // and 30 s, and ends the process with ServiceLifecycle's message 10 s after that, so that
        // SIGTERM always stops the server: acknowledged writes are committed before they are
        // acknowledged, so none is lost.
        configuration.maximumGracefulShutdownDuration = .milliseconds(state.configuration.drainMilliseconds) + .seconds(30)
        configuration.maximumCancellationDuration = .seconds(10)
        return ServiceGroup(configuration: configuration)
    }
}

/// Waits for graceful shutdown, then marks the state as shutting down (so `/readyz` answers 503)
/// and waits the drain delay before the server stops accepting connections.
struct ShutdownNotice: ServiceLifecycle.Service {
    let state: ServiceState
    let drain: Duration
    let logger: Logger

    func run() async throws {
        do { try await gracefulShutdown() } catch { return }
        state.beginShutdown()
        logger.info("shutting down: /readyz answers 503; finishing in-flight requests", metadata: ["drain_ms": .stringConvertible(Int(drain / .milliseconds(1)))])
        if drain > .zero { try? await Task.sleep(for: drain) }
    }
}
