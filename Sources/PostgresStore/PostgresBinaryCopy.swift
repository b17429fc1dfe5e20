import NIOCore
import PostgresNIO

/// Rows in PostgreSQL's binary `COPY` format, for ``PostgresCopyBatch`` (columns id, text,
/// source, metadata, fingerprint, vector).
///
/// Binary, not text: in the text format the server parses every component of every vector from
/// decimal (and we print it), which made the load five times slower than psycopg's binary `COPY`
/// (50,000 × 384: 4.9 s vs 1.0 s, measured on this machine). Here a vector is its components' bits.
enum PostgresBinaryCopy {
    /// The columns of every copy, in the order ``appendRow(id:text:source:metadata:fingerprint:vector:type:to:)``
    /// writes them, for postgres-nio's `copyFrom`, whose 1.33 release writes
    /// `COPY "table"("c1",…) FROM STDIN WITH (FORMAT text)` and offers no other format. The last
    /// name closes the column list, asks for the binary format and makes the rest of that line a
    /// comment: `…,"vector") FROM STDIN WITH (FORMAT binary) --") …`. A constant of ours, never
    /// data. Should postgres-nio write the statement otherwise, the server would read binary rows
    /// as text and refuse them: the bulk-load tests would fail, not pass.
    static let columns = ["id", "text", "source", "metadata", "fingerprint", #"vector") FROM STDIN WITH (FORMAT binary) --"#]

    /// The file header: signature, flags 0, no header extension.
    static func appendHeader(to buffer: inout ByteBuffer) {
        buffer.writeBytes(Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00])
        buffer.writeInteger(Int32(0))
        buffer.writeInteger(Int32(0))
    }

    /// The end-of-data marker.
    static func appendTrailer(to buffer: inout ByteBuffer) {
        buffer.writeInteger(Int16(-1))
    }

    /// One row: id, text, source, metadata, fingerprint, vector; each field a 32-bit length and its
    /// bytes (-1 for NULL); metadata in `jsonb`'s binary form (version 1, then the text); the vector
    /// in pgvector's (16-bit dimension, 16 unused bits, then each component big-endian: `float4`
    /// for `vector`, IEEE half for `halfvec`, rounded to nearest even as pgvector rounds a `real`).
    static func appendRow(id: String, text: String?, source: String?, metadata: String?, fingerprint: String,
                          vector v: UnsafeBufferPointer<Float>, type: PostgresVectorType, to buffer: inout ByteBuffer) {
        buffer.writeInteger(Int16(6))
        appendText(id, to: &buffer)
        appendText(text, to: &buffer)
        appendText(source, to: &buffer)
        if let metadata {
            buffer.writeInteger(Int32(metadata.utf8.count + 1))
            buffer.writeInteger(UInt8(1))
            buffer.writeString(metadata)
        } else {
            buffer.writeInteger(Int32(-1))
        }
        appendText(fingerprint, to: &buffer)
        let width = type == .halfvec ? 2 : 4
        buffer.writeInteger(Int32(4 + width * v.count))
        buffer.writeInteger(Int16(v.count))
        buffer.writeInteger(Int16(0))
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: width * v.count) { raw in
            switch type {
            case .vector:
                for i in 0..<v.count { raw.storeBytes(of: v[i].bitPattern.bigEndian, toByteOffset: 4 * i, as: UInt32.self) }
            case .halfvec:
                for i in 0..<v.count { raw.storeBytes(of: Float16(v[i]).bitPattern.bigEndian, toByteOffset: 2 * i, as: UInt16.self) }
            }
            return width * v.count
        }
    }

    private static func appendText(_ value: String?, to buffer: inout ByteBuffer) {
        guard let value else {
            buffer.writeInteger(Int32(-1))
            return
        }
        buffer.writeInteger(Int32(value.utf8.count))
        buffer.writeString(value)
    }
}
