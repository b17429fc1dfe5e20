import CImageCodecs
import FileSupport
import Foundation
import Tensors

/// gzip decompression of a whole file held in memory, through the system zlib (see
/// `siamese_gzip.h`): what reads `.gz` IDX files.
enum Gzip {
    /// The most a file may decompress to (a crafted file cannot exhaust memory): 4 GiB.
    static let maxOutput = 4 << 30

    /// The decompressed bytes of a one-member gzip stream; an ``InputError`` naming `file` when the
    /// stream is corrupt, truncated, too large, or zlib is missing.
    static func decompress(_ data: Data, file: String, maxOutput: Int = Gzip.maxOutput) throws -> Data {
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let capacity = 320
        var message = [CChar](repeating: 0, count: capacity)
        let status = data.withUnsafeBytes { raw in
            siamese_gunzip(raw.baseAddress, raw.count, maxOutput, &output, &size, &message, capacity)
        }
        guard status == Int32(SIAMESE_GZIP_OK.rawValue), let output else {
            let why = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw InputError(file: file, message: "gzip: \(why.isEmpty ? "cannot be decompressed" : why)")
        }
        return Data(bytesNoCopy: output, count: size, deallocator: .free)
    }
}

extension IDX {
    /// True when the file starts like an IDX image file: the magic `00 00 08 03`, or a gzip
    /// stream whose name ends `-idx3-ubyte.gz` (decompressing just to look would be wasteful).
    public static func isImageFile(_ url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 4), head.count == 4 else { return false }
        if Array(head) == [0, 0, 8, 3] { return true }
        return head.starts(with: [0x1f, 0x8b]) && url.lastPathComponent.lowercased().contains("idx3-ubyte")
    }

    /// The images of an image file without labels (every label 0), pixels scaled to [0, 1]: the
    /// unlabelled data of `siamese pretrain` and `siamese embed`.
    public static func readUnlabelled(_ url: URL) throws -> ImageDataset {
        let image = try readImages(url)
        let features = Tensor(shape: [image.count, image.height * image.width], image.pixels.map { Float($0) / 255 })
        return ImageDataset(dataset: try FeatureDataset(features: features, labels: [Int](repeating: 0, count: image.count)),
                            channels: 1, height: image.height, width: image.width)
    }
}
