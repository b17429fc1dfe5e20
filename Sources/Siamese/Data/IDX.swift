import FileSupport
import Foundation
import Tensors

/// MNIST-style IDX files, raw or gzipped (`.gz`, as MNIST and Fashion-MNIST are distributed;
/// decompressed in memory through the system zlib): an image file and a label file.
///
/// Layout: a 4-byte magic `00 00 TT NN` (element type `TT`, dimension count `NN`), `NN` big-endian
/// 32-bit dimensions, then the elements in row-major order. Only unsigned bytes (`TT = 08`) are
/// read: images have magic `0x00000803` (`[count, rows, cols]`), labels `0x00000801` (`[count]`).
/// The header is checked against the file size before anything is allocated, so a truncated or
/// crafted file gives an ``InputError`` naming the file and the byte offset, never a crash or a
/// partial dataset.
public enum IDX {
    /// The images of an image file: `count` images of `height × width` bytes, row-major.
    public struct Images: Sendable {
        public var count: Int
        public var height: Int
        public var width: Int
        /// `count × height × width` pixel values 0–255.
        public var pixels: [UInt8]
    }

    /// Reads an image file (magic `0x00000803`).
    public static func readImages(_ url: URL) throws -> Images {
        let (dims, bytes) = try read(url, dimensions: 3, kind: "image")
        return Images(count: dims[0], height: dims[1], width: dims[2], pixels: bytes)
    }

    /// Reads a label file (magic `0x00000801`): one byte per item.
    public static func readLabels(_ url: URL) throws -> [UInt8] {
        try read(url, dimensions: 1, kind: "label").bytes
    }

    /// Images and their labels as a one-channel ``ImageDataset``, pixels scaled to [0, 1] (÷ 255).
    /// Classes are the distinct label values, sorted (so MNIST's 0–9 keep their numbers).
    public static func read(images: URL, labels: URL) throws -> ImageDataset {
        let image = try readImages(images)
        let label = try readLabels(labels)
        guard label.count == image.count else {
            throw InputError(file: labels.path, message: "\(label.count) labels, but \(images.path) holds \(image.count) images")
        }
        let (numbers, names) = ClassNumbering.number(label.map { String($0) })
        let features = Tensor(shape: [image.count, image.height * image.width], image.pixels.map { Float($0) / 255 })
        return ImageDataset(dataset: try FeatureDataset(features: features, labels: numbers, classNames: names),
                            channels: 1, height: image.height, width: image.width)
    }

    /// The dimensions and element bytes of a ubyte IDX file with `dimensions` dimensions.
    static func read(_ url: URL, dimensions: Int, kind: String) throws -> (dims: [Int], bytes: [UInt8]) {
        var data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw InputError(file: url.path, message: "cannot be read (\(error.localizedDescription))")
        }
        if data.starts(with: [0x1f, 0x8b]) { data = try Gzip.decompress(data, file: url.path) }
        func fail(_ offset: Int, _ message: String) -> InputError {
            InputError(file: url.path, message: "byte \(offset): \(message)")
        }
        let expectedMagic = UInt32(0x0800 | dimensions)
        let hex = { (v: UInt32) in String(format: "0x%08x", v) }
        guard data.count >= 4 else {
            throw fail(data.count, "truncated: the file ends inside the 4-byte magic number (it has \(data.count) bytes)")
        }
        let b = [UInt8](data.prefix(4))
        let magic = UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
        guard magic == expectedMagic else {
            let why: String
            if b[0] != 0 || b[1] != 0 {
                why = "not an IDX file"
            } else if b[2] != 0x08 {
                why = "element type 0x\(String(b[2], radix: 16)) is not unsigned bytes (0x08), the only type read"
            } else {
                why = "\(b[3]) dimensions, an IDX \(kind) file has \(dimensions)"
            }
            throw fail(0, "magic number \(hex(magic)), expected \(hex(expectedMagic)) for an IDX \(kind) file: \(why)")
        }
        let headerSize = 4 + 4 * dimensions
        guard data.count >= headerSize else {
            throw fail(data.count, "truncated: the file ends inside the header, which needs \(headerSize) bytes")
        }
        let header = [UInt8](data.prefix(headerSize))
        var dims: [Int] = []
        var elements = 1
        for k in 0..<dimensions {
            let o = 4 + 4 * k
            let d = Int(header[o]) << 24 | Int(header[o + 1]) << 16 | Int(header[o + 2]) << 8 | Int(header[o + 3])
            guard d > 0 else { throw fail(o, "dimension \(k) is 0") }
            // Each factor is below 2^32, so the product fits in Int until the third one; check anyway.
            let (p, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw fail(o, "dimensions \(dims + [d]) describe more elements than can be addressed") }
            dims.append(d)
            elements = p
        }
        let actual = data.count - headerSize
        guard actual == elements else {
            let shape = dims.map(String.init).joined(separator: " × ")
            let problem = actual < elements ? "truncated" : "\(actual - elements) bytes of trailing data"
            throw fail(min(data.count, headerSize + elements),
                       "\(problem): the header promises \(shape) = \(elements) bytes after the \(headerSize)-byte header, the file holds \(actual)")
        }
        return (dims, [UInt8](data.suffix(from: data.startIndex + headerSize)))
    }
}
