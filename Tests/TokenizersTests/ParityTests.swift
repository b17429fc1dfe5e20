import Foundation
import Testing
@testable import Tokenizers

/// Token ids equal to HuggingFace `tokenizers` on the committed corpus (punctuation, accents, CJK,
/// emoji, control characters, very long words, the empty string, whitespace variants, long inputs).
@Suite struct ParityTests {
    /// Every normaliser variant: lowercase on/off × strip_accents nil/true/false, and no cleaning.
    @Test(arguments: ["uncased", "uncased_keep_accents", "uncased_strip", "cased", "cased_strip", "cased_keep_accents",
                      "no_clean_no_chinese", "max_chars_5"])
    func variant(_ name: String) throws {
        let variants = Reference.json["variants"] as! [String: Any]
        let v = variants[name] as! [String: Any]
        let tokenizer = try Reference.tokenizer(normalizer: v["normalizer"] as! [String: Any],
                                                maxInputChars: (v["max_input_chars_per_word"] as? NSNumber)?.intValue)
        let expected = Reference.ids(v["ids"])
        var mismatches = 0
        for (text, ids) in zip(Reference.texts, expected) {
            let got = tokenizer.encode(text).ids
            if got != ids {
                mismatches += 1
                if mismatches <= 5 {
                    Issue.record("\(name): \(text.debugDescription.prefix(80)): got \(got.prefix(40)), expected \(ids.prefix(40))")
                }
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(expected.count) texts differ")
        #expect(expected.count == Reference.texts.count)
    }

    /// sentence-transformers' truncation: at most 256 tokens, special tokens included.
    @Test(arguments: [256, 7])
    func truncated(_ limit: Int) throws {
        let tokenizer = try Reference.tokenizer()
        let expected = Reference.ids(Reference.json["truncated_\(limit)"])
        for (text, ids) in zip(Reference.texts, expected) {
            #expect(tokenizer.encode(text, maxLength: limit).ids == ids, "\(text.debugDescription.prefix(60))")
        }
        // Some inputs really are longer than 256 word pieces.
        #expect(Reference.texts.contains { tokenizer.ids($0).count > 254 })
    }

    @Test func pairs() throws {
        var tokenizer = try Reference.tokenizer()
        for (key, limit) in [("pairs", nil), ("pairs_truncated_16", 16)] as [(String, Int?)] {
            tokenizer.truncation = limit.map { Truncation(maxLength: $0) }
            for item in Reference.json[key] as! [[String: Any]] {
                let e = tokenizer.encode(item["a"] as! String, pair: item["b"] as? String)
                #expect(e.ids == (item["ids"] as! [NSNumber]).map(\.intValue), "\(key)")
                #expect(e.typeIDs == (item["type_ids"] as! [NSNumber]).map(\.intValue), "\(key)")
            }
        }
    }

    /// The truncation (128) and fixed padding (128) stored in all-MiniLM-L6-v2's tokenizer.json.
    @Test func storedTruncationAndPadding() throws {
        let tokenizer = try Tokenizer(tokenizerJSON: Reference.tokenizerJSON(
            truncation: ["max_length": 128, "strategy": "LongestFirst", "stride": 0],
            padding: ["strategy": ["Fixed": 128], "direction": "Right", "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"]))
        let items = Reference.json["real_tokenizer_json"] as! [[String: Any]]
        let encodings = tokenizer.encodeBatch(items.map { $0["text"] as! String })
        for (item, e) in zip(items, encodings) {
            #expect(e.ids == (item["ids"] as! [NSNumber]).map(\.intValue))
            #expect(e.attentionMask == (item["attention_mask"] as! [NSNumber]).map(\.intValue))
            #expect(e.typeIDs == (item["type_ids"] as! [NSNumber]).map(\.intValue))
            #expect(e.count == 128)
        }
    }

    /// `vocab.txt` alone, as transformers' BertTokenizer builds it, cased and uncased.
    @Test(arguments: [true, false])
    func vocabularyFileAlone(lowercase: Bool) throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        try FileManager.default.copyItem(at: Reference.fixtures.appendingPathComponent("vocab.txt"), to: dir.file("vocab.txt"))
        try JSONSerialization.data(withJSONObject: ["do_lower_case": lowercase]).write(to: dir.file("tokenizer_config.json"))
        let tokenizer = try Tokenizer(folder: dir.url)
        let expected = Reference.ids((Reference.json["vocab_only"] as! [String: Any])[lowercase ? "lowercase" : "cased"])
        var mismatches = 0
        for (text, ids) in zip(Reference.texts, expected) where tokenizer.encode(text).ids != ids {
            mismatches += 1
            if mismatches <= 3 { Issue.record("\(text.debugDescription.prefix(60)): got \(tokenizer.encode(text).ids.prefix(30)), expected \(ids.prefix(30))") }
        }
        #expect(mismatches == 0)
    }
}

/// The real tokenizer files of all-MiniLM-L6-v2, when the model is installed.
@Suite(.enabled(if: MiniLM.folder != nil, Comment(rawValue: MiniLM.skipMessage)))
struct MiniLMTokenizerTests {
    @Test func realFolderMatchesTheReference() throws {
        let folder = try #require(MiniLM.folder)
        let tokenizer = try Tokenizer(folder: folder)
        #expect(tokenizer.truncation?.maxLength == 128)
        #expect(tokenizer.padding?.fixedLength == 128)
        #expect(tokenizer.normalizer == BertNormalizer(cleanText: true, handleChineseChars: true, stripAccents: nil, lowercase: true))
        let expected = Reference.ids((Reference.json["variants"] as! [String: Any])["uncased"].map { ($0 as! [String: Any])["ids"]! })
        for (text, ids) in zip(Reference.texts, expected) {
            #expect(tokenizer.encode(text, maxLength: nil).ids == ids)
        }
    }
}
