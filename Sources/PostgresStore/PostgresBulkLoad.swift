import EmbeddingStore
import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    /// Upserts many items at once through `COPY`: the rows stream into a temporary staging table
    /// (`COPY … FROM STDIN`, PostgreSQL's bulk path, with no per-row statement), then one
    /// `INSERT … SELECT … ON CONFLICT (id) DO UPDATE` moves them into the items table, all in one
    /// transaction; returns after COMMIT. Idempotent like ``upsert(_:fingerprint:)`` (running it
    /// again leaves the same rows), with the same checks and the same locking.
    ///
    /// For `store import` and `siamese ingest`, where batches are large; the service's small
    /// upserts keep the one-statement path.
    public func bulkUpsert(_ items: [StoredItem], fingerprint: String) async throws {
        try await bulkUpsert(items, fingerprint: fingerprint, alsoInTransaction: nil)
    }

    /// ``bulkUpsert(_:fingerprint:)`` that also runs `also` in the same transaction, after the
    /// rows are in: the ingest queue marks its chunk done there, so that the items and the mark
    /// commit together or not at all.
    func bulkUpsert(_ items: [StoredItem], fingerprint: String,
                    alsoInTransaction also: (@Sendable (PostgresConnection, Logger) async throws -> Void)?) async throws {
        try Self.check(items, fingerprint: fingerprint)
        guard !items.isEmpty else { return }
        let type = vectorType
        try await write(items, fingerprint: fingerprint, what: "bulk-writing \(items.count) items") { conn, logger in
            // Dropped at COMMIT; a rollback undoes its creation. The column types are fixed names.
            _ = try await conn.query(PostgresQuery(unsafeSQL: """
                CREATE TEMP TABLE siamese_stage (id text, text text, source text, metadata jsonb, vector \(type.rawValue)) ON COMMIT DROP
                """), logger: logger)
            try await conn.copyFrom(table: "siamese_stage", columns: Self.binaryCopyColumns, logger: logger) { writer in
                var buffer = ByteBuffer()
                buffer.reserveCapacity(1 << 20)
                PostgresBinaryCopy.appendHeader(to: &buffer)
                for item in items {
                    PostgresBinaryCopy.appendRow(item, type: type, to: &buffer)
                    if buffer.readableBytes >= 1 << 20 {
                        try await writer.write(buffer)
                        buffer.clear()
                    }
                }
                PostgresBinaryCopy.appendTrailer(to: &buffer)
                try await writer.write(buffer)
            }
            _ = try await conn.query("""
                INSERT INTO siamese_items AS t (id, text, source, metadata, fingerprint, vector, updated_at)
                SELECT id, text, source, metadata, \(fingerprint), vector, now() FROM siamese_stage
                ON CONFLICT (id) DO UPDATE SET text = excluded.text, source = excluded.source, metadata = excluded.metadata,
                    fingerprint = excluded.fingerprint, vector = excluded.vector, updated_at = excluded.updated_at
                """, logger: logger)
            try await also?(conn, logger)
        }
    }

    /// The staging table's columns for postgres-nio's `copyFrom`, whose 1.33 release writes
    /// `COPY "table"("c1",…) FROM STDIN WITH (FORMAT text)` and offers no other format. The last
    /// name closes the column list, asks for the binary format (see ``PostgresBinaryCopy``) and
    /// makes the rest of that line a comment: `…,"vector") FROM STDIN WITH (FORMAT binary) --") …`.
    /// A constant of ours, never data. Should postgres-nio write the statement otherwise, the server
    /// would read binary rows as text and refuse them: the bulk-load tests would fail, not pass.
    static let binaryCopyColumns = ["id", "text", "source", "metadata", #"vector") FROM STDIN WITH (FORMAT binary) --"#]
}
