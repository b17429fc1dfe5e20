import Testing
@testable import Siamese
import Tensors
import GradientChecking

/// A symmetric distance matrix from its upper triangle, row by row (i < j).
private func symmetric(_ n: Int, _ upper: [Float]) -> Tensor {
    var m = [Float](repeating: 0, count: n * n)
    var k = 0
    for i in 0..<n {
        for j in (i + 1)..<n {
            m[i * n + j] = upper[k]
            m[j * n + i] = upper[k]
            k += 1
        }
    }
    precondition(k == upper.count)
    return Tensor(shape: [n, n], m)
}

/// A random symmetric distance matrix with distinct entries and random labels.
private func randomBatch(n: Int, classes: Int, seed: UInt64) -> (Tensor, [Int]) {
    var rng = SeededGenerator(seed: seed)
    let labels = (0..<n).map { _ in rng.nextInt(below: classes) }
    let upper = (0..<(n * (n - 1) / 2)).map { _ in rng.nextUniform() * 3 }
    return (symmetric(n, upper), labels)
}

@Suite("Triplet and pair mining")
struct MiningTests {
    // Labels [0, 0, 1, 1, 0, 2]; distances chosen by hand.
    static let labels = [0, 0, 1, 1, 0, 2]
    //                    d01  d02  d03  d04  d05 | d12  d13  d14  d15 | d23  d24  d25 | d34  d35 | d45
    static let distances = symmetric(6, [0.5, 0.7, 0.3, 0.9, 0.3, /**/ 0.4, 0.8, 0.2, 1.5, /**/ 0.6, 0.8, 0.9, /**/ 0.6, 1.1, /**/ 2.0])

