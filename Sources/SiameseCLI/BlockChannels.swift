import ArgumentParser

/// `--blocks 32,64`: the channels of each convolution block of a CNN or sequence encoder, shared by
/// `train` and `pretrain` so that a supervised twin and a pre-trained encoder can have one backbone.
enum BlockChannels {
    /// The positive channel counts of `text`, or a usage error naming the option.
    static func parse(_ text: String) throws -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let widths = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !widths.isEmpty, widths.count == parts.count, widths.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--blocks must list positive channel counts, e.g. 32,64; got \(text)")
        }
        return widths
    }
}
