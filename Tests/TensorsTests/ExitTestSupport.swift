import Testing

/// The standard error of an exit test's child process as text ("" when the test did not run), so
/// that a death test checks which message stopped the process, not only that something trapped.
func stopMessage(_ result: ExitTest.Result?) -> String {
    guard let result else { return "" }
    return String(decoding: result.standardErrorContent, as: UTF8.self)
}
