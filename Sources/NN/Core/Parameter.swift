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

    /// A multiplier of the optimiser's learning rate for this parameter alone (1 by default):
    /// the class vectors of a metric loss (ArcFace, CosFace, ProxyAnchor) often learn faster than
    /// the encoder — the Proxy Anchor paper trains its proxies at 100× the encoder's rate.
    public var learningRateScale: Float = 1

    /// A multiplier of the optimiser's weight decay for this parameter alone (1 by default; 0
    /// exempts it): self-supervised recipes (SimCLR, BYOL, Barlow Twins) decay neither biases nor
    /// normalisation scales and shifts, see ``excludeNormsAndBiasesFromWeightDecay(_:)``.
    public var weightDecayScale: Float = 1

    /// - Parameter value: the initial value (made a gradient-tracking leaf).
    public init(_ value: Tensor) {
        self.value = value.requiringGrad()
    }

    /// The gradient accumulated by the last backward passes, if any.
    public var grad: Tensor? { value.grad }

    /// Clears the accumulated gradient.
    public func zeroGrad() { value.zeroGrad() }

    /// The value's shape.
    public var shape: [Int] { value.shape }
}

/// Sets ``Parameter/weightDecayScale`` to 0 for the parameters of rank ≤ 1 (biases and the scales
/// and shifts of normalisation layers), lightly's `get_weight_decay_parameters` rule: decaying them
/// only shrinks the normalised activations and costs accuracy.
public func excludeNormsAndBiasesFromWeightDecay(_ parameters: [Parameter]) {
    for p in parameters where p.value.rank <= 1 { p.weightDecayScale = 0 }
}
