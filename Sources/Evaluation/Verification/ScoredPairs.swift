import FileSupport

/// Scored pairs for verification: one score, a same/different label and optionally a group per pair.
///
/// Scores are checked to be finite on construction, so every later computation can trust them.
public struct ScoredPairs: Sendable {
    /// One score per pair.
    public let scores: [Double]
    /// `true` for a same (genuine) pair, `false` for a different (impostor) pair.
    public let labels: [Bool]
    /// For each pair, an index into ``groupNames``; `nil` when no group column was given.
    public let groupIndices: [Int32]?
    /// Distinct group names, in order of first appearance.
    public let groupNames: [String]

    /// Creates scored pairs; throws when lengths differ or a score is NaN or infinite.
    /// - Parameters:
    ///   - scores: One finite score per pair.
    ///   - labels: `true` for a same pair; same length as `scores`.
    ///   - groups: One group name per pair, interned in order of first appearance, or nil (default nil).
    public init(scores: [Double], labels: [Bool], groups: [String]? = nil) throws(EvaluationError) {
        var indices: [Int32]? = nil
        var names: [String] = []
        if let groups {
            guard groups.count == scores.count else {
                throw EvaluationError("\(groups.count) groups for \(scores.count) scores")
            }
            var lookup: [String: Int32] = [:]
            var out = [Int32]()
            out.reserveCapacity(groups.count)
            for g in groups {
                if let k = lookup[g] { out.append(k); continue }
                let k = Int32(names.count)
                lookup[g] = k
                names.append(g)
                out.append(k)
            }
            indices = out
        }
        try self.init(scores: scores, labels: labels, groupIndices: indices, groupNames: names)
    }

    /// Creates scored pairs from already-interned groups (what the CSV reader produces).
    /// - Parameters:
    ///   - scores: One finite score per pair.
    ///   - labels: `true` for a same pair; same length as `scores`.
    ///   - groupIndices: One index into `groupNames` per pair, or nil without groups.
    ///   - groupNames: The distinct group names.
    public init(scores: [Double], labels: [Bool], groupIndices: [Int32]?, groupNames: [String]) throws(EvaluationError) {
        guard scores.count == labels.count else {
            throw EvaluationError("\(scores.count) scores but \(labels.count) labels")
        }
        if let i = scores.firstIndex(where: { !$0.isFinite }) {
            throw EvaluationError("score \(i) is \(scores[i]): scores must be finite numbers")
        }
        if let groupIndices {
            guard groupIndices.count == scores.count else {
                throw EvaluationError("\(groupIndices.count) group indices for \(scores.count) scores")
            }
            guard groupIndices.allSatisfy({ $0 >= 0 && Int($0) < groupNames.count }) else {
                throw EvaluationError("a group index is out of range")
            }
        }
        self.scores = scores
        self.labels = labels
        self.groupIndices = groupIndices
        self.groupNames = groupNames
    }

    /// Number of pairs.
    public var count: Int { scores.count }
    /// Number of same (label 1) pairs.
    public var genuineCount: Int { labels.reduce(0) { $0 + ($1 ? 1 : 0) } }
    /// Number of different (label 0) pairs.
    public var impostorCount: Int { count - genuineCount }

    /// SHA-256 of the pairs in order: each score's IEEE-754 bits (8 bytes, little-endian) then its
    /// label byte. It identifies the calibration data independently of how the CSV was formatted.
    public func fingerprint() -> String {
        var hasher = SHA256()
        let perBlock = 4096
        withUnsafeTemporaryAllocation(byteCount: 9 * perBlock, alignment: 8) { block in
            var start = 0
            while start < scores.count {
                let end = Swift.min(scores.count, start + perBlock)
                var o = 0
                for i in start..<end {
                    block.storeBytes(of: scores[i].bitPattern.littleEndian, toByteOffset: o, as: UInt64.self)
                    block[o + 8] = labels[i] ? 1 : 0
                    o += 9
                }
                hasher.update(UnsafeRawBufferPointer(rebasing: block[0..<o]))
                start = end
            }
        }
        return "sha256:" + hasher.finalize().hexString
    }
}
