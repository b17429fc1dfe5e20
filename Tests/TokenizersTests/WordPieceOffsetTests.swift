import Foundation
import Testing
@testable import Tokenizers

/// Offsets of the BERT (WordPiece) path identical to HuggingFace `tokenizers` on the corpus of the
/// WordPiece parity tests (uncased: accents stripped, CJK spaced, control characters removed).
@Suite struct WordPieceOffsetTests {
    @Test func offsetsMatchTheLibrary() throws {
        let tokenizer = try Reference.tokenizer()
        let expected = BPEUnigramReference.json["wordpiece_offsets"] as! [[Any]]
        #expect(expected.count == Reference.texts.count)
        var mismatches = 0
        for (text, flatAny) in zip(Reference.texts, expected) {
            let flat = BPEUnigramReference.ints(flatAny)
            let want = stride(from: 0, to: flat.count - 1, by: 2).map { flat[$0]..<flat[$0 + 1] }
            let got = tokenizer.encode(text).offsets
            if got != want {
                mismatches += 1
                if mismatches <= 5 { Issue.record("\(text.debugDescription.prefix(60)): \(got.prefix(12)) != \(want.prefix(12))") }
            }
        }
        #expect(mismatches == 0)
    }
}
