import Tensors

/// y = x·Wᵀ + b, with W of shape [outFeatures, inFeatures] (PyTorch's layout, so checkpoints map
/// one to one). Inputs of any rank ≥ 2 are accepted; the leading axes fold into one GEMM.
public final class Linear: Layer {
    /// The weight matrix W, shape [outFeatures, inFeatures].
    public let weight: Parameter
    /// The bias b, shape [outFeatures], or nil when created with `bias: false`.
    public let bias: Parameter?
    /// Unused: a linear map behaves the same in training and evaluation.
    public var isTraining = true

    /// Creates a linear layer with freshly initialised weights.
    /// - Parameters:
    ///   - inFeatures: Size of the input's last axis.
    ///   - outFeatures: Size of the output's last axis.
    ///   - bias: Whether to learn a bias b (default true).
    ///   - weightInit: How W is filled (default U(−1/√inFeatures, 1/√inFeatures), PyTorch's default).
    ///   - biasInit: How b is filled (default as `weightInit`'s default).
    ///   - generator: Seeded generator for the initial values.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true,
                weightInit: Initializer = .fanInUniform, biasInit: Initializer = .fanInUniform,
                generator: inout SeededGenerator) {
        weight = Parameter(weightInit.make([outFeatures, inFeatures], fanIn: inFeatures, fanOut: outFeatures, generator: &generator))
        self.bias = bias ? Parameter(biasInit.make([outFeatures], fanIn: inFeatures, fanOut: outFeatures, generator: &generator)) : nil
    }

    /// Size of the input's last axis (W's second dimension).
    public var inFeatures: Int { weight.shape[1] }
    /// Size of the output's last axis (W's first dimension).
    public var outFeatures: Int { weight.shape[0] }

    /// `weight` and, when present, `bias`.
    public var namedParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// Maps [..., inFeatures] to [..., outFeatures].
    public func callAsFunction(_ input: Tensor) -> Tensor {
        let y = input.matmul(weight.value, transposeOther: true)
        return bias.map { y + $0.value } ?? y
    }
}
