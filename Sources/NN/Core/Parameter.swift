import Tensors

/// A trainable tensor: a gradient-tracking leaf that optimisers update in place.
///
/// Parameters are reference types so that a layer, its optimiser and a checkpoint all see the same
/// weights; the tensor inside stays a value (copy-on-write), so a graph that captured an older value
/// keeps it intact when the optimiser writes.
public final class Parameter {
    /// The current value; always a leaf with `requiresGrad` set.
    public var value: Tensor {
        didSet { if !value.requiresGrad { value = value.requiringGrad() } }
    }

    public init(_ value: Tensor) {
        self.value = value.requiringGrad()
    }

    /// The gradient accumulated by the last backward passes, if any.
    public var grad: Tensor? { value.grad }

    /// Clears the accumulated gradient.
    public func zeroGrad() { value.zeroGrad() }

    public var shape: [Int] { value.shape }
}
