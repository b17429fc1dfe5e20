/// A precondition whose message survives optimised builds (Swift's `precondition` drops it there).
///
/// The package's error policy: data from outside the program (files, requests, user arrays) is
/// checked with throwing APIs that name the file, line and field; misuse of an API inside the
/// program (a negative size, shapes that do not fit) stops here with a message naming the API and
/// the values — in debug and release builds alike, as Swift's arrays treat an index out of range.
/// - Parameters:
///   - condition: What must hold.
///   - message: What was wrong, naming the API and the values involved.
@inline(__always)
public func ensure(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                   file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
