import Foundation
import Tensors
import Tokenizers

/// Runs a ``SentenceTransformer`` for inference with nothing wasted: no autodiff graph, no
/// padding, no per-op allocation.
///
/// - **Packed sequences.** A batch's sequences are laid end to end as one `[tokens, hidden]`
///   matrix: every linear layer is one GEMM over real tokens only, and attention runs per
///   sequence on its own `L×L` scores. Batches are formed after sorting inputs by length.
/// - **Fused row passes.** Bias, residual and LayerNorm (or bias and GELU) are one pass over each
///   row right after its GEMM; Q, K and V are one GEMM with the three weight matrices stacked.
/// - **Reused buffers.** One workspace per ``encode(_:batchSize:)`` call, grown to the largest
///   batch and reused by every layer and batch.
/// - **Threads.** GEMMs and row passes use ``Threading/threadCount`` threads; attention runs one
///   sequence per task.
/// - **int8.** With ``Precision/int8`` the four linear layers of each transformer layer run as
///   dynamic int8 (``QuantizedMatrix``); embeddings, LayerNorm, softmax, pooling and the dense
///   head stay in float32.
///
/// The engine copies what it needs from the model's parameters when built; it is immutable and
/// may be used from several threads at once.
public final class InferenceEngine: @unchecked Sendable {
    public let precision: Precision
    public let configuration: BertConfiguration
    /// The width of the embeddings it produces.
    public let dimension: Int
    let snapshot: [Tensor]
    let word: Tensor, position: Tensor, tokenType: Tensor
    let embeddingGamma: AlignedBuffer<Float>, embeddingBeta: AlignedBuffer<Float>
    let layers: [EngineLayer]
    /// MPNet's relative position bias by head and offset: `[heads, 2·maxSequenceLength − 1]`,
    /// entry `(h, (j − i) + maxSequenceLength − 1)` the bias of query `i` on key `j`, so that one
    /// query row's biases are one contiguous slice. nil for BERT.
    let positionBias: AlignedBuffer<Float>?
    let pooling: Pooling
    let dense: [(weights: LinearWeights, activation: DenseModule.Activation, residual: Bool)]
    let normalizes: Bool
    /// Tokens per packed batch at most (a batch always takes at least one input).
    let tokenBudget = 16384

    struct EngineLayer {
        let qkv: LinearWeights
        let attentionOutput: LinearWeights
        let gamma1: AlignedBuffer<Float>, beta1: AlignedBuffer<Float>
        let intermediate: LinearWeights
        let output: LinearWeights
        let gamma2: AlignedBuffer<Float>, beta2: AlignedBuffer<Float>
    }

    /// - Parameters:
    ///   - model: The model whose current parameters are copied (the embedding tables are shared).
    ///   - precision: The arithmetic of the linear layers.
    ///   - keepingSnapshot: Keep references to every parameter so that ``isCurrent(_:)`` can tell
    ///     when they change (the engine cache of a model being trained); false for an engine that
    ///     outlives its model (``FrozenTextEncoder``), which would otherwise keep it all alive.
    init(model: SentenceTransformer, precision: Precision, keepingSnapshot: Bool = true) {
        self.precision = precision
        let bert = model.bert
        configuration = bert.configuration
        snapshot = keepingSnapshot ? model.namedParameters.map { $0.parameter.value.detached() } : []
        word = bert.embeddings.wordEmbeddings.weight.value.detached()
        position = bert.embeddings.positionEmbeddings.weight.value.detached()
        // MPNet has no token types: one zero row keeps a single embedding pass for both families.
        tokenType = bert.embeddings.tokenTypeEmbeddings?.weight.value.detached() ?? Tensor(shape: [1, bert.configuration.hiddenSize])
        embeddingGamma = AlignedBuffer(bert.embeddings.layerNorm.weight.value.scalars)
        embeddingBeta = AlignedBuffer(bert.embeddings.layerNorm.bias.value.scalars)
        let h = bert.configuration.hiddenSize, inner = bert.configuration.intermediateSize
        layers = bert.layers.map { l in
            EngineLayer(
                qkv: LinearWeights(weight: l.query.weight.value.scalars + l.key.weight.value.scalars + l.value.weight.value.scalars,
                                   bias: l.query.bias!.value.scalars + l.key.bias!.value.scalars + l.value.bias!.value.scalars,
                                   inFeatures: h, precision: precision),
                attentionOutput: LinearWeights(weight: l.attentionOutput.weight.value.scalars, bias: l.attentionOutput.bias!.value.scalars,
                                               inFeatures: h, precision: precision),
                gamma1: AlignedBuffer(l.attentionLayerNorm.weight.value.scalars), beta1: AlignedBuffer(l.attentionLayerNorm.bias.value.scalars),
                intermediate: LinearWeights(weight: l.intermediate.weight.value.scalars, bias: l.intermediate.bias!.value.scalars,
                                            inFeatures: h, precision: precision),
                output: LinearWeights(weight: l.output.weight.value.scalars, bias: l.output.bias!.value.scalars,
                                      inFeatures: inner, precision: precision),
                gamma2: AlignedBuffer(l.outputLayerNorm.weight.value.scalars), beta2: AlignedBuffer(l.outputLayerNorm.bias.value.scalars))
        }
        if let table = bert.relativeAttentionBias {
            let c = bert.configuration, span = c.maxSequenceLength, w = table.weight.value.scalars
            var byOffset = [Float](repeating: 0, count: c.heads * (2 * span - 1))
            for r in 0..<(2 * span - 1) {
                let bucket = BertConfiguration.relativePositionBucket(r - (span - 1))
                for h in 0..<c.heads { byOffset[h * (2 * span - 1) + r] = w[bucket * c.heads + h] }
            }
            positionBias = AlignedBuffer(byOffset)
        } else {
            positionBias = nil
        }
        pooling = model.pooling
        dense = model.dense.map { d in
            (LinearWeights(weight: d.linear.weight.value.scalars,
                           bias: d.linear.bias?.value.scalars ?? [Float](repeating: 0, count: d.linear.outFeatures),
                           inFeatures: d.linear.inFeatures, precision: .float32), d.activation, d.residual)
        }
        normalizes = model.normalizes
        dimension = model.fullDimension
    }

