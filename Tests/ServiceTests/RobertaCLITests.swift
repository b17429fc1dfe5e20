import Foundation
import Testing

/// `siamese embed --model DIR` on the tiny RoBERTa and XLM-RoBERTa folders of the TextEncoders
/// fixtures (issue 14; Benchmarks/reference/roberta_reference.py): the executable, given a text
/// file, writes the embeddings sentence-transformers computed. The folders are committed, so this
/// runs wherever the executable was built.
@Suite("siamese embed on RoBERTa-family folders",
       .enabled(if: SiameseExecutable.url != nil, "the siamese executable was not found (skipped, not passed)"))
struct RobertaCLITests {
    @Test(arguments: ["tiny-roberta", "tiny-xlm-roberta"])
    func embedMatchesSentenceTransformers(_ name: String) throws {
        let model = RealTextModel.root.appendingPathComponent("Tests/TextEncodersTests/Fixtures/\(name)")
        try expectEmbedMatchesReference(model: model, width: 32, reference: model.appendingPathComponent("reference.json"))
    }
}
