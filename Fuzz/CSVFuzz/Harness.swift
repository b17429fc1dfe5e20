// libFuzzer entry point for the scored-pairs CSV reader and calibration.json (built by
// Fuzz/run-libfuzzer.sh csv): the Evaluation module compiled with AddressSanitizer.
//
// The first byte picks the reader: even, scored pairs (with a group column when it is 2 mod 4);
// odd, a calibration record. The rest is the file.
import Evaluation
import FileSupport
import Foundation

private let calibrationPath = FileManager.default.temporaryDirectory
    .appendingPathComponent("siamese-libfuzzer-calibration-\(getpid()).json")

@_cdecl("LLVMFuzzerTestOneInput")
public func csvFuzzOne(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let selector = start.load(as: UInt8.self)
    let data = Data(bytes: start + 1, count: count - 1)
    if selector % 2 == 0 {
        let columns = selector % 4 == 2 ? ScoredPairsCSV.Columns(group: "group") : ScoredPairsCSV.Columns()
        guard let pairs = try? ScoredPairsCSV.parse(data, file: "fuzz.csv", columns: columns) else { return 0 }
        require(pairs.scores.count == pairs.labels.count && pairs.scores.allSatisfy(\.isFinite), "inconsistent pairs accepted")
        if let g = pairs.groupIndices {
            require(g.count == pairs.count && g.allSatisfy { $0 >= 0 && Int($0) < pairs.groupNames.count }, "group out of range")
        }
    } else {
        try? data.write(to: calibrationPath)
        guard let record = try? CalibrationRecord.load(calibrationPath) else { return 0 }
        require(record.threshold.isFinite, "non-finite threshold accepted")
        _ = record.isSame(0)
    }
    return 0
}

/// `precondition` whose message survives -O (libFuzzer shows it above the stack).
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
