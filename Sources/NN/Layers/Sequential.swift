import Tensors

/// Layers applied in order; parameters are named by position (`"0.weight"`, `"2.bias"`).
public final class Sequential: Layer {
    /// The layers, applied first to last.
    public private(set) var layers: [any Layer]

    /// Chains `layers` in order.
    /// - Parameters:
    ///   - layers: The layers; the output of each is the input of the next.
    public init(_ layers: [any Layer]) { self.layers = layers }
    /// Chains the given layers in order.
    /// - Parameters:
    ///   - layers: The layers, as variadic arguments.
    public convenience init(_ layers: any Layer...) { self.init(layers) }

    /// The first layer's mode (true if empty); setting it sets every layer's.
    public var isTraining: Bool {
        get { layers.first?.isTraining ?? true }
        set { for l in layers { l.isTraining = newValue } }
    }

    /// Every layer's parameters, prefixed by its index (`"0.weight"`).
    public var namedParameters: [(name: String, parameter: Parameter)] {
        layers.enumerated().flatMap { scoped(String($0.offset), $0.element.namedParameters) }
    }

    /// Every layer's buffers, prefixed by its index (`"1.running_mean"`).
    public var namedBuffers: [(name: String, tensor: Tensor)] {
        layers.enumerated().flatMap { scoped(String($0.offset), $0.element.namedBuffers) }
    }

    /// Forwards `"i.rest"` to layer i as `"rest"`; false when the prefix is not a valid index.
    public func setBuffer(_ name: String, _ value: Tensor) -> Bool {
        guard let dot = name.firstIndex(of: "."), let i = Int(name[..<dot]), layers.indices.contains(i) else { return false }
        return layers[i].setBuffer(String(name[name.index(after: dot)...]), value)
    }

    /// Applies each layer in turn.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        layers.reduce(input) { $1($0) }
    }
}

/// A parameter-free function as a layer (activations, reshapes, normalisation of embeddings).
public final class Lambda: Layer {
    /// A short name for logs and descriptions (`"relu"`).
    public let name: String
    let body: (Tensor) -> Tensor
    /// Unused by the layer itself; the closure decides its behaviour.
    public var isTraining = true

    /// Wraps a tensor function as a layer.
    /// - Parameters:
    ///   - name: A short name for logs.
    ///   - body: The function; it should have no trainable state (none is saved or optimised).
    public init(_ name: String, _ body: @escaping (Tensor) -> Tensor) {
        self.name = name
        self.body = body
    }

    /// None: a lambda has no parameters.
    public var namedParameters: [(name: String, parameter: Parameter)] { [] }
    /// Returns `body(input)`.
    public func callAsFunction(_ input: Tensor) -> Tensor { body(input) }

    /// max(0, x), element-wise.
    public static var relu: Lambda { Lambda("relu") { $0.relu() } }
    /// Hyperbolic tangent, element-wise.
    public static var tanh: Lambda { Lambda("tanh") { $0.tanh() } }
    /// GELU with the exact erf form (as BERT), element-wise.
    public static var gelu: Lambda { Lambda("gelu") { $0.gelu() } }
    /// Logistic sigmoid 1 / (1 + e⁻ˣ), element-wise.
    public static var sigmoid: Lambda { Lambda("sigmoid") { $0.sigmoid() } }
    /// L2-normalises each embedding (last axis).
    public static var l2Normalize: Lambda { Lambda("l2normalize") { $0.l2Normalized() } }
    /// Flattens everything after the batch axis.
    public static var flatten: Lambda { Lambda("flatten") { $0.flattened(from: 1) } }
}
