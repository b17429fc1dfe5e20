import FileSupport
import Foundation
import Testing
@testable import Siamese
import Tensors

/// Readers for pre-built pairs and triplets (CSV, JSONL, NPY), MNIST IDX files and PGM/PPM image
/// folders: valid files of each kind, and every class of malformed input giving an error that
/// names the file and the line (or byte offset).
@Suite final class DataReaderTests {
    let dir = temporaryDirectory()

    deinit { try? FileManager.default.removeItem(at: dir) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> URL {
        try write(name, Array(text.utf8))
    }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        return url
    }

    /// Runs `body`, which must throw an error whose description names `file` and contains every
    /// string in `expected` (a line `:N:`, a field, a byte offset, a reason).
    func expectFailure(_ file: URL, _ expected: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("accepted malformed input \(file.lastPathComponent)", sourceLocation: sourceLocation)
        } catch {
            let text = "\(error)"
            #expect(text.contains(file.path), "error does not name the file: \(text)", sourceLocation: sourceLocation)
            for e in expected {
                #expect(text.contains(e), "expected '\(e)' in: \(text)", sourceLocation: sourceLocation)
            }
        }
    }

    // MARK: - CSV pairs

    @Test func csvPairsMatchColumnsBySuffix() throws {
        // b_ columns in another order, an ignored id column, and every label spelling.
        let url = try write("pairs.csv", """
            id,a_x,a_y,b_y,b_x,same
            p1,1,2,20,10,same
            p2,3,4,40,30,different
            p3,5,6,60,50,1
            p4,7,8,80,70,FALSE
            p5,9,0,1,2,true
            """)
        let table = try PairCSV.read(url, labelColumn: "same")
        #expect(table.leftColumns == ["a_x", "a_y"])
        #expect(table.rightColumns == ["b_x", "b_y"])
        #expect(table.dataset.left.scalars == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0])
        #expect(table.dataset.right.scalars == [10, 20, 30, 40, 50, 60, 70, 80, 2, 1])
        #expect(table.dataset.labels == [1, 0, 1, 0, 1])
        #expect(table.dataset.hasBinaryLabels)
    }

    @Test func csvPairsFromNamedColumnsAndScores() throws {
        let url = try write("scored.csv", "u1,u2,v1,v2,sim\n1,2,3,4,0.25\n5,6,7,8,-0.5\n")
        let table = try PairCSV.read(url, leftColumns: ["u1", "u2"], rightColumns: ["v1", "v2"], labelColumn: "sim", targets: .score)
        #expect(table.dataset.left.scalars == [1, 2, 5, 6])
        #expect(table.dataset.right.scalars == [3, 4, 7, 8])
        #expect(table.dataset.labels == [0.25, -0.5])
        #expect(!table.dataset.hasBinaryLabels)
    }

    @Test(arguments: [
        ("a_x,a_y,b_x,label\n1,2,3,1\n", ["csv:1", ": b_y: ", "missing"]),
        ("a_x,b_x,b_z,label\n1,2,3,1\n", ["csv:1", ": a_z: ", "missing"]),
        ("x,y,label\n1,2,1\n", ["csv:1", "no columns start with 'a_'"]),
        ("a_x,b_x,same\n1,2,1\n", ["csv:1", ": label: ", "no such column"]),
        ("a_x,b_x,label\n1,2,1\n3,4,maybe\n", ["csv:3", ": label: ", "'maybe' is not a target"]),
        ("a_x,b_x,label\n1,2,1\n3,4,0.5\n", ["csv:3", ": label: "]),
        ("a_x,b_x,label\n1,oops,1\n", ["csv:2", ": b_x: ", "not a number"]),
        ("a_x,b_x,label\n1,1e39,1\n", ["csv:2", ": b_x: ", "not a finite"]),
        ("a_x,b_x,label\n1,2,1\n3,4\n", ["csv:3", "2 fields"]),
        ("a_x,b_x,label\n1,2,\n", ["csv:2", "empty label"]),
        ("a_x,b_x,label\n", ["no data rows"]),
        ("a_x,a_x,b_x,label\n1,2,3,1\n", ["csv:1", ": a_x: ", "2 times"]),
    ])
    func malformedCSVPairs(_ text: String, _ expected: [String]) throws {
        let url = try write("bad.csv", text)
        expectFailure(url, expected) { _ = try PairCSV.read(url) }
    }

    @Test func csvPairsWithMissingNamedColumn() throws {
        let url = try write("named.csv", "u,v,label\n1,2,1\n")
        expectFailure(url, ["csv:1", ": w: ", "no such column"]) {
            _ = try PairCSV.read(url, leftColumns: ["u"], rightColumns: ["w"], labelColumn: "label")
        }
        let score = try write("score.csv", "a_x,b_x,label\n1,2,high\n")
        expectFailure(score, ["csv:2", ": label: ", "expected a finite number"]) { _ = try PairCSV.read(score, targets: .score) }
    }

    // MARK: - JSONL

    @Test func jsonlVectorPairsAndTriplets() throws {
        let pairs = try write("pairs.jsonl", """
            {"a": [1, 2], "b": [3, 4], "label": 1, "id": "x"}

            {"a": [5, 6.5], "b": [7, 8], "label": false}
            {"b": [0, 0], "a": [-1, 1e-3], "label": "same"}\r
            """)
        let p = try JSONLines.readPairs(pairs)
        #expect(p.left.shape == [3, 2])
        #expect(p.left.scalars == [1, 2, 5, 6.5, -1, 1e-3])
        #expect(p.right.scalars == [3, 4, 7, 8, 0, 0])
        #expect(p.labels == [1, 0, 1])

        let scored = try JSONLines.readPairs(try write("scored.jsonl", "{\"a\":[1],\"b\":[2],\"score\":0.75}\n{\"a\":[3],\"b\":[4],\"score\":-1}\n"))
        #expect(scored.labels == [0.75, -1])

        let triplets = try write("triplets.jsonl", """
            {"anchor": [1, 0, 0], "positive": [0.9, 0.1, 0], "negative": [0, 0, 1]}
            {"anchor": [0, 1, 0], "positive": [0, 1, 0.1], "negative": [1, 0, 0]}
            """)
        let t = try JSONLines.readTriplets(triplets)
        #expect(t.count == 2 && t.featureCount == 3)
        #expect(t.negative.scalars == [0, 0, 1, 1, 0, 0])
    }

    @Test func jsonlTextPairsAndTriplets() throws {
        let positives = try JSONLines.readTextPairs(try write("ap.jsonl", """
            {"anchor": "a cat sits", "positive": "a cat is sitting"}
            {"anchor": "héllo \\"quoted\\"", "positive": "hi"}
            """))
        #expect(positives.first == ["a cat sits", "héllo \"quoted\""])
        #expect(positives.second == ["a cat is sitting", "hi"])
        #expect(positives.targets == .positivesOnly)

        let sts = try JSONLines.readTextPairs(try write("sts.jsonl", """
            {"sentence1": "a", "sentence2": "b", "score": 0.2}
            {"sentence1": "c", "sentence2": "d", "score": 1}
            """))
        #expect(sts.targets == .scores([0.2, 1]))

        let labelled = try JSONLines.readTextPairs(try write("nli.jsonl", """
            {"sentence1": "a", "sentence2": "b", "label": 0}
            {"sentence1": "c", "sentence2": "d", "label": "same"}
            """))
        #expect(labelled.targets == .sameDifferent([0, 1]))

        let triplets = try JSONLines.readTextTriplets(try write("t.jsonl", """
            {"anchor": "q", "positive": "p", "negative": "n"}
            {"anchor": "q2", "positive": "p2", "negative": "n2"}
            """))
        #expect(triplets.anchors == ["q", "q2"] && triplets.positives == ["p", "p2"] && triplets.negatives == ["n", "n2"])
    }

    @Test(arguments: [
        ("{\"a\":[1,2],\"b\":[3,4],\"label\":1}\n{\"a\":[1,2],\"b\":[3,4],\"label\":1}\n{\"a\":[1,2], \"b\":[3,4] \"label\":1}\n", ["jsonl:3:", "not valid JSON", "column 23"]),
        ("{\"a\":[1,2],\"b\":[3,4],\"label\":1}\n{\"a\":[1,2],\"label\":0}\n", ["jsonl:2:", ": b: ", "missing"]),
        ("{\"a\":[1,2],\"b\":[3,4],\"label\":1}\n{\"a\":[1,2],\"b\":[3,4,5],\"label\":0}\n", ["jsonl:2:", ": b: ", "3 values, expected 2"]),
        ("{\"a\":[1,2],\"b\":[3,4],\"label\":1}\n{\"a\":[1,2e39],\"b\":[3,4],\"label\":0}\n", ["jsonl:2:", ": a[1]: ", "not a finite Float32"]),
        ("{\"a\":[1,NaN],\"b\":[3,4],\"label\":1}\n", ["jsonl:1:", "not valid JSON"]),
        ("{\"a\":[1,\"2\"],\"b\":[3,4],\"label\":1}\n", ["jsonl:1:", ": a[1]: ", "expected a number"]),
        ("{\"a\":\"1 2\",\"b\":[3,4],\"label\":1}\n", ["jsonl:1:", ": a: ", "expected an array of numbers"]),
        ("{\"a\":[1],\"b\":[3],\"label\":0.5}\n", ["jsonl:1:", ": label: ", "not a same/different label"]),
        ("{\"a\":[1],\"b\":[3]}\n", ["jsonl:1:", ": label: ", "missing"]),
        ("{\"a\":[1],\"b\":[3],\"label\":1}\n{\"a\":[1],\"b\":[3],\"score\":0.5}\n", ["jsonl:2:", ": score: "]),
        ("{\"a\":[1],\"b\":[3],\"label\":1,\"score\":1}\n", ["jsonl:1:", "not both"]),
        ("{\"a\":[],\"b\":[],\"label\":1}\n", ["jsonl:1:", ": a: ", "empty vector"]),
        ("[1, 2]\n", ["jsonl:1:", "JSON object"]),
        ("\n  \n", ["no records"]),
    ])
    func malformedJSONLPairs(_ text: String, _ expected: [String]) throws {
        let url = try write("bad.jsonl", text)
        expectFailure(url, expected) { _ = try JSONLines.readPairs(url) }
    }

    @Test(arguments: [
        ("{\"anchor\":\"a\",\"positive\":\"b\"}\n{\"anchor\":\"a\"}\n", ["jsonl:2:", ": positive: ", "missing"], false),
        ("{\"anchor\":\"a\",\"positive\":\"b\"}\n{\"sentence1\":\"a\",\"sentence2\":\"b\"}\n", ["jsonl:2:", "differ from the first record"], false),
        ("{\"sentence1\":\"a\",\"sentence2\":\"b\",\"label\":1}\n{\"sentence1\":\"a\",\"sentence2\":\"b\"}\n", ["jsonl:2:", "differ"], false),
        ("{\"anchor\":\"a\",\"positive\":\"b\",\"negative\":\"c\"}\n", ["jsonl:1:", ": negative: ", "triplet"], false),
        ("{\"anchor\":\"a\",\"positive\":7}\n", ["jsonl:1:", ": positive: ", "expected a string"], false),
        ("{\"anchor\":\"\",\"positive\":\"b\"}\n", ["jsonl:1:", ": anchor: ", "empty text"], false),
        ("{\"text\":\"a\"}\n", ["jsonl:1:", "missing"], false),
        ("{\"anchor\":\"a\",\"positive\":\"b\",\"negative\":\"c\"}\n{\"anchor\":\"a\",\"positive\":\"b\"}\n", ["jsonl:2:", ": negative: ", "missing"], true),
        ("{\"anchor\":\"a\",\"positive\":\"b\",\"negative\":\"c\"}\n{\"anchor\":\"a\",\"positive\":\"b\",\"negative\":\"c\"\n", ["jsonl:2:", "not valid JSON"], true),
    ])
    func malformedJSONLText(_ text: String, _ expected: [String], _ triplets: Bool) throws {
        let url = try write("bad-text.jsonl", text)
        expectFailure(url, expected) {
            if triplets { _ = try JSONLines.readTextTriplets(url) } else { _ = try JSONLines.readTextPairs(url) }
        }
    }

    @Test func vectorTripletsNeedEveryVectorOfOneLength() throws {
        let url = try write("t.jsonl", """
            {"anchor": [1, 0], "positive": [1, 0], "negative": [0, 1]}
            {"anchor": [1, 0], "positive": [1, 0, 0], "negative": [0, 1]}
            """)
        expectFailure(url, ["jsonl:2:", ": positive: ", "3 values, expected 2 (the length on line 1)"]) { _ = try JSONLines.readTriplets(url) }
    }

    // MARK: - NPY

    /// A version 1.0 `.npy` file, written here by hand so that the test does not rely on the reader's
    /// own writer.
    func npy(_ descr: String, _ shape: [Int], _ payload: [UInt8]) -> [UInt8] {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let n = header.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8) + payload
    }

    func float32s(_ v: [Float]) -> [UInt8] { v.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }
    func int64s(_ v: [Int64]) -> [UInt8] { v.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) } }

    @Test func npyFeaturesWithNPYOrTextLabels() throws {
        let features = try write("x.npy", npy("<f4", [3, 2], float32s([1, 2, 3, 4, 5, 6])))
        let d = try NPYData.read(features: features, labels: try write("y.npy", npy("<i8", [3], int64s([10, 2, 10]))))
        #expect(d.features.shape == [3, 2] && d.features.scalars == [1, 2, 3, 4, 5, 6])
        #expect(d.classNames == ["2", "10"] && d.labels == [1, 0, 1])

        let text = try NPYData.read(features: features, labels: try write("y.txt", "cat\ndog\ncat\n"))
        #expect(text.classNames == ["cat", "dog"] && text.labels == [0, 1, 0])

        let b = try write("b.npy", npy("<f4", [3, 2], float32s([6, 5, 4, 3, 2, 1])))
        let pairs = try NPYData.readPairs(left: features, right: b, labels: try write("same.txt", "1\ndifferent\nsame\n"))
        #expect(pairs.labels == [1, 0, 1] && pairs.right.scalars == [6, 5, 4, 3, 2, 1])
        let triplets = try NPYData.readTriplets(anchor: features, positive: features, negative: b)
        #expect(triplets.count == 3 && triplets.negative.scalars == [6, 5, 4, 3, 2, 1])
    }

    @Test func malformedNPYData() throws {
        let features = try write("x.npy", npy("<f4", [3, 2], float32s([1, 2, 3, 4, 5, 6])))
        let short = try write("short.npy", npy("<i8", [2], int64s([1, 2])))
        expectFailure(short, ["2 labels", "3 rows"]) { _ = try NPYData.read(features: features, labels: short) }
        let longText = try write("long.txt", "a\nb\nc\nd\n")
        expectFailure(longText, ["4 labels", "3 rows"]) { _ = try NPYData.read(features: features, labels: longText) }
        let blank = try write("blank.txt", "a\n\nc\n")
        expectFailure(blank, ["txt:2:", "empty label"]) { _ = try NPYData.read(features: features, labels: blank) }
        let spaced = try write("spaced.txt", "a\nb \nc\n")
        expectFailure(spaced, ["txt:2:", "spaces"]) { _ = try NPYData.read(features: features, labels: spaced) }
        let floatLabels = try write("f.npy", npy("<f4", [3], float32s([0, 1, 0])))
        expectFailure(floatLabels, ["int64"]) { _ = try NPYData.read(features: features, labels: floatLabels) }
        let nan = try write("nan.npy", npy("<f4", [2, 2], float32s([1, 2, .nan, 4])))
        expectFailure(nan, ["row 1, column 0", "not a finite"]) { _ = try NPYData.read(features: nan, labels: short) }
        let vector = try write("vector.npy", npy("<f4", [3], float32s([1, 2, 3])))
        expectFailure(vector, ["2-D"]) { _ = try NPYData.read(features: vector, labels: short) }
        let truncated = try write("trunc.npy", Array(npy("<f4", [3, 2], float32s([1, 2, 3, 4, 5, 6])).dropLast(3)))
        expectFailure(truncated, ["promises 24 bytes", "holds 21"]) { _ = try NPYData.read(features: truncated, labels: short) }
        let pairLabels = try write("pl.txt", "1\n0\nperhaps\n")
        expectFailure(pairLabels, ["txt:3:", "'perhaps'"]) { _ = try NPYData.readPairs(left: features, right: features, labels: pairLabels) }
        let narrow = try write("narrow.npy", npy("<f4", [3, 1], float32s([1, 2, 3])))
        expectFailure(narrow, ["differs"]) { _ = try NPYData.readPairs(left: features, right: narrow, labels: pairLabels) }
    }

    // MARK: - IDX

    func idx(_ type: UInt8, _ dims: [UInt32], _ payload: [UInt8]) -> [UInt8] {
        [0, 0, type, UInt8(dims.count)] + dims.flatMap { withUnsafeBytes(of: $0.bigEndian, Array.init) } + payload
    }

    @Test func idxImagesAndLabels() throws {
        let pixels: [UInt8] = [0, 255, 51, 102, 153, 204, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
        let images = try write("img-idx3-ubyte", idx(8, [3, 2, 3], pixels))
        let labels = try write("lbl-idx1-ubyte", idx(8, [3], [7, 1, 7]))
        let d = try IDX.read(images: images, labels: labels)
        #expect(d.channels == 1 && d.height == 2 && d.width == 3)
        #expect(d.dataset.features.shape == [3, 6])
        #expect(d.dataset.features.scalars == pixels.map { Float($0) / 255 })
        #expect(d.dataset.classNames == ["1", "7"] && d.dataset.labels == [1, 0, 1])
    }

    @Test("gzipped IDX files (as MNIST is distributed) read as the raw ones")
    func gzippedIDX() throws {
        let pixels: [UInt8] = [0, 51, 102, 153, 204, 255]
        let raw = try IDX.read(images: try write("raw-images", idx(8, [1, 2, 3], pixels)), labels: try write("raw-labels", idx(8, [1], [4])))
        let images = try write("images-idx3-ubyte.gz", [UInt8](gzipStored(Data(idx(8, [1, 2, 3], pixels)))))
        let labels = try write("labels-idx1-ubyte.gz", [UInt8](gzipStored(Data(idx(8, [1], [4])))))
        let gz = try IDX.read(images: images, labels: labels)
        #expect(gz.dataset.features.scalars == raw.dataset.features.scalars && gz.dataset.labels == raw.dataset.labels)
        #expect(IDX.isImageFile(images) && !IDX.isImageFile(labels))
        // Bytes after the gzip member are refused, not ignored.
        let trailing = try write("trailing-idx3-ubyte.gz", [UInt8](gzipStored(Data(idx(8, [1, 2, 3], pixels)))) + [0])
        expectFailure(trailing, ["gzip", "1 bytes follow the gzip stream"]) { _ = try IDX.read(images: trailing, labels: labels) }
    }

    @Test func malformedIDX() throws {
        let good = try write("good-labels", idx(8, [2], [0, 1]))
        let cases: [(String, [UInt8], [String])] = [
            ("empty", [], ["byte 0", "truncated"]),
            ("short-header", [0, 0, 8, 3, 0, 0, 0, 2, 0, 0], ["byte 10", "ends inside the header, which needs 16 bytes"]),
            ("label-as-image", idx(8, [2], [0, 1]), ["byte 0", "magic number 0x00000801, expected 0x00000803", "1 dimensions"]),
            ("gzipped-truncated", [0x1F, 0x8B, 8, 0, 0, 0, 0, 0], ["gzip", "truncated"]),
            ("gzipped-garbage", [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], ["gzip", "not a valid gzip stream"]),
            ("floats", idx(0x0D, [1, 1, 1], [0, 0, 0, 0]), ["byte 0", "element type 0xd"]),
            ("truncated", idx(8, [2, 2, 2], [1, 2, 3, 4, 5, 6, 7]), ["byte 23", "truncated", "2 × 2 × 2 = 8 bytes", "holds 7"]),
            ("trailing", idx(8, [2, 2, 2], [UInt8](repeating: 1, count: 9)), ["byte 24", "1 bytes of trailing data"]),
            ("zero", idx(8, [2, 0, 2], []), ["byte 8", "dimension 1 is 0"]),
            ("huge", idx(8, [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], []), ["byte 8", "more elements than can be addressed"]),
        ]
        for (name, bytes, expected) in cases {
            let url = try write(name, bytes)
            expectFailure(url, expected) { _ = try IDX.read(images: url, labels: good) }
        }
        let images = try write("images", idx(8, [3, 1, 1], [1, 2, 3]))
        expectFailure(good, ["2 labels", "3 images"]) { _ = try IDX.read(images: images, labels: good) }
        let imageAsLabels = try write("image-as-labels", idx(8, [3, 1, 1], [1, 2, 3]))
        expectFailure(imageAsLabels, ["byte 0", "expected 0x00000801"]) { _ = try IDX.readLabels(imageAsLabels) }
    }

    // MARK: - PGM/PPM images

    @Test func pnmKinds() throws {
        // Binary PGM with a comment in the header; the raster starts with a byte that looks like whitespace.
        let p5 = try PNM.decode(Array("P5\n# made by hand\n2 2\n255\n".utf8) + [0x0A, 255, 0, 51], file: "p5.pgm")
        #expect(p5.width == 2 && p5.height == 2 && p5.channels == 1)
        #expect(p5.samples == [10 / 255, 1, 0, 0.2])
        let p2 = try PNM.decode(Array("P2 3 1 4\n0 2\n4\n".utf8), file: "p2.pgm")
        #expect(p2.samples == [0, 0.5, 1])
        // RGB pixels (r, g, b) become channels-first planes.
        let p6 = try PNM.decode(Array("P6 2 1 255\n".utf8) + [255, 0, 51, 0, 255, 102], file: "p6.ppm")
        #expect(p6.channels == 3 && p6.samples == [1, 0, 0, 1, 0.2, 0.4])
        let p3 = try PNM.decode(Array("P3\n1 1\n10\n10 5 0\n".utf8), file: "p3.ppm")
        #expect(p3.samples == [1, 0.5, 0])
        let wide = try PNM.decode(Array("P5 2 1 65535\n".utf8) + [0xFF, 0xFF, 0x80, 0x00], file: "16.pgm")
        #expect(wide.maxValue == 65535 && wide.samples == [1, Float(0x8000) / 65535])
    }

    /// Header text, raster bytes, and what the error must say.
    static let malformedPNMs: [(String, [UInt8], [String])] = [
        ("P5\n2 x\n255\n", [1, 2], ["pgm:2:", "height", "'x'"]),
        ("P5 2 2 0\n", [0, 0, 0, 0], ["pgm:1:", "maxval: 0 is out of range"]),
        ("P5 2 2 70000\n", [], ["pgm:1:", "maxval: 70000"]),
        ("P5 2 2 255\n", [1, 2, 3], ["byte 14", "truncated", "holds 3"]),
        ("P5 1 1 255\n", [1, 2], ["byte 12", "1 bytes of trailing data"]),
        ("P5 2 1 100\n", [50, 200], ["byte 12", "sample 200 exceeds maxval 100"]),
        ("P5 2 1", [], ["pgm:1:", "truncated", "maxval"]),
        ("P2 2 2 9\n1 2\n3 12\n", [], ["pgm:3:", "sample 4 of 4: 12 is out of range"]),
        ("P2 2 1 9\n1 2 3\n", [], ["pgm:2:", "data after the last"]),
        ("P2 2 1 9\n1\n", [], ["pgm:2:", "truncated", "sample 2 of 2"]),
        ("P4 1 1\n", [0], ["pgm:1:", "P4"]),
        ("\u{89}PNG", [], ["pgm:1:", "not a PGM/PPM image"]),
    ]

    @Test(arguments: DataReaderTests.malformedPNMs)
    func malformedPNM(_ header: String, _ raster: [UInt8], _ expected: [String]) throws {
        let url = try write("bad.pgm", Array(header.utf8) + raster)
        expectFailure(url, expected) { _ = try PNM.read(url) }
    }

    func pgm(_ width: Int, _ height: Int, _ value: UInt8) -> [UInt8] {
        Array("P5 \(width) \(height) 255\n".utf8) + [UInt8](repeating: value, count: width * height)
    }

    @Test func imageFolderReadsClassesInOrder() throws {
        let root = dir.appendingPathComponent("digits")
        try write("digits/10/a.pgm", pgm(2, 3, 255))
        try write("digits/2/b.pgm", pgm(2, 3, 0))
        try write("digits/2/a.pgm", pgm(2, 3, 51))
        try write("digits/2/.DS_Store", [0, 1, 2])
        try write("digits/README.txt", "not an image")
        let d = try ImageFolder.read(root)
        #expect(d.dataset.classNames == ["2", "10"])
        #expect(d.dataset.labels == [0, 0, 1])
        #expect(d.channels == 1 && d.height == 3 && d.width == 2)
        #expect(d.files.map { URL(fileURLWithPath: $0).lastPathComponent } == ["a.pgm", "b.pgm", "a.pgm"])
        #expect(d.dataset.features.shape == [3, 6])
        #expect(d.dataset.features.scalars == [Float](repeating: 0.2, count: 6) + [Float](repeating: 0, count: 6) + [Float](repeating: 1, count: 6))
    }

    @Test func imageFolderColorModes() throws {
        let root = dir.appendingPathComponent("mixed")
        try write("mixed/gray/g.pgm", pgm(1, 1, 255))
        try write("mixed/rgb/c.ppm", Array("P6 1 1 255\n".utf8) + [255, 0, 0])
        expectFailure(root.appendingPathComponent("rgb/c.ppm"), ["image is RGB", "gray/g.pgm is grayscale"]) { _ = try ImageFolder.read(root) }
        let rgb = try ImageFolder.read(root, color: .rgb)
        #expect(rgb.channels == 3 && rgb.dataset.features.scalars == [1, 1, 1, 1, 0, 0])
        let gray = try ImageFolder.read(root, color: .grayscale)
        #expect(gray.channels == 1)
        #expect(abs(gray.dataset.features.scalars[1] - 0.299) < 1e-6)
    }

    @Test func malformedImageFolders() throws {
        let sizes = dir.appendingPathComponent("sizes")
        try write("sizes/a/1.pgm", pgm(2, 2, 1))
        let odd = try write("sizes/b/1.pgm", pgm(3, 2, 1))
        expectFailure(odd, ["3×2", "sizes/a/1.pgm is 2×2"]) { _ = try ImageFolder.read(sizes) }

        let broken = dir.appendingPathComponent("broken")
        try write("broken/a/1.pgm", pgm(2, 2, 1))
        let truncated = try write("broken/b/1.pgm", Array("P5 2 2 255\n".utf8) + [1])
        expectFailure(truncated, ["byte 12", "truncated"]) { _ = try ImageFolder.read(broken) }

        let stray = dir.appendingPathComponent("stray")
        try write("stray/a/1.pgm", pgm(1, 1, 1))
        let notes = try write("stray/a/notes.txt", "hello")
        expectFailure(notes, ["not a PGM/PPM image"]) { _ = try ImageFolder.read(stray) }

        let empty = dir.appendingPathComponent("empty")
        try write("empty/a/1.pgm", pgm(1, 1, 1))
        try FileManager.default.createDirectory(at: empty.appendingPathComponent("b"), withIntermediateDirectories: true)
        expectFailure(empty.appendingPathComponent("b"), ["empty class folder"]) { _ = try ImageFolder.read(empty) }

        let loose = dir.appendingPathComponent("loose")
        try write("loose/a/1.pgm", pgm(1, 1, 1))
        let rootImage = try write("loose/2.pgm", pgm(1, 1, 1))
        expectFailure(rootImage, ["inside a class folder"]) { _ = try ImageFolder.read(loose) }

        let none = dir.appendingPathComponent("none")
        try write("none/readme.txt", "x")
        expectFailure(none, ["no class folders"]) { _ = try ImageFolder.read(none) }

        let header = dir.appendingPathComponent("header")
        let maxval = try write("header/a/1.pgm", Array("P5\n# comment\n2 2\n0\n".utf8) + [0, 0, 0, 0])
        expectFailure(maxval, ["pgm:4:", "maxval: 0"]) { _ = try ImageFolder.read(header) }
    }

    // MARK: - Training on explicit pairs and triplets

    /// Separable synthetic pairs and triplets: items of 6 clusters in 10 dimensions; a pair is
    /// "same" when both come from one cluster.
    func syntheticPairs(count: Int, seed: UInt64) throws -> (PairDataset, TripletDataset) {
        let data = try clusteredData(classes: 6, perClass: 30, dimension: 10, noise: 0.8, seed: seed)
        var g = SeededGenerator(seed: seed + 1)
        let index = ClassIndex(labels: data.labels)
        var a: [Int] = [], b: [Int] = [], labels: [Float] = []
        var anchors: [Int] = [], positives: [Int] = [], negatives: [Int] = []
        for k in 0..<count {
            let i = g.nextInt(below: data.count)
            let positive = index.randomPositive(for: i, generator: &g)!
            let negative = index.randomNegative(for: i, generator: &g)!
            a.append(i)
            b.append(k % 2 == 0 ? positive : negative)
            labels.append(k % 2 == 0 ? 1 : 0)
            anchors.append(i); positives.append(positive); negatives.append(negative)
        }
        let pairs = try PairDataset(left: data.rows(a), right: data.rows(b), labels: labels)
        let triplets = try TripletDataset(anchor: data.rows(anchors), positive: data.rows(positives), negative: data.rows(negatives))
        return (pairs, triplets)
    }

    func network(head: Bool = false) -> SiameseNetwork {
        var g = SeededGenerator(seed: 5)
        return SiameseNetwork(encoder: EncoderConfiguration.mlp(MLPConfiguration(layers: [10, 32], embeddingDimension: 8, normalize: !head)).makeEncoder(seed: 4),
                              head: head ? LearnedHead(dimension: 8, generator: &g) : nil)
    }

    @Test(arguments: ["contrastive", "online", "bce", "cosine", "triplet"])
    func explicitTasksReduceTheLoss(_ kind: String) throws {
        let (pairs, triplets) = try syntheticPairs(count: 256, seed: 21)
        let config = TrainingConfiguration(epochs: 8, batchSize: 32, learningRate: 5e-3, seed: 22)
        let summary: TrainingSummary
        switch kind {
        case "contrastive": summary = try Trainer(model: network(), task: ExplicitPairTask(data: pairs, loss: .contrastive(ContrastiveLoss()), batchSize: 32), configuration: config).fit()
        case "online": summary = try Trainer(model: network(), task: ExplicitPairTask(data: pairs, loss: .onlineContrastive(OnlineContrastiveLoss()), batchSize: 32), configuration: config).fit()
        case "bce": summary = try Trainer(model: network(head: true), task: ExplicitPairTask(data: pairs, loss: .binaryCrossEntropy, batchSize: 32), configuration: config).fit()
        case "cosine": summary = try Trainer(model: network(), task: ExplicitPairTask(data: pairs, loss: .cosineSimilarity(CosineSimilarityLoss()), batchSize: 32), configuration: config).fit()
        default: summary = try Trainer(model: network(), task: ExplicitTripletTask(data: triplets, loss: TripletMarginLoss(margin: 0.3, distance: .cosine), batchSize: 32), configuration: config).fit()
        }
        #expect(summary.epochLosses.count == 8)
        #expect(summary.epochLosses.last! < 0.75 * summary.epochLosses.first!, "\(kind): \(summary.epochLosses)")
    }

    @Test func explicitTasksVisitEveryRowOncePerEpochInASeededOrder() throws {
        let (pairs, triplets) = try syntheticPairs(count: 50, seed: 23)
        let task = try ExplicitPairTask(data: pairs, loss: .contrastive(ContrastiveLoss()), batchSize: 16)
        let net = network()
        let first = try task.batches(epoch: 0, seed: 1, model: net)
        #expect(first.map(\.count) == [16, 16, 16, 2])
        #expect(first.flatMap { $0 }.sorted() == Array(0..<50))
        #expect(try task.batches(epoch: 0, seed: 1, model: net) == first)
        #expect(try task.batches(epoch: 1, seed: 1, model: net) != first)
        let tripletTask = try ExplicitTripletTask(data: triplets, loss: TripletMarginLoss(), batchSize: 20)
        #expect(try tripletTask.batches(epoch: 3, seed: 2, model: net).flatMap { $0 }.sorted() == Array(0..<50))
    }

    @Test func explicitTasksCheckTargetsAgainstTheLoss() throws {
        let scored = try PairDataset(left: Tensor(shape: [2, 2], [1, 0, 0, 1]), right: Tensor(shape: [2, 2], [1, 0, 1, 0]), labels: [0.5, 1])
        #expect(throws: SamplingError.self) { try ExplicitPairTask(data: scored, loss: .contrastive(ContrastiveLoss()), batchSize: 2) }
        _ = try ExplicitPairTask(data: scored, loss: .cosineSimilarity(CosineSimilarityLoss()), batchSize: 2)
        let tooHigh = try PairDataset(left: scored.left, right: scored.right, labels: [2, 1])
        #expect(throws: SamplingError.self) { try ExplicitPairTask(data: tooHigh, loss: .cosineSimilarity(CosineSimilarityLoss()), batchSize: 2) }
        // BCE needs the learned head.
        let binary = try PairDataset(left: scored.left, right: scored.right, labels: [0, 1])
        let bce = try ExplicitPairTask(data: binary, loss: .binaryCrossEntropy, batchSize: 2)
        #expect(bce.collapsedLoss == nil)
        let contrastive = try ExplicitPairTask(data: binary, loss: .contrastive(ContrastiveLoss(margin: 0.5)), batchSize: 2)
        #expect(contrastive.collapsedLoss == 0.0625)  // half the pairs differ: ½ · ½ · 0.5²
        #expect(try ExplicitTripletTask(data: TripletDataset(anchor: scored.left, positive: scored.left, negative: scored.right),
                                        loss: TripletMarginLoss(margin: 0.3), batchSize: 2).collapsedLoss == Double(Float(0.3)))
        #expect(throws: TrainingError.self) { try bce.batches(epoch: 0, seed: 0, model: SiameseNetwork(encoder: EncoderConfiguration.mlp(MLPConfiguration(layers: [2, 4], embeddingDimension: 2)).makeEncoder(seed: 1))) }
    }
}
