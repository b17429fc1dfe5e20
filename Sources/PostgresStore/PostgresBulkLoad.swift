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
    /// - Parameters:
    ///   - items: The items (ids unique within the call).
    ///   - fingerprint: The model fingerprint of their vectors.
    ///   - newIDs: A hint that the ids are probably all new to the store (a load into an empty
    ///     store): the rows are then copied straight into the items table, with no staging table
    ///     and no conflict handling, about twice as fast; should one id be there already, the copy
    ///     is undone (a savepoint) and the batch takes the staging path. The result is the same.
    public func bulkUpsert(_ items: [StoredItem], fingerprint: String, newIDs: Bool = false) async throws {
        try await bulkUpsert(items, fingerprint: fingerprint, newIDs: newIDs, alsoInTransaction: nil)
    }

    /// ``bulkUpsert(_:fingerprint:newIDs:)`` that also runs `also` in the same transaction, after the
    /// rows are in: the ingest queue marks its chunk done there, so that the items and the mark
    /// commit together or not at all.
    func bulkUpsert(_ items: [StoredItem], fingerprint: String, newIDs: Bool = false,
                    alsoInTransaction also: (@Sendable (PostgresConnection, Logger) async throws -> Void)?) async throws {
        try Self.check(items, fingerprint: fingerprint)
        guard !items.isEmpty else { return }
        let type = vectorType
        try await write(items, fingerprint: fingerprint, what: "bulk-writing \(items.count) items") { conn, logger in
            if newIDs {
                _ = try await conn.query("SAVEPOINT siamese_direct", logger: logger)
                do {
                    try await Self.copy(items, into: "siamese_items", columns: Self.directCopyColumns, fingerprint: fingerprint, type: type, conn, logger)
                    _ = try await conn.query("RELEASE SAVEPOINT siamese_direct", logger: logger)
                    try await also?(conn, logger)
                    return
                } catch where PostgresErrors.sqlState(error) == "23505" {
                    // An id already there (unique violation): the copy is undone as a whole.
                    _ = try await conn.query("ROLLBACK TO SAVEPOINT siamese_direct", logger: logger)
                }
            }
            // Dropped at COMMIT; a rollback undoes its creation. The column types are fixed names.
            _ = try await conn.query(PostgresQuery(unsafeSQL: """
                CREATE TEMP TABLE siamese_stage (id text, text text, source text, metadata jsonb, vector \(type.rawValue)) ON COMMIT DROP
                """), logger: logger)
            try await Self.copy(items, into: "siamese_stage", columns: Self.stagingCopyColumns, fingerprint: nil, type: type, conn, logger)
            _ = try await conn.query("""
                INSERT INTO siamese_items AS t (id, text, source, metadata, fingerprint, vector, updated_at)
                SELECT id, text, source, metadata, \(fingerprint), vector, now() FROM siamese_stage
                ON CONFLICT (id) DO UPDATE SET text = excluded.text, source = excluded.source, metadata = excluded.metadata,
                    fingerprint = excluded.fingerprint, vector = excluded.vector, updated_at = excluded.updated_at
                """, logger: logger)
            try await also?(conn, logger)
        }
    }

    /// Streams `items` into `table` in the binary `COPY` format, 1 MiB at a time.
    private static func copy(_ items: [StoredItem], into table: String, columns: [String], fingerprint: String?,
                             type: PostgresVectorType, _ conn: PostgresConnection, _ logger: Logger) async throws {
        try await conn.copyFrom(table: table, columns: columns, logger: logger) { writer in
            var buffer = ByteBuffer()
            buffer.reserveCapacity(1 << 20)
            PostgresBinaryCopy.appendHeader(to: &buffer)
            for item in items {
                PostgresBinaryCopy.appendRow(item, fingerprint: fingerprint, type: type, to: &buffer)
                if buffer.readableBytes >= 1 << 20 {
                    try await writer.write(buffer)
                    buffer.clear()
                }
            }
            PostgresBinaryCopy.appendTrailer(to: &buffer)
            try await writer.write(buffer)
        }
    }

    /// The columns of a copy straight into the items table (`updated_at` takes its default, now()),
    /// with the same trailer as ``stagingCopyColumns``.
    static let directCopyColumns = ["id", "text", "source", "metadata", "fingerprint", #"vector") FROM STDIN WITH (FORMAT binary) --"#]

    /// The staging table's columns for postgres-nio's `copyFrom`, whose 1.33 release writes
    /// `COPY "table"("c1",…) FROM STDIN WITH (FORMAT text)` and offers no other format. The last
    /// name closes the column list, asks for the binary format (see ``PostgresBinaryCopy``) and
    /// makes the rest of that line a comment: `…,"vector") FROM STDIN WITH (FORMAT binary) --") …`.
    /// A constant of ours, never data. Should postgres-nio write the statement otherwise, the server
    /// would read binary rows as text and refuse them: the bulk-load tests would fail, not pass.
    static let stagingCopyColumns = ["id", "text", "source", "metadata", #"vector") FROM STDIN WITH (FORMAT binary) --"#]
}
