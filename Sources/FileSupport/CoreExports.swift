// Code that imports FileSupport sees the package's foundation (the durable writer `AtomicFile`,
// `ensure`, `SeededGenerator`) without importing Core itself.
@_exported import Core
