import NN
import Tensors

/// The MLP heads of the self-supervised methods, built as lightly's `ProjectionHead`: blocks of
/// Linear (without bias when batch norm follows) → optional BatchNorm1d → optional activation.
/// Parameter names are `blocks.i.linear.weight`, `blocks.i.norm.weight`, … .
///
/// The factory methods give each method's head with lightly's layer pattern (sizes are arguments:
/// a small backbone needs far narrower heads than a ResNet-50).
public final class ProjectionHead: Layer {
    /// What follows a block's linear layer.
    public enum Norm: String, Sendable, Codable { case none, batchNorm, batchNormWithoutAffine }
    /// The block's activation.
    public enum Activation: String, Sendable, Codable { case none, relu, gelu }

    /// One block's shape: sizes, normalisation and activation.
    public struct Block: Sendable, Codable, Equatable {
        /// Input and output widths of the linear layer.
        public var input: Int, output: Int
        /// Normalisation after the linear layer.
        public var norm: Norm
        /// Activation after the normalisation.
        public var activation: Activation
        /// The linear layer's weight rows are used as unit vectors (PyTorch's `weight_norm` with
        /// the gain fixed at 1: DINO's `norm_last_layer`), so each output is the cosine of the input
        /// with one prototype times the input's norm; no bias.
        public var normalizedWeight: Bool
        /// - Parameters:
        ///   - input: input width.
        ///   - output: output width.
        ///   - norm: normalisation after the linear layer.
        ///   - activation: activation last.
        ///   - normalizedWeight: use the weight's rows normalised to unit length (no bias).
        public init(_ input: Int, _ output: Int, norm: Norm = .none, activation: Activation = .none, normalizedWeight: Bool = false) {
            self.input = input; self.output = output; self.norm = norm; self.activation = activation
            self.normalizedWeight = normalizedWeight
        }
    }

    /// The blocks' description, in order.
    public let blocks: [Block]
    let linears: [Linear]
    let norms: [(any Layer)?]
    /// Training mode: batch statistics in the norms.
    public var isTraining = true {
        didSet { for n in norms { n?.isTraining = isTraining } }
    }

    /// Builds the head from its blocks, initialised from `generator`.
    /// - Parameters:
    ///   - blocks: the blocks, each one's input the previous one's output.
    ///   - generator: seeded generator for the initial weights.
    public init(_ blocks: [Block], generator: inout SeededGenerator) {
        ensure(!blocks.isEmpty, "ProjectionHead: no blocks")
        for (a, b) in zip(blocks, blocks.dropFirst()) {
            ensure(a.output == b.input, "ProjectionHead: a block of \(a.output) outputs feeds one of \(b.input) inputs")
        }
        self.blocks = blocks
        linears = blocks.map { Linear($0.input, $0.output, bias: $0.norm == .none && !$0.normalizedWeight, generator: &generator) }
        norms = blocks.map { block -> (any Layer)? in
            switch block.norm {
            case .none: nil
            case .batchNorm: BatchNorm(block.output)
            case .batchNormWithoutAffine: PlainBatchNorm(block.output)
            }
        }
    }

    /// Input width of the first block.
    public var inputDimension: Int { blocks[0].input }
    /// Output width of the last block.
    public var outputDimension: Int { blocks[blocks.count - 1].output }

    /// `blocks.i.linear.*` and `blocks.i.norm.*`.
    public var namedParameters: [(name: String, parameter: Parameter)] {
        linears.indices.flatMap { i in
            scoped("blocks.\(i).linear", linears[i].namedParameters) + (norms[i].map { scoped("blocks.\(i).norm", $0.namedParameters) } ?? [])
        }
    }

    /// The norms' running statistics, `blocks.i.norm.running_mean` / `running_var`.
    public var namedBuffers: [(name: String, tensor: Tensor)] {
        norms.indices.flatMap { i in norms[i].map { scoped("blocks.\(i).norm", $0.namedBuffers) } ?? [] }
    }

    /// Sets a `blocks.i.norm.` buffer; false for any other name.
    public func setBuffer(_ name: String, _ value: Tensor) -> Bool {
        for i in norms.indices {
            let prefix = "blocks.\(i).norm."
            if name.hasPrefix(prefix), let norm = norms[i] { return norm.setBuffer(String(name.dropFirst(prefix.count)), value) }
        }
        return false
    }

    /// Maps `[n, input]` to `[n, output]`.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        var x = input
        for i in blocks.indices {
            // Normalising inside the graph: the gradient reaches the raw weight through the norm, as
            // it reaches weight_v in PyTorch.
            x = blocks[i].normalizedWeight ? x.matmul(linears[i].weight.value.l2Normalized(), transposeOther: true) : linears[i](x)
            if let norm = norms[i] { x = norm(x) }
            switch blocks[i].activation {
            case .none: break
            case .relu: x = x.relu()
            case .gelu: x = x.gelu()
            }
        }
        return x
    }
}

