import Foundation
import NN
import SafeTensors
import Tensors

/// Saving and loading a module's parameters and buffers by name through safetensors.
public enum WeightsIO {
    /// Writes every parameter and buffer of `module` to `url` atomically.
    public static func save(_ module: any Module, to url: URL, metadata: [String: String] = [:]) throws {
        var writer = SafeTensorsWriter(metadata: metadata)
        for (name, p) in module.namedParameters { try writer.add(name, p.value.detached()) }
        for (name, t) in module.namedBuffers { try writer.add(name, t) }
        try writer.write(to: url)
    }

    /// Loads parameters and buffers into `module`. Every name the module has must be in the file
    /// with the same shape; names in the file that the module lacks are an error too (a wrong
    /// architecture is caught, not half-loaded). Values are checked to be finite.
    public static func load(_ module: any Module, from url: URL) throws {
        let file = try SafeTensorsFile(contentsOf: url)
        try load(module, from: file)
    }

    static func load(_ module: any Module, from file: SafeTensorsFile) throws {
        let expected = Set(module.namedParameters.map(\.name) + module.namedBuffers.map(\.name))
        let unexpected = Set(file.names).subtracting(expected)
        guard unexpected.isEmpty else {
            throw ModelFormatError("\(file.path): tensors \(unexpected.sorted().prefix(5).joined(separator: ", ")) do not belong to this model")
        }
        var loaded: [(Parameter, Tensor)] = []
        for (name, p) in module.namedParameters {
            let t = try checkedTensor(file, name, shape: p.shape)
            loaded.append((p, t))
        }
        var buffers: [(String, Tensor)] = []
        for (name, b) in module.namedBuffers {
            buffers.append((name, try checkedTensor(file, name, shape: b.shape)))
        }
        // Only assign once everything has been read and checked: a bad file leaves the model as it was.
        for (p, t) in loaded { p.value = t.requiringGrad() }
        for (name, t) in buffers { _ = module.setBuffer(name, t) }
    }

    private static func checkedTensor(_ file: SafeTensorsFile, _ name: String, shape: [Int]) throws -> Tensor {
        guard file.contains(name) else { throw ModelFormatError("\(file.path): tensor \(name) is missing") }
        let t = try file.tensor(named: name)
        guard t.shape == shape else { throw ModelFormatError("\(file.path): tensor \(name) has shape \(t.shape), the model needs \(shape)") }
        guard t.allFinite else { throw ModelFormatError("\(file.path): tensor \(name) contains NaN or infinite values") }
        return t
    }
}

/// A model folder or checkpoint that cannot be used, and why.
public struct ModelFormatError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
