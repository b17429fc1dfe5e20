/// One recorded op in the autodiff graph: its inputs' nodes and how to turn the gradient of its
/// output into gradients of its inputs.
///
/// Graph nodes are reference types so that the graph can be walked from the loss back to the
/// parameters; tensors themselves stay values. A leaf node (a parameter, or an input that asked for
/// gradients) keeps its accumulated gradient in ``grad``; an interior node holds its gradient only
/// while ``Tensor/backward(seed:)`` runs.
final class GradNode {
    /// Computes input gradients from the output gradient. `needs[i]` says whether input i wants one,
    /// so that an op can skip work (the gradient of a layer's input data, say).
    typealias Backward = (_ outputGrad: Tensor, _ needs: [Bool]) -> [Tensor?]

    let op: String
    let shape: [Int]
    let inputs: [GradNode?]
    let backwardFn: Backward?
    var grad: Tensor?

    /// A leaf: no inputs, gradients accumulate here.
    init(leafShape shape: [Int]) {
        op = "leaf"
        self.shape = shape
        inputs = []
        backwardFn = nil
    }

    init(op: String, shape: [Int], inputs: [GradNode?], backward: @escaping Backward) {
        self.op = op
        self.shape = shape
        self.inputs = inputs
        self.backwardFn = backward
    }

    var isLeaf: Bool { backwardFn == nil }
}

/// Whether ops record gradients. Recording happens only when this is on *and* an input requires
/// gradients, so inference on tensors without gradients never pays for it.
public enum GradMode {
    @TaskLocal static var enabled = true

    /// True unless inside ``withoutGradients(_:)``.
    public static var isEnabled: Bool { enabled }
}

/// Runs `body` with gradient recording off: ops on parameters produce plain tensors, no graph is kept.
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$enabled.withValue(false, operation: body)
}

/// Async variant of ``withoutGradients(_:)``.
public func withoutGradients<R>(_ body: () async throws -> R) async rethrows -> R {
    try await GradMode.$enabled.withValue(false, operation: body)
}

extension Tensor {
    /// Records `op` when any input requires gradients and recording is on. `self` is the op's output.
    @inline(__always)
    func recorded(_ op: @autoclosure () -> String, inputs: [Tensor], backward: @escaping GradNode.Backward) -> Tensor {
        var anyNode = false
        for t in inputs where t.node != nil { anyNode = true; break }
        guard anyNode, GradMode.enabled else { return self }
        var out = self
        out.node = GradNode(op: op(), shape: shape, inputs: inputs.map(\.node), backward: backward)
        return out
    }

    /// Unary convenience for ``recorded(_:inputs:backward:)``.
    @inline(__always)
    func recorded(_ op: @autoclosure () -> String, input: Tensor, backward: @escaping (Tensor) -> Tensor) -> Tensor {
        guard input.node != nil, GradMode.enabled else { return self }
        var out = self
        out.node = GradNode(op: op(), shape: shape, inputs: [input.node]) { g, _ in [backward(g)] }
        return out
    }
}
