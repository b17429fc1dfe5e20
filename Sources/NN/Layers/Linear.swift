import Tensors

/// y = x·Wᵀ + b, with W of shape [outFeatures, inFeatures] (PyTorch's layout, so checkpoints map
/// one to one). Inputs of any rank ≥ 2 are accepted; the leading axes fold into one GEMM.
public final class Linear: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public var isTraining = true

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true,
                weightInit: Initializer = .fanInUniform, biasInit: Initializer = .fanInUniform,
                generator: inout SeededGenerator) {
        weight = Parameter(weightInit.make([outFeatures, inFeatures], fanIn: inFeatures, fanOut: outFeatures, generator: &generator))
        self.bias = bias ? Parameter(biasInit.make([outFeatures], fanIn: inFeatures, fanOut: outFeatures, generator: &generator)) : nil
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        let y = input.matmul(weight.value, transposeOther: true)
        return bias.map { y + $0.value } ?? y
    }
}
