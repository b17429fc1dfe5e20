/// A failure while propagating gradients.
public enum AutodiffError: Error, CustomStringConvertible, Equatable, Sendable {
    /// `backward()` without a seed needs a one-element output (a loss).
    case nonScalarOutput(shape: [Int])
    /// The output does not depend on anything that requires gradients.
    case noGradientPath
    /// A gradient became NaN or infinite in the backward pass of `op` (for its input `input`).
    case nonFiniteGradient(op: String, input: Int, shape: [Int])
    /// The seed's shape differs from the output's.
    case seedShapeMismatch(output: [Int], seed: [Int])

    /// One line starting with `backward:` that says what failed and, where relevant, which op and shape.
    public var description: String {
        switch self {
        case .nonScalarOutput(let shape):
            "backward: needs a one-element output or an explicit seed, output shape is \(shape)"
        case .noGradientPath:
            "backward: the output does not depend on any tensor that requires gradients"
        case .nonFiniteGradient(let op, let input, let shape):
            "backward: gradient of input \(input) of \(op) (shape \(shape)) is not finite (NaN or Inf)"
        case .seedShapeMismatch(let output, let seed):
            "backward: seed shape \(seed) differs from output shape \(output)"
        }
    }
}

extension Tensor {
    /// True when this tensor takes part in gradient computation. Setting it on a tensor makes it a
    /// leaf whose gradient accumulates in ``grad``.
    public var requiresGrad: Bool {
        get { node != nil }
        set {
            if newValue {
                if node == nil { node = GradNode(leafShape: shape) }
            } else {
                node = nil
            }
        }
    }

    /// The same tensor as a gradient-tracking leaf.
    public func requiringGrad() -> Tensor {
        var t = self
        t.node = GradNode(leafShape: shape)
        return t
    }

    /// The same values, cut off from the graph.
    public func detached() -> Tensor {
        var t = self
        t.node = nil
        return t
    }

    /// The gradient accumulated into this leaf by ``backward(seed:)`` calls; nil before the first.
    public var grad: Tensor? { node?.grad }

    /// Clears the accumulated gradient of this leaf.
    public func zeroGrad() { node?.grad = nil }

    /// Replaces the accumulated gradient of this leaf (gradient clipping, tests).
    public func setGradient(_ gradient: Tensor) {
        check(node != nil, "setGradient", "tensor does not require gradients")
        check(gradient.shape == shape, "setGradient", "gradient shape \(gradient.shape) differs from \(shape)")
        node?.grad = gradient.detached()
    }

    /// Name of the op that produced this tensor ("leaf" for leaves, nil without gradient tracking).
    public var gradOp: String? { node?.op }

    /// Propagates gradients from this tensor back to every leaf it depends on, adding them to the
    /// leaves' ``grad``. Without a seed the tensor must have one element (a loss) and the seed is 1.
    ///
    /// Every gradient an op produces is checked for NaN/Inf, and the first bad one is reported with
    /// the op's name, so a diverging loss is found where it starts.
    public func backward(seed: Tensor? = nil) throws(AutodiffError) {
        guard let root = node else { throw .noGradientPath }
        let seedValue: Tensor
        if let seed {
            guard seed.shape == shape else { throw .seedShapeMismatch(output: shape, seed: seed.shape) }
            seedValue = seed.detached()
        } else {
            guard count == 1 else { throw .nonScalarOutput(shape: shape) }
            seedValue = Tensor(shape: shape, repeating: 1)
        }
        var failure: AutodiffError?
        GradMode.$enabled.withValue(false) {
            do { try Self.propagate(from: root, seed: seedValue) } catch let error as AutodiffError { failure = error } catch { preconditionFailure("\(error)") }
        }
        if let failure { throw failure }
    }

    private static func propagate(from root: GradNode, seed: Tensor) throws(AutodiffError) {
        let order = topologicalOrder(from: root)
        // Interior gradients live in a side table so that leaves keep what earlier passes accumulated.
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seed]
        for node in order.reversed() {
            guard let g = grads.removeValue(forKey: ObjectIdentifier(node)) else { continue }
            guard let backwardFn = node.backwardFn else {
                node.grad = node.grad.map { $0 + g } ?? g
                continue
            }
            let needs = node.inputs.map { $0 != nil }
            let inputGrads = backwardFn(g, needs)
            for (i, input) in node.inputs.enumerated() {
                guard let input, i < inputGrads.count, let ig = inputGrads[i] else { continue }
                check(ig.shape == input.shape, "backward of \(node.op)",
                      "gradient for input \(i) has shape \(ig.shape), input has \(input.shape)")
                guard ig.allFinite else { throw .nonFiniteGradient(op: node.op, input: i, shape: ig.shape) }
                let key = ObjectIdentifier(input)
                if let existing = grads[key] {
                    grads[key] = existing + ig
                } else {
                    grads[key] = ig
                }
            }
        }
    }

    /// Depth-first post-order without recursion, so deep graphs cannot overflow the stack.
    private static func topologicalOrder(from root: GradNode) -> [GradNode] {
        var order: [GradNode] = []
        var visited: Set<ObjectIdentifier> = [ObjectIdentifier(root)]
        var stack: [(GradNode, Int)] = [(root, 0)]
        while let (node, next) = stack.popLast() {
            if next < node.inputs.count {
                stack.append((node, next + 1))
                if let child = node.inputs[next], visited.insert(ObjectIdentifier(child)).inserted {
                    stack.append((child, 0))
                }
            } else {
                order.append(node)
            }
        }
        return order
    }
}
