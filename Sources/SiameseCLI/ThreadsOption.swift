import ArgumentParser
import Tensors

/// `--threads N`, shared by every command that runs kernels or parallel loops (one declaration,
/// one check, one way to apply it).
struct ThreadsOption: ParsableArguments {
    /// The largest count accepted: far above any machine this runs on, low enough that a typo
    /// such as 20000 is refused instead of starting thousands of threads.
    static let maximum = 1024

    @Option(help: "Kernel threads (default: all cores, or SIAMESE_THREADS).")
    var threads: Int?

    func validate() throws {
        if let threads, !(1...Self.maximum).contains(threads) {
            throw ValidationError("--threads must be between 1 and \(Self.maximum) (got \(threads))")
        }
    }

    /// Sets the kernel thread count when `--threads` was given.
    func apply() {
        if let threads { Threading.threadCount = threads }
    }
}
