import Crypto
import Foundation

/// SHA-256 (FIPS 180-4), streaming: a thin wrapper over swift-crypto's, which runs BoringSSL's
/// assembly (SHA extensions or AVX2 where the CPU has them).
///
/// Used for fingerprints (model weights, calibration data), not for security decisions. Every
/// model load hashes its weights: all-MiniLM-L6-v2's 90 MB took 0.4 s with a hash written here in
/// Swift, which `store import` of vectors and `serve` paid before doing anything.
public struct SHA256: Sendable {
    private var hasher = Crypto.SHA256()

    /// Starts an empty hash; feed it with `update` and read the digest with `finalize`.
    public init() {}

    /// Hashes `bytes` in one call.
    public static func hash(_ bytes: some Sequence<UInt8>) -> Digest {
        var h = SHA256()
        h.update(bytes)
        return h.finalize()
    }

    /// Adds bytes to the message.
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if handled == nil { Array(bytes).withUnsafeBytes { update($0) } }
    }

    /// Adds bytes to the message.
    public mutating func update(_ raw: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: raw)
    }

    /// The digest of the message so far (the hash itself can go on taking bytes).
    public func finalize() -> Digest {
        Digest(bytes: Array(hasher.finalize()))
    }

    /// A 32-byte SHA-256 digest.
    public struct Digest: Sendable, Equatable {
        /// The 32 digest bytes, in order.
        public let bytes: [UInt8]
        /// Lower-case hexadecimal, as `sha256sum` prints it.
        public var hexString: String {
            let digits = Array("0123456789abcdef")
            return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
        }
    }
}

extension SHA256 {
    /// The hex digest of a file's contents, read in 1 MiB chunks so that large weight files are
    /// hashed in bounded memory.
    public static func hex(ofFile url: URL) throws -> String {
        guard let handle = try? FileHandle(forReadingFrom: url) else {
            throw InputError(file: url.path, message: "cannot be opened for reading")
        }
        defer { try? handle.close() }
        var h = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { h.update($0) }
        }
        return h.finalize().hexString
    }
}
