import Foundation
import Testing
@testable import Tokenizers

/// Ids, token types, special-token masks, attention masks and offsets identical to HuggingFace
/// `tokenizers` for byte-level BPE (RoBERTa, GPT-2 with a template, ModernBERT-like) and a classic
/// BPE with a continuation prefix, an end-of-word suffix, an unknown token or byte fallback.
@Suite struct ByteLevelBPEParityTests {
    @Test(arguments: ["bpe_roberta", "bpe_roberta_string_merges", "bpe_template_lower", "bpe_ignore_merges_noregex",
                      "bpe_suffix_unk", "bpe_byte_fallback"])
    func variant(_ name: String) throws {
        let (cases, mismatches) = try BPEUnigramReference.check(name)
        #expect(mismatches == 0, "\(mismatches) of \(cases) cases differ")
        #expect(cases > 600)
    }
}
