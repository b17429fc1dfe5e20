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
        let type = vectorType.rawValue
        try await write(items, fingerprint: fingerprint, what: "bulk-writing \(items.count) items") { conn, logger in
            // Dropped at COMMIT; a rollback undoes its creation. The column types are fixed names.
            _ = try await conn.query(PostgresQuery(unsafeSQL: """
                CREATE TEMP TABLE siamese_stage (id text, text text, source text, metadata jsonb, vector \(type)) ON COMMIT DROP
                """), logger: logger)
            try await conn.copyFrom(table: "siamese_stage", columns: ["id", "text", "source", "metadata", "vector"], logger: logger) { writer in
                var buffer = ByteBuffer()
                buffer.reserveCapacity(1 << 20)
                for item in items {
                    Self.appendCopyRow(item, to: &buffer)
                    if buffer.readableBytes >= 1 << 20 {
                        try await writer.write(buffer)
                        buffer.clear()
                    }
                }
                if buffer.readableBytes > 0 { try await writer.write(buffer) }
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

    /// One row of `COPY`'s text format: tab-separated fields, `\N` for NULL, backslash escapes
    /// for backslash, tab, newline and carriage return (the only bytes that format gives a
    /// meaning), the vector as pgvector's text form `[x,y,…]` (each float's shortest exact
    /// decimal, so the value read back is the same float).
    static func appendCopyRow(_ item: StoredItem, to buffer: inout ByteBuffer) {
        appendCopyField(item.id, to: &buffer)
        buffer.writeInteger(UInt8(ascii: "\t"))
        appendCopyField(item.text, to: &buffer)
        buffer.writeInteger(UInt8(ascii: "\t"))
        appendCopyField(item.source, to: &buffer)
        buffer.writeInteger(UInt8(ascii: "\t"))
        appendCopyField(item.metadata, to: &buffer)
        buffer.writeInteger(UInt8(ascii: "\t"))
        buffer.writeInteger(UInt8(ascii: "["))
        for (i, x) in item.vector.enumerated() {
            if i > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            buffer.writeString(x.description)
        }
        buffer.writeInteger(UInt8(ascii: "]"))
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    static func appendCopyField(_ value: String?, to buffer: inout ByteBuffer) {
        guard let value else {
            buffer.writeString("\\N")
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.writeString("\\\\")
            case UInt8(ascii: "\t"): buffer.writeString("\\t")
            case UInt8(ascii: "\n"): buffer.writeString("\\n")
            case UInt8(ascii: "\r"): buffer.writeString("\\r")
            default: buffer.writeInteger(byte)
            }
        }
    }
}
