/// Misuse of an evaluation function: empty input, a single class, values out of range.
public struct EvaluationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in words a user can act on.
    public let message: String

    /// Creates an error.
    /// - Parameters:
    ///   - message: What went wrong, in words a user can act on.
    public init(_ message: String) { self.message = message }

    /// The message itself.
    public var description: String { message }

    static func empty(_ what: String) -> EvaluationError {
        EvaluationError("no \(what) to evaluate: the input is empty")
    }

    static func singleClass(genuine: Int, impostor: Int) -> EvaluationError {
        let which = genuine == 0 ? "different (label 0)" : "same (label 1)"
        return EvaluationError("all \(genuine + impostor) pairs are labelled \(which); ROC, AUC, EER and thresholds need both same and different pairs")
    }
}
