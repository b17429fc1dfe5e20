// A minimal stand-in for the `Tensors` module, with exactly the API the SafeTensors sources use,
// so that the fuzzer builds the reader alone (no C kernels, no SwiftPM). Storage is a plain
// Float array; the fuzz target is the file parsing, not the tensor engine.

public enum DType: String, Sendable, CaseIterable {
    case float32, float16, bfloat16, int8
    public var byteSize: Int {
        switch self {
        case .float32: 4
        case .float16, .bfloat16: 2
        case .int8: 1
        }
    }
}

public struct Tensor: @unchecked Sendable {
    public private(set) var shape: [Int]
    private var storage: [Float]

    public init(shape: [Int], repeating value: Float = 0) {
        var n = 1
        for d in shape {
            precondition(d >= 0, "negative dimension")
            let (p, o) = n.multipliedReportingOverflow(by: d)
            precondition(!o, "shape too large")
            n = p
        }
        self.shape = shape
        self.storage = [Float](repeating: value, count: n)
    }

    public init(shape: [Int], _ data: [Float]) {
        self.init(shape: shape)
        precondition(data.count == storage.count)
        storage = data
    }

    public var count: Int { storage.count }
    public var dtype: DType { .float32 }
    public var scalars: [Float] { storage }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer(body)
    }

    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer { try body($0) }
    }
}
