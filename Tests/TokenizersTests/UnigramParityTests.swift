import Foundation
import Testing
@testable import Tokenizers

/// Ids, token types, special-token masks, attention masks and offsets identical to HuggingFace
/// `tokenizers` for SentencePiece Unigram tokenizers: XLM-R's form (Precompiled charsmap compiled
/// by sentencepiece, `Replace(" {2,}")`, Metaspace, `<s> A </s></s> B </s>`), NFKC with
/// `Sequence[WhitespaceSplit, Metaspace(first)]`, and Lowercase + Prepend with byte fallback.
@Suite struct UnigramParityTests {
    @Test(arguments: ["unigram_xlmr_precompiled", "unigram_nfkc_first", "unigram_never_byte_fallback"])
    func variant(_ name: String) throws {
        let (cases, mismatches) = try BPEUnigramReference.check(name)
        #expect(mismatches == 0, "\(mismatches) of \(cases) cases differ")
        #expect(cases > 600)
    }
}
