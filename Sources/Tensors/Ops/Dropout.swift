import Core

/// Dropout with a caller-owned seeded generator, so that a training run replays exactly.
extension Tensor {
    /// Inverted dropout: in training, each element is zeroed with probability `probability` and the
    /// kept ones are scaled by 1 / (1 − probability), so the expected value is unchanged and
    /// evaluation needs no rescaling. The gradient flows only through the kept elements, with the
    /// same scale.
    ///
    /// With `training: false` or `probability == 0` the input is returned unchanged and the
    /// generator is not advanced. Otherwise one uniform number is drawn per element, in row-major
    /// order: the same generator state gives the same mask. `probability` must be in [0, 1).
    public func dropout(probability: Float, training: Bool = true, generator: inout SeededGenerator) -> Tensor {
        check(probability >= 0 && probability < 1, "dropout",
              "probability \(probability) must be in [0, 1) (input \(shape))")
        guard training && probability > 0 else { return self }
        let scale = 1 / (1 - probability)
        // An element is dropped when its uniform u = r·2⁻²⁴ (r the top 24 bits of one draw, as in
        // `nextUniform`) is below p, that is when r < ⌈p·2²⁴⌉. Eight draws are compared at once as
        // a vector: a select, not a branch, since which elements drop is random and a mispredicted
        // branch per element would cost more than the draw.
        let threshold = SIMD8<Int32>(repeating: Int32((Double(probability) * 0x1.0p24).rounded(.up)))
        let scales = SIMD8<Float>(repeating: scale)
        // The mask holds 0 or the scale, so both passes are one multiply.
        let maskStorage = TensorStorage(dtype: .float32, count: count)
        let out = TensorStorage(dtype: .float32, count: count)
        let x = storage.floats, y = out.floats, mk = maskStorage.floats
        // A local copy keeps the generator's state in registers rather than behind the inout.
        var rng = generator
        defer { generator = rng }
        @inline(__always) func draw() -> Int32 { Int32(truncatingIfNeeded: rng.next() >> 40) }
        var i = 0
        while i + 8 <= count {
            let draws = SIMD8(draw(), draw(), draw(), draw(), draw(), draw(), draw(), draw())
            let m = SIMD8<Float>().replacing(with: scales, where: draws .>= threshold)
            UnsafeMutableRawPointer(mk + i).storeBytes(of: m, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: m * UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self),
                                                      as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            mk[i] = draw() >= threshold[0] ? scale : 0
            y[i] = x[i] * mk[i]
            i += 1
        }
        let mask = Tensor(shape: shape, storage: maskStorage)
        return Tensor(shape: shape, storage: out).recorded("dropout", input: self) { g in
            let d = TensorStorage(dtype: .float32, count: g.count)
            let gp = g.storage.floats, m = mask.storage.floats, dp = d.floats
            for i in 0..<g.count { dp[i] = gp[i] * m[i] }
            return Tensor(shape: g.shape, storage: d)
        }
    }
}
