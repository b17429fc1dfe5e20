import Core
import Testing
@testable import VectorIndex

/// The graph search's heap: one implementation ordered by a type, for the min-heap of candidates
/// and the max-heap of results. Checked against sorting, with repeated keys and growth.
@Suite("Search heaps") struct SearchHeapTests {
    static func drain<O>(_ heap: inout KeyHeap<O>) -> [UInt64] {
        var out: [UInt64] = []
        while !heap.isEmpty { out.append(heap.top); heap.pop() }
        return out
    }

    @Test func popsInOrderForBothOrders() {
        var g = SeededGenerator(seed: 91)
        for n in [1, 2, 15, 16, 17, 300] {
            // Few distinct distances, so that equal distances order by node.
            let keys = (0..<n).map { _ in packKey(Float(g.nextInt(below: 7)) - 3, UInt32(g.nextInt(below: 50))) }
            var low = KeyHeap<MinFirst>(capacity: 4), high = KeyHeap<MaxFirst>(capacity: 4)
            defer { low.deallocate(); high.deallocate() }
            for k in keys { low.push(k); high.push(k) }
            #expect(low.count == n && high.count == n)
            #expect(Self.drain(&low) == keys.sorted())
            #expect(Self.drain(&high) == keys.sorted(by: >))
        }
    }

    @Test func packedKeysOrderLikeTheirDistances() {
        let distances: [Float] = [-2.5, -1, -0.0, 0, 1e-30, 0.5, 3]
        let keys = distances.enumerated().map { packKey($1, UInt32($0)) }
        #expect(keys == keys.sorted())
        #expect(keys.map(keyDistance) == distances)
        #expect(keys.map(keyNode) == (0..<UInt32(distances.count)).map { $0 })
    }
}
