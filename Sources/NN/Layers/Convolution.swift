import Tensors

/// 1-D convolution layer over [N, C, L] (time-delay networks over sequences such as pen trajectories).
/// Weight [out, in, kernel], bias [out]; PyTorch's layout and default initialisation.
public final class Conv1d: Layer {
    /// Kernels, shape [out, in, kernel].
    public let weight: Parameter
    /// Per-output-channel bias, shape [out], or nil when created with `bias: false`.
    public let bias: Parameter?
    /// Step between positions, zero padding on each side and spacing between kernel taps, in samples.
    public let stride: Int, padding: Int, dilation: Int
    /// Unused: convolution behaves the same in training and evaluation.
    public var isTraining = true

    /// Creates a 1-D convolution with weights and bias drawn from U(−1/√fanIn, 1/√fanIn), fanIn = in × kernel.
    /// - Parameters:
    ///   - inChannels: Input channels C.
    ///   - outChannels: Output channels (number of kernels).
    ///   - kernelSize: Kernel length in samples.
    ///   - stride: Step between output positions (default 1).
    ///   - padding: Zero padding on each side (default 0).
    ///   - dilation: Spacing between kernel taps (default 1).
    ///   - bias: Whether to learn a bias (default true).
    ///   - generator: Seeded generator for the initial weights.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, bias: Bool = true, generator: inout SeededGenerator) {
        let fanIn = inChannels * kernelSize
        weight = Parameter(Initializer.fanInUniform.make([outChannels, inChannels, kernelSize], fanIn: fanIn, fanOut: outChannels * kernelSize, generator: &generator))
        self.bias = bias ? Parameter(Initializer.fanInUniform.make([outChannels], fanIn: fanIn, fanOut: outChannels, generator: &generator)) : nil
        self.stride = stride; self.padding = padding; self.dilation = dilation
    }

    /// `weight` and, when present, `bias`.
    public var namedParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// Convolves [N, in, L] into [N, out, L'] with L' = ⌊(L + 2·padding − dilation·(kernel−1) − 1) / stride⌋ + 1.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        Tensor.conv1d(input, weight: weight.value, bias: bias?.value, stride: stride, padding: padding, dilation: dilation)
    }
}

/// 2-D convolution layer over [N, C, H, W]. Weight [out, in, kh, kw], bias [out].
public final class Conv2d: Layer {
    /// Kernels, shape [out, in, kh, kw].
    public let weight: Parameter
    /// Per-output-channel bias, shape [out], or nil when created with `bias: false`.
    public let bias: Parameter?
    /// Step between positions, zero padding on each side and spacing between kernel taps (height × width).
    public let stride: Size2D, padding: Size2D, dilation: Size2D
    /// Unused: convolution behaves the same in training and evaluation.
    public var isTraining = true

    /// Creates a 2-D convolution with weights and bias drawn from U(−1/√fanIn, 1/√fanIn), fanIn = in × kh × kw.
    /// - Parameters:
    ///   - inChannels: Input channels C.
    ///   - outChannels: Output channels (number of kernels).
    ///   - kernelSize: Kernel height × width.
    ///   - stride: Step between output positions (default 1).
    ///   - padding: Zero padding on each side (default 0).
    ///   - dilation: Spacing between kernel taps (default 1).
    ///   - bias: Whether to learn a bias (default true).
    ///   - generator: Seeded generator for the initial weights.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Size2D, stride: Size2D = 1, padding: Size2D = 0,
                dilation: Size2D = 1, bias: Bool = true, generator: inout SeededGenerator) {
        let area = kernelSize.height * kernelSize.width
        let fanIn = inChannels * area
        weight = Parameter(Initializer.fanInUniform.make([outChannels, inChannels, kernelSize.height, kernelSize.width],
                                                         fanIn: fanIn, fanOut: outChannels * area, generator: &generator))
        self.bias = bias ? Parameter(Initializer.fanInUniform.make([outChannels], fanIn: fanIn, fanOut: outChannels, generator: &generator)) : nil
        self.stride = stride; self.padding = padding; self.dilation = dilation
    }

    /// `weight` and, when present, `bias`.
    public var namedParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// Convolves [N, in, H, W] into [N, out, H', W'] (PyTorch's output-size formula on each axis).
    public func callAsFunction(_ input: Tensor) -> Tensor {
        Tensor.conv2d(input, weight: weight.value, bias: bias?.value, stride: stride, padding: padding, dilation: dilation)
    }
}
