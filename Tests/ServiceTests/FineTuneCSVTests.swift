import Foundation
import Testing

/// `siamese finetune --data PAIRS.csv` (issue 16: inputs as users have them): a CSV with named
/// columns trains as the JSON lines do; quoted texts may hold commas and quotes; bad files name the
/// file, line and column.
@Suite("siamese finetune from CSV", .enabled(if: RealTextModel.folder != nil && SiameseExecutable.url != nil, "all-MiniLM-L6-v2 or the executable not found (skipped, not passed)"))
struct FineTuneCSVTests {
    @Test func labelledPairsInACSVTrainContrastive() throws {
        let dir = try TemporaryFolder()
        let model = try #require(RealTextModel.folder).path
        let csv = #"""
            a,b,label
            "a cat, sitting","a kitten ""resting""",1
            the market fell,shares dropped,1
            a cat sits,the market fell,0
            shares dropped,a kitten rests,0

            """#
        try csv.write(to: dir.file("pairs.csv"), atomically: true, encoding: .utf8)
        let r = try SiameseExecutable.run(["finetune", "--model", model, "--data", dir.file("pairs.csv").path, "--loss", "contrastive",
                                           "--batch-size", "2", "--output", dir.file("tuned").path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("fine-tuned 4 examples"), "\(r.stdout)")
        #expect(FileManager.default.fileExists(atPath: dir.file("tuned/modules.json").path))

        for (name, text, message) in [
            ("nolabel.csv", "a,b\nx,y\n", "nolabel.csv:1: label: "),
            ("badlabel.csv", "sentence1,sentence2,label\nx,y,0.5\n", "badlabel.csv:2: label: a label is 0 or 1"),
            ("empty.csv", "a,b,label\n,y,1\n", "empty.csv:2: a: empty text"),
        ] {
            try text.write(to: dir.file(name), atomically: true, encoding: .utf8)
            let bad = try SiameseExecutable.run(["finetune", "--model", model, "--data", dir.file(name).path, "--loss", "contrastive",
                                                 "--output", dir.file("bad").path])
            #expect(bad.status == 1, "\(name)")
            #expect(bad.stderr.contains(message), "\(name): \(bad.stderr)")
        }
    }
}
