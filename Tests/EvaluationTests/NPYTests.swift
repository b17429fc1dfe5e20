import Core
import Evaluation
import Foundation
import NPY
import Testing

@Suite("NPY files")
struct NPYTests {
    @Test("reads every dtype NumPy wrote, values and shapes exactly", arguments: ["f4_2d", "f8_1d", "i8_1d", "i4_2d", "f4_empty"])
    func readsNumPyFiles(key: String) throws {
        let reference = try #require(try Fixture.json("npy_reference.json").object("arrays")?.object(key))
        let array = try NPY.read(try Fixture.url("npy_\(key).npy"))
        #expect(array.shape == (reference["shape"] as! [Int]))
        #expect(array.dtype == reference["dtype"] as! String)
        let expected = reference["values"] as! [NSNumber]
        switch array.storage {
        case .float32(let v): #expect(v == expected.map { $0.floatValue })
        case .float64(let v):
            #expect(v.map(\.bitPattern) == expected.map { $0.doubleValue.bitPattern })  // keeps -0.0 distinct
        case .int64(let v): #expect(v == expected.map { $0.int64Value })
        case .int32(let v): #expect(v == expected.map { $0.int32Value })
        }
    }

    @Test("reads format versions 2.0 and 3.0", arguments: [2, 3])
    func readsLaterVersions(version: Int) throws {
        let v1 = try NPY.read(try Fixture.url("npy_f4_2d.npy"))
        let other = try NPY.read(try Fixture.url("npy_f4_2d_v\(version).npy"))
        #expect(v1 == other)
    }

    @Test("encodes byte for byte what NumPy writes", arguments: ["f4_2d", "f8_1d", "i8_1d", "i4_2d", "f4_empty"])
    func encodesLikeNumPy(key: String) throws {
        let url = try Fixture.url("npy_\(key).npy")
        #expect(NPY.encode(try NPY.read(url)) == (try Data(contentsOf: url)))
    }

    @Test("round-trips through an atomic write")
    func roundTrip() throws {
        let dir = try TemporaryDirectory()
        let url = dir.url.appendingPathComponent("x.npy")
        let values = (0..<30).map { Float($0) * 0.25 - 3 }
        try NPY.write(NPYArray(float32: values, rows: 10, cols: 3), to: url)
        let back = try NPY.read(url)
        let m = try back.float32Matrix()
        #expect(m.rows == 10 && m.cols == 3 && m.values == values)
        try NPY.write(NPYArray(int64: [5, -6, 7]), to: url)  // replaces the file
        #expect(try NPY.read(url).int64Values() == [5, -6, 7])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { $0 != "x.npy" }
        #expect(leftovers.isEmpty, "temporary files left behind: \(leftovers)")
    }

    @Test("refuses dtypes, orders and shapes it does not handle", arguments: [
        ("npy_bad_fortran.npy", "Fortran"), ("npy_bad_bigendian.npy", ">f4"), ("npy_bad_3d.npy", "shape"), ("npy_bad_uint8.npy", "|u1"),
    ])
    func refusesUnsupported(file: String, mention: String) throws {
        let url = try Fixture.url(file)
        let error = #expect(throws: NPYError.self) { try NPY.read(url) }
        #expect(error?.description.contains(mention) == true, "\(String(describing: error))")
        #expect(error?.description.contains(file) == true, "the error names the file")
    }

    @Test("every truncation of a valid file is a clear error, never a crash")
    func truncations() throws {
        let data = try Data(contentsOf: try Fixture.url("npy_f4_2d.npy"))
        for length in 0..<data.count {
            #expect(throws: NPYError.self) { try NPY.decode(data.prefix(length)) }
        }
        #expect(throws: NPYError.self) { try NPY.decode(data + Data([0])) }  // trailing byte
    }

    @Test("random byte corruption gives a value or an NPYError, never a crash")
    func corruption() throws {
        let original = try Data(contentsOf: try Fixture.url("npy_i4_2d.npy"))
        var rng = SeededGenerator(seed: 2024)
        var decoded = 0, refused = 0
        for _ in 0..<3000 {
            var data = original
            for _ in 0...rng.nextInt(below: 3) {
                // Mostly the header, where a flip changes the meaning of everything after it.
                let i = rng.nextInt(below: 10) < 8 ? rng.nextInt(below: min(data.count, 128)) : rng.nextInt(below: data.count)
                data[i] = UInt8(truncatingIfNeeded: rng.next())
            }
            do {
                let a = try NPY.decode(data)
                #expect(a.storage.count == a.shape.reduce(1, *))
                decoded += 1
            } catch {
                refused += 1
            }
        }
        #expect(decoded + refused == 3000 && refused > 0)
    }

    @Test("crafted headers are rejected before any allocation")
    func craftedHeaders() throws {
        func file(_ header: String, version: UInt8 = 1, declaredLength: Int? = nil, payload: Int = 0) -> Data {
            var d = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0])
            let length = declaredLength ?? header.utf8.count
            if version == 1 { d.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)]) } else {
                d.append(contentsOf: (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) })
            }
            d.append(contentsOf: Array(header.utf8))
            d.append(Data(count: payload))
            return d
        }
        let good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n"
        #expect(try NPY.decode(file(good, payload: 8)).shape == [2])
        let cases: [(Data, String)] = [
            (file("{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 100000000000), }\n"), "too many elements"),
            (file("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000,), }\n"), "promises 4000000000 bytes"),
            (file("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }\n"), "too large"),
            (file("{'descr': '<f4', 'fortran_order': False}\n"), "missing key"),
            (file("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}\n", payload: 8), "unexpected key"),
            (file("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\n", payload: 8), "duplicate"),
            (file("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,)}\n", payload: 8), "True or False"),
            (file("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}\n", payload: 8), "simple dtype"),
            (file("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk\n", payload: 8), "after the dictionary"),
            (file(good, version: 2, declaredLength: 0x7FFF_FFFF), "implausibly large"),
            (file(good, declaredLength: 200), "truncated"),
            (file(good, version: 4), "version 4.0"),
            (file("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }\n"), "integer"),
        ]
        for (data, mention) in cases {
            let error = #expect(throws: NPYError.self) { try NPY.decode(data) }
            #expect(error?.description.contains(mention) == true, "expected '\(mention)' in: \(String(describing: error))")
        }
        #expect(throws: NPYError.self) { try NPY.decode(Data("not numpy at all".utf8)) }
    }

    @Test("typed accessors convert or refuse")
    func accessors() throws {
        let f64 = NPYArray(float64: [1.5, 2.5])
        #expect(try f64.float32Matrix().values == [1.5, 2.5])
        #expect(try f64.float32Matrix().cols == 1)
        #expect(throws: NPYError.self) { try f64.int64Values() }
        #expect(throws: NPYError.self) { try NPYArray(int64: [1]).float32Matrix() }
        #expect(throws: NPYError.self) { try NPYArray(shape: [2, 2], storage: .float32([1, 2, 3])) }
    }
}
