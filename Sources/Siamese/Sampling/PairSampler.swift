import Tensors

/// Balanced same/different pairs from labelled items, with a chosen positive:negative ratio.
///
/// Each epoch draws `pairsPerEpoch` pairs: `positiveFraction` of them join two items of one class
/// (anchors drawn from classes with at least two items), the rest join items of different classes.
/// Drawing anchors uniformly over items, not classes, keeps the class mix of the data; pass
/// `balanceClasses: true` to draw the anchor's class uniformly instead (rare classes get as many
/// pairs as common ones — the usual fix for class imbalance).
public struct PairSampler: Sendable {
    public let index: ClassIndex
    public let positiveFraction: Double
    public let pairsPerEpoch: Int
    public let balanceClasses: Bool

    public init(labels: [Int], positiveFraction: Double = 0.5, pairsPerEpoch: Int? = nil, balanceClasses: Bool = false) throws {
        guard (0...1).contains(positiveFraction) else { throw SamplingError("positive fraction must be in [0, 1], got \(positiveFraction)") }
        index = ClassIndex(labels: labels)
        if positiveFraction > 0 && index.classesWithPairs.isEmpty {
            throw SamplingError("no class has two items, so no positive pair exists (\(labels.count) items, \(index.classes.count) classes)")
        }
        if positiveFraction < 1 && index.classes.count < 2 {
            throw SamplingError("only one class (\(index.classes.first.map(String.init) ?? "none")), so no negative pair exists")
        }
        self.positiveFraction = positiveFraction
        self.pairsPerEpoch = pairsPerEpoch ?? labels.count
        self.balanceClasses = balanceClasses
    }

    /// Parses "1:3" (one positive per three negatives) into a positive fraction of 0.25.
    public static func fraction(fromRatio ratio: String) throws -> Double {
        let parts = ratio.split(separator: ":").compactMap { Double($0) }
        guard parts.count == 2, parts[0] >= 0, parts[1] >= 0, parts[0] + parts[1] > 0 else {
            throw SamplingError("ratio must look like \"1:1\" or \"1:3\" (positives:negatives), got \"\(ratio)\"")
        }
        return parts[0] / (parts[0] + parts[1])
    }

    /// The pairs of one epoch, in training order.
    public func pairs(epoch: Int, seed: UInt64) -> [IndexPair] {
        var g = SeededGenerator.forEpoch(epoch, seed: seed, stream: 1)
        let positives = Int((Double(pairsPerEpoch) * positiveFraction).rounded())
        let pairClasses = index.classesWithPairs
        var out: [IndexPair] = []
        out.reserveCapacity(pairsPerEpoch)
        for k in 0..<pairsPerEpoch {
            if k < positives {
                let c = balanceClasses ? pairClasses[g.nextInt(below: pairClasses.count)] : nil
                var a: Int
                if let c {
                    a = index.members[c][g.nextInt(below: index.members[c].count)]
                } else {
                    repeat { a = g.nextInt(below: index.classOfItem.count) } while index.members[index.classOfItem[a]].count < 2
                }
                out.append(IndexPair(a, index.randomPositive(for: a, generator: &g)!, label: 1))
            } else {
                let a: Int
                if balanceClasses {
                    let c = g.nextInt(below: index.classes.count)
                    a = index.members[c][g.nextInt(below: index.members[c].count)]
                } else {
                    a = g.nextInt(below: index.classOfItem.count)
                }
                out.append(IndexPair(a, index.randomNegative(for: a, generator: &g)!, label: 0))
            }
        }
        g.shuffle(&out)
        return out
    }
}

/// Random triplets: every item with a same-class partner is an anchor once per epoch, with a random
/// positive and a random negative.
public struct TripletSampler: Sendable {
    public let index: ClassIndex

    public init(labels: [Int]) throws {
        index = ClassIndex(labels: labels)
        guard !index.classesWithPairs.isEmpty else { throw SamplingError("no class has two items, so no triplet exists") }
        guard index.classes.count >= 2 else { throw SamplingError("only one class, so no triplet has a negative") }
    }

    public func triplets(epoch: Int, seed: UInt64) -> [IndexTriplet] {
        var g = SeededGenerator.forEpoch(epoch, seed: seed, stream: 2)
        var anchors = (0..<index.classOfItem.count).filter { index.members[index.classOfItem[$0]].count >= 2 }
        g.shuffle(&anchors)
        return anchors.map { a in
            IndexTriplet(anchor: a, positive: index.randomPositive(for: a, generator: &g)!,
                         negative: index.randomNegative(for: a, generator: &g)!)
        }
    }
}
