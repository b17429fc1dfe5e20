import Core

/// Dropout with a caller-owned seeded generator, so that a training run replays exactly.
extension Tensor {
    /// Inverted dropout: in training, each element is zeroed with probability `probability` and the
    /// kept ones are scaled by 1 / (1 − probability), so the expected value is unchanged and
    /// evaluation needs no rescaling. The gradient flows only through the kept elements, with the
    /// same scale.
    ///
    /// With `training: false` or `probability == 0` the input is returned unchanged and the
    /// generator is not advanced. Otherwise the generator gives one number, which seeds a stream
    /// per block of ``dropoutBlock`` elements (the blocks are drawn on several threads, and the
    /// mask does not depend on how many): the same generator state gives the same mask.
    /// `probability` must be in [0, 1).
    public func dropout(probability: Float, training: Bool = true, generator: inout SeededGenerator) -> Tensor {
        check(probability >= 0 && probability < 1, "dropout",
              "probability \(probability) must be in [0, 1) (input \(shape))")
        guard training && probability > 0 else { return self }
        let scale = 1 / (1 - probability)
        // An element is dropped when its uniform u = r·2⁻²⁴ (r the top 24 bits of one draw, as in
        // `nextUniform`) is below p, that is when r < ⌈p·2²⁴⌉. Eight draws are compared at once as
        // a vector: a select, not a branch, since which elements drop is random and a mispredicted
        // branch per element would cost more than the draw.
        let threshold = Int32((Double(probability) * 0x1.0p24).rounded(.up))
        // The mask holds 0 or the scale, so both passes are one multiply.
        let maskStorage = TensorStorage(dtype: .float32, count: count)
        let out = TensorStorage(dtype: .float32, count: count)
        let xs = UInt(bitPattern: storage.floats), ys = UInt(bitPattern: out.floats), ms = UInt(bitPattern: maskStorage.floats)
        let base = generator.next(), n = count, block = Self.dropoutBlock
        Threading.parallelRanges((n + block - 1) / block, costPerItem: block * 4) { blocks in
            let x = UnsafePointer<Float>(bitPattern: xs)!, y = UnsafeMutablePointer<Float>(bitPattern: ys)!
            let mk = UnsafeMutablePointer<Float>(bitPattern: ms)!
            let thresholds = SIMD8<Int32>(repeating: threshold), scales = SIMD8<Float>(repeating: scale)
            for b in blocks {
                // A local generator keeps its state in registers.
                var rng = SeededGenerator(seed: base &+ UInt64(b) &* 0x9E37_79B9_7F4A_7C15)
                @inline(__always) func draw() -> Int32 { Int32(truncatingIfNeeded: rng.next() >> 40) }
                var i = b * block
                let end = Swift.min(n, i + block)
                while i + 8 <= end {
                    let draws = SIMD8(draw(), draw(), draw(), draw(), draw(), draw(), draw(), draw())
                    let m = SIMD8<Float>().replacing(with: scales, where: draws .>= thresholds)
                    UnsafeMutableRawPointer(mk + i).storeBytes(of: m, as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(y + i).storeBytes(of: m * UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self),
                                                              as: SIMD8<Float>.self)
                    i += 8
                }
                while i < end {
                    mk[i] = draw() >= threshold ? scale : 0
                    y[i] = x[i] * mk[i]
                    i += 1
                }
            }
        }
        let mask = Tensor(shape: shape, storage: maskStorage)
        return Tensor(shape: shape, storage: out).recorded("dropout", input: self) { g in
            Self.zipElements(g, mask, op: "dropout", *)
        }
    }

    /// Elements per dropout stream: a multiple of 8, fixed so that masks do not depend on threads.
    static let dropoutBlock = 1 << 14
}
