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
        // The mask holds 0 or the scale, so both passes are one multiply.
        let maskStorage = TensorStorage(dtype: .float32, count: count)
        let mk = maskStorage.floats
        for i in 0..<count { mk[i] = generator.nextUniform() < probability ? 0 : scale }
        let mask = Tensor(shape: shape, storage: maskStorage)
        let out = TensorStorage(dtype: .float32, count: count)
        let x = storage.floats, y = out.floats
        for i in 0..<count { y[i] = x[i] * mk[i] }
        return Tensor(shape: shape, storage: out).recorded("dropout", input: self) { g in
            let d = TensorStorage(dtype: .float32, count: g.count)
            let gp = g.storage.floats, m = mask.storage.floats
            for i in 0..<g.count { d.floats[i] = gp[i] * m[i] }
            return Tensor(shape: g.shape, storage: d)
        }
    }
}
