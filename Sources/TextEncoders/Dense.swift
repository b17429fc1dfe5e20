import Foundation
import NN
import Tensors

/// sentence-transformers' `Dense` module: a linear layer and an activation on the sentence vector
/// (`2_Dense/config.json` and its `model.safetensors` with `linear.weight` / `linear.bias`).
public final class DenseModule: Module {
    /// An activation as sentence-transformers names it (the PyTorch class): Dense modules'
    /// `activation_function`, cross-encoders' `activation_fn`.
    public enum Activation: String, Sendable, CaseIterable {
        case identity = "torch.nn.modules.linear.Identity"
        case tanh = "torch.nn.modules.activation.Tanh"
        case relu = "torch.nn.modules.activation.ReLU"
        case gelu = "torch.nn.modules.activation.GELU"
        case sigmoid = "torch.nn.modules.activation.Sigmoid"

        /// The activation of one value, outside the autodiff graph (a cross-encoder's scores).
        public func apply(_ x: Float) -> Float {
            switch self {
            case .identity: x
            case .tanh: Foundation.tanh(x)
            case .relu: max(0, x)
            case .gelu: 0.5 * x * (1 + Foundation.erf(x / Float(2).squareRoot()))
            case .sigmoid: 1 / (1 + Foundation.exp(-x))
            }
        }
    }

    public let linear: Linear
    public let activation: Activation
    /// Adds the input to the output (sentence-transformers' `use_residual`, same widths only).
    public let residual: Bool
    public var isTraining = false

    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, activation: Activation = .tanh, residual: Bool = false, seed: UInt64 = 0) {
        var g = SeededGenerator(seed: seed)
        linear = Linear(inFeatures, outFeatures, bias: bias, generator: &g)
        self.activation = activation
        self.residual = residual
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { scoped("linear", linear.namedParameters) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        var y = linear(x)
        switch activation {
        case .identity: break
        case .tanh: y = y.tanh()
        case .relu: y = y.relu()
        case .gelu: y = y.gelu()
        case .sigmoid: y = y.sigmoid()
        }
        return residual ? y + x : y
    }

    /// Reads the module's folder.
    static func load(_ folder: URL) throws(TextEncoderError) -> DenseModule {
        let config = try JSONFile(folder.appendingPathComponent("config.json"))
        let name = try config.string("activation_function", default: Activation.tanh.rawValue)
        guard let activation = Activation(rawValue: name) else {
            throw config.error("activation_function", "\"\(name)\" is not supported (\([Activation.identity, .tanh, .relu, .gelu, .sigmoid].map(\.rawValue).joined(separator: ", ")))")
        }
        let inputs = try config.int("in_features", range: 1...1_000_000), outputs = try config.int("out_features", range: 1...1_000_000)
        let residual = try config.bool("use_residual", default: false)
        if residual && inputs != outputs { throw config.error("use_residual", "a residual with a projection (in ≠ out) is not supported") }
        for key in ["module_input_name", "module_output_name"] where config.has(key) {
            guard try config.string(key) == "sentence_embedding" else { throw config.error(key, "only sentence_embedding is supported") }
        }
        let dense = DenseModule(inFeatures: inputs, outFeatures: outputs, bias: try config.bool("bias", default: true),
                                activation: activation, residual: residual)
        let weights = folder.appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: weights.path) else {
            throw TextEncoderError("\(folder.path): no model.safetensors (PyTorch .bin weights are not read; save the model with safe_serialization=True)")
        }
        try WeightLoading.load(dense.namedParameters, from: weights, ignoring: { _ in false })
        return dense
    }

    var configObject: [String: Any] {
        ["in_features": linear.inFeatures, "out_features": linear.outFeatures, "bias": linear.bias != nil,
         "activation_function": activation.rawValue]
    }
}
