/// A failed tensor check: which op, and what was wrong (shapes, axes, values).
///
/// Error policy: data that comes from outside the program (files, requests, user arrays) is checked
/// with throwing APIs such as ``Tensor/init(shape:validating:)`` and produces a `TensorError`.
/// Misuse inside a program (adding tensors whose shapes do not broadcast, an axis out of range)
/// is a programming error and stops the process with the same message (in debug and release
/// builds alike), the way Swift's own arrays treat an index out of range.
/// Validate at the boundary, then compose ops freely.
public struct TensorError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The op or API that refused its input.
    public let op: String
    /// What was wrong, with the shapes involved.
    public let message: String

    /// Creates an error.
    /// - Parameters:
    ///   - op: The op or API that refused its input.
    ///   - message: What was wrong, with the shapes involved.
    public init(op: String, _ message: String) {
        self.op = op
        self.message = message
    }

    /// `"op: message"`.
    public var description: String { "\(op): \(message)" }
}

/// Stops with a message naming the op when a programming precondition fails.
///
/// `fatalError` rather than `preconditionFailure`: optimised builds drop the latter's message, and
/// the message (op and shapes) is the whole point.
@inline(__always)
func check(_ condition: @autoclosure () -> Bool, _ op: @autoclosure () -> String, _ message: @autoclosure () -> String) {
    if !condition() { fatalError(TensorError(op: op(), message()).description) }
}
