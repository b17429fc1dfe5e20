import Foundation
import Tensors
import Testing
@testable import TextEncoders

/// all-MiniLM-L6-v2 against sentence-transformers' own embeddings of the committed sentences
/// (including inputs longer than the 256 word pieces the model keeps).
@Suite(.enabled(if: MiniLM.folder != nil, Comment(rawValue: MiniLM.skipMessage)), .serialized)
struct MiniLMParityTests {
    @Test func loadsTheFolderAsThePythonLibraryDoes() throws {
        let m = try MiniLM.model()
        #expect(m.maxSequenceLength == 256)          // sentence_bert_config.json, not tokenizer.json's 128
        #expect(m.normalizes)                         // 2_Normalize has no folder
        #expect(m.pooling == Pooling(modes: [.mean], dimension: 384))
        #expect(m.dimension == 384)
        #expect(m.bert.configuration.layers == 6 && m.bert.configuration.heads == 12)
        #expect(m.bert.pooler.count == 2)
    }

    @Test func tokenIDsMatch() throws {
        let m = try MiniLM.model()
        for (s, ids) in zip(Reference.sentences, Reference.ids) { #expect(m.tokenize(s).ids == ids) }
        #expect((Reference.minilm["untruncated_lengths"] as! [Int]).contains { $0 > 256 })
    }

    @Test(arguments: [1, 4, 64])
    func engineMatchesSentenceTransformers(batchSize: Int) throws {
        let m = try MiniLM.model()
        let ours = rows(m.encode(Reference.sentences, batchSize: batchSize))
        let (worstCosine, worstDiff) = worst(ours, Reference.matrix("embeddings"))
        print("MiniLM parity (engine, batch \(batchSize)): min cosine \(worstCosine), max abs diff \(worstDiff)")
        #expect(worstCosine >= 0.99999)
        #expect(worstDiff <= 1e-5)
    }

    /// The service's form of the model: same embeddings, and the model itself is released.
    @Test func frozenEncoderMatchesAndReleasesTheModel() throws {
        weak var released: SentenceTransformer?
        let frozen: FrozenTextEncoder = try {
            let m = try SentenceTransformer(folder: try #require(MiniLM.folder))
            released = m
            return m.frozen()
        }()
        #expect(released == nil, "the model outlived frozen()")
        for (o, r) in zip(rows(frozen.encode(Reference.sentences)), Reference.matrix("embeddings")) {
            #expect(compare(o, r).cosine >= 0.99999)
        }
    }

    /// The differentiable path (used for fine-tuning) computes the same function.
    @Test func differentiablePathMatches() throws {
        let m = try MiniLM.model()
        let ours = rows(withoutGradients { m.embed(Reference.sentences) })
        let (worstCosine, worstDiff) = worst(ours, Reference.matrix("embeddings"))
        print("MiniLM parity (autodiff path): min cosine \(worstCosine), max abs diff \(worstDiff)")
        #expect(worstCosine >= 0.99999)
        #expect(worstDiff <= 1e-5)
    }

    @Test func int8StaysCloseToFloat32() throws {
        let m = try MiniLM.model()
        let fp32 = rows(m.encode(Reference.sentences))
        let int8 = rows(m.encode(Reference.sentences, precision: .int8))
        let cosines = zip(fp32, int8).map { compare($0, $1).cosine }
        let minimum = cosines.min()!, mean = cosines.reduce(0, +) / Double(cosines.count)
        print("MiniLM int8 vs fp32 (\(m.inferenceEngine(precision: .int8).kernelDescription)): min cosine \(minimum), mean \(mean)")
        #expect(minimum >= 0.99)
    }
}