extension ProjectionHead {
    /// SimCLR (lightly `SimCLRProjectionHead`, 2 layers): Linear → BN → ReLU → Linear.
    public static func simCLR(input: Int, hidden: Int, output: Int, generator: inout SeededGenerator) -> ProjectionHead {
        ProjectionHead([Block(input, hidden, norm: .batchNorm, activation: .relu), Block(hidden, output)], generator: &generator)
    }

    /// BYOL's projection and prediction heads (lightly `BYOLProjectionHead` / `BYOLPredictionHead`):
    /// Linear → BN → ReLU → Linear.
    public static func byol(input: Int, hidden: Int, output: Int, generator: inout SeededGenerator) -> ProjectionHead {
        simCLR(input: input, hidden: hidden, output: output, generator: &generator)
    }

    /// SimSiam's projection head (lightly `SimSiamProjectionHead`): two Linear → BN → ReLU blocks,
    /// then Linear → BN without affine parameters.
    public static func simSiamProjection(input: Int, hidden: Int, output: Int, generator: inout SeededGenerator) -> ProjectionHead {
        ProjectionHead([Block(input, hidden, norm: .batchNorm, activation: .relu), Block(hidden, hidden, norm: .batchNorm, activation: .relu),
                        Block(hidden, output, norm: .batchNormWithoutAffine)], generator: &generator)
    }

    /// SimSiam's prediction head (lightly `SimSiamPredictionHead`): Linear → BN → ReLU → Linear.
    public static func simSiamPrediction(input: Int, hidden: Int, output: Int, generator: inout SeededGenerator) -> ProjectionHead {
        simCLR(input: input, hidden: hidden, output: output, generator: &generator)
    }

    /// Barlow Twins' and VICReg's projector (lightly `BarlowTwinsProjectionHead`,
    /// `VICRegProjectionHead`): two Linear → BN → ReLU blocks, then Linear.
    public static func barlowTwins(input: Int, hidden: Int, output: Int, generator: inout SeededGenerator) -> ProjectionHead {
        ProjectionHead([Block(input, hidden, norm: .batchNorm, activation: .relu), Block(hidden, hidden, norm: .batchNorm, activation: .relu),
                        Block(hidden, output)], generator: &generator)
    }

    /// DINO's head (lightly `DINOProjectionHead` without batch norm): Linear → GELU → Linear → GELU →
    /// Linear to the bottleneck; the caller L2-normalises and applies the last layer
    /// (``dinoLastLayer(bottleneck:output:generator:)``).
    public static func dino(input: Int, hidden: Int, bottleneck: Int, generator: inout SeededGenerator) -> ProjectionHead {
        ProjectionHead([Block(input, hidden, activation: .gelu), Block(hidden, hidden, activation: .gelu), Block(hidden, bottleneck)],
                       generator: &generator)
    }

    /// DINO's last layer (lightly's `norm_last_layer=True`): a weight-normalised, bias-free Linear
    /// from the normalised bottleneck to the output logits — each logit the cosine with one
    /// prototype, so no prototype wins by growing its norm.
    public static func dinoLastLayer(bottleneck: Int, output: Int, generator: inout SeededGenerator) -> ProjectionHead {
        ProjectionHead([Block(bottleneck, output, normalizedWeight: true)], generator: &generator)
    }
}

/// Batch normalisation without learnable scale and shift (PyTorch `BatchNorm1d(affine=False)`):
/// SimSiam's last projection layer.
final class PlainBatchNorm: Layer {
    var statistics: BatchNormStatistics
    let ones: Tensor, zeros: Tensor
    var isTraining = true

    init(_ channels: Int) {
        statistics = BatchNormStatistics(channels: channels)
        ones = .ones([channels]); zeros = .zeros([channels])
    }

    var namedParameters: [(name: String, parameter: Parameter)] { [] }
    var namedBuffers: [(name: String, tensor: Tensor)] { [("running_mean", statistics.mean), ("running_var", statistics.variance)] }
    func setBuffer(_ name: String, _ value: Tensor) -> Bool {
        guard value.shape == statistics.mean.shape else { return false }
        switch name {
        case "running_mean": statistics.mean = value.detached()
        case "running_var": statistics.variance = value.detached()
        default: return false
        }
        return true
    }

    func callAsFunction(_ input: Tensor) -> Tensor {
        input.batchNorm(gamma: ones, beta: zeros, statistics: &statistics, training: isTraining, epsilon: 1e-5)
    }
}
