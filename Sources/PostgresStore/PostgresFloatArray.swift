import NIOCore
import PostgresNIO

/// A query vector bound as `real[]` (float4[]), written in one pass.
///
/// The same bytes as postgres-nio's `[Float]` binding (the array header, then each element as a
/// 4-byte length and its big-endian bits); that one goes through a generic call per element and
/// cost about 6 % of the service's time per vector search.
struct PostgresFloatArray: PostgresNonThrowingEncodable {
    let values: [Float]

    static var psqlType: PostgresDataType { .float4Array }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        buffer.writeInteger(values.isEmpty ? 0 : 1, as: Int32.self)  // dimensions
        buffer.writeInteger(0, as: Int32.self)  // no NULLs
        buffer.writeInteger(PostgresDataType.float4.rawValue)
        guard !values.isEmpty else { return }
        buffer.writeInteger(Int32(values.count))
        buffer.writeInteger(1, as: Int32.self)  // lower bound
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 8 * values.count) { raw in
            for (i, x) in values.enumerated() {
                raw.storeBytes(of: UInt32(4).bigEndian, toByteOffset: 8 * i, as: UInt32.self)
                raw.storeBytes(of: x.bitPattern.bigEndian, toByteOffset: 8 * i + 4, as: UInt32.self)
            }
            return 8 * values.count
        }
    }
}
