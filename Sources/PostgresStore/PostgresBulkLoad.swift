import EmbeddingStore
import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    /// Upserts many items at once through `COPY`: ``bulkUpsert(_:newIDs:)`` of the items encoded
    /// as a ``PostgresCopyBatch`` (checked as ``upsert(_:fingerprint:)`` checks them).
    ///
    /// For `store import` and `siamese ingest`, where batches are large; the service's small
    /// upserts keep the one-statement path.
    /// - Parameters:
    ///   - items: The items (ids unique within the call).
    ///   - fingerprint: The model fingerprint of their vectors.
    ///   - newIDs: A hint that the ids are probably all new to the store (see ``bulkUpsert(_:newIDs:)``).
    public func bulkUpsert(_ items: [StoredItem], fingerprint: String, newIDs: Bool = false) async throws {
        try await bulkUpsert(PostgresCopyBatch(items, fingerprint: fingerprint, type: vectorType), newIDs: newIDs)
    }

    /// Upserts a batch of encoded rows: they stream into a temporary staging table (`COPY … FROM
    /// STDIN`, PostgreSQL's bulk path, with no per-row statement), then one `INSERT … SELECT … ON
    /// CONFLICT (id) DO UPDATE` moves them into the items table, all in one transaction; returns
    /// after COMMIT. Idempotent like ``upsert(_:fingerprint:)`` (running it again leaves the same
    /// rows), with the same fingerprint and dimension checks and the same locking.
    /// - Parameters:
    ///   - batch: The rows (made with this store's ``vectorType``).
    ///   - newIDs: A hint that the ids are probably all new to the store (a load into an empty
    ///     store): the rows are then copied straight into the items table, with no staging table
    ///     and no conflict handling, about twice as fast; should one id be there already, the copy
    ///     is undone (a savepoint) and the batch takes the staging path. The result is the same.
    /// - Returns: true when the rows were copied straight into the items table (every id was new).
    @discardableResult
    public func bulkUpsert(_ batch: PostgresCopyBatch, newIDs: Bool = false) async throws -> Bool {
        try await bulkUpsert(batch, newIDs: newIDs, alsoInTransaction: nil)
    }

    /// ``bulkUpsert(_:newIDs:)`` that also runs `also` in the same transaction, after the rows are
    /// in: the ingest queue marks its chunk done there, so that the items and the mark commit
    /// together or not at all.
    @discardableResult
    func bulkUpsert(_ batch: PostgresCopyBatch, newIDs: Bool = false,
                    alsoInTransaction also: (@Sendable (PostgresConnection, Logger) async throws -> Void)?) async throws -> Bool {
        guard batch.count > 0 else { return newIDs }
        let type = vectorType
        let what = "bulk-writing \(batch.count) items"
        if newIDs {
            // Straight into the items table, in a transaction of its own: should one id be there
            // already, the unique violation aborts it whole and the batch takes the staging path
            // in a new one. (A savepoint around the copy did the same inside one transaction, with
            // every row a subtransaction's; the load time at 1,000,000 rows was the same either way.)
            do {
                try await write(dimension: batch.dimension, fingerprint: batch.fingerprint, what: what) { conn, logger in
                    do { try await Self.copy(batch, into: "siamese_items", conn, logger) } catch where PostgresErrors.sqlState(error) == "23505" {
                        throw IDAlreadyStored()
                    }
                    try await also?(conn, logger)
                }
                return true
            } catch is IDAlreadyStored {}
        }
        try await write(dimension: batch.dimension, fingerprint: batch.fingerprint, what: what) { conn, logger in
            // Dropped at COMMIT; a rollback undoes its creation. The column types are fixed names.
            _ = try await conn.query(PostgresQuery(unsafeSQL: """
                CREATE TEMP TABLE siamese_stage (id text, text text, source text, metadata jsonb, fingerprint text, vector \(type.rawValue)) ON COMMIT DROP
                """), logger: logger)
            try await Self.copy(batch, into: "siamese_stage", conn, logger)
            _ = try await conn.query("""
                INSERT INTO siamese_items AS t (id, text, source, metadata, fingerprint, vector, updated_at)
                SELECT id, text, source, metadata, fingerprint, vector, now() FROM siamese_stage
                ON CONFLICT (id) DO UPDATE SET text = excluded.text, source = excluded.source, metadata = excluded.metadata,
                    fingerprint = excluded.fingerprint, vector = excluded.vector, updated_at = excluded.updated_at
                """, logger: logger)
            try await also?(conn, logger)
        }
        return false
    }

    /// Streams the batch's bytes into `table`, 1 MiB at a time (slices of one buffer: no copies).
    private static func copy(_ batch: PostgresCopyBatch, into table: String, _ conn: PostgresConnection, _ logger: Logger) async throws {
        try await conn.copyFrom(table: table, columns: PostgresBinaryCopy.columns, logger: logger) { writer in
            var rest = batch.bytes
            while let chunk = rest.readSlice(length: min(1 << 20, rest.readableBytes)), chunk.readableBytes > 0 {
                try await writer.write(chunk)
            }
        }
    }
}

/// A direct copy met an id already in the store (its transaction is rolled back): the batch
/// takes the staging path. Passed through ``PostgresStore/run(_:timeout:_:)`` unchanged.
struct IDAlreadyStored: PostgresPassThroughError {}
