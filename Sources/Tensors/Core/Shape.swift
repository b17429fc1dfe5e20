/// Shape arithmetic shared by the ops: element counts, strides, axes, broadcasting.
enum Shape {
    /// The element count of a shape, stopping with a message on negative dimensions or overflow.
    static func validCount(_ shape: [Int], op: String) -> Int {
        var n = 1
        for d in shape {
            check(d >= 0, op, "negative dimension in shape \(shape)")
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            check(!overflow, op, "shape \(shape) is too large")
            n = p
        }
        return n
    }

    static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Row-major strides in elements.
    static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = s
            s *= shape[i]
        }
        return strides
    }

    /// Resolves a possibly negative axis (−1 is the last) against a rank.
    static func axis(_ axis: Int, rank: Int, op: String) -> Int {
        let a = axis < 0 ? axis + rank : axis
        check(a >= 0 && a < rank, op, "axis \(axis) is out of range for rank \(rank)")
        return a
    }

    static func flatIndex(_ indices: [Int], shape: [Int], op: String) -> Int {
        check(indices.count == shape.count, op, "\(indices.count) indices for shape \(shape)")
        var flat = 0
        for (i, (index, dim)) in zip(indices, shape).enumerated() {
            check(index >= 0 && index < dim, op, "index \(index) out of range for dimension \(i) of shape \(shape)")
            flat = flat * dim + index
        }
        return flat
    }

    /// NumPy broadcasting: align trailing dimensions; each pair must be equal or contain a 1.
    static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            guard da == db || da == 1 || db == 1 else { return nil }
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// Strides for reading `shape` as if it had been broadcast to `target` (0 on broadcast dimensions).
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(shape)
        let offset = target.count - shape.count
        return (0..<target.count).map { i in
            i < offset || shape[i - offset] == 1 ? 0 : own[i - offset]
        }
    }
}
