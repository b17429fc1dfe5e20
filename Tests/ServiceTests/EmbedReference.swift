import Foundation
import Testing

/// Rows of a little-endian float32 `.npy` matrix (what `embed` writes), read here without the NPY
/// module, which this test target does not depend on.
func readNPYRows(_ url: URL) throws -> [[Float]] {
    let data = try Data(contentsOf: url)
    #expect(data.starts(with: [0x93] + Array("NUMPY".utf8)))
    let headerLength = Int(data[8]) | Int(data[9]) << 8
    let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
    #expect(header.contains("'<f4'") && header.contains("'fortran_order': False"), "\(header)")
    let shape = try #require(header.split(separator: "(").last?.split(separator: ")").first)
        .split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    try #require(shape.count == 2)
    let body = data.dropFirst(10 + headerLength)
    try #require(body.count == shape[0] * shape[1] * 4)
    let values = body.withUnsafeBytes { raw in
        (0..<(shape[0] * shape[1])).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
    return (0..<shape[0]).map { Array(values[($0 * shape[1])..<(($0 + 1) * shape[1])]) }
}

/// `siamese embed --model MODEL` on the one-line sentences of a reference file
/// (`{"sentences": [...], "embeddings": [[...]]}`, as the Benchmarks/reference scripts write):
/// every row within cosine 0.99999 and max abs difference 1e-5 of sentence-transformers' embedding.
/// - Parameters:
///   - model: the sentence-transformers folder.
///   - width: the model's embedding width.
///   - reference: the reference JSON file.
func expectEmbedMatchesReference(model: URL, width: Int, reference: URL) throws {
    let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: reference)) as? [String: Any])
    let sentences = try #require(json["sentences"] as? [String])
    let embeddings = try #require(json["embeddings"] as? [[NSNumber]]).map { $0.map(\.floatValue) }
    // One text per line: the sentences without line breaks or tabs (the truncated long ones included).
    let picked = sentences.indices.filter { i in
        !sentences[i].contains { $0.isNewline || $0 == "\t" } && !sentences[i].trimmingCharacters(in: .whitespaces).isEmpty
    }
    #expect(picked.count >= 20)
    let dir = try TemporaryFolder()
    try (picked.map { sentences[$0] }.joined(separator: "\n") + "\n").write(to: dir.file("texts.txt"), atomically: true, encoding: .utf8)
    let r = try SiameseExecutable.run(["embed", "--model", model.path, "--input", dir.file("texts.txt").path,
                                       "--output", dir.file("e.npy").path, "--threads", "2", "--format", "json"])
    #expect(r.status == 0, "\(r.stderr)")
    let summary = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any]
    #expect(summary?["dimension"] as? Int == width && summary?["rows"] as? Int == picked.count, "\(r.stdout)")
    let rows = try readNPYRows(dir.file("e.npy"))
    #expect(rows.count == picked.count)
    for (row, i) in zip(rows, picked) {
        let ref = embeddings[i]
        let dot = zip(row, ref).map { Double($0) * Double($1) }.reduce(0, +)
        let norms = (row.map { Double($0 * $0) }.reduce(0, +) * ref.map { Double($0 * $0) }.reduce(0, +)).squareRoot()
        let diff = zip(row, ref).map { abs($0 - $1) }.max() ?? 1
        #expect(row.count == width && dot / norms >= 0.99999 && diff <= 1e-5, "sentence \(i): cosine \(dot / norms), max abs diff \(diff)")
    }
}
