import FileSupport
import Foundation
import Siamese
import Testing

/// The image readers (`ImageFile.decode`: PGM/PPM, and PNG and JPEG through the system's libpng
/// and libjpeg), as `siamese train --data FOLDER` and `verify` reach them.
struct ImageTarget: FuzzTarget {
    let name = "image"
    let quickIterations = 3000

    static let dictionary = ["P5", "P6", "P2", "P3", "65535", "255", "1048576", "#", "IHDR", "IDAT", "PLTE", "tRNS", "gAMA", "IEND",
                             "\u{FF}\u{D8}", "\u{FF}\u{C0}", "\u{FF}\u{C2}", "\u{FF}\u{DA}", "\u{FF}\u{D9}", "\u{FF}\u{C4}", "\u{FF}\u{DB}"]

    func mutate(_ seed: [UInt8], pool: [[UInt8]], _ m: inout Mutator) -> [UInt8] {
        // PNG chunks carry a CRC: a byte edit inside one stops at the CRC check. Half the time,
        // edit one chunk's type or data and fix its CRC, so the edit reaches libpng's parsers.
        if ImageFile.format(of: seed) == .png, m.rng.chance(0.6), let edited = Self.editChunk(seed, &m) { return edited }
        return m.bytes(seed, pool: pool, dictionary: Self.dictionary)
    }

    /// One chunk edited (data bytes, an interesting integer in IHDR, or the length) with its CRC recomputed.
    static func editChunk(_ png: [UInt8], _ m: inout Mutator) -> [UInt8]? {
        var chunks: [Range<Int>] = []  // type + data
        var at = 8
        while at + 12 <= png.count {
            let length = Int(png[at]) << 24 | Int(png[at + 1]) << 16 | Int(png[at + 2]) << 8 | Int(png[at + 3])
            guard at + 12 + length <= png.count else { break }
            chunks.append((at + 4)..<(at + 8 + length))
            at += 12 + length
        }
        guard let chunk = chunks.randomElement(using: &m.rng) else { return nil }
        var body = Array(png[chunk])
        if m.rng.chance(0.3), body.count >= 12 {
            // Width, height, depth, colour type, interlace: the fields decoders trust the most.
            let field = m.rng.pick([4, 8])
            let v = UInt32(truncatingIfNeeded: m.rng.pick(Mutator.interestingIntegers))
            for k in 0..<4 { body[field + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(3 - k))) }
            if m.rng.chance(0.5), body.count > 12 { body[12 + m.rng.below(min(5, body.count - 12))] = UInt8(truncatingIfNeeded: m.rng.next()) }
        } else {
            body = Array(body.prefix(4)) + m.bytes(Array(body.dropFirst(4)))
        }
        let length = UInt32(body.count - 4)
        let header: [UInt8] = (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * UInt32(3 - $0))) }
        let crc = crc32(body)
        let trailer: [UInt8] = (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * UInt32(3 - $0))) }
        return Array(png[..<(chunk.lowerBound - 4)]) + header + body + trailer + Array(png[(chunk.upperBound + 4)...])
    }

    /// CRC-32 (ISO-HDLC, as PNG uses), bit by bit: the inputs are small.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return c ^ 0xFFFF_FFFF
    }

    func check(_ input: [UInt8]) -> FuzzOutcome {
        let format = ImageFile.format(of: input)
        let image: PNMImage
        do { image = try ImageFile.decode(input, file: "fuzz.img") } catch let error as InputError {
            guard error.file == "fuzz.img", !error.message.isEmpty else { return .violation("an error that does not name the file: \(error)") }
            return .rejected(kind: format?.rawValue ?? "unknown")
        } catch { return .violation("not an InputError: \(error)") }
        guard let format else { return .violation("accepted bytes of no known format") }
        guard image.width >= 1, image.height >= 1, [1, 3].contains(image.channels),
              image.samples.count == image.width * image.height * image.channels else {
            return .violation("\(image.width)×\(image.height)×\(image.channels) with \(image.samples.count) samples")
        }
        if format != .pnm, image.width * image.height > ImageFile.maxPixels || image.maxValue != 255 {
            return .violation("\(format.rawValue) of \(image.width)×\(image.height), maxValue \(image.maxValue)")
        }
        guard image.samples.allSatisfy({ $0 >= 0 && $0 <= 1 }) else { return .violation("a sample outside [0, 1]") }
        return .accepted
    }
}

@Suite("fuzz: images") struct ImageFuzz {
    @Test("corpus replay, then mutated PGM/PPM, PNG and JPEG files: consistent images, or an InputError naming the file")
    func fuzz() async throws { try await Fuzz.run(ImageTarget()) }

    @Test("the PNG chunk editor keeps CRCs valid: an edited seed still passes libpng's CRC check or fails for another reason")
    func chunkEditorFixesCRC() throws {
        let png = try #require(Fuzz.corpus("image").first { $0.name.hasSuffix(".png") }).bytes
        // The IEND chunk's CRC, computed by the editor's CRC-32, matches the one in the file.
        let iend = Array(png.suffix(8))
        let crc = ImageTarget.crc32(Array(iend.prefix(4)))
        #expect(iend.suffix(4).elementsEqual((0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * UInt32(3 - $0))) }))
    }
}
