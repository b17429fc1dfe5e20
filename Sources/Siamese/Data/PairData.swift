import FileSupport
import Tensors

/// Pre-built pairs of feature vectors with a target per pair, for users whose data already says
/// which two items to compare (rather than class labels to sample pairs from).
///
/// Row `i` of ``left`` is compared with row `i` of ``right``. A target is `1` for "same" and `0`
/// for "different", or a similarity score (for ``CosineSimilarityLoss``, usually in [0, 1] or [-1, 1]).
public struct PairDataset: Sendable {
    /// First items, `[pairs, features]`.
    public let left: Tensor
    /// Second items, `[pairs, features]` (the same width as ``left``).
    public let right: Tensor
    /// One target per pair: 1 same / 0 different, or a similarity score.
    public let labels: [Float]

    /// Checks the shapes and that every value is finite.
    public init(left: Tensor, right: Tensor, labels: [Float]) throws {
        guard left.rank == 2, right.rank == 2 else {
            throw SamplingError("pair features must be [pairs, features], got \(left.shape) and \(right.shape)")
        }
        guard left.shape == right.shape else {
            throw SamplingError("the two sides of the pairs differ in shape: \(left.shape) and \(right.shape)")
        }
        guard left.shape[0] == labels.count else { throw SamplingError("\(left.shape[0]) pairs but \(labels.count) labels") }
        guard left.allFinite, right.allFinite else { throw SamplingError("pair features contain NaN or infinite values") }
        if let bad = labels.firstIndex(where: { !$0.isFinite }) { throw SamplingError("label of pair \(bad) is \(labels[bad])") }
        self.left = left.detached()
        self.right = right.detached()
        self.labels = labels
    }

    public var count: Int { labels.count }
    public var featureCount: Int { left.shape[1] }
    /// True when every target is 0 or 1 (same/different), as the contrastive and BCE losses need.
    public var hasBinaryLabels: Bool { labels.allSatisfy { $0 == 0 || $0 == 1 } }

    /// The pairs at `indices`, in that order.
    public func subset(_ indices: [Int]) throws -> PairDataset {
        try PairDataset(left: left.indexSelect(indices), right: right.indexSelect(indices), labels: indices.map { labels[$0] })
    }

    /// A seeded random split: `fraction` of the pairs go first (each side keeps file order).
    public func split(fraction: Double, seed: UInt64) throws -> (PairDataset, PairDataset) {
        let (first, second) = splitIndices(count, fraction: fraction, seed: seed)
        return (try subset(first), try subset(second))
    }
}

/// Pre-built (anchor, positive, negative) triplets of feature vectors: row `i` of each tensor
/// forms one triplet, for ``TripletMarginLoss``.
public struct TripletDataset: Sendable {
    /// `[triplets, features]` each, all of one shape.
    public let anchor: Tensor
    public let positive: Tensor
    public let negative: Tensor

    /// Checks the shapes and that every value is finite.
    public init(anchor: Tensor, positive: Tensor, negative: Tensor) throws {
        guard anchor.rank == 2, anchor.shape == positive.shape, anchor.shape == negative.shape else {
            throw SamplingError("triplets need three [triplets, features] tensors of one shape, got \(anchor.shape), \(positive.shape), \(negative.shape)")
        }
        guard anchor.allFinite, positive.allFinite, negative.allFinite else {
            throw SamplingError("triplet features contain NaN or infinite values")
        }
        self.anchor = anchor.detached()
        self.positive = positive.detached()
        self.negative = negative.detached()
    }

    public var count: Int { anchor.shape[0] }
    public var featureCount: Int { anchor.shape[1] }

    /// The triplets at `indices`, in that order.
    public func subset(_ indices: [Int]) throws -> TripletDataset {
        try TripletDataset(anchor: anchor.indexSelect(indices), positive: positive.indexSelect(indices),
                           negative: negative.indexSelect(indices))
    }

    /// A seeded random split: `fraction` of the triplets go first (each side keeps file order).
    public func split(fraction: Double, seed: UInt64) throws -> (TripletDataset, TripletDataset) {
        let (first, second) = splitIndices(count, fraction: fraction, seed: seed)
        return (try subset(first), try subset(second))
    }
}

/// Shuffled row numbers cut at `fraction`, each part sorted back into file order.
private func splitIndices(_ n: Int, fraction: Double, seed: UInt64) -> ([Int], [Int]) {
    var g = SeededGenerator(seed: seed)
    var order = Array(0..<n)
    g.shuffle(&order)
    let cut = min(n, max(0, Int((Double(n) * fraction).rounded())))
    return (order[..<cut].sorted(), order[cut...].sorted())
}

/// The spellings of a same/different target that the readers accept.
enum PairLabel {
    /// 1 for `1`, `1.0`, `same`, `true`, `yes`, `similar`; 0 for `0`, `0.0`, `different`, `false`, `no`,
    /// `dissimilar` (case-insensitive); nil for anything else, including other numbers: a 0.7 in a
    /// same/different column is a mistake to report, not a target to round.
    static func parse(_ text: String) -> Float? {
        switch text.lowercased() {
        case "1", "same", "true", "yes", "similar": return 1
        case "0", "different", "false", "no", "dissimilar": return 0
        default:
            guard let v = CSVLineReader.parseDouble(Array(text.utf8)), v == 0 || v == 1 else { return nil }
            return Float(v)
        }
    }

    static let accepted = "0/1, same/different, true/false or yes/no"
}

/// How the readers turn label text into class numbers, the same way ``FeatureCSV`` does: classes
/// sorted numerically when every label is an integer, otherwise as text.
enum ClassNumbering {
    static func number(_ texts: [String]) -> (labels: [Int], classNames: [String]) {
        let names = Array(Set(texts))
        let sorted = names.allSatisfy { Int($0) != nil } ? names.sorted { Int($0)! < Int($1)! } : names.sorted()
        let index = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, $0) })
        return (texts.map { index[$0]! }, sorted)
    }
}
