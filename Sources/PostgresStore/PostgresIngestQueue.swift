import EmbeddingStore
import Foundation
import Logging
import PostgresNIO

/// One chunk of an input that a worker holds: items `firstItem ..< firstItem + itemCount` in the
/// input's order, read from lines `firstLine ... lastLine`.
public struct IngestChunk: Sendable, Equatable {
    /// Its number (0, 1, …).
    public let index: Int
    /// The position of its first item in the input.
    public let firstItem: Int
    /// How many items it holds.
    public let itemCount: Int
    /// The line of its first item.
    public let firstLine: Int
    /// The line of its last item.
    public let lastLine: Int
    /// How many times it was leased, this time included (above 1: a worker before this one
    /// stopped or died holding it).
    public let attempts: Int
    /// The worker whose lease had run out when this one took the chunk (nil: it was free).
    public let takenOverFrom: String?
}

/// How far an input is: chunks in all, done, and held by a live lease.
public struct IngestProgress: Sendable, Equatable {
    /// Chunks registered for the input.
    public var chunks: Int
    /// Chunks whose items are committed.
    public var doneChunks: Int
    /// Items of those chunks.
    public var doneItems: Int
    /// Chunks not done whose lease has not run out (workers are on them).
    public var leasedChunks: Int
    /// True when every chunk is done.
    public var finished: Bool { doneChunks == chunks }
}

/// The job table through which several `siamese ingest` workers (processes on one or many
/// machines) share one input (`siamese_ingest_chunks`, schema migration 2).
///
/// The input is cut into chunks of `chunkSize` items, registered once per input, keyed by the
/// input file's SHA-256 and the chunk size (every worker reads the same bytes, so the same items
/// in the same chunks). A worker leases a free chunk with `SELECT … FOR UPDATE SKIP LOCKED`
/// (two workers never get the same chunk at once), for `leaseSeconds` by the server's clock,
/// renews the lease while it embeds, and writes the chunk's items AND marks the chunk done in
/// ONE transaction (``complete(_:items:fingerprint:)``). So a worker killed at any point leaves
/// either the whole chunk committed and marked, or nothing of it marked: its lease runs out and
/// the chunk goes back to the queue, and since upserts replace by id, a chunk written twice
/// (a lease that ran out while its worker still worked) still gives each item once.
public struct PostgresIngestQueue: Sendable {
    /// The store the items go to (and the job table lives in).
    public let store: PostgresStore
    /// SHA-256 of the input file, hex.
    public let inputSHA256: String
    /// Items per chunk.
    public let chunkSize: Int
    /// This worker's name (host, process id and a random part).
    public let worker: String
    /// How long a lease lasts without renewal.
    public let leaseSeconds: Double

    /// - Parameters:
    ///   - store: the PostgreSQL store.
    ///   - inputSHA256: the input file's SHA-256 (hex).
    ///   - chunkSize: items per chunk (at least 1).
    ///   - worker: this worker's name, shown to the others.
    ///   - leaseSeconds: how long a lease lasts without renewal (more than 0).
    public init(store: PostgresStore, inputSHA256: String, chunkSize: Int, worker: String, leaseSeconds: Double) {
        self.store = store
        self.inputSHA256 = inputSHA256
        self.chunkSize = max(1, chunkSize)
        self.worker = worker
        self.leaseSeconds = leaseSeconds
    }

