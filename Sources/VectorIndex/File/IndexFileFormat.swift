import Core
import CKernels

/// The container format shared by every index file.
///
/// ```
/// offset  size  field
///      0     8  magic  89 53 56 49 44 58 0D 0A  ("\x89SVIDX\r\n": binary, catches text-mode copies)
///      8     2  format version (1)
///     10     2  kind: 1 exact, 2 HNSW, 3 int8 scalar-quantised, 4 binary-quantised
///     12     1  metric: 0 cosine, 1 dot, 2 L2
///     13     3  reserved (0)
///     16     4  dimension
///     20     4  section count (≤ 32)
///     24     8  item count (node slots for HNSW, tombstones included)
///     32     8  file length in bytes
///     40    16  reserved (0)
///     56     4  CRC-32C of the section table
///     60     4  CRC-32C of bytes 0..<60
///     64  32·n  section table: tag (4 ASCII bytes), CRC-32C of the payload, offset (8), length (8), reserved (8)
///      …        payloads, each at a 64-byte-aligned offset (so vectors map with SIMD alignment), zero padding between
/// ```
/// All integers little-endian, floats IEEE-754 binary32 little-endian.
///
/// Reading checks, before trusting any number: the magic, version and header checksum; that the
/// file is as long as the header says; that every section lies inside the file, aligned, without
/// overlap; and (by default) every section's checksum. Each kind then checks its sections' exact
/// sizes against the header, so no allocation is ever sized from an unchecked field.
public enum IndexFileFormat {
    /// The version this build writes and reads.
    public static let version: UInt16 = 1
    static let magic: [UInt8] = [0x89, 0x53, 0x56, 0x49, 0x44, 0x58, 0x0D, 0x0A]
    static let headerSize = 64
    static let sectionEntrySize = 32
    static let maxSections = 32
    static let maxDimension = 1 << 16
    /// The largest vector dimension an index file holds (readers refuse larger ones, so builders
    /// refuse them before writing: a file no reader accepts must never replace a good one).
    public static var maximumDimension: Int { maxDimension }

    typealias Kind = IndexKind

    /// A payload to write: its four-letter tag and bytes.
    struct Section {
        let tag: String
        let bytes: UnsafeRawBufferPointer
    }

    static func crc(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        bytes.count == 0 ? 0 : ck_ix_crc32c(0, bytes.baseAddress!, bytes.count)
    }

    static func tagValue(_ tag: String) -> UInt32 {
        ensure(tag.utf8.count == 4, "IndexFileFormat: section tag \"\(tag)\" is not 4 bytes")
        return tag.utf8.reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func tagName(_ value: UInt32) -> String {
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
        return bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F } ? String(decoding: bytes, as: UTF8.self) : String(format: "0x%08x", value)
    }

    static func alignUp(_ n: Int) -> Int { (n + 63) & ~63 }

    /// Writes a complete file atomically.
    static func write(path: String, kind: Kind, metric: Metric, dimension: Int, count: Int, sections: [Section],
                      failAfterBytes: Int? = nil) throws(IndexFileError) {
        ensure(sections.count <= maxSections, "IndexFileFormat: \(sections.count) sections, at most \(maxSections)")
        var offset = alignUp(headerSize + sections.count * sectionEntrySize)
        var table = ByteWriter()
        var layout: [(offset: Int, section: Section)] = []
        for s in sections {
            table.u32(tagValue(s.tag))
            table.u32(crc(s.bytes))
            table.u64(UInt64(offset))
            table.u64(UInt64(s.bytes.count))
            table.u64(0)
            layout.append((offset, s))
            offset = alignUp(offset + s.bytes.count)
        }
        let fileLength = layout.last.map { $0.offset + $0.section.bytes.count } ?? headerSize + sections.count * sectionEntrySize
        var header = ByteWriter()
        header.bytes(magic)
        header.u16(version)
        header.u16(kind.rawValue)
        header.u8(metric.code)
        header.bytes([0, 0, 0])
        header.u32(UInt32(dimension))
        header.u32(UInt32(sections.count))
        header.u64(UInt64(count))
        header.u64(UInt64(fileLength))
        header.bytes([UInt8](repeating: 0, count: 16))
        header.u32(table.data.withUnsafeBytes { crc($0) })
        header.u32(header.data.withUnsafeBytes { crc($0) })
        assert(header.data.count == headerSize)

        do throws(DurableWriteError) {
            let writer = try DurableFileWriter(path: path, interruption: failAfterBytes.map { .failAfter(bytes: $0) })
            try writer.write(header.data)
            try writer.write(table.data)
            var position = headerSize + table.data.count
            for (o, s) in layout {
                try writer.writeZeros(o - position)
                try writer.write(s.bytes)
                position = o + s.bytes.count
            }
            try writer.commit()
        } catch {
            throw IndexFileError(.io(error.reason), file: path)
        }
    }

