import Evaluation
import FileSupport
import Foundation
import Testing

/// `calibration.json` (`CalibrationRecord.load`: `verify`, `evaluate --model`, `serve`).
struct CalibrationTarget: FuzzTarget {
    let name = "calibration"
    let quickIterations = 20  // more stalls (see Corpus/calibration/stalls): to investigate
    let directory = Fuzz.scratch("calibration")

    func mutate(_ seed: [UInt8], pool: [[UInt8]], _ m: inout Mutator) -> [UInt8] {
        m.json(seed, pool: pool, dictionary: ["\"threshold\"", "\"score_direction\"", "\"higher_is_same\"", "\"lower_is_same\"",
                                              "\"rule\"", "\"target_far\"", "\"format_version\"", "\"platt\""])
    }

    func check(_ input: [UInt8]) -> FuzzOutcome {
        let url = Fuzz.write(input, to: directory.appendingPathComponent(CalibrationRecord.fileName))
        let record: CalibrationRecord
        do { record = try CalibrationRecord.load(url) } catch {
            return error.file == url.path ? .rejected(kind: "InputError") : .violation("error names \(error.file): \(error)")
        }
        guard record.threshold.isFinite, record.formatVersion == CalibrationRecord.currentFormatVersion else {
            return .violation("accepted threshold \(record.threshold), version \(record.formatVersion)")
        }
        // Deciding with the record must work for any score, and what we write must read back the same.
        for s in [-Double.greatestFiniteMagnitude, -1, 0, record.threshold, 1, .greatestFiniteMagnitude] { _ = record.isSame(s) }
        do {
            let again = Fuzz.write(Array(try record.jsonData()), to: directory.appendingPathComponent("again.json"))
            let back = try CalibrationRecord.load(again)
            guard back.threshold == record.threshold, back.scoreDirection == record.scoreDirection else {
                return .violation("the record changed when written and read back")
            }
        } catch { return .violation("an accepted record cannot be written and read back: \(error)") }
        return .accepted
    }
}

@Suite("fuzz: calibration.json") struct CalibrationFuzz {
    @Test("corpus replay, then mutated calibration.json: a finite threshold, or an InputError naming the file")
    func fuzz() async throws { try await Fuzz.run(CalibrationTarget()) }
}
