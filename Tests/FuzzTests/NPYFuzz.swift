import Foundation
import NPY
import Testing

/// The `.npy` reader (embeddings, ids and labels for `index`, `embed`, `evaluate retrieval`).
struct NPYTarget: FuzzTarget {
    let name = "npy"
    let quickIterations = 4000

    static let dictionary = ["'descr'", "'<f4'", "'<f8'", "'<i8'", "'<i4'", "'>f4'", "'|u1'", "'fortran_order'", "False", "True",
                             "'shape'", "(", ")", ",", ":", "{", "}", "(0, 100000000000000000)", "(-1,)", "(3, 4, 5)", "()"]

    func mutate(_ seed: [UInt8], pool: [[UInt8]], _ m: inout Mutator) -> [UInt8] {
        var b = seed
        switch m.rng.below(4) {
        case 0:  // edit the header dict only, keeping the preamble length consistent
            guard b.count >= 8 else { return m.bytes(b, pool: pool) }
            let lengthBytes = b[6] == 1 ? 2 : 4
            let start = 8 + lengthBytes
            // A stacked mutation can leave 10 or 11 bytes with a version-2 length field of 4
            // (this read past the end once: SIGILL in a 60 s run, seed 1840919826144172481).
            guard b.count >= start else { return m.bytes(b, pool: pool) }
            let n = (0..<lengthBytes).reduce(0) { $0 | Int(b[8 + $1]) << (8 * $1) }
            guard start + n <= b.count else { return m.bytes(b, pool: pool) }
            var header = Array(b[start..<(start + n)])
            if m.rng.chance(0.5) { header = m.bytes(header, dictionary: Self.dictionary) } else { m.replaceNumber(&header) }
            var out = Array(b[0..<8])
            for k in 0..<lengthBytes { out.append(UInt8(truncatingIfNeeded: header.count >> (8 * k))) }
            b = out + header + Array(b[(start + n)...])
            if m.rng.chance(0.3) { b = m.bytes(b) }
            return b
        default: return m.bytes(b, pool: pool, dictionary: Self.dictionary)
        }
    }

    func check(_ input: [UInt8]) -> FuzzOutcome {
        let array: NPYArray
        // The block reader (store import) accepts exactly the float arrays decode accepts, with the same values.
        let mapped = Result { () throws(NPYError) -> NPYMatrixFile in try NPYMatrixFile(data: Data(input)) }
        do { array = try NPY.decode(Data(input)) } catch {
            if case .success = mapped { return .violation("NPYMatrixFile accepted a file decode refuses (\(error))") }
            return .rejected(kind: "NPYError.\(Fuzz.kind(error.reason))")
        }
        if let m = try? array.float32Matrix() {
            guard case .success(let file) = mapped else { return .violation("NPYMatrixFile refused a float array decode accepts") }
            guard file.rows == m.rows, file.cols == m.cols, file.shape == array.shape else { return .violation("NPYMatrixFile shape \(file.shape)") }
            let all = file.values(rows: 0..<file.rows)
            guard all.map(\.bitPattern) == m.values.map(\.bitPattern) else { return .violation("NPYMatrixFile values differ from decode's") }
            guard file.firstNonFinite(rows: 0..<file.rows) == all.firstIndex(where: { !$0.isFinite }) else {
                return .violation("NPYMatrixFile.firstNonFinite \(String(describing: file.firstNonFinite(rows: 0..<file.rows))) vs \(String(describing: all.firstIndex(where: { !$0.isFinite })))")
            }
            if file.rows > 1 {
                let tail = file.values(rows: 1..<(file.rows + 5))  // clamped to the matrix
                guard tail.map(\.bitPattern) == m.values.dropFirst(m.cols).map(\.bitPattern) else { return .violation("NPYMatrixFile rows 1… differ") }
            }
        } else if case .success = mapped {
            return .violation("NPYMatrixFile accepted an integer array")
        }
        let elements = array.shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? -1 : $0 * $1 }
        guard (1...2).contains(array.shape.count), array.shape.allSatisfy({ $0 >= 0 }), elements == array.storage.count else {
            return .violation("shape \(array.shape) for \(array.storage.count) elements")
        }
        // The file's data section is exactly elements × item size, so no element exists that the bytes do not back.
        guard array.storage.count <= input.count / 4 else { return .violation("\(array.storage.count) elements from \(input.count) bytes") }
        do {
            let m = try array.float32Matrix()
            guard m.rows * m.cols == m.values.count else { return .violation("float32Matrix \(m.rows)×\(m.cols) with \(m.values.count) values") }
        } catch {}
        do { _ = try array.int64Values() } catch {}
        // What we write reads back the same.
        do {
            let back = try NPY.decode(NPY.encode(array))
            guard back.shape == array.shape, back.storage.count == array.storage.count else { return .violation("round trip changed the shape") }
        } catch { return .violation("re-encoding an accepted array gives a file the reader refuses: \(error)") }
        return .accepted
    }
}

@Suite("fuzz: .npy") struct NPYFuzz {
    @Test("corpus replay, then mutated .npy files: consistent arrays, or an NPYError")
    func fuzz() async throws { try await Fuzz.run(NPYTarget()) }

    @Test("the mutator handles inputs of every short length (a 10-byte input once made it read past the end)")
    func mutatorOnShortInputs() {
        let pool = Fuzz.corpus("npy").map(\.bytes)
        var mutator = Mutator(seed: 1_840_919_826_144_172_481)
        var produced = 0
        for seed in pool {
            for length in 0...min(seed.count, 16) {
                var input = Array(seed.prefix(length))
                if length > 6 { input[6] = 2 }  // a version-2 header: a 4-byte length field
                for _ in 0..<50 { produced += NPYTarget().mutate(input, pool: pool, &mutator).count >= 0 ? 1 : 0 }
            }
        }
        #expect(produced == pool.count * 17 * 50)
    }

    @Test("firstNonFinite finds the first NaN or infinity anywhere in long matrices (block edges, float64 narrowed), as a scan of the values does")
    func firstNonFiniteAgreesWithAScan() throws {
        let rows = 3000, cols = 7  // 21,000 values: several 4,096-value blocks and a partial one
        for (position, value) in [(0, Float.nan), (4095, .infinity), (4096, -.infinity), (8191, .nan), (20_999, .nan), (12_345, -.nan)] {
            var values = (0..<(rows * cols)).map { Float($0 % 97) - 48.5 }
            values[position] = value
            let file = try NPYMatrixFile(data: NPY.encode(NPYArray(float32: values, rows: rows, cols: cols)))
            #expect(file.firstNonFinite(rows: 0..<rows) == position)
            #expect(file.firstNonFinite(rows: (position / cols + 1)..<rows) == nil || position / cols + 1 >= rows)
            #expect(file.firstNonFinite(rows: (position / cols)..<rows) == position % cols)
        }
        let clean = try NPYMatrixFile(data: NPY.encode(NPYArray(float32: (0..<1000).map { Float($0) * 3.4e35 }, rows: 100, cols: 10)))
        #expect(clean.firstNonFinite(rows: 0..<100) == nil)
        // float64: finite doubles beyond float32's range count as infinite, as values(rows:) narrows them.
        var doubles = [Double](repeating: 1.5, count: 5000)
        doubles[4200] = 1e300
        let wide = try NPYMatrixFile(data: NPY.encode(NPYArray(float64: doubles)))
        #expect(wide.firstNonFinite(rows: 0..<5000) == 4200 && wide.values(rows: 4200..<4201)[0].isInfinite)
    }
}
