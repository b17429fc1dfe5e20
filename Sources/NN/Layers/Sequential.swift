import Tensors

/// Layers applied in order; parameters are named by position (`"0.weight"`, `"2.bias"`).
public final class Sequential: Layer {
    public private(set) var layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }
    public convenience init(_ layers: any Layer...) { self.init(layers) }

    public var isTraining: Bool {
        get { layers.first?.isTraining ?? true }
        set { for l in layers { l.isTraining = newValue } }
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        layers.enumerated().flatMap { scoped(String($0.offset), $0.element.namedParameters) }
    }

    public var namedBuffers: [(name: String, tensor: Tensor)] {
        layers.enumerated().flatMap { scoped(String($0.offset), $0.element.namedBuffers) }
    }

    public func setBuffer(_ name: String, _ value: Tensor) -> Bool {
        guard let dot = name.firstIndex(of: "."), let i = Int(name[..<dot]), layers.indices.contains(i) else { return false }
        return layers[i].setBuffer(String(name[name.index(after: dot)...]), value)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        layers.reduce(input) { $1($0) }
    }
}

/// A parameter-free function as a layer (activations, reshapes, normalisation of embeddings).
public final class Lambda: Layer {
    public let name: String
    let body: (Tensor) -> Tensor
    public var isTraining = true

    public init(_ name: String, _ body: @escaping (Tensor) -> Tensor) {
        self.name = name
        self.body = body
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [] }
    public func callAsFunction(_ input: Tensor) -> Tensor { body(input) }

    public static var relu: Lambda { Lambda("relu") { $0.relu() } }
    public static var tanh: Lambda { Lambda("tanh") { $0.tanh() } }
    public static var gelu: Lambda { Lambda("gelu") { $0.gelu() } }
    public static var sigmoid: Lambda { Lambda("sigmoid") { $0.sigmoid() } }
    /// L2-normalises each embedding (last axis).
    public static var l2Normalize: Lambda { Lambda("l2normalize") { $0.l2Normalized() } }
    /// Flattens everything after the batch axis.
    public static var flatten: Lambda { Lambda("flatten") { $0.flattened(from: 1) } }
}
