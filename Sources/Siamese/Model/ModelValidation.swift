import SafeTensors

extension ModelFolder.Configuration {
    /// Largest size accepted for any one dimension of `siamese.json` (widths, image sides, channels).
    static let maximumDimension = 1 << 20
    /// Most layers or blocks accepted (the sequence encoder's dilation doubles per block).
    static let maximumLayers = 32

    /// Checks every field of `siamese.json` before a model is built from it: sizes positive and
    /// bounded, odd kernels, dropout in [0, 1), feature columns matching the input width, a head
    /// matching the embedding, and a parameter count that the weights file can hold — so a
    /// crafted file is refused with the field named instead of trapping in a layer's constructor
    /// or allocating terabytes. The exact shapes are checked by ``WeightsIO`` afterwards.
    /// - Parameters:
    ///   - file: the weights the configuration vouches for.
    ///   - path: `siamese.json`'s path, for messages.
    func validate(against file: SafeTensorsFile, path: String) throws {
        func fail(_ field: String, _ message: String) -> ModelFormatError {
            ModelFormatError("\(path): field \(field): \(message)")
        }
        func size(_ value: Int, _ field: String) throws {
            guard value > 0 && value <= Self.maximumDimension else {
                throw fail(field, "\(value) is not a size in 1…\(Self.maximumDimension)")
            }
        }
        func blocks(_ values: [Int], _ field: String, allowEmpty: Bool) throws {
            guard values.count <= Self.maximumLayers, allowEmpty || !values.isEmpty else {
                throw fail(field, "needs \(allowEmpty ? "at most" : "1 to") \(Self.maximumLayers) entries, got \(values.count)")
            }
            for (i, v) in values.enumerated() { try size(v, "\(field)[\(i)]") }
        }
        func kernel(_ k: Int, _ field: String) throws {
            try size(k, field)
            guard k % 2 == 1 else { throw fail(field, "the kernel size must be odd, got \(k)") }
        }
        var count = Counter(fail: { fail("encoder", "the parameter count overflows") })
        switch encoder {
        case .mlp(let c):
            try blocks(c.layers, "encoder.layers", allowEmpty: false)
            try size(c.embeddingDimension, "encoder.embeddingDimension")
            guard c.dropout.isFinite && c.dropout >= 0 && c.dropout < 1 else {
                throw fail("encoder.dropout", "must be in [0, 1), got \(c.dropout)")
            }
            let widths = c.layers + [c.embeddingDimension]
            for i in 0..<(widths.count - 1) { try count.linear(widths[i], widths[i + 1]) }
        case .cnn(let c):
            try size(c.channels, "encoder.channels")
            try size(c.height, "encoder.height")
            try size(c.width, "encoder.width")
            try blocks(c.blockChannels, "encoder.blockChannels", allowEmpty: true)
            try kernel(c.kernelSize, "encoder.kernelSize")
            try size(c.embeddingDimension, "encoder.embeddingDimension")
            var channels = c.channels, h = c.height, w = c.width
            for out in c.blockChannels {
                try count.add([c.kernelSize, c.kernelSize, channels, out])
                try count.add([c.batchNorm ? 2 : 1, out])
                if h >= 2 && w >= 2 { h /= 2; w /= 2 }
                channels = out
            }
            try count.linear(try count.product([channels, h, w]), c.embeddingDimension)
        case .sequence(let c):
            try size(c.channels, "encoder.channels")
            try size(c.length, "encoder.length")
            try blocks(c.blockChannels, "encoder.blockChannels", allowEmpty: false)
            try kernel(c.kernelSize, "encoder.kernelSize")
            try size(c.embeddingDimension, "encoder.embeddingDimension")
            var channels = c.channels
            for out in c.blockChannels {
                try count.add([c.kernelSize, channels, out])
                try count.add([out])
                channels = out
            }
            try count.linear(channels, c.embeddingDimension)
        }
        // Overflow-checked: the input width is a product of fields.
        let inputs = try count.product(encoderInputFactors)
        guard inputs <= Self.maximumDimension * 64 else {
            throw fail("encoder", "an input of \(inputs) features is larger than any model this program makes")
        }
        if let head {
            guard head.dimension == encoder.embeddingDimension else {
                throw fail("head.dimension", "\(head.dimension) does not match the encoder's embedding dimension \(encoder.embeddingDimension)")
            }
            try count.linear(head.includesProduct ? 2 * head.dimension : head.dimension, 1)
        }
        if let featureColumns {
            guard featureColumns.count == inputs else {
                throw fail("feature_columns", "\(featureColumns.count) names for an encoder that reads \(inputs) features")
            }
            var seen = Set<String>()
            for name in featureColumns where !seen.insert(name).inserted {
                throw fail("feature_columns", "the name \"\(name)\" appears twice")
            }
        }
        let stored = file.tensorInfos.reduce(0) { $0 &+ $1.elementCount }
        guard count.total <= stored else {
            throw fail("encoder", "describes \(count.total) parameters but \(file.path) holds \(stored) values")
        }
    }

    private var encoderInputFactors: [Int] {
        switch encoder {
        case .mlp(let c): [c.layers[0]]
        case .cnn(let c): [c.channels, c.height, c.width]
        case .sequence(let c): [c.channels, c.length]
        }
    }
}

/// Adds up parameter counts with overflow checks.
private struct Counter {
    let fail: () -> ModelFormatError
    var total = 0

    func product(_ factors: [Int]) throws -> Int {
        var p = 1
        for f in factors {
            let (r, overflow) = p.multipliedReportingOverflow(by: f)
            guard !overflow else { throw fail() }
            p = r
        }
        return p
    }

    mutating func add(_ factors: [Int]) throws {
        let (r, overflow) = total.addingReportingOverflow(try product(factors))
        guard !overflow else { throw fail() }
        total = r
    }

    /// A linear layer's weight and bias.
    mutating func linear(_ input: Int, _ output: Int) throws {
        try add([input, output])
        try add([output])
    }
}
