/// Binary quantisation: one bit per dimension, set when the component is above that dimension's
/// threshold, packed into 64-bit words; vectors compare by Hamming distance (popcount).
///
/// 32 times smaller than float32. Calibrated thresholds (each dimension's median) put half the
/// values on each side, which keeps every bit informative even for embeddings that are not
/// centred on zero (sentence embeddings rarely are).
public struct BinaryQuantizer: Sendable, Equatable {
    /// Components per vector (number of bits per code).
    public let dimension: Int
    /// A component above `thresholds[d]` sets bit `d`.
    public let thresholds: [Float]

    /// 64-bit words per code.
    public var words: Int { (dimension + 63) / 64 }

    /// A quantiser with explicit thresholds.
    /// - Parameters:
    ///   - thresholds: One finite threshold per dimension; a component above it sets the bit.
    /// - Throws: ``IndexError/invalidArgument(_:)`` when empty or not finite.
    public init(thresholds: [Float]) throws(IndexError) {
        guard !thresholds.isEmpty, thresholds.allSatisfy(\.isFinite) else { throw .invalidArgument("BinaryQuantizer: thresholds must be finite and non-empty") }
        dimension = thresholds.count
        self.thresholds = thresholds
    }

    /// Thresholds at zero (sign bits), for centred data.
    public static func signs(dimension: Int) throws(IndexError) -> BinaryQuantizer {
        try BinaryQuantizer(thresholds: [Float](repeating: 0, count: dimension))
    }

    /// Per-dimension medians of row-major `vectors` (from up to `maxSamples` rows).
    public static func calibrate(_ vectors: [Float], dimension: Int, maxSamples: Int = 20_000) throws(IndexError) -> BinaryQuantizer {
        guard dimension > 0, !vectors.isEmpty, vectors.count % dimension == 0 else { throw .ragged(count: vectors.count, dimension: max(1, dimension)) }
        let n = vectors.count / dimension
        let rows = Array(stride(from: 0, to: n, by: max(1, n / maxSamples)))
        var thresholds = [Float](repeating: 0, count: dimension)
        var column = [Float](repeating: 0, count: rows.count)
        for d in 0..<dimension {
            for (j, r) in rows.enumerated() { column[j] = vectors[r * dimension + d] }
            guard column.allSatisfy(\.isFinite) else { throw .invalidVector(row: 0, reason: "calibration data contains NaN or infinity") }
            column.sort()
            thresholds[d] = column[column.count / 2]
        }
        return try BinaryQuantizer(thresholds: thresholds)
    }

    /// Codes of row-major vectors: `count × words` words.
    public func encode(_ vectors: [Float]) -> [UInt64] {
        let n = vectors.count / dimension, w = words
        var out = [UInt64](repeating: 0, count: n * w)
        for i in 0..<n {
            for d in 0..<dimension where vectors[i * dimension + d] > thresholds[d] {
                out[i * w + d / 64] |= 1 << UInt64(d % 64)
            }
        }
        return out
    }
}
