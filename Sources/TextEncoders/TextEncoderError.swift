/// Why a text encoder could not be loaded, saved or run: a file or field named, and what is wrong.
public struct TextEncoderError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
