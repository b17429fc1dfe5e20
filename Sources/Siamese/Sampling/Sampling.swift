import Tensors

/// A pair of item indices with its target: 1 for "same", 0 for "different".
public struct IndexPair: Equatable, Hashable, Sendable, Codable {
    public var a: Int, b: Int
    public var label: Float
    public init(_ a: Int, _ b: Int, label: Float) { self.a = a; self.b = b; self.label = label }
}

/// Anchor, positive (same class) and negative (other class) item indices.
public struct IndexTriplet: Equatable, Hashable, Sendable, Codable {
    public var anchor: Int, positive: Int, negative: Int
    public init(anchor: Int, positive: Int, negative: Int) {
        self.anchor = anchor; self.positive = positive; self.negative = negative
    }
}

/// Items grouped by class label, with the checks every sampler needs.
public struct ClassIndex: Sendable {
    /// Item indices of each class, classes in ascending label order.
    public let members: [[Int]]
    /// Class labels, ascending.
    public let classes: [Int]
    /// Position of each item's class in ``classes``.
    public let classOfItem: [Int]

    public init(labels: [Int]) {
        let sorted = Array(Set(labels)).sorted()
        let position = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, $0) })
        var members = [[Int]](repeating: [], count: sorted.count)
        var classOfItem = [Int](repeating: 0, count: labels.count)
        for (i, l) in labels.enumerated() {
            let c = position[l]!
            members[c].append(i)
            classOfItem[i] = c
        }
        self.members = members
        classes = sorted
        self.classOfItem = classOfItem
    }

    /// Classes with at least two items: the only ones that can give a positive pair.
    public var classesWithPairs: [Int] { members.indices.filter { members[$0].count >= 2 } }

    /// A random other item of the same class as `item` (nil when it is alone in its class).
    func randomPositive(for item: Int, generator: inout SeededGenerator) -> Int? {
        let group = members[classOfItem[item]]
        guard group.count >= 2 else { return nil }
        var j = group[generator.nextInt(below: group.count - 1)]
        if j == item { j = group[group.count - 1] }
        return j
    }

    /// A random item of another class (nil when there is only one class).
    func randomNegative(for item: Int, generator: inout SeededGenerator) -> Int? {
        let total = classOfItem.count, own = members[classOfItem[item]].count
        guard total > own else { return nil }
        // Rejection sampling is fast unless one class dominates; fall back to a scan then.
        for _ in 0..<32 {
            let j = generator.nextInt(below: total)
            if classOfItem[j] != classOfItem[item] { return j }
        }
        var k = generator.nextInt(below: total - own)
        for j in 0..<total where classOfItem[j] != classOfItem[item] {
            if k == 0 { return j }
            k -= 1
        }
        return nil
    }
}

/// Why a dataset cannot feed the chosen sampler or loss.
public struct SamplingError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension SeededGenerator {
    /// A generator for one epoch of a run: the same (seed, epoch) always gives the same stream, so a
    /// resumed run replays exactly the batches it would have seen.
    public static func forEpoch(_ epoch: Int, seed: UInt64, stream: UInt64 = 0) -> SeededGenerator {
        SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(epoch) &* 0xD1B5_4A32_D192_ED03 &+ stream)
    }

    /// Fisher–Yates shuffle driven by this generator (Swift's `shuffle(using:)` does not promise a
    /// stable algorithm across versions).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, nextInt(below: i + 1))
        }
    }
}
