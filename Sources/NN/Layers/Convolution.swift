import Tensors

/// 1-D convolution layer over [N, C, L] (time-delay networks over sequences such as pen trajectories).
/// Weight [out, in, kernel], bias [out]; PyTorch's layout and default initialisation.
public final class Conv1d: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: Int, padding: Int, dilation: Int
    public var isTraining = true

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, bias: Bool = true, generator: inout SeededGenerator) {
        let fanIn = inChannels * kernelSize
        weight = Parameter(Initializer.fanInUniform.make([outChannels, inChannels, kernelSize], fanIn: fanIn, fanOut: outChannels * kernelSize, generator: &generator))
        self.bias = bias ? Parameter(Initializer.fanInUniform.make([outChannels], fanIn: fanIn, fanOut: outChannels, generator: &generator)) : nil
        self.stride = stride; self.padding = padding; self.dilation = dilation
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        Tensor.conv1d(input, weight: weight.value, bias: bias?.value, stride: stride, padding: padding, dilation: dilation)
    }
}

/// 2-D convolution layer over [N, C, H, W]. Weight [out, in, kh, kw], bias [out].
public final class Conv2d: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: Size2D, padding: Size2D, dilation: Size2D
    public var isTraining = true

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Size2D, stride: Size2D = 1, padding: Size2D = 0,
                dilation: Size2D = 1, bias: Bool = true, generator: inout SeededGenerator) {
        let area = kernelSize.height * kernelSize.width
        let fanIn = inChannels * area
        weight = Parameter(Initializer.fanInUniform.make([outChannels, inChannels, kernelSize.height, kernelSize.width],
                                                         fanIn: fanIn, fanOut: outChannels * area, generator: &generator))
        self.bias = bias ? Parameter(Initializer.fanInUniform.make([outChannels], fanIn: fanIn, fanOut: outChannels, generator: &generator)) : nil
        self.stride = stride; self.padding = padding; self.dilation = dilation
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        Tensor.conv2d(input, weight: weight.value, bias: bias?.value, stride: stride, padding: padding, dilation: dilation)
    }
}
