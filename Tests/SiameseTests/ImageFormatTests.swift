import FileSupport
import Foundation
@testable import Siamese
import Testing

/// PNG and JPEG input (ImageFile, decoded by the system's libpng and libjpeg), checked against the
/// PGM/PPM twins that Fixtures/images/generate.py writes beside each file.
@Suite("image formats: PNG and JPEG beside PGM/PPM")
struct ImageFormatTests {
    static let fixtures: URL = {
        guard let url = Bundle.module.resourceURL?.appendingPathComponent("Fixtures/images"),
              FileManager.default.fileExists(atPath: url.appendingPathComponent("gray8.png").path) else {
            fatalError("Fixtures/images is missing from the test bundle")
        }
        return url
    }()

    static func fixture(_ name: String) -> URL { fixtures.appendingPathComponent(name) }

    /// Every PNG variant and the twin holding the pixels it must decode to (alpha dropped).
    static let pngTwins: [(String, String)] = [
        ("gray8.png", "gray8.pgm"), ("gray1.png", "gray1.pgm"), ("gray_alpha.png", "gray8.pgm"),
        ("rgb8.png", "rgb8.ppm"), ("rgba8.png", "rgb8.ppm"), ("rgb8_interlaced.png", "rgb8.ppm"), ("palette.png", "palette.ppm"),
    ]

    @Test("8-bit, 1-bit, gray+alpha, RGB, RGBA, interlaced and palette PNGs give exactly their PGM/PPM twin's samples",
          arguments: pngTwins)
    func pngMatchesTwin(_ png: String, _ twin: String) throws {
        let decoded = try ImageFile.read(Self.fixture(png))
        let expected = try PNM.read(Self.fixture(twin))
        #expect(decoded.width == expected.width && decoded.height == expected.height && decoded.channels == expected.channels)
        #expect(decoded.samples == expected.samples)
        #expect(decoded.maxValue == 255)
    }

    @Test("16-bit PNGs are rounded to 8 bits without a gamma change: within half a step of the 16-bit twin",
          arguments: [("gray16.png", "gray16.pgm"), ("rgb16.png", "rgb16.ppm")])
    func sixteenBitPNG(_ png: String, _ twin: String) throws {
        let decoded = try ImageFile.read(Self.fixture(png))
        let expected = try PNM.read(Self.fixture(twin))
        #expect(expected.maxValue == 65535)
        #expect(decoded.channels == expected.channels && decoded.samples.count == expected.samples.count)
        let worst = zip(decoded.samples, expected.samples).map { abs($0 - $1) }.max() ?? 1
        #expect(worst <= 0.5 / 255 + 1e-6, "largest difference \(worst)")
    }

    @Test("baseline 4:2:0, progressive and grayscale JPEGs give exactly what libjpeg's djpeg gives, and stay close to the source",
          arguments: [("rgb.jpg", "rgb_djpeg.pnm", "rgb8.ppm"), ("rgb_progressive.jpg", "rgb_progressive_djpeg.pnm", "rgb8.ppm"),
                      ("gray.jpg", "gray_djpeg.pnm", "gray8.pgm")])
    func jpegMatchesDjpeg(_ jpeg: String, _ djpeg: String, _ source: String) throws {
        let decoded = try ImageFile.read(Self.fixture(jpeg))
        let expected = try PNM.read(Self.fixture(djpeg))
        #expect(decoded.width == expected.width && decoded.height == expected.height && decoded.channels == expected.channels)
        #expect(decoded.samples == expected.samples)
        let original = try PNM.read(Self.fixture(source))
        let meanError = zip(decoded.samples, original.samples).map { abs($0 - $1) }.reduce(0, +) / Float(original.samples.count)
        #expect(meanError < 0.05, "mean error against the encoded source: \(meanError)")
    }