    /// A checked view of an index file's header and sections.
    struct Contents {
        let file: MappedFile
        let path: String
        let kind: Kind
        let metric: Metric
        let dimension: Int
        let count: Int
        private let sections: [String: (offset: Int, length: Int)]

        /// Opens `path` and checks the container (see ``IndexFileFormat``); section checksums only
        /// when `verifyChecksums`.
        init(path: String, verifyChecksums: Bool) throws(IndexFileError) {
            let file = try MappedFile(path: path)
            self.file = file
            self.path = path
            func fail(_ r: IndexFileError.Reason) -> IndexFileError { IndexFileError(r, file: path) }
            let bytes = UnsafeRawBufferPointer(start: file.base, count: file.count)
            guard bytes.count >= magic.count, zip(bytes.prefix(magic.count), magic).allSatisfy({ $0 == $1 }) else {
                throw fail(bytes.count < magic.count && bytes.elementsEqual(magic.prefix(bytes.count)) ? .truncated("\(bytes.count) bytes, no room for the header") : .notAnIndex)
            }
            guard bytes.count >= headerSize else { throw fail(.truncated("\(bytes.count) bytes, shorter than the \(headerSize)-byte header")) }
            var r = ByteReader(bytes)
            r.skip(8)
            let version = r.u16()
            guard crc(UnsafeRawBufferPointer(rebasing: bytes[0..<60])) == bytes.loadUnaligned(fromByteOffset: 60, as: UInt32.self).littleEndian else {
                // A newer writer may change the header layout; say so rather than "corrupt" when the version differs.
                if version != IndexFileFormat.version { throw fail(.unsupportedVersion(version)) }
                throw fail(.checksumMismatch("the header"))
            }
            guard version == IndexFileFormat.version else { throw fail(.unsupportedVersion(version)) }
            let kindValue = r.u16()
            guard let kind = Kind(rawValue: kindValue) else { throw fail(.malformed("unknown index kind \(kindValue)")) }
            let metricCode = r.u8()
            guard let metric = Metric(code: metricCode) else { throw fail(.malformed("unknown metric code \(metricCode)")) }
            r.skip(3)
            let dimension = Int(r.u32())
            let sectionCount = Int(r.u32())
            let count = r.u64()
            let fileLength = r.u64()
            r.skip(16)
            let tableCRC = r.u32()
            guard dimension >= 1, dimension <= maxDimension else { throw fail(.malformed("dimension \(dimension) outside 1...\(maxDimension)")) }
            guard sectionCount <= maxSections else { throw fail(.malformed("\(sectionCount) sections (at most \(maxSections))")) }
            guard fileLength <= UInt64(Int.max), Int(fileLength) == bytes.count else {
                if fileLength > UInt64(bytes.count) { throw fail(.truncated("the header says \(fileLength) bytes, the file has \(bytes.count)")) }
                throw fail(.malformed("the header says \(fileLength) bytes, the file has \(bytes.count) (trailing data)"))
            }
            // Every kind stores an 8-byte id per item: a bound on `count` before anyone allocates from it.
            guard count <= UInt64(bytes.count / 8) else {
                throw fail(.malformed("\(count) items cannot fit in \(bytes.count) bytes"))
            }
            let tableEnd = headerSize + sectionCount * sectionEntrySize
            guard tableEnd <= bytes.count else { throw fail(.truncated("the section table runs past the end")) }
            guard crc(UnsafeRawBufferPointer(rebasing: bytes[headerSize..<tableEnd])) == tableCRC else { throw fail(.checksumMismatch("the section table")) }
            var sections: [String: (offset: Int, length: Int)] = [:]
            var extents: [(Int, Int, String)] = []
            var t = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[headerSize..<tableEnd]))
            for _ in 0..<sectionCount {
                let tag = tagName(t.u32())
                let sectionCRC = t.u32()
                let offset = t.u64(), length = t.u64()
                t.skip(8)
                guard offset <= fileLength, length <= fileLength - offset else {
                    throw fail(.truncated("section \(tag) (\(length) bytes at \(offset)) runs past the end of the file"))
                }
                guard offset % 64 == 0, Int(offset) >= tableEnd else { throw fail(.malformed("section \(tag) at a misaligned or overlapping offset \(offset)")) }
                guard sections[tag] == nil else { throw fail(.malformed("section \(tag) appears twice")) }
                let o = Int(offset), l = Int(length)
                if verifyChecksums, crc(UnsafeRawBufferPointer(rebasing: bytes[o..<(o + l)])) != sectionCRC {
                    throw fail(.checksumMismatch("section \(tag)"))
                }
                sections[tag] = (o, l)
                extents.append((o, o + l, tag))
            }
            extents.sort { $0.0 < $1.0 }
            for (a, b) in zip(extents, extents.dropFirst()) where a.1 > b.0 {
                throw fail(.malformed("sections \(a.2) and \(b.2) overlap"))
            }
            self.kind = kind
            self.metric = metric
            self.dimension = dimension
            self.count = Int(count)
            self.sections = sections
        }

        func error(_ r: IndexFileError.Reason) -> IndexFileError { IndexFileError(r, file: path) }

        func expectKind(_ k: Kind) throws(IndexFileError) {
            guard kind == k else { throw error(.wrongKind(expected: k.name, found: kind.name)) }
        }

        /// The payload of a section whose length must be exactly `bytes` (nil = any length, at
        /// most `maxBytes`). Throws when it is missing or has another length.
        func section(_ tag: String, bytes expected: Int?, maxBytes: Int = .max) throws(IndexFileError) -> UnsafeMutableRawBufferPointer {
            guard let s = sections[tag] else { throw error(.malformed("section \(tag) is missing")) }
            if let expected, s.length != expected { throw error(.malformed("section \(tag) has \(s.length) bytes, expected \(expected)")) }
            guard s.length <= maxBytes else { throw error(.malformed("section \(tag) has \(s.length) bytes, at most \(maxBytes) allowed")) }
            return UnsafeMutableRawBufferPointer(start: file.base + s.offset, count: s.length)
        }

        func hasSection(_ tag: String) -> Bool { sections[tag] != nil }

        /// `a · b · c…` in bytes, or a malformed-file error when it overflows.
        func size(_ factors: Int...) throws(IndexFileError) -> Int {
            var p = 1
            for f in factors {
                let (r, o) = p.multipliedReportingOverflow(by: f)
                guard !o, f >= 0 else { throw error(.malformed("section size overflows")) }
                p = r
            }
            return p
        }
    }
}

/// Little-endian field writer for headers and small sections.
struct ByteWriter {
    var data: [UInt8] = []
    mutating func u8(_ v: UInt8) { data.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func bytes(_ b: [UInt8]) { data.append(contentsOf: b) }
}

/// Little-endian field reader over bytes whose length the caller has checked.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
    mutating func skip(_ n: Int) { offset += n }
    mutating func u8() -> UInt8 { defer { offset += 1 }; return bytes[offset] }
    mutating func u16() -> UInt16 { defer { offset += 2 }; return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)) }
    mutating func u32() -> UInt32 { defer { offset += 4 }; return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
    mutating func u64() -> UInt64 { defer { offset += 8 }; return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
}
