import Foundation
import Tensors

/// Keeps the inference engines of a model while its parameters stay the same.
///
/// An engine holds the parameter tensors it was built from. Optimisers write parameters
/// copy-on-write, so a parameter whose storage is no longer shared with the engine's copy has
/// changed: the engine is rebuilt on next use.
final class EngineCache: @unchecked Sendable {
    private let lock = NSLock()
    private var engines: [Precision: InferenceEngine] = [:]

    func engine(for model: SentenceTransformer, precision: Precision) -> InferenceEngine {
        lock.lock()
        defer { lock.unlock() }
        let current = model.namedParameters.map { $0.parameter.value }
        if let e = engines[precision], e.isCurrent(current) { return e }
        let e = InferenceEngine(model: model, precision: precision)
        engines[precision] = e
        return e
    }
}
