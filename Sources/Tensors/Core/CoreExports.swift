// Everything built on Tensors sees the package's foundation (`ensure`, `SeededGenerator`,
// `AlignedBuffer`, the durable file writer) without importing Core itself.
@_exported import Core
