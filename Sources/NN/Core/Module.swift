import Tensors

/// Something with named parameters: a layer, an encoder, a whole Siamese model.
///
/// Names are dotted paths (`"layers.0.weight"`), stable across runs, so that a model saves to and
/// loads from safetensors by name.
public protocol Module: AnyObject {
    /// Every parameter of this module and its children, with its dotted name.
    var namedParameters: [(name: String, parameter: Parameter)] { get }
    /// Non-trainable state saved with the model (batch-norm running statistics), by dotted name.
    var namedBuffers: [(name: String, tensor: Tensor)] { get }
    /// Replaces a buffer's value by name (used when loading). Returns false if the name is unknown.
    func setBuffer(_ name: String, _ value: Tensor) -> Bool
    /// Training mode (dropout active, batch norm uses and updates batch statistics) or evaluation.
    var isTraining: Bool { get set }
}

extension Module {
    /// No buffers by default; modules with non-trainable state override this.
    public var namedBuffers: [(name: String, tensor: Tensor)] { [] }
    /// Returns false by default: a module without buffers knows no buffer name.
    public func setBuffer(_ name: String, _ value: Tensor) -> Bool { false }

    /// The parameters in a stable order.
    public var parameters: [Parameter] { namedParameters.map(\.parameter) }

    /// Total number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}

/// A module that maps one tensor to another.
public protocol Layer: Module {
    func callAsFunction(_ input: Tensor) -> Tensor
}

/// Prefixes child names: `scoped("encoder", child.namedParameters)`.
public func scoped<T>(_ prefix: String, _ items: [(name: String, parameter: T)]) -> [(name: String, parameter: T)] {
    items.map { (prefix + "." + $0.name, $0.parameter) }
}

/// Prefixes buffer names.
public func scoped(_ prefix: String, _ items: [(name: String, tensor: Tensor)]) -> [(name: String, tensor: Tensor)] {
    items.map { (prefix + "." + $0.name, $0.tensor) }
}
