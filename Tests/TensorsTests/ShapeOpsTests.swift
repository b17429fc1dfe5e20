import Testing
@testable import Tensors
import GradientChecking

@Suite struct ShapeOpsTests {
    let x = randomTensor([2, 3, 4], seed: 41)

    @Test func reshapeAndInferredDimension() throws {
        #expect(x.reshaped([6, -1]).shape == [6, 4])
        #expect(x.reshaped([24]).scalars == x.scalars)
        #expect(x.flattened().shape == [2, 12])
        #expect(x.unsqueezed(1).shape == [2, 1, 3, 4])
        #expect(x.unsqueezed(1).squeezed(1).shape == [2, 3, 4])
        #expect(try gradCheck([x]) { $0[0].reshaped([4, 6]) }.maxError < 2e-3)
    }

    @Test func permuteMatchesIndexing() throws {
        let p = x.permuted([2, 0, 1])
        #expect(p.shape == [4, 2, 3])
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { #expect(p[k, i, j] == x[i, j, k]) } } }
        let t = x.transposed()
        #expect(t.shape == [2, 4, 3])
        #expect(t[1, 2, 0] == x[1, 0, 2])
        #expect(try gradCheck([x]) { $0[0].permuted([2, 0, 1]) }.maxError < 2e-3)
        #expect(try gradCheck([x]) { $0[0].transposed(0, 2) }.maxError < 2e-3)
    }

    @Test func sliceConcatStack() throws {
        let s = x.slice(axis: 1, 1..<3)
        #expect(s.shape == [2, 2, 4])
        #expect(s[1, 0, 3] == x[1, 1, 3])
        let y = randomTensor([2, 2, 4], seed: 42)
        let c = Tensor.concatenate([x, y], axis: 1)
        #expect(c.shape == [2, 5, 4])
        #expect(c[1, 4, 2] == y[1, 1, 2])
        #expect(c[0, 2, 1] == x[0, 2, 1])
        let st = Tensor.stack([x, x * 2], axis: 1)
        #expect(st.shape == [2, 2, 3, 4])
        #expect(st[1, 1, 2, 3] == 2 * x[1, 2, 3])
        #expect(try gradCheck([x]) { $0[0].slice(axis: 2, 1..<4) }.maxError < 2e-3)
        #expect(try gradCheck([x, y]) { Tensor.concatenate([$0[0], $0[1]], axis: 1) }.maxError < 2e-3)
        #expect(try gradCheck([x, x]) { Tensor.stack([$0[0], $0[1]], axis: 0) }.maxError < 2e-3)
    }

    @Test func broadcastTo() throws {
        let b = randomTensor([3, 1], seed: 43)
        let e = b.broadcast(to: [2, 3, 4])
        #expect(e.shape == [2, 3, 4])
        #expect(e[1, 2, 3] == b[2, 0])
        #expect(try gradCheck([b]) { $0[0].broadcast(to: [2, 3, 4]) }.maxError < 2e-3)
    }

    @Test func indexSelectIsAnEmbeddingLookup() throws {
        let table = randomTensor([5, 3], seed: 44)
        let rows = table.indexSelect([4, 0, 4, 2])
        #expect(rows.shape == [4, 3])
        #expect(rows[2, 1] == table[4, 1])
        #expect(rows[1, 2] == table[0, 2])
        // Repeated indices accumulate their gradients.
        #expect(try gradCheck([table]) { $0[0].indexSelect([4, 0, 4, 2]) }.maxError < 2e-3)
        #expect(try gradCheck([x]) { $0[0].indexSelect([2, 0], axis: 1) }.maxError < 2e-3)
    }

    @Test func maskedFill() throws {
        let mask = Tensor(shape: [3, 1], [1, 0, 1])
        let a = randomTensor([3, 4], seed: 45)
        let m = a.maskedFill(mask, with: -1e9)
        #expect(m[0, 2] == -1e9)
        #expect(m[1, 2] == a[1, 2])
        #expect(try gradCheck([a]) { $0[0].maskedFill(mask, with: -5) }.maxError < 2e-3)
    }
}
