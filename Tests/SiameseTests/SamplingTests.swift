import Testing
@testable import Siamese
import Tensors

@Suite struct SamplingTests {
    let labels = [0, 0, 0, 1, 1, 2, 2, 2, 2, 3]

    @Test func pairsHaveTheRequestedRatioAndCorrectTargets() throws {
        let sampler = try PairSampler(labels: labels, positiveFraction: try PairSampler.fraction(fromRatio: "1:3"), pairsPerEpoch: 400)
        let pairs = sampler.pairs(epoch: 0, seed: 1)
        #expect(pairs.count == 400)
        #expect(pairs.filter { $0.label == 1 }.count == 100)
        for p in pairs {
            #expect(p.a != p.b)
            #expect((labels[p.a] == labels[p.b]) == (p.label == 1))
        }
        #expect(pairs == sampler.pairs(epoch: 0, seed: 1))
        #expect(pairs != sampler.pairs(epoch: 1, seed: 1))
        // Class 3 has one item: it never anchors a positive pair.
        #expect(!pairs.contains { $0.label == 1 && ($0.a == 9 || $0.b == 9) })
    }

    @Test func balancedClassesEvenOutRareClasses() throws {
        let skewed = [Int](repeating: 0, count: 90) + [Int](repeating: 1, count: 10)
        let plain = try PairSampler(labels: skewed, positiveFraction: 1, pairsPerEpoch: 2000)
        let balanced = try PairSampler(labels: skewed, positiveFraction: 1, pairsPerEpoch: 2000, balanceClasses: true)
        let rarePlain = plain.pairs(epoch: 0, seed: 2).filter { skewed[$0.a] == 1 }.count
        let rareBalanced = balanced.pairs(epoch: 0, seed: 2).filter { skewed[$0.a] == 1 }.count
        #expect(rarePlain < 400)
        #expect(rareBalanced > 800 && rareBalanced < 1200)
    }

    @Test func impossibleRequestsAreClearErrors() {
        #expect(throws: SamplingError.self) { try PairSampler(labels: [0, 1, 2], positiveFraction: 0.5) }
        #expect(throws: SamplingError.self) { try PairSampler(labels: [0, 0, 0], positiveFraction: 0.5) }
        #expect(throws: SamplingError.self) { try PairSampler.fraction(fromRatio: "one to three") }
        #expect(throws: SamplingError.self) { try TripletSampler(labels: [5, 5]) }
        #expect(throws: SamplingError.self) { try MPerClassSampler(labels: labels, m: 5, batchSize: 8) }
    }

    @Test func tripletsAreValid() throws {
        let triplets = try TripletSampler(labels: labels).triplets(epoch: 0, seed: 3)
        #expect(triplets.count == 9)
        for t in triplets {
            #expect(t.anchor != t.positive)
            #expect(labels[t.anchor] == labels[t.positive])
            #expect(labels[t.anchor] != labels[t.negative])
        }
    }

    @Test func mPerClassBatchesHoldMItemsOfDistinctClasses() throws {
        var many: [Int] = []
        for c in 0..<10 { many += [Int](repeating: c, count: 3 + c) }
        let sampler = try MPerClassSampler(labels: many, m: 4, batchSize: 16)
        let batches = sampler.batches(epoch: 0, seed: 4)
        #expect(batches.count == many.count / 16)
        for batch in batches {
            #expect(batch.count == 16)
            let classes = Dictionary(grouping: batch.map { many[$0] }, by: { $0 })
            #expect(classes.count == 4)
            #expect(classes.values.allSatisfy { $0.count == 4 })
        }
        #expect(sampler.classesRepeated == 1)
    }

    @Test func noDuplicatesBatchesNeverRepeatAKey() throws {
        let keys = [["a", "b"], ["c", "a"], ["d", "e"], ["b", "f"], ["g", "h"], ["a", "i"], ["j", "k"]]
        let batches = try NoDuplicatesBatchSampler(keys: keys, batchSize: 3).batches(epoch: 0, seed: 5)
        for batch in batches {
            let all = batch.flatMap { keys[$0] }
            #expect(Set(all).count == all.count)
        }
        #expect(batches.flatMap { $0 }.sorted() == Array(keys.indices))
    }

    @Test func hardNegativesComeFromTheRankRangeAndRespectTheMargin() throws {
        let data = try clusteredData(classes: 5, perClass: 8, dimension: 6, seed: 6)
        let emb = data.features.l2Normalized()
        let miner = HardNegativeMiner(rankRange: 2..<6, margin: 0.05)
        let triplets = miner.mine(embeddings: data.features, labels: data.labels, epoch: 0, seed: 7)
        #expect(!triplets.isEmpty)
        let sims = Tensor.pairwiseDot(emb, emb)
        for t in triplets {
            #expect(data.labels[t.negative] != data.labels[t.anchor])
            #expect(data.labels[t.positive] == data.labels[t.anchor])
            // Brute-force rank of the negative among other-class items.
            let others = (0..<data.count).filter { data.labels[$0] != data.labels[t.anchor] }
                .sorted { sims[t.anchor, $0] > sims[t.anchor, $1] || (sims[t.anchor, $0] == sims[t.anchor, $1] && $0 < $1) }
            let rank = others.firstIndex(of: t.negative)!
            #expect(rank >= 2 && rank < 6)
            #expect(sims[t.anchor, t.negative] <= sims[t.anchor, t.positive] - 0.05 + 1e-6)
        }
        // Chunking does not change the result.
        var chunked = miner
        chunked.chunkSize = 7
        #expect(chunked.mine(embeddings: data.features, labels: data.labels, epoch: 0, seed: 7) == triplets)
    }
}
