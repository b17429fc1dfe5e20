import FileSupport
import Foundation

/// One image file in any format the package reads, recognised by its first bytes rather than its
/// name: PGM/PPM (``PNM``), PNG and JPEG (through the system's libpng and libjpeg, see
/// `ImageCodecs`). Every format decodes to the same ``PNMImage`` layout and scaling, so a folder
/// may mix them.
public enum ImageFile {
    /// The formats, as recognised by ``format(of:)``.
    public enum Format: String, Sendable {
        case pnm = "PGM/PPM", png = "PNG", jpeg = "JPEG"
    }

    /// The most pixels a PNG or JPEG may declare: 2^24, e.g. 4096 × 4096, far beyond what the CNN
    /// encoder takes (every image of a folder has one size, fed at full resolution). A compressed
    /// file can claim a size far beyond its own, so the header is checked before anything is
    /// allocated (a progressive JPEG of this size still needs about 100 MB inside libjpeg); a
    /// PGM/PPM holds its raster uncompressed and is bounded by the file itself.
    public static let maxPixels = 1 << 24

    /// File extensions of images (lowercased), for messages about files found where images go.
    public static let extensions: Set<String> = ["pgm", "ppm", "pnm", "png", "jpg", "jpeg"]

    /// The format of a file from its signature, or nil when it is none of them.
    public static func format(of bytes: [UInt8]) -> Format? {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.count >= 2, bytes[0] == UInt8(ascii: "P"), (UInt8(ascii: "1")...UInt8(ascii: "7")).contains(bytes[1]) { return .pnm }
        return nil
    }

    /// Reads and decodes the image at `url`.
    public static func read(_ url: URL) throws -> PNMImage {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw InputError(file: url.path, message: "cannot be read (\(error.localizedDescription))")
        }
        return try decode([UInt8](data), file: url.path)
    }

    /// Decodes the bytes of an image file; `file` names it in errors.
    public static func decode(_ bytes: [UInt8], file: String) throws -> PNMImage {
        switch format(of: bytes) {
        case .png: return try ImageCodecs.decodePNG(bytes, file: file, maxPixels: maxPixels)
        case .jpeg: return try ImageCodecs.decodeJPEG(bytes, file: file, maxPixels: maxPixels)
        case .pnm: return try PNM.decode(bytes, file: file)
        case nil:
            throw InputError(file: file, message: "not an image: not a PGM/PPM image (P2, P3, P5, P6), PNG or JPEG")
        }
    }
}

extension PNMImage {
    /// The samples with `channels` channels (1 or 3), channels-first: grayscale replicated into
    /// R, G and B, or RGB reduced to luma with the ITU-R BT.601 weights, as ``ImageFolder`` does.
    public func samples(channels target: Int) -> [Float] {
        ImageFolder.converted(samples, from: channels, to: target, plane: width * height)
    }
}
