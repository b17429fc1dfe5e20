import Foundation
import Siamese
import Testing

/// `n` synthetic 28×28 images of four seeded shapes (bars, a diagonal, a ring) with noise, as an
/// IDX image file: small structured data for end-to-end pre-training runs.
func syntheticIDXImages(count n: Int, seed: UInt64 = 1) -> Data {
    var data = Data([0, 0, 8, 3])
    for d in [n, 28, 28] { data.append(contentsOf: [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)]) }
    var state = seed
    func next() -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) }
    for i in 0..<n {
        let shift = next() % 7 - 3
        for y in 0..<28 {
            for x in 0..<28 {
                let on: Bool
                switch i % 4 {
                case 0: on = abs(x - 14 - shift) < 3
                case 1: on = abs(y - 14 - shift) < 3
                case 2: on = abs(x - y - shift) < 3
                default: let r = (x - 14) * (x - 14) + (y - 14 - shift) * (y - 14 - shift); on = r > 36 && r < 81
                }
                data.append(UInt8(min(255, (on ? 200 : 0) + next() % 40)))
            }
        }
    }
    return data
}

/// A gzip file holding `data` in stored (uncompressed) deflate blocks, written by hand so that the
/// test trusts neither zlib nor our reader.
func gzipStored(_ data: Data) -> Data {
    var out = Data([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])
    let bytes = [UInt8](data)
    var offset = 0
    repeat {
        let n = min(65535, bytes.count - offset)
        let final: UInt8 = offset + n == bytes.count ? 1 : 0
        out.append(contentsOf: [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)])
        out.append(contentsOf: bytes[offset..<(offset + n)])
        offset += n
    } while offset < bytes.count
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    crc = ~crc
    for v in [crc, UInt32(truncatingIfNeeded: bytes.count)] { out.append(contentsOf: (0..<4).map { UInt8(v >> (8 * $0) & 0xFF) }) }
    return out
}

/// The weights digest a model folder's siamese.json records.
func weightsDigest(_ folder: String) throws -> String {
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/siamese.json"))) as? [String: Any]
    return try #require(json?["weights_sha256"] as? String)
}

/// Small settings so that each run takes seconds: 192 images, batches of 32, narrow CNN and heads.
let pretrainQuick = ["--augment", "image", "--batch-size", "32", "--blocks", "4,8", "--dim", "16", "--hidden", "32",
                     "--projection-dim", "16", "--dino-dim", "32", "--threads", "1", "--seed", "3"]

@Suite("siamese pretrain", .enabled(if: CLIBinary.url != nil, "the siamese executable was not built"))
struct PretrainCLITests {
    @Test("each method trains end to end from a gzipped IDX file, and the encoder embeds IDX images",
          .timeLimit(.minutes(3)), arguments: ["simclr", "byol", "simsiam", "barlow", "vicreg", "dino"])
    func method(_ method: String) throws {
        let s = try Scratch()
        let images = try s.write("train-images-idx3-ubyte.gz", gzipStored(syntheticIDXImages(count: 192)))
        let model = s.path("model")
        let r = try CLIBinary.run(["pretrain", "--method", method, "--data", images, "--epochs", "1", "--output", model,
                                   "--format", "json"] + pretrainQuick)
        #expect(r.status == 0, "\(method): \(r.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(summary?["steps"] as? Int == 6, "\(method): \(r.stdout)")
        let loss = try #require((summary?["epoch_losses"] as? [Double])?.first)
        #expect(loss.isFinite, "\(method): loss \(loss)")
        let out = s.path("x.npy")
        let e = try CLIBinary.run(["embed", "--model", model, "--input", images, "--output", out, "--threads", "1"])
        #expect(e.status == 0, "\(e.stderr)")
        let values = try readNPYFloat32(out)
        #expect(values.count == 192 * 16 && values.allSatisfy(\.isFinite))
    }