    /// A worker name unique to this process: host, process id, random suffix.
    public static func workerName() -> String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    /// Registers the chunks of an input whose items come from `lines` (the line of each item, in
    /// order); a second registration of the same input and chunk size adds nothing. Returns the
    /// progress.
    public func register(lines: [Int]) async throws -> IngestProgress {
        var chunk: [Int32] = [], first: [Int32] = [], count: [Int32] = [], firstLine: [Int32] = [], lastLine: [Int32] = []
        for (i, start) in stride(from: 0, to: lines.count, by: chunkSize).enumerated() {
            let n = min(chunkSize, lines.count - start)
            chunk.append(Int32(i)); first.append(Int32(start)); count.append(Int32(n))
            firstLine.append(Int32(clamping: lines[start])); lastLine.append(Int32(clamping: lines[start + n - 1]))
        }
        let (sha, size) = (inputSHA256, Int32(chunkSize))
        try await store.run("registering the input's chunks") { [client = store.client, logger = store.logger, chunk, first, count, firstLine, lastLine] in
            _ = try await client.query("""
                INSERT INTO siamese_ingest_chunks (input_sha256, chunk_size, chunk, first_item, item_count, first_line, last_line)
                SELECT \(sha), \(size), c, f, n, a, b FROM unnest(\(chunk)::int[], \(first)::int[], \(count)::int[], \(firstLine)::int[], \(lastLine)::int[]) AS u(c, f, n, a, b)
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
        return try await progress()
    }

    /// How far the input is.
    public func progress() async throws -> IngestProgress {
        let (sha, size) = (inputSHA256, Int32(chunkSize))
        return try await store.run("reading the input's progress") { [client = store.client, logger = store.logger] in
            var p = IngestProgress(chunks: 0, doneChunks: 0, doneItems: 0, leasedChunks: 0)
            for try await (all, done, items, leased) in try await client.query("""
                SELECT count(*), count(done_at), coalesce(sum(item_count) FILTER (WHERE done_at IS NOT NULL), 0)::bigint,
                       count(*) FILTER (WHERE done_at IS NULL AND lease_until > now())
                FROM siamese_ingest_chunks WHERE input_sha256 = \(sha) AND chunk_size = \(size)
                """, logger: logger).decode((Int64, Int64, Int64, Int64).self) {
                p = IngestProgress(chunks: Int(all), doneChunks: Int(done), doneItems: Int(items), leasedChunks: Int(leased))
            }
            return p
        }
    }

    /// Leases the first chunk that is neither done nor held by a live lease (one whose lease ran
    /// out is taken over); nil when there is none right now.
    public func lease() async throws -> IngestChunk? {
        let (sha, size, worker, seconds) = (inputSHA256, Int32(chunkSize), worker, leaseSeconds)
        return try await store.run("leasing a chunk") { [client = store.client, logger = store.logger] in
            var leased: IngestChunk?
            // SKIP LOCKED: a chunk another worker is leasing in this instant is passed over, not waited for.
            for try await (c, f, n, a, b, attempts, previous) in try await client.query("""
                WITH c AS (
                    SELECT chunk, CASE WHEN lease_until IS NOT NULL THEN worker END AS previous FROM siamese_ingest_chunks
                    WHERE input_sha256 = \(sha) AND chunk_size = \(size) AND done_at IS NULL AND (lease_until IS NULL OR lease_until < now())
                    ORDER BY chunk LIMIT 1 FOR UPDATE SKIP LOCKED)
                UPDATE siamese_ingest_chunks t SET worker = \(worker), lease_until = now() + make_interval(secs => \(seconds)), attempts = t.attempts + 1
                FROM c WHERE t.input_sha256 = \(sha) AND t.chunk_size = \(size) AND t.chunk = c.chunk
                RETURNING t.chunk, t.first_item, t.item_count, t.first_line, t.last_line, t.attempts, c.previous
                """, logger: logger).decode((Int32, Int32, Int32, Int32, Int32, Int32, String?).self) {
                leased = IngestChunk(index: Int(c), firstItem: Int(f), itemCount: Int(n), firstLine: Int(a), lastLine: Int(b),
                                     attempts: Int(attempts), takenOverFrom: previous)
            }
            return leased
        }
    }

    /// Extends this worker's lease on `chunk` by another `leaseSeconds`; false when the lease is
    /// no longer this worker's (it ran out and another took the chunk) or the chunk is done.
    public func renew(_ chunk: IngestChunk) async throws -> Bool {
        let (sha, size, worker, seconds, index) = (inputSHA256, Int32(chunkSize), worker, leaseSeconds, Int32(chunk.index))
        return try await store.run("renewing a lease") { [client = store.client, logger = store.logger] in
            var held = false
            for try await _ in try await client.query("""
                UPDATE siamese_ingest_chunks SET lease_until = now() + make_interval(secs => \(seconds))
                WHERE input_sha256 = \(sha) AND chunk_size = \(size) AND chunk = \(index) AND worker = \(worker) AND done_at IS NULL
                RETURNING 1
                """, logger: logger).decode(Int32.self) { held = true }
            return held
        }
    }

    /// Gives `chunk` back at once (a worker that failed on it), so that another need not wait
    /// for the lease to run out.
    public func release(_ chunk: IngestChunk) async throws {
        let (sha, size, worker, index) = (inputSHA256, Int32(chunkSize), worker, Int32(chunk.index))
        try await store.run("releasing a lease") { [client = store.client, logger = store.logger] in
            _ = try await client.query("""
                UPDATE siamese_ingest_chunks SET lease_until = NULL
                WHERE input_sha256 = \(sha) AND chunk_size = \(size) AND chunk = \(index) AND worker = \(worker) AND done_at IS NULL
                """, logger: logger)
        }
    }

    /// Upserts the chunk's items (``PostgresStore/bulkUpsert(_:newIDs:)``) and marks the
    /// chunk done, in one transaction, acknowledged after COMMIT.
    /// - Returns: false when the chunk was already marked done by another worker (whose lease
    ///   this one outlived); the items were written again, the same.
    @discardableResult
    public func complete(_ chunk: IngestChunk, items: [StoredItem], fingerprint: String) async throws -> Bool {
        let (sha, size, worker, index) = (inputSHA256, Int32(chunkSize), worker, Int32(chunk.index))
        let marked = MarkedFlag()
        try await store.bulkUpsert(PostgresCopyBatch(items, fingerprint: fingerprint, type: store.vectorType), alsoInTransaction: { conn, logger in
            for try await _ in try await conn.query("""
                UPDATE siamese_ingest_chunks SET done_at = now(), worker = \(worker), lease_until = NULL
                WHERE input_sha256 = \(sha) AND chunk_size = \(size) AND chunk = \(index) AND done_at IS NULL
                RETURNING 1
                """, logger: logger).decode(Int32.self) { marked.set() }
        })
        return marked.value
    }
}

/// A flag set inside a transaction's closure and read after it (the closure has returned, so
/// there is no concurrent access; the lock keeps the compiler's Sendable check honest).
private final class MarkedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    func set() { lock.withLock { flag = true } }
    var value: Bool { lock.withLock { flag } }
}
