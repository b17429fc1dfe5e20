import Foundation
import Testing
@testable import Service

/// A `siamese pretrain` encoder is a model `serve` loads (issue 15): the service's model adapter
/// reads the folder and embeds an image's pixels (÷ 255, as the IDX reader scales them) to the row
/// `siamese embed` writes for that image.
@Suite("serving a pretrained encoder", .enabled(if: SiameseExecutable.url != nil, "the siamese executable was not found (skipped, not passed)"))
struct PretrainedServeTests {
    @Test(.timeLimit(.minutes(3))) func servedEncoderEmbedsAsEmbedDoes() throws {
        let dir = try TemporaryFolder()
        // 64 seeded 28×28 images: bars at random offsets over noise.
        var images = Data([0, 0, 8, 3, 0, 0, 0, 64, 0, 0, 0, 28, 0, 0, 0, 28])
        var state: UInt64 = 11
        func next() -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) }
        var pixels: [[UInt8]] = []
        for i in 0..<64 {
            let shift = next() % 9 - 4
            let image = (0..<784).map { p -> UInt8 in
                let (y, x) = (p / 28, p % 28)
                let on = i % 2 == 0 ? abs(x - 14 - shift) < 3 : abs(y - 14 - shift) < 3
                return UInt8(min(255, (on ? 200 : 0) + next() % 40))
            }
            pixels.append(image)
            images.append(contentsOf: image)
        }
        try images.write(to: dir.file("train-images-idx3-ubyte"))
        let model = dir.file("ssl").path
        let p = try SiameseExecutable.run(["pretrain", "--method", "simclr", "--data", dir.file("train-images-idx3-ubyte").path,
                                           "--augment", "image", "--epochs", "1", "--batch-size", "32", "--blocks", "4,8", "--dim", "16",
                                           "--hidden", "32", "--projection-dim", "16", "--threads", "1", "--output", model])
        #expect(p.status == 0, "\(p.stderr)")
        let e = try SiameseExecutable.run(["embed", "--model", model, "--input", dir.file("train-images-idx3-ubyte").path,
                                           "--output", dir.file("e.npy").path, "--threads", "1"])
        #expect(e.status == 0, "\(e.stderr)")
        let expected = try readNPYRows(dir.file("e.npy"))
        #expect(expected.count == 64 && expected.allSatisfy { $0.count == 16 })

        let served = try SiameseModelAdapter(folder: URL(fileURLWithPath: model))
        #expect(served.inputDimension == 784 && served.dimension == 16)
        let rows = try served.embed((0..<5).map { .vector(pixels[$0].map { Float($0) / 255 }) }, prompt: .modelDefault)
        for (i, row) in rows.enumerated() {
            let diff = zip(row, expected[i]).map { abs($0 - $1) }.max() ?? 1
            #expect(row.count == 16 && diff < 1e-5, "image \(i): max abs diff \(diff)")
        }
    }
}