    @Test("a resumed run (from a mid-epoch checkpoint) ends with the weights of an uninterrupted one",
          .timeLimit(.minutes(3)), arguments: ["byol", "dino", "simclr"])
    func resume(_ method: String) throws {
        let s = try Scratch()
        let images = try s.write("train-images-idx3-ubyte", syntheticIDXImages(count: 96))
        let model = s.path("model")
        let command = ["pretrain", "--method", method, "--data", images, "--epochs", "2", "--checkpoint-every", "5", "--output", model] + pretrainQuick
        let first = try CLIBinary.run(command)
        #expect(first.status == 0, "\(first.stderr)")
        let uninterrupted = try weightsDigest(model)
        // 3 steps per epoch, 6 in all: checkpoints at steps 3 and 5 and 6 (two kept: 5 and 6).
        // Removing the last leaves step 5, mid-way through epoch 2, as if the run had been killed there.
        let checkpoints = s.url.appendingPathComponent("model/checkpoints")
        let names = try FileManager.default.contentsOfDirectory(atPath: checkpoints.path).filter { $0.hasPrefix("step-") }.sorted()
        #expect(names == ["step-00000005", "step-00000006"], "\(names)")
        try FileManager.default.removeItem(at: checkpoints.appendingPathComponent(try #require(names.last)))
        let second = try CLIBinary.run(command)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("resumed from") && second.stdout.contains("(1 this run)"), "\(second.stdout)")
        #expect(try weightsDigest(model) == uninterrupted, "\(method): the resumed run's weights differ")
    }

    @Test("train --init-from fine-tunes the pretrained encoder: with a near-zero learning rate its weights stay the pretrained ones",
          .timeLimit(.minutes(3)))
    func fineTune() throws {
        let s = try Scratch()
        let images = try s.write("train-images-idx3-ubyte", syntheticIDXImages(count: 96))
        let labels = try s.write("train-labels-idx1-ubyte", Data([0, 0, 8, 1, 0, 0, 0, 96] + (0..<96).map { UInt8($0 % 4) }))
        let pretrained = s.path("ssl")
        let p = try CLIBinary.run(["pretrain", "--method", "simclr", "--data", images, "--epochs", "1", "--output", pretrained] + pretrainQuick)
        #expect(p.status == 0, "\(p.stderr)")
        let tuned = s.path("tuned")
        let t = try CLIBinary.run(["train", "--data", images, "--labels", labels, "--init-from", pretrained, "--loss", "triplet",
                                   "--optimizer", "sgd", "--lr", "1e-12", "--epochs", "1", "--batch-size", "16", "--threads", "1",
                                   "--output", tuned])
        #expect(t.status == 0, "\(t.stderr)")
        // The encoder's weights are the pretrained ones (batch-norm running statistics move with
        // every training forward pass, so embeddings are not compared).
        let (before, _) = try ModelFolder(URL(fileURLWithPath: pretrained)).load()
        let (after, config) = try ModelFolder(URL(fileURLWithPath: tuned)).load()
        #expect(config.encoder == before.encoder.configuration)
        let a = before.encoder.namedParameters, b = after.encoder.namedParameters
        #expect(a.map(\.name) == b.map(\.name) && !a.isEmpty)
        for (p, q) in zip(a, b) {
            let worst = zip(p.parameter.value.scalars, q.parameter.value.scalars).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-6, "\(p.name): the fine-tuned encoder did not start from the pretrained weights (max difference \(worst))")
        }
        let e = try CLIBinary.run(["embed", "--model", tuned, "--input", images, "--output", s.path("x.npy"), "--threads", "1"])
        #expect(e.status == 0, "\(e.stderr)")
        // A folder that reads other inputs is refused with the reason.
        let other = try s.write("small-idx3-ubyte", Data([0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 2] + [UInt8](repeating: 9, count: 16)))
        let smallLabels = try s.write("small-labels-idx1-ubyte", Data([0, 0, 8, 1, 0, 0, 0, 4, 0, 1, 0, 1]))
        let bad = try CLIBinary.run(["train", "--data", other, "--labels", smallLabels, "--init-from", pretrained, "--output", s.path("x")])
        #expect(bad.status != 0 && bad.stderr.contains("784 features"), "\(bad.stderr)")
    }

    @Test("sequences (.npy, --augment sequence) pre-train a sequence encoder", .timeLimit(.minutes(3)))
    func sequences() throws {
        let s = try Scratch()
        // 64 items of 2 channels × 24 steps: sine and cosine at seeded phases and frequencies.
        let values: [Float] = (0..<64).flatMap { i -> [Float] in
            let f = Float(1 + i % 3), phase = Float(i) * 0.37
            return (0..<2).flatMap { c in (0..<24).map { t in c == 0 ? sin(f * Float(t) / 4 + phase) : cos(f * Float(t) / 4 + phase) } }
        }
        let data = try s.write("sequences.npy", npyFloat32(values, shape: [64, 48]))
        let model = s.path("model")
        let r = try CLIBinary.run(["pretrain", "--method", "vicreg", "--data", data, "--augment", "sequence", "--channels", "2",
                                   "--epochs", "1", "--batch-size", "16", "--blocks", "4,8", "--dim", "8", "--hidden", "16",
                                   "--projection-dim", "8", "--threads", "1", "--output", model, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(summary?["steps"] as? Int == 4, "\(r.stdout)")
        let (_, config) = try ModelFolder(URL(fileURLWithPath: model)).load()
        guard case .sequence(let c) = config.encoder else { Issue.record("not a sequence encoder: \(config.encoder)"); return }
        #expect(c.channels == 2 && c.length == 24 && c.embeddingDimension == 8)
        let odd = try CLIBinary.run(["pretrain", "--method", "vicreg", "--data", data, "--augment", "sequence", "--channels", "5",
                                     "--output", s.path("m")])
        #expect(odd.status != 0 && odd.stderr.contains("sequences.npy") && odd.stderr.contains("5 channels"), "\(odd.stderr)")
    }

    @Test("bad input: unknown method, non-image file, too few items — clear errors naming the problem")
    func badInput() throws {
        let s = try Scratch()
        let images = try s.write("train-images-idx3-ubyte", syntheticIDXImages(count: 8))
        let unknown = try CLIBinary.run(["pretrain", "--method", "moco", "--data", images, "--output", s.path("m")])
        #expect(unknown.status != 0 && unknown.stderr.contains("moco"), "\(unknown.stderr)")
        let text = try s.write("notes.txt", "hello\n")
        let wrong = try CLIBinary.run(["pretrain", "--method", "simclr", "--data", text, "--output", s.path("m")])
        #expect(wrong.status != 0 && wrong.stderr.contains("unknown format"), "\(wrong.stderr)")
        let few = try CLIBinary.run(["pretrain", "--method", "simclr", "--data", images, "--output", s.path("m"), "--batch-size", "32"])
        #expect(few.status != 0 && few.stderr.contains("too few"), "\(few.stderr)")
        let truncated = try s.write("t-idx3-ubyte.gz", gzipStored(syntheticIDXImages(count: 8)).dropLast(20))
        let broken = try CLIBinary.run(["pretrain", "--method", "simclr", "--data", truncated, "--output", s.path("m")])
        #expect(broken.status != 0 && broken.stderr.contains("t-idx3-ubyte.gz") && broken.stderr.contains("gzip"), "\(broken.stderr)")
    }
}
