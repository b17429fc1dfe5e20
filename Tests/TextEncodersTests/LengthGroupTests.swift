import Foundation
import Tensors
import Testing
@testable import TextEncoders

/// Training batches run in groups of similar length (``TokenBatch/lengthGroups``): the grouping is
/// the cheapest one, and the grouped forward pass gives the padded one's embeddings and gradients.
@Suite struct LengthGroupTests {
    /// The padded cost of a grouping: rows × longest per group, plus the overhead per group.
    func cost(_ groups: [[Int]], _ lengths: [Int], overhead: Int) -> Int {
        groups.map { g in g.count * (g.map { lengths[$0] }.max() ?? 0) + overhead }.reduce(0, +)
    }

    @Test func groupsCoverEveryRowOnceAndCostTheLeast() {
        var g = SeededGenerator(seed: 5)
        for trial in 0..<200 {
            let n = 1 + trial % 10
            let lengths = (0..<n).map { _ in 1 + g.nextInt(below: 60) }
            let overhead = [0, 7, 40, 1000][trial % 4]
            let groups = TokenBatch.lengthGroups(lengths, overhead: overhead)
            #expect(groups.joined().sorted() == Array(0..<n))
            #expect(groups.allSatisfy { !$0.isEmpty })
            // Brute force over every cut of the rows sorted by length (2^(n−1) groupings).
            let sorted = lengths.indices.sorted { (lengths[$0], $0) < (lengths[$1], $1) }
            var least = Int.max
            for cuts in 0..<(1 << (n - 1)) {
                var parts: [[Int]] = [[sorted[0]]]
                for i in 1..<n { if cuts & (1 << (i - 1)) != 0 { parts.append([sorted[i]]) } else { parts[parts.count - 1].append(sorted[i]) } }
                least = min(least, cost(parts, lengths, overhead: overhead))
            }
            #expect(cost(groups, lengths, overhead: overhead) == least, "lengths \(lengths), overhead \(overhead): \(groups)")
        }
        #expect(TokenBatch.lengthGroups([5, 5, 5], overhead: 0).count == 1)
        #expect(TokenBatch.lengthGroups([3, 50, 3, 50], overhead: 0).map { $0.sorted() } == [[0, 2], [1, 3]])
        #expect(TokenBatch.lengthGroups([3, 50, 3, 50], overhead: 1000).count == 1)
        #expect(TokenBatch.lengthGroups([], overhead: 10).joined().isEmpty)
    }

    /// 120 short and 120 long texts: grouped, the texts run as two forward passes; the embeddings
    /// and every parameter's gradient equal those of one pass padded to the longest.
    @Test func groupedForwardEqualsThePaddedOne() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let model = try SentenceTransformer(folder: try TinyModel.write(to: dir.file("m")))
        let long = String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 3)
        let texts = (0..<240).map { $0 % 2 == 0 ? "a cat \($0 % 7 == 0 ? "sat" : "ran")" : long + (($0 % 3 == 0) ? "hello" : "world") }
        #expect(TokenBatch.lengthGroups(texts.map { model.tokenize($0).count }).count > 1, "the texts should run as several groups")
        var gen = SeededGenerator(seed: 9)
        let weights = Tensor.randomNormal([texts.count, model.dimension], generator: &gen)
        func run(_ embed: () -> Tensor) throws -> (Tensor, [Tensor]) {
            model.zeroGrad()
            let e = embed()
            try (e * weights).sum().backward()
            return (e.detached(), model.parameters.map { $0.grad ?? Tensor.zeros($0.shape) })
        }
        let (grouped, groupedGrads) = try run { model.embed(texts) }
        let (padded, paddedGrads) = try run { model.embed(TokenBatch(texts.map(model.tokenize))) }
        for (a, b) in zip(rows(grouped), rows(padded)) { #expect(compare(a, b).maxDiff < 1e-5) }
        var worst: Float = 0
        for (a, b) in zip(groupedGrads, paddedGrads) {
            let scale = max(1e-3, b.scalars.map(abs).max() ?? 0)
            worst = max(worst, (zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0) / scale)
        }
        #expect(worst < 1e-4, "largest gradient difference relative to the tensor's largest entry: \(worst)")
        #expect(paddedGrads.contains { $0.scalars.contains { $0 != 0 } })
    }
}
