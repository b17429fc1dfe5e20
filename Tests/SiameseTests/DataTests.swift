import FileSupport
import Foundation
import Testing
@testable import Siamese
import Tensors

@Suite struct DataTests {
    func write(_ text: String) throws -> URL {
        let url = temporaryDirectory().appendingPathComponent("data.csv")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func readsFeaturesAndLabels() throws {
        let url = try write("a,b,species\n1,2,cat\n3,4.5,dog\n-1,0,cat\n")
        let table = try FeatureCSV.read(url, labelColumn: "species")
        #expect(table.featureColumns == ["a", "b"])
        #expect(table.dataset.features.scalars == [1, 2, 3, 4.5, -1, 0])
        #expect(table.dataset.labels == [0, 1, 0])
        #expect(table.dataset.classNames == ["cat", "dog"])
        // Integer labels sort numerically, not as text.
        let numeric = try FeatureCSV.read(try write("x,label\n1,10\n2,9\n3,10\n"), labelColumn: "label")
        #expect(numeric.dataset.classNames == ["9", "10"])
        #expect(numeric.dataset.labels == [1, 0, 1])
    }

    @Test func readsNamedColumnsInModelOrder() throws {
        let url = try write("id,b,a,label\n7,2,1,x\n8,4,3,y\n")
        let t = try FeatureCSV.readFeatures(url, columns: ["a", "b"])
        #expect(t.shape == [2, 2])
        #expect(t.scalars == [1, 2, 3, 4])
    }

    @Test(arguments: [
        ("a,b\n1,2\n", "label", "no such column"),
        ("a,label\n1,x\nnope,y\n", "label", "csv:3: a"),
        ("a,label\n1,x\n2\n", "label", "1 fields"),
        ("a,label\nnan,x\n", "label", "not a number"),
        ("a,label\n1e39,x\n", "label", "not a finite"),
        ("a,label\n", "label", "no data rows"),
        ("", "label", "empty file"),
        ("a,label\n1,\n", "label", "empty label"),
    ])
    func badFilesGiveErrorsNamingTheProblem(_ text: String, _ column: String, _ expected: String) throws {
        let url = try write(text)
        do {
            _ = try FeatureCSV.read(url, labelColumn: column)
            Issue.record("accepted bad input: \(text)")
        } catch let error as InputError {
            #expect(error.description.contains(expected), "\(error)")
            #expect(error.description.contains(url.path))
        }
    }

    @Test func missingModelColumnIsAnError() throws {
        let url = try write("a,label\n1,x\n")
        #expect(throws: InputError.self) { try FeatureCSV.readFeatures(url, columns: ["a", "b"]) }
    }

    @Test func splitKeepsEveryClassOnBothSides() throws {
        let data = try clusteredData(classes: 4, perClass: 10, dimension: 3, seed: 1)
        let (a, b) = try data.split(fraction: 0.7, seed: 2)
        #expect(a.count == 28 && b.count == 12)
        #expect(Set(a.labels) == Set(b.labels))
        let open = try data.filter { $0 < 2 }
        #expect(Set(open.labels) == [0, 1])
    }
}