    /// What runs the linear layers: `float32 (avx2)`, `int8 (avx512-vnni)`, …
    public var kernelDescription: String {
        switch precision {
        case .float32: "float32 (\(Kernels.isa))"
        case .int8: "int8 (\(layers.first?.qkv.quantized?.kernelName ?? "none"))"
        }
    }

    /// True when `parameters` are the very tensors (same storage) this engine was built from.
    func isCurrent(_ parameters: [Tensor]) -> Bool {
        parameters.count == snapshot.count && zip(parameters, snapshot).allSatisfy { $0.sharesStorage(with: $1) }
    }

    /// Embeddings `[encodings.count, dimension]` in input order; the first `poolingSkip` tokens of
    /// each input (a prompt's, see ``Pooling/includePrompt``) are left out of the pooling.
    public func encode(_ encodings: [Encoding], batchSize: Int = 64, poolingSkip: Int = 0) -> Tensor {
        let n = encodings.count
        var out = Tensor(shape: [n, dimension])
        guard n > 0 else { return out }
        // Longest first: the first batch sizes the workspace once for all.
        let order = encodings.indices.sorted { (encodings[$0].count, $1) > (encodings[$1].count, $0) }
        let workspace = Workspace()
        let pooled = AlignedBuffer<Float>()
        out.withUnsafeMutableBufferPointer { result in
            var start = 0
            while start < n {
                var end = start, tokens = 0
                while end < n && end - start < batchSize && (end == start || tokens + encodings[order[end]].count <= tokenBudget) {
                    tokens += encodings[order[end]].count
                    end += 1
                }
                let batch = order[start..<end].map { encodings[$0] }
                let p = pooled.reserve(batch.count * max(dimension, pooling.outputDimension))
                run(batch, into: p, workspace: workspace, poolingSkip: poolingSkip)
                for (k, index) in order[start..<end].enumerated() {
                    (result.baseAddress! + index * dimension).update(from: p + k * dimension, count: dimension)
                }
                start = end
            }
        }
        return out
    }

    /// Buffers of one encode call.
    final class Workspace: @unchecked Sendable {
        let x = AlignedBuffer<Float>(), qkv = AlignedBuffer<Float>(), context = AlignedBuffer<Float>()
        let temporary = AlignedBuffer<Float>(), inner = AlignedBuffer<Float>()
        let quantization = QuantizationScratch()
    }

