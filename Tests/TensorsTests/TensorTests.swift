import Testing
@testable import Tensors

@Suite struct TensorTests {
    @Test func storesShapeAndElementsRowMajor() {
        let t = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])
        #expect(t.shape == [2, 3])
        #expect(t.count == 6)
        #expect(t[1, 0] == 4)
        #expect(t[0, 2] == 3)
        #expect(Tensor(5).shape == [])
        #expect(Tensor(5).item == 5)
    }

    @Test func copyOnWriteKeepsCopiesIndependent() {
        let a = Tensor(shape: [3], [1, 2, 3])
        var b = a
        #expect(b.sharesStorage(with: a))
        b.withUnsafeMutableBufferPointer { $0[0] = 9 }
        #expect(!b.sharesStorage(with: a))
        #expect(a.scalars == [1, 2, 3])
        #expect(b.scalars == [9, 2, 3])
        // A unique tensor is written in place.
        var c = Tensor(shape: [2], [1, 1])
        let before = c.storage.raw
        c.withUnsafeMutableBufferPointer { $0[1] = 5 }
        #expect(c.storage.raw == before)
        #expect(c.scalars == [1, 5])
    }

    @Test func reshapeSharesStorageUntilWritten() {
        let a = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])
        var r = a.reshaped([3, 2])
        #expect(r.sharesStorage(with: a))
        r.withUnsafeMutableBufferPointer { $0[0] = 0 }
        #expect(a.scalars[0] == 1)
    }

    @Test func validatingInitRejectsBadData() {
        #expect(throws: TensorError.self) { try Tensor(shape: [2, 2], validating: [1, 2, 3]) }
        #expect(throws: TensorError.self) { try Tensor(shape: [-1, 2], validating: []) }
        #expect(throws: TensorError.self) { try Tensor(shape: [2], validating: [1, .nan]) }
        #expect(throws: TensorError.self) { try Tensor(shape: [1], validating: [.infinity]) }
        #expect(throws: TensorError.self) { try Tensor(shape: [Int.max, 4], validating: []) }
        let ok = try? Tensor(shape: [1, 2], validating: [1, .nan], allowNonFinite: true)
        #expect(ok?.count == 2)
        do {
            _ = try Tensor(shape: [2, 2], validating: [1])
        } catch let error as TensorError {
            #expect(error.description.contains("[2, 2]"))
            #expect(error.description.contains("got 1"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func sameSeedSameNumbers() {
        var g1 = SeededGenerator(seed: 42), g2 = SeededGenerator(seed: 42), g3 = SeededGenerator(seed: 43)
        let a = Tensor.randomNormal([100], generator: &g1)
        let b = Tensor.randomNormal([100], generator: &g2)
        let c = Tensor.randomNormal([100], generator: &g3)
        #expect(a.scalars == b.scalars)
        #expect(a.scalars != c.scalars)
    }

    /// Known-answer test: the first outputs for seed 0, computed independently from the published
    /// SplitMix64 and xoshiro256** reference algorithms (Python script, numbers committed here).
    @Test func generatorMatchesReferenceAlgorithm() {
        var g = SeededGenerator(seed: 0)
        let expected: [UInt64] = [
            0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A, 0x1A5F_849D_4933_E6E0, 0x6AA5_94F1_262D_2D2C,
        ]
        #expect((0..<4).map { _ in g.next() } == expected)
    }

    @Test func normalSamplesHaveUnitMoments() {
        var g = SeededGenerator(seed: 1)
        let x = Tensor.randomNormal([200_000], generator: &g).scalars.map(Double.init)
        let mean = x.reduce(0, +) / Double(x.count)
        let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count)
        // Standard error of the mean is 1/√n ≈ 0.0022; of the variance ≈ √(2/n) ≈ 0.0032.
        #expect(abs(mean) < 0.01)
        #expect(abs(variance - 1) < 0.015)
    }

    @Test func uniformSamplesStayInRange() {
        var g = SeededGenerator(seed: 3)
        let x = Tensor.randomUniform([10_000], low: -2, high: 3, generator: &g).scalars
        #expect(x.allSatisfy { $0 >= -2 && $0 < 3 })
        #expect(abs(x.reduce(0, +) / Float(x.count) - 0.5) < 0.05)
    }
}
