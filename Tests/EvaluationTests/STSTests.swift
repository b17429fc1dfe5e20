import Evaluation
import Testing

@Suite("STS correlations against scipy")
struct STSTests {
    @Test("Pearson and Spearman (average ranks for ties) equal scipy.stats")
    func correlations() throws {
        let reference = try Fixture.json("sts_reference.json")
        let predicted = reference.doubles("predicted").map { $0! }, gold = reference.doubles("gold").map { $0! }
        #expect(close(try STS.pearson(predicted, gold), reference.double("pearson"), 1e-12))
        #expect(close(try STS.spearman(predicted, gold), reference.double("spearman"), 1e-12))
    }

    @Test("paired cosine of identical and opposite rows")
    func pairedCosine() throws {
        let a = try EmbeddingMatrix(rows: 2, dim: 3, values: [1, 2, 3, 1, 0, 0])
        let b = try EmbeddingMatrix(rows: 2, dim: 3, values: [2, 4, 6, -3, 0, 0])
        let c = try STS.pairedCosine(a, b)
        #expect(abs(c[0] - 1) < 1e-6 && abs(c[1] + 1) < 1e-6)
    }

    @Test("empty, mismatched and constant inputs are errors")
    func errors() {
        #expect(throws: EvaluationError.self) { try STS.spearman([], []) }
        #expect(throws: EvaluationError.self) { try STS.pearson([1, 2], [1]) }
        #expect(throws: EvaluationError.self) { try STS.pearson([1, 1, 1], [1, 2, 3]) }
        #expect(throws: EvaluationError.self) { try STS.spearman([1, .nan], [1, 2]) }
    }
}
