import Core

/// An n-dimensional array of numbers with value semantics and optional gradient tracking.
///
/// Storage is contiguous and row-major, shared between copies until one of them is written
/// (copy-on-write). Ops never mutate their inputs. When an input ``requiresGrad``, the op records how
/// to propagate gradients, and ``backward(seed:)`` replays that record in reverse.
///
/// A tensor that records gradients must be used from one task at a time; a tensor without gradient
/// tracking is safe to share across threads.
public struct Tensor: @unchecked Sendable {
    /// The size of each dimension; `[]` for a scalar.
    public private(set) var shape: [Int]
    var storage: TensorStorage
    /// The autodiff node when this tensor takes part in gradient computation.
    var node: GradNode?

    /// Wraps existing storage; `shape` must describe exactly `storage.count` elements.
    init(shape: [Int], storage: TensorStorage) {
        self.shape = shape
        self.storage = storage
        self.node = nil
    }

    /// A tensor filled with one value.
    /// - Parameters:
    ///   - shape: Dimensions, outermost first (non-negative; `[]` for a scalar).
    ///   - value: The value of every element (default 0).
    public init(shape: [Int], repeating value: Float = 0) {
        let count = Shape.validCount(shape, op: "Tensor.init(shape:repeating:)")
        self.init(shape: shape, storage: TensorStorage(count: count, repeating: value))
    }

    /// A tensor with the given elements in row-major order. The count must match the shape
    /// (a programming error otherwise; use ``init(shape:validating:)`` for outside data).
    /// - Parameters:
    ///   - shape: Dimensions, outermost first.
    ///   - data: Exactly the product of `shape` elements, row-major.
    public init(shape: [Int], _ data: [Float]) {
        let count = Shape.validCount(shape, op: "Tensor.init(shape:_:)")
        check(count == data.count, "Tensor.init(shape:_:)", "shape \(shape) needs \(count) elements, got \(data.count)")
        let storage = TensorStorage(dtype: .float32, count: count)
        data.withUnsafeBufferPointer { storage.floats.update(from: $0.baseAddress!, count: count) }
        self.init(shape: shape, storage: storage)
    }

    /// A tensor from outside data: throws when the shape is invalid, the count does not match, or
    /// (unless `allowNonFinite`) any element is NaN or infinite.
    /// - Parameters:
    ///   - shape: Dimensions, outermost first; must be non-negative and not overflow.
    ///   - data: The elements, row-major; the count must match `shape`.
    ///   - allowNonFinite: Accept NaN and infinity (default false).
    /// - Throws: ``TensorError`` naming the problem.
    public init(shape: [Int], validating data: [Float], allowNonFinite: Bool = false) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError(op: "Tensor.init(shape:validating:)", "negative dimension in shape \(shape)")
        }
        let (count, overflow) = shape.reduce((1, false)) { acc, d in
            let (p, o) = acc.0.multipliedReportingOverflow(by: d)
            return (p, acc.1 || o)
        }
        guard !overflow else { throw TensorError(op: "Tensor.init(shape:validating:)", "shape \(shape) is too large") }
        guard count == data.count else {
            throw TensorError(op: "Tensor.init(shape:validating:)", "shape \(shape) needs \(count) elements, got \(data.count)")
        }
        if !allowNonFinite, let bad = data.firstIndex(where: { !$0.isFinite }) {
            throw TensorError(op: "Tensor.init(shape:validating:)", "element \(bad) is \(data[bad]) (not finite)")
        }
        self.init(shape: shape, data)
    }

    /// A scalar (rank-0) tensor.
    /// - Parameters:
    ///   - value: The scalar.
    public init(_ value: Float) {
        self.init(shape: [], [value])
    }

    /// A 1-D tensor.
    /// - Parameters:
    ///   - values: The elements; the shape is `[values.count]`.
    public init(_ values: [Float]) {
        self.init(shape: [values.count], values)
    }

    /// A 2-D tensor from rows of equal length.
    /// - Parameters:
    ///   - rows: The rows; all must have the same length (stops with a message otherwise). Shape `[rows.count, cols]`.
    public init(rows: [[Float]]) {
        let cols = rows.first?.count ?? 0
        check(rows.allSatisfy { $0.count == cols }, "Tensor.init(rows:)", "rows have different lengths")
        self.init(shape: [rows.count, cols], rows.flatMap { $0 })
    }

    /// Number of elements.
    public var count: Int { storage.count }
    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Storage element type.
    public var dtype: DType { storage.dtype }

    /// The elements in row-major order.
    public var scalars: [Float] {
        Array(UnsafeBufferPointer(start: storage.floats, count: count))
    }

    /// The single element of a one-element tensor.
    public var item: Float {
        check(count == 1, "Tensor.item", "needs exactly one element, shape is \(shape)")
        return storage.floats[0]
    }

    /// Reads one element by its multi-index.
    public subscript(_ indices: Int...) -> Float {
        storage.floats[Shape.flatIndex(indices, shape: shape, op: "Tensor.subscript")]
    }

    /// Read-only access to the elements.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.floats, count: count))
    }

    /// Write access to the elements; copies the storage first when it is shared.
    /// Writing does not record gradients: use it on leaf values (parameters, buffers).
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return try body(UnsafeMutableBufferPointer(start: storage.floats, count: count))
    }

    /// True when both tensors read the same storage (a cheap copy that has not been written).
    public func sharesStorage(with other: Tensor) -> Bool { storage === other.storage }
}

extension Tensor: CustomStringConvertible {
    /// Shape, the first eight values and the gradient flag, for debugging (never the whole data).
    public var description: String {
        let head = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(head)\(count > 8 ? ", …" : "")]\(requiresGrad ? ", requiresGrad" : ""))"
    }
}

// MARK: - Factories

extension Tensor {
    /// All zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }
    /// All ones.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }

    /// Normal samples, reproducible from the generator's seed.
    public static func randomNormal(_ shape: [Int], mean: Float = 0, std: Float = 1, generator: inout SeededGenerator) -> Tensor {
        var t = Tensor(shape: shape)
        t.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = mean + std * generator.nextNormal() }
        }
        return t
    }

    /// Uniform samples in [low, high), reproducible from the generator's seed.
    public static func randomUniform(_ shape: [Int], low: Float = 0, high: Float = 1, generator: inout SeededGenerator) -> Tensor {
        var t = Tensor(shape: shape)
        t.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = low + (high - low) * generator.nextUniform() }
        }
        return t
    }

    /// 0, 1, …, n−1 as floats.
    public static func arange(_ n: Int) -> Tensor { Tensor(shape: [n], (0..<n).map(Float.init)) }
}
