import FileSupport
import Evaluation
import Foundation
import Testing

@Suite("Scored-pairs CSV input")
struct CSVTests {
    private func parse(_ text: String, group: String? = nil) throws(InputError) -> ScoredPairs {
        try ScoredPairsCSV.parse(Data(text.utf8), file: "pairs.csv", columns: .init(group: group))
    }

    private func failure(_ text: String, group: String? = nil) -> InputError? {
        #expect(throws: InputError.self) { try parse(text, group: group) }
    }

    @Test("reads scores, labels and groups; ignores other columns, CRLF, BOM, quotes and blank lines")
    func reads() throws {
        let text = "\u{FEFF}id,score,label,region\r\n1,0.5,1,\"north, upper\"\r\n2,-1.25e-1,0,south\r\n\r\n3, 2 ,1,\"say \"\"hi\"\"\"\r\n"
        let pairs = try parse(text, group: "region")
        #expect(pairs.scores == [0.5, -0.125, 2])
        #expect(pairs.labels == [true, false, true])
        #expect(pairs.groupNames == ["north, upper", "south", "say \"hi\""])
        #expect(pairs.groupIndices == [0, 1, 2])
    }

    @Test("reads the committed fixtures with the right class counts")
    func fixtures() throws {
        let reference = try #require(try Fixture.json("verification_reference.json").object("sets"))
        for (name, value) in reference {
            let expected = try #require(value as? [String: Any])
            let pairs = try ScoredPairsCSV.read(try Fixture.url("pairs_\(name).csv"))
            #expect(pairs.genuineCount == expected.int("genuine"))
            #expect(pairs.impostorCount == expected.int("impostor"))
        }
    }

    @Test("a malformed number names file, line and field")
    func malformedNumber() {
        let e = failure("score,label\n0.5,1\n0.3x,0\n")
        #expect(e == InputError(file: "pairs.csv", line: 3, field: "score", message: "'0.3x' is not a number"))
        #expect(e?.description == "pairs.csv:3: score: '0.3x' is not a number")
    }

    @Test("NaN and infinite scores are refused", arguments: ["nan", "NaN", "inf", "-Infinity", "1e999"])
    func nonFinite(value: String) {
        let e = failure("score,label\n0.5,1\n\(value),0\n")
        #expect(e?.line == 3 && e?.field == "score")
        #expect(e?.message.contains("finite") == true, "\(String(describing: e))")
    }

    @Test("other spellings strtod would accept are not numbers", arguments: ["0x1p3", "", " ", "1e", "--1", "1.2.3", ".", "e5"])
    func notNumbers(value: String) {
        let e = failure("score,label\n\(value),1\n")
        #expect(e?.line == 2 && e?.field == "score", "\(String(describing: e))")
    }

    @Test("labels other than 0 and 1 are refused", arguments: ["2", "-1", "yes", "1.0", "", "true"])
    func badLabels(value: String) {
        let e = failure("score,label\n0.5,\(value)\n")
        #expect(e?.line == 2 && e?.field == "label", "\(String(describing: e))")
    }

    @Test("missing columns list what the header has")
    func missingColumns() {
        let e = failure("similarity,label\n0.5,1\n")
        #expect(e?.line == 1 && e?.field == "score")
        #expect(e?.message == "missing column 'score'; the header has: similarity, label")
        let g = failure("score,label\n0.5,1\n", group: "region")
        #expect(g?.field == "region")
    }

    @Test("rows with the wrong number of fields are refused")
    func wrongFieldCount() {
        let e = failure("score,label\n0.5,1\n0.5\n")
        #expect(e?.line == 3)
        #expect(e?.message.contains("expected 2 fields") == true)
        #expect(failure("score,label\n0.5,1,extra\n")?.line == 2)
    }

    @Test("empty files, header-only files, duplicate columns and broken quotes are refused")
    func structural() {
        #expect(failure("")?.message.contains("empty") == true)
        #expect(failure("\n\n")?.message.contains("empty") == true)
        #expect(failure("score,label\n")?.message.contains("no data rows") == true)
        #expect(failure("score,label,score\n1,1,1\n")?.message.contains("twice") == true)
        #expect(failure("score,label,g\n1,1,\"open\n", group: "g")?.message.contains("unterminated") == true)
        #expect(failure("score,label,g\n1,1,\n", group: "g")?.message.contains("empty group") == true)
    }

    @Test("a missing file is an error naming it")
    func missingFile() {
        let e = #expect(throws: InputError.self) {
            try ScoredPairsCSV.read(URL(fileURLWithPath: "/nonexistent/pairs.csv"))
        }
        #expect(e?.file == "/nonexistent/pairs.csv")
    }

    @Test("labels files: one per line, blank or padded lines refused")
    func labelsFile() throws {
        let dir = try TemporaryDirectory()
        #expect(try LabelsFile.read(try dir.file("a.txt", contents: "cat\ndog\r\ncat\n")) == ["cat", "dog", "cat"])
        let blank = #expect(throws: InputError.self) { try LabelsFile.read(try dir.file("b.txt", contents: "cat\n\ndog\n")) }
        #expect(blank?.line == 2)
        let padded = #expect(throws: InputError.self) { try LabelsFile.read(try dir.file("c.txt", contents: "cat\n dog\n")) }
        #expect(padded?.line == 2)
        #expect(throws: InputError.self) { try LabelsFile.read(try dir.file("d.txt", contents: "")) }
    }
}
