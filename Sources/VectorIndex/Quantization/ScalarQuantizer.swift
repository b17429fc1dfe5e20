/// int8 scalar quantisation with a calibrated range per dimension: component `d` is stored as
/// one byte `c`, standing for `minimum[d] + scale[d]·c` (c in 0...255).
///
/// Calibration takes each dimension's range from data, optionally clipping the extreme tails so
/// that a few outliers do not stretch the step size for everyone (values outside the range are
/// clamped). Four times smaller than float32, and scans read a quarter of the bytes.
public struct ScalarQuantizer: Sendable, Equatable {
    /// Components per vector (bytes per code).
    public let dimension: Int
    /// Lower end of each dimension's range.
    public let minimums: [Float]
    /// Step of each dimension: `(maximum − minimum) / 255` (never zero).
    public let scales: [Float]

    /// A quantiser with explicit ranges.
    /// - Parameters:
    ///   - minimums: Lower end of each dimension's range; finite.
    ///   - scales: Step of each dimension; finite and positive, same count as `minimums`.
    /// - Throws: ``IndexError/invalidArgument(_:)`` when empty, of different counts, or out of range.
    public init(minimums: [Float], scales: [Float]) throws(IndexError) {
        guard !minimums.isEmpty, minimums.count == scales.count else {
            throw .invalidArgument("ScalarQuantizer: \(minimums.count) minimums and \(scales.count) scales")
        }
        guard minimums.allSatisfy(\.isFinite), scales.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw .invalidArgument("ScalarQuantizer: ranges must be finite with positive steps")
        }
        dimension = minimums.count
        self.minimums = minimums
        self.scales = scales
    }

    /// Calibrates the ranges on row-major `vectors` (a sample of up to `maxSamples` rows is used).
    ///
    /// - Parameter clip: the fraction of values cut from each tail of every dimension (0 keeps
    ///   the full min...max range; 0.001 ignores the most extreme 0.1% on each side).
    public static func calibrate(_ vectors: [Float], dimension: Int, clip: Double = 0.0005, maxSamples: Int = 20_000) throws(IndexError) -> ScalarQuantizer {
        guard dimension > 0, !vectors.isEmpty, vectors.count % dimension == 0 else { throw .ragged(count: vectors.count, dimension: max(1, dimension)) }
        guard clip >= 0, clip < 0.5 else { throw .invalidArgument("clip must be in [0, 0.5), got \(clip)") }
        let n = vectors.count / dimension
        let step = max(1, n / maxSamples)
        let rows = Array(stride(from: 0, to: n, by: step))
        var minimums = [Float](repeating: 0, count: dimension), scales = minimums
        var column = [Float](repeating: 0, count: rows.count)
        for d in 0..<dimension {
            for (j, r) in rows.enumerated() { column[j] = vectors[r * dimension + d] }
            guard column.allSatisfy(\.isFinite) else { throw .invalidVector(row: 0, reason: "calibration data contains NaN or infinity") }
            column.sort()
            let cut = Int(Double(column.count - 1) * clip)
            let lo = column[cut], hi = column[column.count - 1 - cut]
            minimums[d] = lo
            scales[d] = hi > lo ? (hi - lo) / 255 : 1e-12
        }
        return try ScalarQuantizer(minimums: minimums, scales: scales)
    }

    /// Codes of row-major vectors (`count × dimension` bytes), rounding to the nearest step.
    public func encode(_ vectors: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: vectors.count)
        for i in 0..<(vectors.count / dimension) {
            for d in 0..<dimension {
                let c = ((vectors[i * dimension + d] - minimums[d]) / scales[d]).rounded()
                out[i * dimension + d] = UInt8(max(0, min(255, c.isNaN ? 0 : c)))
            }
        }
        return out
    }

    /// The vectors the codes stand for.
    public func decode(_ codes: [UInt8]) -> [Float] {
        codes.enumerated().map { i, c in minimums[i % dimension] + scales[i % dimension] * Float(c) }
    }
}
