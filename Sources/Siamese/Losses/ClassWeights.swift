import NN
import Tensors

/// Learnable class vectors, `[classes, d]`: the class weights of ``ArcFaceLoss`` and
/// ``CosFaceLoss``, or the proxies of ``ProxyAnchorLoss``.
///
/// pytorch-metric-learning keeps them inside the loss object; here they are a module of their own
/// so that a trainer can optimise and checkpoint them beside the encoder (as `weight`). pml stores
/// ArcFace / CosFace weights transposed (`W`, `[d, classes]`); this is its transpose.
public final class ClassWeights: Module {
    /// One row per class.
    public let weight: Parameter
    /// Unused (no dropout or batch norm); part of ``Module``.
    public var isTraining = true

    /// How the vectors start, as pml initialises them.
    public enum Initialization: Sendable {
        /// N(0, 1): pml's `LargeMarginSoftmaxLoss` family (ArcFace, CosFace).
        case normal
        /// Kaiming normal with fan-out = classes, N(0, 2 / classes): pml's `ProxyAnchorLoss`.
        case kaimingFanOut
    }

    /// - Parameters:
    ///   - classes: number of classes (labels must lie in 0..<classes).
    ///   - dimension: embedding size d.
    ///   - initialization: the starting distribution.
    ///   - generator: seeded source of the initial values.
    public init(classes: Int, dimension: Int, initialization: Initialization, generator: inout SeededGenerator) {
        ensure(classes > 0 && dimension > 0, "ClassWeights: needs at least one class and one dimension, got \(classes) and \(dimension)")
        let std: Float = switch initialization {
        case .normal: 1
        case .kaimingFanOut: (2 / Float(classes)).squareRoot()
        }
        weight = Parameter(Tensor.randomNormal([classes, dimension], std: std, generator: &generator))
    }

    /// Number of classes.
    public var classes: Int { weight.value.shape[0] }

    /// The one parameter, `weight`.
    public var namedParameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }
}

/// Checks embeddings `[n, d]`, n labels in 0..<classes and class vectors `[classes, d]`.
func checkClassBatch(_ embeddings: Tensor, _ labels: [Int], _ weights: Tensor, op: String) {
    checkLabelledBatch(embeddings, labels, op: op)
    lossPrecondition(weights.rank == 2 && weights.shape[1] == embeddings.shape[1], op,
                     "needs [classes, \(embeddings.shape[1])] class weights, got \(weights.shape)")
    if let bad = labels.first(where: { $0 < 0 || $0 >= weights.shape[0] }) {
        lossPrecondition(false, op, "label \(bad) is outside 0..<\(weights.shape[0]) (one class weight per label)")
    }
}

/// Cross-entropy of scaled cosine logits whose target entries are replaced: the common core of
/// ArcFace and CosFace (pml's `LargeMarginSoftmaxLoss.compute_loss`, `MeanReducer`).
/// `target` maps the cosines to the targets `[n]` to their modified values.
func marginSoftmaxLoss(_ embeddings: Tensor, labels: [Int], weights: Tensor, scale: Float,
                       target modify: (Tensor) -> Tensor) -> Tensor {
    let n = labels.count, classes = weights.shape[0]
    if n == 0 { return embeddings.connectedZero() }
    let cosines = Tensor.pairwiseCosineSimilarity(embeddings, weights)          // [n, classes]
    var oneHot = [Float](repeating: 0, count: n * classes)
    for (i, y) in labels.enumerated() { oneHot[i * classes + y] = 1 }
    let targetMask = Tensor(shape: [n, classes], oneHot)
    let modified = modify(cosines.reshaped([n * classes]).indexSelect(labels.enumerated().map { $0 * classes + $1 }))
    let logits = (cosines.maskedFill(targetMask, with: 0) + targetMask * modified.reshaped([n, 1])) * scale
    return (logits.logSumExp(axis: 1) - modified * scale).mean()
}