    /// The final embeddings of `batch` into `out` (`[batch.count, dimension]`, row-major).
    func run(_ batch: [Encoding], into out: UnsafeMutablePointer<Float>, workspace ws: Workspace, poolingSkip: Int = 0) {
        let c = configuration
        let h = c.hiddenSize, inner = c.intermediateSize
        var offsets = [Int](), ids = [Int32](), positions = [Int32](), types = [Int32]()
        offsets.reserveCapacity(batch.count + 1)
        offsets.append(0)
        for e in batch {
            let positionIDs = c.positionIDs(e.ids[...])
            ensure(e.count <= c.maxSequenceLength, "InferenceEngine: \(e.count) tokens exceed the \(c.maxSequenceLength) positions of the model")
            for j in 0..<e.count {
                ensure(e.ids[j] >= 0 && e.ids[j] < c.vocabularySize && e.typeIDs[j] >= 0 && e.typeIDs[j] < c.typeVocabularySize,
                             "InferenceEngine: token id \(e.ids[j]) or type \(e.typeIDs[j]) outside the model's tables")
                ids.append(Int32(e.ids[j]))
                positions.append(Int32(positionIDs[j]))
                types.append(Int32(e.typeIDs[j]))
            }
            offsets.append(ids.count)
        }
        let n = ids.count
        let x = SendablePointer(ws.x.reserve(n * h))
        let qkv = SendablePointer(ws.qkv.reserve(n * 3 * h))
        let context = SendablePointer(ws.context.reserve(n * h))
        let temporary = SendablePointer(ws.temporary.reserve(n * h))
        let innerBuffer = SendablePointer(ws.inner.reserve(n * inner))
        let eps = c.layerNormEpsilon

        // Embeddings: word + position + type, LayerNorm.
        word.withUnsafeBufferPointer { w in
            position.withUnsafeBufferPointer { p in
                tokenType.withUnsafeBufferPointer { t in
                    let wp = SendablePointer(UnsafeMutablePointer(mutating: w.baseAddress!))
                    let pp = SendablePointer(UnsafeMutablePointer(mutating: p.baseAddress!))
                    let tp = SendablePointer(UnsafeMutablePointer(mutating: t.baseAddress!))
                    let g = SendablePointer(embeddingGamma.pointer), b = SendablePointer(embeddingBeta.pointer)
                    ids.withUnsafeBufferPointer { idp in
                        positions.withUnsafeBufferPointer { posp in
                            types.withUnsafeBufferPointer { typ in
                                let i = SendablePointer(UnsafeMutablePointer(mutating: idp.baseAddress!))
                                let q = SendablePointer(UnsafeMutablePointer(mutating: posp.baseAddress!))
                                let r = SendablePointer(UnsafeMutablePointer(mutating: typ.baseAddress!))
                                RowKernels.parallelRows(n, minimumRows: 32) { start, end in
                                    for row in start..<end {
                                        RowKernels.addLayerNorm(wp.pointer + Int(i.pointer[row]) * h, pp.pointer + Int(q.pointer[row]) * h,
                                                                bias: tp.pointer + Int(r.pointer[row]) * h, gamma: g.pointer, beta: b.pointer,
                                                                epsilon: eps, x.pointer + row * h, d: h)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        for layer in layers {
            // Q, K, V in one GEMM, then attention sequence by sequence.
            layer.qkv.multiply(x.pointer, rows: n, into: qkv.pointer, addBias: true, scratch: ws.quantization)
            Attention.run(qkv: qkv.pointer, context: context.pointer, offsets: offsets, heads: c.heads, hidden: h,
                          positionBias: positionBias.map { ($0.pointer, c.maxSequenceLength) })

            // Output projection, + bias + residual, LayerNorm (into x).
            layer.attentionOutput.multiply(context.pointer, rows: n, into: temporary.pointer, scratch: ws.quantization)
            let b1 = SendablePointer(layer.attentionOutput.bias.pointer)
            let g1 = SendablePointer(layer.gamma1.pointer), be1 = SendablePointer(layer.beta1.pointer)
            RowKernels.parallelRows(n, minimumRows: 32) { start, end in
                for row in start..<end {
                    RowKernels.addLayerNorm(temporary.pointer + row * h, x.pointer + row * h, bias: b1.pointer, gamma: g1.pointer,
                                            beta: be1.pointer, epsilon: eps, x.pointer + row * h, d: h)
                }
            }

            // Feed-forward: bias + activation in one pass, then output + bias + residual + LayerNorm.
            layer.intermediate.multiply(x.pointer, rows: n, into: innerBuffer.pointer, scratch: ws.quantization)
            let bi = SendablePointer(layer.intermediate.bias.pointer)
            let activation = c.activation
            RowKernels.parallelRows(n, minimumRows: 16) { start, end in
                for row in start..<end {
                    let y = innerBuffer.pointer + row * inner
                    RowKernels.addBias(y, bi.pointer, d: inner)
                    switch activation {
                    case .gelu: Kernels.geluErf(y, y, count: inner)
                    case .geluTanh: Kernels.geluTanh(y, y, count: inner)
                    case .relu: for j in 0..<inner { y[j] = max(y[j], 0) }
                    }
                }
            }
            layer.output.multiply(innerBuffer.pointer, rows: n, into: temporary.pointer, scratch: ws.quantization)
            let b2 = SendablePointer(layer.output.bias.pointer)
            let g2 = SendablePointer(layer.gamma2.pointer), be2 = SendablePointer(layer.beta2.pointer)
            RowKernels.parallelRows(n, minimumRows: 32) { start, end in
                for row in start..<end {
                    RowKernels.addLayerNorm(temporary.pointer + row * h, x.pointer + row * h, bias: b2.pointer, gamma: g2.pointer,
                                            beta: be2.pointer, epsilon: eps, x.pointer + row * h, d: h)
                }
            }
        }

        pool(x.pointer, offsets: offsets, skip: poolingSkip, into: out, workspace: ws)
    }

    /// Pooling, dense layers and normalisation of each sequence's token rows.
    /// The first `skip` tokens of each sequence (a prompt's) stay out of the max, mean and
    /// weighted modes; the first and last token are the sequence's own (as sentence-transformers,
    /// which masks only those modes; a weighted mean keeps each token's weight by its position).
    /// A sequence with nothing left after the prompt pools to zeros.
    private func pool(_ x: UnsafeMutablePointer<Float>, offsets: [Int], skip: Int = 0, into out: UnsafeMutablePointer<Float>, workspace ws: Workspace) {
        let s = offsets.count - 1, d = pooling.dimension, width = pooling.outputDimension
        // Pooled vectors go to a scratch matrix when dense layers follow, else straight to `out`.
        let pooled = dense.isEmpty ? out : ws.context.reserve(s * width)
        for k in 0..<s {
            let rows = x + offsets[k] * d, length = offsets[k + 1] - offsets[k]
            let first = min(skip, length), counted = length - first
            var dst = pooled + k * width
            for mode in pooling.modes {
                switch mode {
                case .cls:
                    dst.update(from: rows, count: d)
                case .lastToken:
                    dst.update(from: rows + (length - 1) * d, count: d)
                case .max where counted == 0, .mean where counted == 0, .meanSqrtLength where counted == 0, .weightedMean where counted == 0:
                    dst.update(repeating: 0, count: d)
                case .max:
                    dst.update(from: rows + first * d, count: d)
                    for t in (first + 1)..<max(length, first + 1) { for j in 0..<d { dst[j] = max(dst[j], rows[t * d + j]) } }
                case .mean, .meanSqrtLength:
                    dst.update(repeating: 0, count: d)
                    for t in first..<length { RowKernels.accumulate(rows + t * d, dst, d: d) }
                    let scale = 1 / (mode == .mean ? Float(counted) : Float(counted).squareRoot())
                    for j in 0..<d { dst[j] *= scale }
                case .weightedMean:
                    dst.update(repeating: 0, count: d)
                    var total: Float = 0
                    for t in first..<length {
                        let w = Float(t + 1)
                        total += w
                        for j in 0..<d { dst[j] += w * rows[t * d + j] }
                    }
                    for j in 0..<d { dst[j] /= total }
                }
                dst += d
            }
        }
        var input = pooled, inputWidth = width
        for (index, (weights, activation, residual)) in dense.enumerated() {
            let target = index == dense.count - 1 ? out : (input == ws.context.pointer ? ws.temporary.reserve(s * weights.outFeatures)
                                                                                       : ws.context.reserve(s * weights.outFeatures))
            weights.multiply(input, rows: s, into: target, addBias: true, scratch: ws.quantization)
            for k in 0..<s {
                let y = target + k * weights.outFeatures
                switch activation {
                case .identity: break
                case .tanh: Kernels.tanh(y, y, count: weights.outFeatures)
                case .sigmoid: Kernels.sigmoid(y, y, count: weights.outFeatures)
                case .gelu: Kernels.geluErf(y, y, count: weights.outFeatures)
                case .relu: for j in 0..<weights.outFeatures { y[j] = max(y[j], 0) }
                }
                if residual { RowKernels.accumulate(input + k * inputWidth, y, d: weights.outFeatures) }
            }
            input = target
            inputWidth = weights.outFeatures
        }
        if normalizes {
            for k in 0..<s {
                let y = out + k * dimension
                let norm = max(Kernels.dot(y, y, count: dimension).squareRoot(), 1e-12)
                let inv = 1 / norm
                for j in 0..<dimension { y[j] *= inv }
            }
        }
    }
}
