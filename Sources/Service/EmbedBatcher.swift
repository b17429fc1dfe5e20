import Dispatch
import Foundation
import TextEncoders

/// Runs all model work on one inference thread, off the event loops, and batches concurrent
/// embed requests into one forward pass.
///
/// A request waits at most ``maxWait`` for others to join it; a batch closes early once it holds
/// ``maxBatch`` inputs. Each request gets back exactly its own rows. Inputs must be validated
/// before they come here, so that one bad request cannot fail a batch shared with others.
public final class EmbedBatcher: @unchecked Sendable {
    public let model: any ServedModel
    public let maxWait: Duration
    public let maxBatch: Int
    private let queue = DispatchQueue(label: "siamese.service.inference", qos: .userInitiated)
    private let lock = NSLock()
    // Guarded by `lock`.
    private var pending: [(inputs: [ModelInput], prompt: Prompts.Choice, continuation: CheckedContinuation<[[Float]], any Error>)] = []
    private var pendingInputs = 0
    private var timerArmed = false
    private var stats = Statistics()

    /// Counts since start, for `/metrics` and tests.
    public struct Statistics: Sendable, Equatable {
        public var batches = 0
        public var requests = 0
        public var inputs = 0
        public var largestBatch = 0
    }

    public init(model: any ServedModel, maxWait: Duration = .milliseconds(2), maxBatch: Int = 64) {
        self.model = model
        self.maxWait = maxWait
        self.maxBatch = max(1, maxBatch)
    }

    public var statistics: Statistics { lock.withLock { stats } }

    /// Requests waiting for their batch.
    var waitingRequests: Int { lock.withLock { pending.count } }

    /// Runs on the inference thread just before each batch goes to the model, given the number of
    /// requests in it. Tests use it to hold a request in flight for exactly as long as they need
    /// (a fixed batching window races a loaded machine that may not schedule the test in time).
    nonisolated(unsafe) var beforeBatch: (@Sendable (Int) -> Void)?

    /// Embeddings of `inputs` with the prompt `prompt` picks (checked by the caller), computed in a
    /// batch with whatever other requests arrive meanwhile (one forward pass per prompt among them).
    public func embed(_ inputs: [ModelInput], prompt: Prompts.Choice = .modelDefault) async throws -> [[Float]] {
        guard !inputs.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            let action: Action = lock.withLock {
                pending.append((inputs, prompt, continuation))
                pendingInputs += inputs.count
                if pendingInputs >= maxBatch { return .flushNow }
                if timerArmed { return .none }
                timerArmed = true
                return .arm
            }
            switch action {
            case .flushNow: queue.async { self.flush() }
            case .arm:
                let (s, a) = maxWait.components
                let nanoseconds = Int(s) * 1_000_000_000 + Int(a / 1_000_000_000)
                queue.asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { self.flush() }
            case .none: break
            }
        }
    }

    private enum Action { case none, arm, flushNow }

    /// Runs `body` on the inference thread (for work that must not overlap model inference).
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Takes everything pending and embeds it in one call (on the inference queue).
    private func flush() {
        let jobs = lock.withLock {
            let jobs = pending
            pending = []
            pendingInputs = 0
            timerArmed = false
            return jobs
        }
        guard !jobs.isEmpty else { return }
        beforeBatch?(jobs.count)
        // Requests with the same prompt share a forward pass (almost always all of them).
        var groups: [(prompt: Prompts.Choice, jobs: ArraySlice<(inputs: [ModelInput], prompt: Prompts.Choice, continuation: CheckedContinuation<[[Float]], any Error>)>)] = []
        for prompt in jobs.map(\.prompt) where !groups.contains(where: { $0.prompt == prompt }) {
            groups.append((prompt, ArraySlice(jobs.filter { $0.prompt == prompt })))
        }
        for group in groups {
            let all = group.jobs.flatMap(\.inputs)
            lock.withLock {
                stats.batches += 1
                stats.requests += group.jobs.count
                stats.inputs += all.count
                stats.largestBatch = max(stats.largestBatch, all.count)
            }
            do {
                let rows = try model.embed(all, prompt: group.prompt)
                guard rows.count == all.count else {
                    throw APIError(.internalError, "the model returned \(rows.count) embeddings for \(all.count) inputs")
                }
                var start = 0
                for job in group.jobs {
                    job.continuation.resume(returning: Array(rows[start..<(start + job.inputs.count)]))
                    start += job.inputs.count
                }
            } catch {
                for job in group.jobs { job.continuation.resume(throwing: error) }
            }
        }
    }
}
