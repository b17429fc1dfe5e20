import Foundation
import Testing
@testable import VectorIndex

/// Index files of every kind (`index search|add|remove|compact|info`, `serve`): exact, HNSW, int8
/// scalar-quantised and binary-quantised. Most mutations are followed by recomputing every
/// checksum, so that the structural checks, not the CRCs, must catch them; a loaded index is then
/// searched (and an HNSW one grown and compacted).
struct IndexFileTarget: FuzzTarget {
    let name = "index"
    let quickIterations = 2500
    let directory = Fuzz.scratch("index")

    func mutate(_ seed: [UInt8], pool: [[UInt8]], _ m: inout Mutator) -> [UInt8] {
        var b = seed
        switch m.rng.below(5) {
        case 0:  // header fields (kind, metric, dimension, count, length, section count)
            for _ in 0..<(1 + m.rng.below(2)) where b.count >= 64 {
                let field = m.rng.pick([(10, 2), (12, 1), (16, 4), (20, 4), (24, 8), (32, 8)])
                let v = m.rng.chance(0.5) ? m.rng.pick(Mutator.interestingIntegers) : m.rng.next() % 4096
                for k in 0..<field.1 { b[field.0 + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
            }
        case 1:  // section table entries: offsets, lengths, tags
            let sections = b.count >= 64 ? min(Int(b[20]), (b.count - 64) / 32) : 0
            if sections > 0 {
                let e = 64 + 32 * m.rng.below(sections)
                let (at, width) = m.rng.pick([(0, 4), (8, 8), (16, 8)])
                let v = m.rng.chance(0.5) ? m.rng.pick(Mutator.interestingIntegers) : UInt64(m.rng.below(b.count + 64))
                for k in 0..<width { b[e + at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
            }
        case 2:  // payload bytes: vectors, links, levels, ids, parameters
            let start = b.count >= 64 ? min(b.count, 64 + 32 * Int(b[20])) : 0
            for _ in 0..<(1 + m.rng.below(8)) where start < b.count {
                let at = start + m.rng.below(b.count - start)
                b[at] = m.rng.chance(0.5) ? UInt8(truncatingIfNeeded: m.rng.next()) : m.rng.pick([0, 0xFF, 0x7F, 0x80, 1])
            }
        default: b = m.bytes(b, pool: pool)
        }
        if m.rng.chance(0.85) { Self.reseal(&b) }
        return b
    }

    /// Recomputes the section, table and header checksums after a deliberate change.
    static func reseal(_ b: inout [UInt8]) {
        guard b.count >= 64 else { return }
        let sections = min(Int(b[20]) | Int(b[21]) << 8, (b.count - 64) / 32)
        let tableEnd = 64 + 32 * sections
        for i in 0..<sections {
            let e = 64 + 32 * i
            let offset = (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[e + 8 + $1]) << (8 * UInt64($1)) }
            let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[e + 16 + $1]) << (8 * UInt64($1)) }
            guard offset <= UInt64(b.count), length <= UInt64(b.count) - offset else { continue }
            let c = b[Int(offset)..<Int(offset + length)].withUnsafeBytes { IndexFileFormat.crc($0) }
            for k in 0..<4 { b[e + 4 + k] = UInt8(truncatingIfNeeded: c >> (8 * k)) }
        }
        let t = b[64..<tableEnd].withUnsafeBytes { IndexFileFormat.crc($0) }
        for k in 0..<4 { b[56 + k] = UInt8(truncatingIfNeeded: t >> (8 * k)) }
        let h = b[0..<60].withUnsafeBytes { IndexFileFormat.crc($0) }
        for k in 0..<4 { b[60 + k] = UInt8(truncatingIfNeeded: h >> (8 * k)) }
    }

    func check(_ input: [UInt8]) -> FuzzOutcome {
        let path = Fuzz.write(input, to: directory.appendingPathComponent("fuzz.idx")).path
        let kind = input.count >= 12 ? Int(input[10]) | Int(input[11]) << 8 : 1
        let verify = Fuzz.fnv1a(input).hasSuffix("0") == false  // mostly verifying, sometimes structural checks alone
        let options = IndexLoadOptions(verifyChecksums: verify, copyIntoMemory: input.count % 2 == 0)
        do {
            let info = try IndexFileInfo.read(path: path, verifyChecksums: verify)
            guard info.bytes == input.count, (1...IndexFileFormat.maxDimension).contains(info.dimension), info.count >= 0 else {
                return .violation("info \(info) for a \(input.count)-byte file")
            }
            let query = (0..<info.dimension).map { Float(($0 % 7) - 3) }
            var results: [SearchResult]
            switch kind {
            case 2:
                let index = try HNSWIndex.load(from: path, options: options)
                results = try index.search(query, k: 5, ef: 16)
                _ = try index.search(query, k: 3, filter: .predicate { $0 % 2 == 0 })
                try index.add(query)
                _ = index.compact()
                guard index.count >= 1 else { return .violation("an index with an added vector is empty") }
            case 3:
                let index = try ScalarQuantizedIndex.load(from: path, options: options)
                results = try index.search(query, k: 5)
                guard results.count <= min(5, index.count) else { return .violation("\(results.count) results from \(index.count) items") }
            case 4:
                let index = try BinaryQuantizedIndex.load(from: path, options: options)
                results = try index.search(query, k: 5)
                guard results.count <= min(5, index.count) else { return .violation("\(results.count) results from \(index.count) items") }
            default:
                let index = try ExactIndex.load(from: path, options: options)
                results = try index.search(query, k: 5)
                guard results.count <= min(5, index.count) else { return .violation("\(results.count) results from \(index.count) items") }
            }
            guard Set(results.map(\.id)).count == results.count else { return .violation("an id appears twice in one result list") }
        } catch let error as IndexFileError {
            return error.file == path ? .rejected(kind: "IndexFileError.\(Fuzz.kind(error.reason))") : .violation("error names \(error.file): \(error)")
        } catch is IndexError {
            return .rejected(kind: "IndexError")
        } catch {
            return .violation("unexpected error type \(type(of: error)): \(error)")
        }
        return .accepted
    }
}

@Suite("fuzz: index files") struct IndexFileFuzz {
    @Test("corpus replay, then mutated and resealed index files of every kind: a searchable index, or an IndexFileError")
    func fuzz() async throws { try await Fuzz.run(IndexFileTarget()) }
}