    @Test("the format is recognised by the bytes, not the name")
    func formatFromContent() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let misnamed = dir.appendingPathComponent("actually-a-png.jpg")
        try FileManager.default.copyItem(at: Self.fixture("gray8.png"), to: misnamed)
        #expect(try ImageFile.read(misnamed).samples == PNM.read(Self.fixture("gray8.pgm")).samples)
        #expect(ImageFile.format(of: [UInt8](try Data(contentsOf: Self.fixture("rgb.jpg")))) == .jpeg)
        #expect(ImageFile.format(of: Array("P5 1 1 255\n".utf8)) == .pnm)
        #expect(ImageFile.format(of: Array("hello".utf8)) == nil)
    }

    /// Expects `body` to throw an InputError whose text names `file` and contains each of `expected`.
    func expectInputError(_ file: String, _ expected: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("accepted \(file)", sourceLocation: sourceLocation)
        } catch let error as InputError {
            let text = error.description
            #expect(text.contains(file), "does not name the file: \(text)", sourceLocation: sourceLocation)
            for e in expected { #expect(text.contains(e), "expected '\(e)' in: \(text)", sourceLocation: sourceLocation) }
        } catch {
            Issue.record("not an InputError: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("a header declaring too many pixels is refused before the raster is allocated, naming the file and the limit")
    func oversizedHeaders() {
        expectInputError("big.png", ["100000×100000", "over the limit of \(ImageFile.maxPixels) pixels"]) {
            _ = try ImageFile.decode([UInt8](try Data(contentsOf: Self.fixture("oversized.png"))), file: "big.png")
        }
        expectInputError("big.jpg", ["65000×65000", "over the limit"]) {
            _ = try ImageFile.decode([UInt8](try Data(contentsOf: Self.fixture("oversized.jpg"))), file: "big.jpg")
        }
    }

    @Test("every truncation of every PNG and JPEG fixture is refused with an error naming the file, never a crash",
          arguments: ["gray8.png", "gray16.png", "rgba8.png", "palette.png", "rgb8_interlaced.png", "rgb.jpg", "rgb_progressive.jpg", "gray.jpg"])
    func truncated(_ name: String) throws {
        let bytes = [UInt8](try Data(contentsOf: Self.fixture(name)))
        let isPNG = name.hasSuffix(".png")
        // PNG: every prefix short of the IEND chunk (which carries no data, so a file without it
        // still decodes). JPEG: every prefix, down to the one that lacks only the EOI marker (libjpeg
        // warns that the data ended early; the decoder makes that an error).
        let end = isPNG ? bytes.count - 12 : bytes.count
        let signature = isPNG ? 8 : 3
        for length in 0..<end {
            let file = "\(name)[..<\(length)]"
            expectInputError(file, length < signature ? ["not an image"] : [isPNG ? "not a valid PNG" : "not a valid JPEG"]) {
                _ = try ImageFile.decode(Array(bytes.prefix(length)), file: file)
            }
        }
    }

    @Test("corrupt files: a bad chunk CRC, a bad marker, garbage scan data give the library's reason and the file")
    func corrupt() throws {
        var png = [UInt8](try Data(contentsOf: Self.fixture("gray8.png")))
        png[19] ^= 0x01  // IHDR width, so its CRC no longer matches
        expectInputError("crc.png", ["not a valid PNG", "CRC"]) { _ = try ImageFile.decode(png, file: "crc.png") }

        var jpeg = [UInt8](try Data(contentsOf: Self.fixture("rgb.jpg")))
        jpeg[2] = 0xFF; jpeg[3] = 0x01  // the first marker after SOI becomes a reserved one
        expectInputError("marker.jpg", ["not a valid JPEG"]) { _ = try ImageFile.decode(jpeg, file: "marker.jpg") }

        // The scan data (after the SOS header) replaced by a run of bytes that are no Huffman code:
        // libjpeg only warns ("Corrupt JPEG data"), which the decoder turns into an error.
        var scan = [UInt8](try Data(contentsOf: Self.fixture("rgb.jpg")))
        let sos = try #require((0..<(scan.count - 1)).first { scan[$0] == 0xFF && scan[$0 + 1] == 0xDA })
        let start = sos + 2 + Int(scan[sos + 2]) << 8 + Int(scan[sos + 3])
        for k in start..<(scan.count - 2) { scan[k] = k % 2 == 0 ? 0xFF : 0x00 }
        expectInputError("scan.jpg", ["not a valid JPEG"]) { _ = try ImageFile.decode(scan, file: "scan.jpg") }
    }

    @Test("an image folder may mix PGM, PNG and JPEG; colour mixes still need a color mode")
    func mixedFolder() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        func put(_ fixture: String, _ path: String) throws {
            let target = dir.appendingPathComponent(path)
            try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try fm.copyItem(at: Self.fixture(fixture), to: target)
        }
        try put("gray8.pgm", "gray/a/1.pgm")
        try put("gray8.png", "gray/a/2.png")
        try put("gray.jpg", "gray/b/1.jpg")
        let images = try ImageFolder.read(dir.appendingPathComponent("gray"))
        #expect(images.channels == 1 && images.height == 12 && images.width == 16)
        let rows = images.dataset.features.scalars
        #expect(Array(rows[0..<192]) == Array(rows[192..<384]), "the PGM and the PNG of the same pixels give the same row")
        #expect(images.dataset.labels == [0, 0, 1])

        try put("gray8.png", "colour/a/1.png")
        try put("rgb.jpg", "colour/b/1.jpg")
        let colour = dir.appendingPathComponent("colour")
        do {
            _ = try ImageFolder.read(colour)
            Issue.record("a grayscale PNG and a colour JPEG read without a color mode")
        } catch let error as InputError {
            #expect(error.description.contains("colour/b/1.jpg") && error.description.contains("image is RGB"), "\(error)")
        }
        #expect(try ImageFolder.read(colour, color: .rgb).channels == 3)

        try put("gray8.png", "stray/a/1.png")
        try put("rgb8.png", "stray/2.png")
        do {
            _ = try ImageFolder.read(dir.appendingPathComponent("stray"))
            Issue.record("a PNG beside the class folders was accepted")
        } catch let error as InputError {
            #expect(error.description.contains("inside a class folder"), "\(error)")
        }
    }
}

@Suite("image formats: PGM/PPM size bound")
struct PNMSizeBoundTests {
    @Test("a PGM/PPM header that promises far more samples than the file holds is refused before the raster is allocated",
          arguments: ["P6 1048576 1048576 65535\n", "P5 65536 65536 255\n", "P3 1048576 1048576 255\n", "P2 65536 65536 255\n"])
    func hugeHeader(_ header: String) {
        // 2^40 samples: allocating them first (as the reader once did) kills the process.
        do {
            _ = try PNM.decode(Array(header.utf8) + [7, 7], file: "huge.pnm")
            Issue.record("accepted \(header)")
        } catch let error as InputError {
            #expect(error.description.contains("huge.pnm") && error.description.contains("truncated"), "\(error)")
        } catch {
            Issue.record("not an InputError: \(error)")
        }
    }
}

/// The CLI end to end on PNG and JPEG files: train on a folder, verify two files, score a pairs
/// file of image paths, and the errors a user meets (a corrupt file, a missing system library).
@Suite("image formats: siamese train, verify and score", .enabled(if: CLIBinary.url != nil, "the siamese executable was not built"))
struct ImageFormatCLITests {
    static let quick = ["--epochs", "1", "--batch-size", "6", "--dim", "4", "--seed", "1", "--threads", "1"]

    /// Runs the executable with extra environment variables.
    static func run(_ arguments: [String], environment extra: [String: String]) throws -> CLIBinary.Result {
        let process = Process()
        process.executableURL = try #require(CLIBinary.url)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIBinary.Result(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    @Test("train on a folder of PNGs, then embed it and one PNG, verify two PNGs and score a pairs file of image paths")
    func trainVerifyScore() throws {
        let s = try Scratch()
        let folder = ImageFormatTests.fixture("train").path
        let model = s.path("model")
        let train = try CLIBinary.run(["train", "--data", folder, "--encoder", "cnn", "--loss", "contrastive"] + Self.quick + ["--output", model])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("steps/s"), "\(train.stdout)")
        #expect(FileManager.default.fileExists(atPath: model + "/siamese.json"))

        let a = folder + "/class0/0.png", b = folder + "/class1/0.png"
        let verify = try CLIBinary.run(["verify", "--model", model, "--a", a, "--b", b, "--threshold", "0.5", "--format", "json"])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("\"score\"") && verify.stdout.contains("\"same\""), "\(verify.stdout)")

        // embed: the folder in train's order (class0/0.png first), and one file alone, give the same row.
        let all = s.path("all.npy"), one = s.path("one.npy")
        let embedFolder = try CLIBinary.run(["embed", "--model", model, "--input", folder, "--output", all])
        #expect(embedFolder.status == 0, "\(embedFolder.stderr)")
        let embedFile = try CLIBinary.run(["embed", "--model", model, "--input", a, "--output", one])
        #expect(embedFile.status == 0, "\(embedFile.stderr)")
        let rows = try readNPYFloat32(all), row = try readNPYFloat32(one)
        #expect(rows.count == 18 * 4 && row.count == 4, "\(rows.count) and \(row.count) values")
        // Not bit-exact: a batch of 18 and a batch of 1 may take different GEMM paths.
        #expect(zip(rows.prefix(4), row).allSatisfy { abs($0 - $1) < 1e-5 }, "\(rows.prefix(4)) vs \(row)")

        // A colour JPEG of another size cannot feed a model trained on 8×8 grayscale: the error says why.
        let wrong = try CLIBinary.run(["verify", "--model", model, "--a", a, "--b", ImageFormatTests.fixture("rgb.jpg").path, "--threshold", "0.5"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("rgb.jpg") && wrong.stderr.contains("16×12") && wrong.stderr.contains("64 features"), "\(wrong.stderr)")

        // Paths in a pairs file are read relative to it.
        try FileManager.default.copyItem(atPath: folder, toPath: s.path("images"))
        let pairs = try s.write("pairs.csv", "a,b,label\nimages/class0/0.png,images/class0/1.png,1\nimages/class0/0.png,images/class2/3.png,0\n")
        let scores = s.path("scores.csv")
        let score = try CLIBinary.run(["score", "--model", model, "--pairs", pairs, "--output", scores])
        #expect(score.status == 0, "\(score.stderr)")
        let lines = try String(contentsOfFile: scores, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3 && lines[0] == "score,label", "\(lines)")
    }

    @Test("a corrupt PNG in a training folder stops train with status 1, naming the file, before any model is written")
    func corruptFileInFolder() throws {
        let s = try Scratch()
        try FileManager.default.copyItem(atPath: ImageFormatTests.fixture("train").path, toPath: s.path("data"))
        let bytes = try Data(contentsOf: ImageFormatTests.fixture("train/class1/2.png"))
        let broken = try s.write("data/class1/2.png", bytes.prefix(bytes.count / 2))
        let model = s.path("model")
        let r = try CLIBinary.run(["train", "--data", s.path("data"), "--encoder", "cnn", "--loss", "contrastive"] + Self.quick + ["--output", model])
        #expect(r.status == 1)
        #expect(r.stderr.contains(broken) && r.stderr.contains("not a valid PNG"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: model))
    }

    @Test("without libpng or libjpeg at run time, the error names the file and the Debian package to install")
    func missingLibraries() throws {
        let s = try Scratch()
        try FileManager.default.copyItem(atPath: ImageFormatTests.fixture("train").path, toPath: s.path("png"))
        let png = try Self.run(["train", "--data", s.path("png"), "--encoder", "cnn"] + Self.quick + ["--output", s.path("m1")],
                               environment: ["SIAMESE_LIBPNG": "/nonexistent/libpng16.so.16"])
        #expect(png.status == 1)
        #expect(png.stderr.contains(s.path("png/class0/0.png")) && png.stderr.contains("apt-get install libpng16-16"), "\(png.stderr)")

        for (k, name) in ["a", "b"].enumerated() { try s.write("jpeg/\(name)/\(k).jpg", Data(contentsOf: ImageFormatTests.fixture("gray.jpg"))) }
        let jpeg = try Self.run(["train", "--data", s.path("jpeg"), "--encoder", "cnn"] + Self.quick + ["--output", s.path("m2")],
                                environment: ["SIAMESE_LIBJPEG": "/nonexistent/libjpeg.so.62"])
        #expect(jpeg.status == 1)
        #expect(jpeg.stderr.contains(s.path("jpeg/a/0.jpg")) && jpeg.stderr.contains("apt-get install libjpeg62-turbo"), "\(jpeg.stderr)")
    }
}
