import FileSupport
import Foundation

/// One decoded image: PGM (grayscale) or PPM (RGB), binary or ASCII, or a PNG or JPEG decoded to
/// 8 bits (``ImageFile``; `maxValue` 255).
public struct PNMImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// 1 (PGM) or 3 (PPM).
    public var channels: Int
    /// The header's maximum sample value (1–65535).
    public var maxValue: Int
    /// `channels × height × width` samples, channels-first, each divided by ``maxValue`` into [0, 1].
    public var samples: [Float]
}

/// Decodes Netpbm images: `P5` (binary PGM), `P2` (ASCII PGM), `P6` (binary PPM), `P3` (ASCII PPM).
///
/// The header is `magic width height maxval`, separated by whitespace, with `#` comments to the end
/// of a line; a binary raster follows after exactly one whitespace byte. Samples are 1 byte when
/// maxval ≤ 255 and 2 bytes big-endian when it is larger (up to 65535). Errors name the file and
/// the line (header and ASCII raster) or the byte offset (binary raster). A file with more data
/// than the header describes is an error too: a second image in the same file would otherwise be
/// dropped silently.
public enum PNM {
    /// Reads and decodes the image at `url`.
    public static func read(_ url: URL) throws -> PNMImage {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw InputError(file: url.path, message: "cannot be read (\(error.localizedDescription))")
        }
        return try decode([UInt8](data), file: url.path)
    }

    /// Decodes the bytes of a PGM or PPM file; `file` names it in errors.
    public static func decode(_ bytes: [UInt8], file: String) throws -> PNMImage {
        var scanner = Scanner(bytes: bytes, file: file)
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "P") else {
            throw InputError(file: file, line: 1, message: "not a PGM/PPM image: it does not start with P2, P3, P5 or P6")
        }
        let kind = bytes[1]
        let channels: Int, ascii: Bool
        switch kind {
        case UInt8(ascii: "5"): (channels, ascii) = (1, false)
        case UInt8(ascii: "2"): (channels, ascii) = (1, true)
        case UInt8(ascii: "6"): (channels, ascii) = (3, false)
        case UInt8(ascii: "3"): (channels, ascii) = (3, true)
        default:
            throw InputError(file: file, line: 1, message: "unsupported Netpbm kind P\(Character(Unicode.Scalar(kind))): only P2, P3 (ASCII) and P5, P6 (binary) are read")
        }
        scanner.position = 2
        guard scanner.atWhitespace else { throw scanner.error("the magic number must be followed by whitespace") }
        let width = try scanner.integer("width", range: 1...(1 << 20))
        let height = try scanner.integer("height", range: 1...(1 << 20))
        let maxValue = try scanner.integer("maxval", range: 1...65535)
        // The product cannot overflow: each side is at most 2^20 and channels at most 3.
        let count = width * height * channels
        // Nothing is allocated for the raster until the file is known to hold it: a 30-byte header
        // may promise 2^40 samples.
        var raw: [Int] = []
        if ascii {
            // Each sample takes more than one byte (whitespace and a digit), so this bounds the
            // allocation by the file's size; a shortfall within it is found by the loop, by line.
            guard count <= bytes.count - scanner.position else {
                throw scanner.error("truncated: the header promises \(width)×\(height)×\(channels) = \(count) samples, only \(bytes.count - scanner.position) bytes follow it")
            }
            raw = [Int](repeating: 0, count: count)
            for k in 0..<count { raw[k] = try scanner.integer("sample \(k + 1) of \(count)", range: 0...maxValue) }
            scanner.skipWhitespaceAndComments()
            guard scanner.position == bytes.count else { throw scanner.error("data after the last of the \(count) samples") }
        } else {
            // Exactly one whitespace byte separates maxval from the raster: the raster may itself
            // begin with bytes that look like whitespace or '#'.
            guard scanner.atWhitespace else { throw scanner.error("maxval must be followed by one whitespace byte") }
            let start = scanner.position + 1
            let sampleBytes = maxValue > 255 ? 2 : 1
            let needed = count * sampleBytes
            let available = bytes.count - start
            guard available == needed else {
                let problem = available < needed ? "truncated" : "\(available - needed) bytes of trailing data"
                throw InputError(file: file, message: "byte \(min(bytes.count, start + needed)): \(problem): the header promises \(width)×\(height)×\(channels) samples of \(sampleBytes) byte(s) = \(needed) bytes after byte \(start), the file holds \(available)")
            }
            raw = [Int](repeating: 0, count: count)
            for k in 0..<count {
                let o = start + k * sampleBytes
                let v = sampleBytes == 2 ? Int(bytes[o]) << 8 | Int(bytes[o + 1]) : Int(bytes[o])
                guard v <= maxValue else { throw InputError(file: file, message: "byte \(o): sample \(v) exceeds maxval \(maxValue)") }
                raw[k] = v
            }
        }
        // Interleaved (r, g, b) per pixel in the file; channels-first planes in the result. Dividing
        // (rather than multiplying by 1/maxval) rounds once, so 51/255 is exactly Float(0.2).
        let top = Float(maxValue)
        let plane = width * height
        var samples = [Float](repeating: 0, count: count)
        for p in 0..<plane {
            for c in 0..<channels { samples[c * plane + p] = Float(raw[p * channels + c]) / top }
        }
        return PNMImage(width: width, height: height, channels: channels, maxValue: maxValue, samples: samples)
    }

    /// Reads whitespace-separated decimal fields, skipping `#` comments, and knows its line.
    private struct Scanner {
        let bytes: [UInt8]
        let file: String
        var position = 0

        var atWhitespace: Bool { position < bytes.count && Self.isWhitespace(bytes[position]) }

        static func isWhitespace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C }

        /// 1-based line of `position`, counted only when an error needs it. At the end of a file that
        /// ends in a newline this is the last line, as an editor shows it, not the empty one after.
        var line: Int {
            let end = min(position, bytes.count)
            let newlines = bytes[..<end].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            return end == bytes.count && end > 0 && bytes[end - 1] == 0x0A ? newlines : newlines + 1
        }

        func error(_ message: String) -> InputError { InputError(file: file, line: line, message: message) }

        mutating func skipWhitespaceAndComments() {
            while position < bytes.count {
                if Self.isWhitespace(bytes[position]) {
                    position += 1
                } else if bytes[position] == UInt8(ascii: "#") {
                    while position < bytes.count, bytes[position] != 0x0A { position += 1 }
                } else {
                    return
                }
            }
        }

        mutating func integer(_ what: String, range: ClosedRange<Int>) throws -> Int {
            skipWhitespaceAndComments()
            guard position < bytes.count else { throw error("truncated: the file ends before the \(what)") }
            let start = position
            var value = 0
            while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
                // Saturate instead of overflowing; anything this large is out of range anyway.
                value = min(value * 10 + Int(bytes[position] - 0x30), Int(Int32.max))
                position += 1
            }
            guard position > start, position == bytes.count || Self.isWhitespace(bytes[position]) || bytes[position] == UInt8(ascii: "#") else {
                let end = min(bytes.count, position + 8)
                let text = String(decoding: bytes[start..<max(end, start + 1)].prefix { !Self.isWhitespace($0) }, as: UTF8.self)
                position = start
                throw error("\(what): '\(text)' is not a non-negative decimal integer")
            }
            guard range.contains(value) else {
                position = start
                throw error("\(what): \(value) is out of range \(range.lowerBound)…\(range.upperBound)")
            }
            return value
        }
    }
}
