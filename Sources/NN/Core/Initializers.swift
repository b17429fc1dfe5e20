import Foundation
import Tensors

/// Weight initialisation schemes, reproducible from a seeded generator.
public enum Initializer: Sendable {
    /// Kaiming/He uniform for ReLU networks: U(−b, b) with b = √(6 / fanIn).
    case kaimingUniform
    /// Kaiming/He normal: N(0, 2 / fanIn).
    case kaimingNormal
    /// Xavier/Glorot uniform: U(−b, b) with b = √(6 / (fanIn + fanOut)).
    case xavierUniform
    /// Xavier/Glorot normal: N(0, 2 / (fanIn + fanOut)).
    case xavierNormal
    /// N(0, std²), as BERT initialises.
    case normal(std: Float)
    /// U(−bound, bound).
    case uniform(bound: Float)
    /// U(−1/√fanIn, 1/√fanIn): PyTorch's default for linear and convolution layers (weights and biases).
    case fanInUniform
    /// All zeros (biases).
    case zeros

    /// A tensor of `shape` whose fan-in and fan-out are as given.
    public func make(_ shape: [Int], fanIn: Int, fanOut: Int, generator: inout SeededGenerator) -> Tensor {
        let fi = Float(max(fanIn, 1)), fo = Float(max(fanOut, 1))
        switch self {
        case .kaimingUniform:
            let b = (6 / fi).squareRoot()
            return .randomUniform(shape, low: -b, high: b, generator: &generator)
        case .kaimingNormal:
            return .randomNormal(shape, std: (2 / fi).squareRoot(), generator: &generator)
        case .xavierUniform:
            let b = (6 / (fi + fo)).squareRoot()
            return .randomUniform(shape, low: -b, high: b, generator: &generator)
        case .xavierNormal:
            return .randomNormal(shape, std: (2 / (fi + fo)).squareRoot(), generator: &generator)
        case .normal(let std):
            return .randomNormal(shape, std: std, generator: &generator)
        case .uniform(let b):
            return .randomUniform(shape, low: -b, high: b, generator: &generator)
        case .fanInUniform:
            let b = 1 / fi.squareRoot()
            return .randomUniform(shape, low: -b, high: b, generator: &generator)
        case .zeros:
            return .zeros(shape)
        }
    }
}