    @Test("batch hard picks the farthest positive and the closest negative, ties to the lowest index")
    func batchHardHandMade() {
        let t = TripletMiner.batchHard(distances: Self.distances, labels: Self.labels)
        // anchor 0: positives 1 (0.5), 4 (0.9) → 4; negatives 2 (0.7), 3 (0.3), 5 (0.3) → tie 3 vs 5 → 3
        // anchor 1: positives 0 (0.5), 4 (0.2) → 0; negatives 2 (0.4), 3 (0.8), 5 (1.5) → 2
        // anchor 2: positive 3 (0.6); negatives 0 (0.7), 1 (0.4), 4 (0.8), 5 (0.9) → 1
        // anchor 3: positive 2; negatives 0 (0.3), 1 (0.8), 4 (0.6), 5 (1.1) → 0
        // anchor 4: positives 0 (0.9), 1 (0.2) → 0; negatives 2 (0.8), 3 (0.6), 5 (2.0) → 3
        // anchor 5: no positive → no triplet
        #expect(t == [
            Triplet(anchor: 0, positive: 4, negative: 3),
            Triplet(anchor: 1, positive: 0, negative: 2),
            Triplet(anchor: 2, positive: 3, negative: 1),
            Triplet(anchor: 3, positive: 2, negative: 0),
            Triplet(anchor: 4, positive: 0, negative: 3),
        ])
    }

    @Test("semi-hard picks the closest negative farther than the positive, else the farthest negative")
    func semiHardHandMade() {
        let t = TripletMiner.semiHard(distances: Self.distances, labels: Self.labels)
        // (0,1) d=0.5: negatives farther: 2 (0.7) → 2      (0,4) d=0.9: none farther → farthest 2 (0.7)
        // (1,0) d=0.5: farther: 3 (0.8), 5 (1.5) → 3       (1,4) d=0.2: farther: 2 (0.4) … → 2
        // (2,3) d=0.6: farther: 0 (0.7), 4 (0.8), 5 (0.9) → 0
        // (3,2) d=0.6: farther: 1 (0.8), 5 (1.1) → 1 (4 is at 0.6: not strictly farther)
        // (4,0) d=0.9: farther: 5 (2.0) → 5                (4,1) d=0.2: farther: 3 (0.6) → 3
        #expect(t == [
            Triplet(anchor: 0, positive: 1, negative: 2),
            Triplet(anchor: 0, positive: 4, negative: 2),
            Triplet(anchor: 1, positive: 0, negative: 3),
            Triplet(anchor: 1, positive: 4, negative: 2),
            Triplet(anchor: 2, positive: 3, negative: 0),
            Triplet(anchor: 3, positive: 2, negative: 1),
            Triplet(anchor: 4, positive: 0, negative: 5),
            Triplet(anchor: 4, positive: 1, negative: 3),
        ])
    }

    @Test("semi-hard respects its definition on random batches", arguments: 0..<20)
    func semiHardDefinition(seed: UInt64) {
        let (d, labels) = randomBatch(n: 12, classes: 3, seed: seed)
        let n = labels.count, v = d.scalars
        let mined = TripletMiner.semiHard(distances: d, labels: labels)
        var expectedPairs = 0
        for a in 0..<n where labels.contains(where: { $0 != labels[a] }) {
            expectedPairs += labels.indices.filter { $0 != a && labels[$0] == labels[a] }.count
        }
        #expect(mined.count == expectedPairs)
        for t in mined {
            let (a, p, k) = (t.anchor, t.positive, t.negative)
            #expect(a != p && labels[a] == labels[p] && labels[k] != labels[a])
            let dap = v[a * n + p], dan = v[a * n + k]
            let negatives = (0..<n).filter { labels[$0] != labels[a] }
            let farther = negatives.filter { v[a * n + $0] > dap }
            if farther.isEmpty {
                // Fallback: no negative beyond the positive → the farthest negative.
                #expect(negatives.allSatisfy { v[a * n + $0] <= dan })
            } else {
                #expect(dan > dap)
                #expect(farther.allSatisfy { v[a * n + $0] >= dan })
            }
        }
    }

    @Test("batch hard matches brute force on random batches", arguments: 0..<20)
    func batchHardBruteForce(seed: UInt64) {
        let (d, labels) = randomBatch(n: 10, classes: 3, seed: 100 + seed)
        let n = labels.count, v = d.scalars
        let mined = TripletMiner.batchHard(distances: d, labels: labels)
        var expected: [Triplet] = []
        for a in 0..<n {
            let pos = (0..<n).filter { $0 != a && labels[$0] == labels[a] }
            let neg = (0..<n).filter { labels[$0] != labels[a] }
            guard let p = pos.max(by: { v[a * n + $0] < v[a * n + $1] }),
                  let k = neg.min(by: { v[a * n + $0] < v[a * n + $1] }) else { continue }
            expected.append(Triplet(anchor: a, positive: p, negative: k))
        }
        #expect(mined == expected)
    }

    static let labelSets: [[Int]] = [
        [0, 0, 1, 1, 0, 2], [0, 1, 2, 3], [5, 5, 5], [0],
        [0, 1, 0, 1, 0, 1, 2, 2, 2, 3], [1, 1, 2, 2, 3, 3, 4, 4, 1, 2, 3, 4, 0],
    ]
    static let batchAllCases: [([Int], UInt64)] = labelSets.enumerated().map { ($0.element, UInt64($0.offset + 1)) }

    @Test("batch-all counts match a brute-force count", arguments: batchAllCases)
    func batchAllCounts(labels: [Int], seed: UInt64) {
        let n = labels.count
        var brute = 0
        for a in 0..<n { for p in 0..<n { for k in 0..<n where a != p && labels[a] == labels[p] && labels[k] != labels[a] { brute += 1 } } }
        #expect(TripletMiner.validTripletCount(labels: labels) == brute)
        #expect(TripletMiner.allTriplets(labels: labels).count == brute)
        #expect(Set(TripletMiner.allTriplets(labels: labels)).count == brute)

        var rng = SeededGenerator(seed: seed)
        let upper = (0..<max(n * (n - 1) / 2, 0)).map { _ in rng.nextUniform() * 2 }
        let d = n > 1 ? symmetric(n, upper) : Tensor.zeros([1, 1])
        let v = d.scalars
        for margin: Float in [0, 0.3, 1, 5] {
            let active = TripletMiner.allTriplets(labels: labels).filter { v[$0.anchor * n + $0.positive] - v[$0.anchor * n + $0.negative] + margin > 0 }
            #expect(TripletMiner.batchAll(distances: d, labels: labels, margin: margin) == active)
            let r = BatchTripletLoss(strategy: .batchAll, margin: margin)(distances: d, labels: labels)
            #expect(r.activeTriplets == active.count)
            #expect(r.validTriplets == brute)
            let expectedLoss = active.isEmpty ? 0 : active.reduce(Float(0)) {
                $0 + v[$1.anchor * n + $1.positive] - v[$1.anchor * n + $1.negative] + margin
            } / Float(active.count)
            #expect(abs(r.loss.item - expectedLoss) <= 1e-5 * max(1, expectedLoss))
        }
    }

    @Test("batch hard and semi-hard losses average over their anchors / pairs")
    func minedLossValues() {
        let d = Self.distances, v = d.scalars
        for strategy in [TripletMiningStrategy.batchHard, .semiHard] {
            let margin: Float = 0.4
            let r = BatchTripletLoss(strategy: strategy, margin: margin)(distances: d, labels: Self.labels)
            let triplets = TripletMiner.mine(strategy, distances: d, labels: Self.labels, margin: margin).triplets
            let hinges = triplets.map { max(0, v[$0.anchor * 6 + $0.positive] - v[$0.anchor * 6 + $0.negative] + margin) }
            #expect(r.validTriplets == triplets.count)
            #expect(r.activeTriplets == hinges.filter { $0 > 0 }.count)
            #expect(abs(r.loss.item - hinges.reduce(0, +) / Float(triplets.count)) < 1e-6)
        }
    }

    @Test("no valid triplet: zero loss, count 0, finite zero gradients", arguments: TripletMiningStrategy.allCases)
    func emptyCase(_ strategy: TripletMiningStrategy) throws {
        for labels in [[3, 3, 3, 3], [0, 1, 2, 3], [7]] {
            for distance in Distance.allCases {
                let x = randomTensor([labels.count, 3], seed: 9).requiringGrad()
                let r = BatchTripletLoss(strategy: strategy, margin: 1, distance: distance)(x, labels: labels)
                #expect(r.loss.shape == [])
                #expect(r.loss.item == 0)
                #expect(r.activeTriplets == 0 && r.validTriplets == 0 && r.activeFraction == 0)
                try r.loss.backward()  // connected to the graph: no `noGradientPath`
                let g = try #require(x.grad)
                #expect(g.allFinite && g.scalars.allSatisfy { $0 == 0 }, "\(labels) \(distance): \(g)")
            }
        }
    }

    @Test("triplets exist but none is active: zero loss, valid > 0, zero gradients", arguments: TripletMiningStrategy.allCases)
    func nothingActive(_ strategy: TripletMiningStrategy) throws {
        let x = Tensor(rows: [[0, 0], [0.1, 0], [10, 0], [10, 0.1]]).requiringGrad()
        let r = BatchTripletLoss(strategy: strategy, margin: 1)(x, labels: [0, 0, 1, 1])
        #expect(r.loss.item == 0 && r.activeTriplets == 0 && r.validTriplets > 0)
        try r.loss.backward()
        #expect(x.grad.map { $0.scalars.allSatisfy { $0 == 0 } } ?? false)
    }

    @Test("gradients flow only into the mined distances")
    func gradientsOnlyIntoMinedEntries() throws {
        let d = Self.distances.requiringGrad()
        let r = BatchTripletLoss(strategy: .batchHard, margin: 10)(distances: d, labels: Self.labels)
        try r.loss.backward()
        let g = try #require(d.grad).scalars
        let triplets = TripletMiner.batchHard(distances: Self.distances, labels: Self.labels)
        var expected = [Float](repeating: 0, count: 36)
        for t in triplets {
            expected[t.anchor * 6 + t.positive] += 1 / Float(triplets.count)
            expected[t.anchor * 6 + t.negative] -= 1 / Float(triplets.count)
        }
        #expect(zip(g, expected).allSatisfy { abs($0 - $1) < 1e-7 })
    }

    @Test("pair miner follows sentence-transformers' hard-pair rule")
    func pairMiner() {
        //                 0    1    2    3    4    5    6
        let d: [Float] = [0.2, 0.9, 0.5, 0.4, 0.1, 0.7, 0.6]
        let y: [Float] = [1, 1, 0, 0, 1, 0, 1]
        // positives 0.2, 0.9, 0.1, 0.6 → max 0.9; negatives 0.5, 0.4, 0.7 → min 0.4
        // hard negatives: < 0.9 → 2, 3, 5; hard positives: > 0.4 → 1, 6
        #expect(PairMiner.hardPairs(distances: d, labels: y) == .init(positives: [1, 6], negatives: [2, 3, 5]))
        // Only positives: compared with their mean (0.45) → 1, 6 (0.9, 0.6).
        #expect(PairMiner.hardPairs(distances: [0.2, 0.9, 0.1, 0.6], labels: [1, 1, 1, 1]) == .init(positives: [1, 3], negatives: []))
        // Only negatives: compared with their mean (0.5333) → 0.5, 0.4.
        #expect(PairMiner.hardPairs(distances: [0.5, 0.4, 0.7], labels: [0, 0, 0]) == .init(positives: [], negatives: [0, 1]))
        // Nothing out of order; labels other than 0/1 ignored; empty batch.
        #expect(PairMiner.hardPairs(distances: [0.1, 0.8, 0.2, 0.3], labels: [1, 0, 1, 0.5]).count == 0)
        #expect(PairMiner.hardPairs(distances: [], labels: []).count == 0)
    }

    @Test("mining strategies have the CLI's names")
    func strategyNames() {
        #expect(TripletMiningStrategy.allCases.map(\.rawValue) == ["batch-all", "batch-hard", "semi-hard"])
    }
}
