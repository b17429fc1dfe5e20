import Foundation
import Testing
@testable import VectorIndex

/// String ids saved with an index (the "NAME" section): every kind keeps them, compaction keeps
/// them valid, and a crafted section is refused with an error, never a crash.
@Suite("Index files: string ids")
struct IndexNamesTests {
    static let dim = 6
    static let ids = ["python3-ipalib", "é/ü ?%", "3", "ticket \"quoted\"", "a,b"]

    static func names(first: UInt64 = 0) -> IndexNames {
        var names = IndexNames()
        for (i, name) in ids.enumerated() {
            let inserted = names.insert(name, label: first + UInt64(i))
            #expect(inserted)
        }
        return names
    }

    @Test("every kind of index file saves and returns its string ids; files without them have none")
    func everyKindRoundTrips() throws {
        let dir = try TemporaryDirectory()
        let data = TestData.gaussian(Self.ids.count, Self.dim, seed: 71)
        let labels = (0..<Self.ids.count).map { UInt64(10 + $0) }
        let names = Self.names(first: 10)
        var exact = ExactIndex(dimension: Self.dim, metric: .l2)
        try exact.add(data, ids: labels)
        let hnsw = try HNSWIndex(dimension: Self.dim, metric: .cosine, configuration: HNSWConfiguration(m: 4, efConstruction: 16))
        try hnsw.add(data, ids: labels)
        let saves: [(String, (String) throws -> Void)] = [
            ("exact", { try exact.save(to: $0, fingerprint: "fp", names: names) }),
            ("hnsw", { try hnsw.save(to: $0, names: names) }),
            ("int8", { try ScalarQuantizedIndex(vectors: data, ids: labels, dimension: Self.dim, metric: .dot).save(to: $0, names: names) }),
            ("binary", { try BinaryQuantizedIndex(vectors: data, ids: labels, dimension: Self.dim, metric: .cosine).save(to: $0, names: names) }),
        ]
        for (kind, save) in saves {
            let path = dir.file("\(kind).idx").path
            try save(path)
            let read = try #require(try IndexNames.read(path: path), "\(kind)")
            #expect(read == names, "\(kind)")
            for (i, name) in Self.ids.enumerated() {
                #expect(read.label(of: name) == UInt64(10 + i) && read.name(of: UInt64(10 + i)) == name, "\(kind) \(name)")
            }
        }
        // The loaders check the section too, and the fingerprint survives beside it.
        _ = try ExactIndex.load(from: dir.file("exact.idx").path)
        _ = try HNSWIndex.load(from: dir.file("hnsw.idx").path)
        #expect(try IndexFileInfo.read(path: dir.file("exact.idx").path).fingerprint == "fp")
        let plain = dir.file("plain.idx").path
        try exact.save(to: plain)
        #expect(try IndexNames.read(path: plain) == nil)
    }

    @Test("compaction renumbers HNSW nodes but keeps labels, so the names still name the right vectors")
    func compactionKeepsNames() throws {
        let dir = try TemporaryDirectory()
        let data = TestData.gaussian(Self.ids.count, Self.dim, seed: 72)
        let hnsw = try HNSWIndex(dimension: Self.dim, metric: .l2, configuration: HNSWConfiguration(m: 4, efConstruction: 16))
        try hnsw.add(data)
        var names = Self.names()
        hnsw.remove([0, 1])
        names.remove(label: 0)
        names.remove(label: 1)
        _ = hnsw.compact()
        let path = dir.file("g.idx").path
        try hnsw.save(to: path, names: names)
        let loaded = try HNSWIndex.load(from: path)
        let read = try #require(try IndexNames.read(path: path))
        for i in 2..<Self.ids.count {
            let hit = try #require(try loaded.search(TestData.row(data, i, Self.dim), k: 1).first)
            #expect(read.name(of: hit.id) == Self.ids[i])
        }
        #expect(read.count == 3 && read.label(of: "python3-ipalib") == nil)
    }

    @Test("names are checked on insert: empty, too long, repeated, or a label named twice")
    func insertChecks() {
        var names = IndexNames()
        #expect(names.problem(with: "", label: 0) == "an empty id")
        #expect(names.problem(with: String(repeating: "x", count: IndexNames.maxNameBytes + 1), label: 0) != nil)
        let first = names.insert("a", label: 0), repeated = names.insert("a", label: 1)
        #expect(first && !repeated)
        #expect(names.problem(with: "a", label: 1) == "the id 'a' appears twice")
        let relabelled = names.insert("b", label: 0)
        #expect(!relabelled)
        #expect(names.count == 1)
    }

    /// A one-vector exact index whose NAME section holds `section`, resealed (valid checksums).
    static func crafted(_ section: [UInt8], in dir: TemporaryDirectory) throws -> String {
        let path = dir.file("crafted-\(UUID().uuidString).idx").path
        let vector: [Float] = [1, 0, 0, 0, 0, 0]
        let label: [UInt64] = [0]
        try vector.withUnsafeBytes { v in
            try label.withUnsafeBytes { l in
                try section.withUnsafeBytes { n in
                    try IndexFileFormat.write(path: path, kind: .exact, metric: .l2, dimension: Self.dim, count: 1,
                                              sections: [.init(tag: "VECS", bytes: v), .init(tag: "LABL", bytes: l), .init(tag: "NAME", bytes: n)])
                }
            }
        }
        return path
    }

    static func entry(_ label: UInt64, _ bytes: [UInt8], length: UInt32? = nil) -> [UInt8] {
        var w = ByteWriter()
        w.u64(label)
        w.u32(length ?? UInt32(bytes.count))
        w.bytes(bytes)
        return w.data
    }

    static func count(_ n: UInt64) -> [UInt8] {
        var w = ByteWriter()
        w.u64(n)
        return w.data
    }

    @Test("a crafted id section is refused with a message naming the problem, on load and on read")
    func craftedSectionsAreRefused() throws {
        let dir = try TemporaryDirectory()
        let cases: [(String, [UInt8])] = [
            ("shorter than its count", [1, 2, 3]),
            ("more than it can hold", Self.count(1 << 60) + Self.entry(0, [0x61])),
            ("runs past the end", Self.count(1) + Self.entry(0, [0x61], length: 1_000_000)),
            ("not UTF-8", Self.count(1) + Self.entry(0, [0xFF, 0xFE])),
            ("appears twice", Self.count(2) + Self.entry(0, [0x61]) + Self.entry(1, [0x61])),
            ("already has a name", Self.count(2) + Self.entry(0, [0x61]) + Self.entry(0, [0x62])),
            ("an empty id", Self.count(1) + Self.entry(0, [])),
            ("after the last id", Self.count(1) + Self.entry(0, [0x61]) + [0]),
        ]
        for (expected, section) in cases {
            let path = try Self.crafted(section, in: dir)
            let read = #expect(throws: IndexFileError.self) { try IndexNames.read(path: path) }
            #expect(read?.description.contains(expected) == true, "\(expected): \(read.map { "\($0)" } ?? "no error")")
            #expect(read?.file == path)
            #expect(throws: IndexFileError.self, "the loader checks it too: \(expected)") { try ExactIndex.load(from: path) }
        }
        // The well-formed twin of the cases loads.
        let good = try Self.crafted(Self.count(1) + Self.entry(0, Array("python3-ipalib".utf8)), in: dir)
        #expect(try IndexNames.read(path: good)?.name(of: 0) == "python3-ipalib")
        _ = try ExactIndex.load(from: good)
    }
}
