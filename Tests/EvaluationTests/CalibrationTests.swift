import FileSupport
import Evaluation
import Foundation
import Testing

@Suite("Threshold selection and saved calibration")
struct CalibrationTests {
    static let rules: [(String, ThresholdRule)] = [
        ("target_far:0.2", .targetFAR(0.2)), ("target_far:0.05", .targetFAR(0.05)), ("target_far:0.01", .targetFAR(0.01)),
        ("target_far:0.001", .targetFAR(0.001)), ("target_frr:0.2", .targetFRR(0.2)), ("target_frr:0.05", .targetFRR(0.05)),
        ("target_frr:0.01", .targetFRR(0.01)), ("max_accuracy", .maxAccuracy), ("max_f1", .maxF1), ("eer", .equalErrorRate),
    ]

    @Test("every rule picks the threshold the reference picks, or says no threshold exists", arguments: ReferenceSet.all)
    func rules(set: ReferenceSet) throws {
        let (_, curve, reference) = try set.load()
        let expectedRules = try #require(reference.object("rules"))
        for (key, rule) in Self.rules {
            let expected = expectedRules[key] as? [String: Any]
            if let expected {
                let point = try curve.select(rule)
                #expect(point.threshold == expected.double("threshold"), "\(set.name) \(key)")
                try expectMetrics(point.counts, expected)
            } else {
                let error = #expect(throws: ThresholdUnreachable.self, "\(set.name) \(key)") { try curve.select(rule) }
                #expect(error?.description.contains("no threshold meets") == true)
            }
        }
    }

    @Test("an unreachable target explains itself and reports the best achievable rate")
    func unreachable() throws {
        let (_, curve, _) = try ReferenceSet(name: "overlap_top").load()
        let error = #expect(throws: ThresholdUnreachable.self) { try curve.select(.targetFAR(0.01)) }
        #expect(error?.bestAchievable == 0.2)  // the top score is one of 5 impostors
        #expect(error?.description.contains("overlap") == true)
    }

    @Test("the fingerprint equals SHA-256 of the pairs computed by hashlib", arguments: ReferenceSet.all)
    func fingerprint(set: ReferenceSet) throws {
        let (pairs, _, reference) = try set.load()
        #expect(pairs.fingerprint() == reference["fingerprint"] as? String)
    }

    @Test("calibration.json is written atomically, reloaded and used for decisions")
    func saveAndLoad() throws {
        let (pairs, curve, _) = try ReferenceSet(name: "distance").load()
        let dir = try TemporaryDirectory()
        #expect(try CalibrationRecord.load(fromModelDirectory: dir.url) == nil)
        var record = try curve.calibrate(.targetFAR(0.05), pairs: pairs, bootstrap: BootstrapOptions(replicates: 500, seed: 3))
        record.platt = try PlattScaling(scores: pairs.scores, labels: pairs.labels)
        try record.save(toModelDirectory: dir.url)
        let loaded = try #require(try CalibrationRecord.load(fromModelDirectory: dir.url))
        #expect(loaded == record)
        #expect(loaded.scoreDirection == .lowerIsSame && loaded.rule == .targetFAR(0.05))
        #expect(loaded.isSame(loaded.threshold) && !loaded.isSame(loaded.threshold + 0.01))
        let json = String(decoding: try Data(contentsOf: dir.url.appendingPathComponent("calibration.json")), as: UTF8.self)
        for key in ["\"threshold\"", "\"rule\"", "\"target_far\"", "\"data_fingerprint\" : \"sha256:", "\"created\"", "\"score_direction\" : \"lower_is_same\""] {
            #expect(json.contains(key), "calibration.json lacks \(key)")
        }
        // Evaluation with the record uses its threshold, not a rule of its own.
        let report = try VerificationReport.evaluate(pairs, options: .init(calibration: loaded, calibrationSource: "calibration.json"))
        #expect(report.operatingPoint.threshold == record.threshold)
        #expect(report.thresholdSource == "calibration")
        #expect(report.json["score_direction"] == .string("lower_is_same"))
        // Same data, same seed: same intervals.
        let again = try curve.calibrate(.targetFAR(0.05), pairs: pairs, bootstrap: BootstrapOptions(replicates: 500, seed: 3))
        #expect(again.farInterval == record.farInterval && again.frrInterval == record.frrInterval)
    }

    @Test("a damaged or foreign calibration file is refused with the field named")
    func badRecords() throws {
        let dir = try TemporaryDirectory()
        let missing = try dir.file("a.json", contents: #"{"format_version": 1, "score_direction": "higher_is_same"}"#)
        let e1 = #expect(throws: InputError.self) { try CalibrationRecord.load(missing) }
        #expect(e1?.field != nil)
        let future = try dir.file("b.json", contents: #"""
            {"format_version": 9, "threshold": 0.5, "score_direction": "higher_is_same", "rule": {"kind": "eer"}, "far": 0, "frr": 0,
             "genuine_count": 1, "impostor_count": 1, "data_fingerprint": "sha256:00", "created": "2024-01-01T00:00:00Z"}
            """#)
        let e2 = #expect(throws: InputError.self) { try CalibrationRecord.load(future) }
        #expect(e2?.field == "format_version")
        let badRule = try dir.file("c.json", contents: #"""
            {"format_version": 1, "threshold": 0.5, "score_direction": "higher_is_same", "rule": {"kind": "magic"}, "far": 0, "frr": 0,
             "genuine_count": 1, "impostor_count": 1, "data_fingerprint": "sha256:00", "created": "2024-01-01T00:00:00Z"}
            """#)
        #expect(throws: InputError.self) { try CalibrationRecord.load(badRule) }
        #expect(throws: InputError.self) { try CalibrationRecord.load(try dir.file("d.json", contents: "not json")) }
    }

    @Test("bootstrap intervals contain the point estimate, narrow with more data, and repeat with the seed")
    func bootstrapIntervals() throws {
        let options = BootstrapOptions(replicates: 2000, seed: 11)
        let small = try #require(Bootstrap.rateInterval(errors: 10, trials: 100, options: options))
        let large = try #require(Bootstrap.rateInterval(errors: 1000, trials: 10_000, options: options))
        #expect(small.lower < 0.1 && small.upper > 0.1)
        #expect(large.lower < 0.1 && large.upper > 0.1)
        #expect(large.upper - large.lower < (small.upper - small.lower) / 5)
        // For a binomial proportion the percentile bootstrap is close to the Wilson interval.
        let wilson = try #require(ProportionInterval.wilson(successes: 1000, trials: 10_000))
        #expect(abs(large.lower - wilson.lower) < 0.002 && abs(large.upper - wilson.upper) < 0.002)
        #expect(Bootstrap.rateInterval(errors: 10, trials: 100, options: options) == small)
        // The seed matters: intervals from different seeds are not all the same.
        let bySeed = Set((1...8).map { Bootstrap.rateInterval(errors: 1000, trials: 10_000, options: BootstrapOptions(replicates: 2000, seed: $0))!.lower })
        #expect(bySeed.count > 1)
        let zero = try #require(Bootstrap.rateInterval(errors: 0, trials: 50, options: options))
        #expect(zero.lower == 0 && zero.upper == 0)
    }
}
