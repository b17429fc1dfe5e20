import Foundation
import Testing
@testable import Tokenizers

/// Behaviour of the BPE / Unigram pipeline pinned down on its own (expected values from the
/// library where they are its behaviour), and the errors of bad `tokenizer.json` files.
@Suite struct BPEUnigramBehaviourTests {
    private func error(_ json: String) -> TokenizerError? {
        do { _ = try Tokenizer(tokenizerJSON: Data(json.utf8), file: "t.json"); return nil } catch { return error }
    }

    private static let bpeModel = #""model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "c": 3}, "merges": ["a b"]}"#

    @Test func gpt2Split() {
        let split = PreTokenizer.byteLevel(ByteLevel(addPrefixSpace: false)).split
        #expect(split("Hello world's  test 123!!") == ["Hello", "Ġworld", "'s", "Ġ", "Ġtest", "Ġ123", "!!"])
        #expect(split("I'VE 'll x\t\ty  ") == ["I", "'", "VE", "Ġ'", "ll", "Ġx", "ĉ", "ĉ", "y", "ĠĠ"])
        #expect(split("naïve—café 42nd") == ["naÃ¯ve", "âĢĶ", "cafÃ©", "Ġ42", "nd"])
        #expect(PreTokenizer.byteLevel(ByteLevel(addPrefixSpace: true)).split("Hi") == ["ĠHi"])
        #expect(PreTokenizer.byteLevel(ByteLevel(addPrefixSpace: true, useRegex: false)).split("a b") == ["ĠaĠb"])
    }

    @Test func metaspace() {
        let words = PreTokenizer.metaspace(Metaspace()).words(AlignedText("Hello  world ".unicodeScalars.map(\.value)))
        #expect(words.map(\.string) == ["▁Hello", "▁", "▁world", "▁"])
        // The prepended ▁ shares the span of the first character.
        #expect(words.map { $0.inputRange(0..<$0.count) } == [0..<5, 5..<6, 6..<12, 12..<13])
        #expect(PreTokenizer.metaspace(Metaspace(prependScheme: .never, split: false)).split("Hello  world ") == ["Hello▁▁world▁"])
        #expect(PreTokenizer.sequence([.whitespaceSplit, .metaspace(Metaspace(prependScheme: .first))]).split("a b") == ["▁a", "b"])
    }

    /// Ties go to the path found first; unknown characters are fused into one unknown token.
    @Test func unigramViterbi() throws {
        let model = try Unigram(pieces: [("<unk>", 0), ("a", -1), ("b", -1), ("ab", -2), ("x", -5)], unknownID: 0)
        #expect(model.tokenize("ab") == [3])
        #expect(model.tokenize("xxa") == [4, 4, 1])
        #expect(model.tokenize("yyab") == [0, 3])
        #expect(model.tokenize("zy") == [0])
        var fallback = [("<unk>", 0.0), ("a", -1.0)]
        fallback += [UInt8]("é".utf8).map { ("<0x" + BytePairEncoding.hex(Int($0)) + ">", -9.0) }
        #expect(try Unigram(pieces: fallback, unknownID: 0, byteFallback: true).tokenize("aé") == [1, 2, 3])
        #expect(try Unigram(pieces: fallback, unknownID: 0, byteFallback: true).tokenize("aè") == [1, 0])   // a byte is missing
    }

    @Test func bytePairMerges() throws {
        let vocab = Vocabulary([("a", 0), ("b", 1), ("ab", 2), ("c", 3), ("abc", 4), ("bc", 5)])
        // Lowest rank first: "b c" (rank 0) wins over "a b" (rank 1).
        #expect(try BytePairEncoding(vocabulary: vocab, merges: [("b", "c"), ("a", "b"), ("ab", "c")]).tokenize("abc") == [0, 5])
        #expect(try BytePairEncoding(vocabulary: vocab, merges: [("a", "b"), ("ab", "c")]).tokenize("abc") == [4])
        #expect(try BytePairEncoding(vocabulary: vocab, merges: [], ignoreMerges: true).tokenize("abc") == [4])
        // Unknown characters: dropped without an unknown token, fused when asked.
        let unk = Vocabulary([("<unk>", 0), ("a", 1)])
        #expect(try BytePairEncoding(vocabulary: unk, merges: []).tokenize("axxa") == [1, 1])
        #expect(try BytePairEncoding(vocabulary: unk, merges: [], unknownToken: "<unk>").tokenize("axxa") == [1, 0, 0, 1])
        #expect(try BytePairEncoding(vocabulary: unk, merges: [], unknownToken: "<unk>", fuseUnknown: true).tokenize("axxa") == [1, 0, 1])
    }

    @Test func mergesInBothForms() throws {
        let strings = try Tokenizer(tokenizerJSON: Data(("{" + Self.bpeModel + "}").utf8))
        let arrays = try Tokenizer(tokenizerJSON: Data(#"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "c": 3}, "merges": [["a", "b"]]}}"#.utf8))
        #expect(strings.ids("abcab") == [2, 3, 2])
        #expect(arrays.ids("abcab") == [2, 3, 2])
        #expect(strings.encode("abcab").offsets == [0..<2, 2..<3, 3..<5])
    }

    @Test func precompiledCharsmap() throws {
        let data = try BPEUnigramReference.tokenizerData("unigram_xlmr_precompiled")
        let root = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let sequence = (root["normalizer"] as! [String: Any])["normalizers"] as! [[String: Any]]
        let charsmap = Data(base64Encoded: sequence[0]["precompiled_charsmap"] as! String)!
        let p = try PrecompiledNormalizer(charsmap: Array(charsmap))
        #expect(p.normalize("ｆｕｌｌ ①②") == "full 12")
        #expect(p.normalize("ﬁ㍿") == "fi株式会社")
        #expect(p.normalize("a\u{200B}b") == "a b")
        #expect(p.normalize("Ⅻ") == "XII")
        #expect(p.normalize("plain text") == "plain text")
        // A truncated or inconsistent charsmap is refused, not read out of bounds.
        #expect(throws: TokenizerError.self) { try PrecompiledNormalizer(charsmap: [1, 0]) }
        #expect(throws: TokenizerError.self) { try PrecompiledNormalizer(charsmap: [0xFF, 0xFF, 0, 0, 1, 2, 3, 4]) }
        // A charsmap whose trie points anywhere still gives an answer.
        let garbage = try PrecompiledNormalizer(charsmap: [8, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x41, 0x01, 0x00, 0x80, 0x41, 0])
        _ = garbage.normalize("AAAA é")
    }

    /// Offsets follow the library's alignment rules through normalisers.
    @Test func normalizerSpans() {
        func spans(_ n: Normalizer, _ s: String) -> [Range<Int>] { n.apply(AlignedText(s.unicodeScalars.map(\.value))).spans }
        #expect(Normalizer.nfkc.normalize("aﬁb") == "afib")
        #expect(spans(.nfkc, "aﬁb") == [0..<1, 1..<2, 1..<2, 2..<3])
        #expect(spans(.nfc, "e\u{301}x") == [0..<1, 2..<3])                   // é keeps the span of e
        #expect(spans(.nfc, "a\u{301}\u{302}b") == [0..<1, 2..<3, 3..<4])
        #expect(Normalizer.nfc.normalize("\u{1100}\u{1161}\u{11A8}") == "각")
        #expect(spans(.replace(ReplacePattern(regex: " {2,}")!, content: " "), "a   b") == [0..<1, 3..<4, 4..<5])
        #expect(spans(.replace(ReplacePattern(literal: "ß"), content: "ss"), "aßb") == [0..<1, 1..<2, 1..<2, 2..<3])
        #expect(spans(.lowercase, "İa") == [0..<1, 0..<1, 1..<2])
        #expect(spans(.strip(left: true, right: true), "  ab  ") == [2..<3, 3..<4])
        #expect(spans(.prepend("_"), "ab") == [0..<1, 0..<1, 1..<2])
        #expect(Normalizer.prepend("_").normalize("") == "")
    }

    @Test func replacePatterns() {
        #expect(ReplacePattern(regex: " {2,}")!.matches(in: Array("a   b  c d".unicodeScalars.map(\.value))) == [1..<4, 5..<7])
        #expect(ReplacePattern(regex: "\\s+")!.matches(in: Array("a \t b".unicodeScalars.map(\.value))) == [1..<4])
        #expect(ReplacePattern(regex: "(a|b)") == nil)
        #expect(ReplacePattern(regex: "a*b*c*") == nil)                      // more than two open repetitions
    }

    /// A raw U+FEFF in a vocabulary survives Foundation's JSON parser (it drops it at the start of a string).
    @Test func byteOrderMarkInVocabulary() throws {
        let t = try Tokenizer(tokenizerJSON: Data("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"\u{FEFF}\": 0, \"a\": 1}, \"merges\": []}}".utf8))
        #expect(t.vocabulary.id(for: "\u{FEFF}") == 0)
        #expect(t.ids("a\u{FEFF}") == [1, 0])
    }

    @Test func paddingOffsets() throws {
        var t = try BPEUnigramReference.tokenizer("bpe_roberta")
        t.padding = Padding(padID: 1)
        let texts = ["the world", "Hi"]
        let batch = t.encodeBatch(texts)
        #expect(batch[0].count == batch[1].count && batch[1].count > t.encode("Hi").count)
        for (text, e) in zip(texts, batch) {
            let scalars = Array(text.unicodeScalars)
            for (k, o) in e.offsets.enumerated() {
                if e.attentionMask[k] == 0 || e.specialTokensMask[k] {
                    #expect(o == 0..<0)
                } else {
                    // RobertaProcessing trims offsets: no token starts on the space it carries.
                    #expect(!o.isEmpty && scalars[o.lowerBound] != " ", "\(text): \(o)")
                }
            }
        }
        #expect(batch[1].attentionMask.suffix(2) == [0, 0])
        #expect(batch[1].ids.suffix(2) == [1, 1])
    }

    @Test func loadingErrorsNameFileAndField() {
        #expect(error(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}"#)
            == .invalidField(file: "t.json", field: "model.merges[0]", reason: "\"b\" is not in the vocabulary"))
        #expect(error(#"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}}"#)
            == .invalidField(file: "t.json", field: "model.merges[0]", reason: "the merged token \"ab\" is not in the vocabulary"))
        #expect(error(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a"]}}"#)
            == .invalidField(file: "t.json", field: "model.merges[0]", reason: "expected \"a b\" with one space"))
        #expect(error(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "dropout": 0.1}}"#)
            == .invalidField(file: "t.json", field: "model.dropout", reason: "only null is supported (dropout makes encoding random)"))
        #expect(error(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "unk_token": "<unk>"}}"#)
            == .missingToken(file: "t.json", token: "<unk>"))
        #expect(error(#"{"model": {"type": "Unigram", "vocab": [["a", -1.0], ["b"]], "unk_id": 0}}"#)
            == .invalidField(file: "t.json", field: "model.vocab[1]", reason: "expected [piece, finite score]"))
        #expect(error(#"{"model": {"type": "Unigram", "vocab": [["a", -1.0]], "unk_id": 5}}"#)
            == .invalidField(file: "t.json", field: "model.unk_id", reason: "5 is not an id of the 1-piece vocabulary"))
        #expect(error("{" + Self.bpeModel + #", "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Replace", "pattern": {"Regex": "(a|b)"}, "content": ""}]}}"#)
            == .invalidField(file: "t.json", field: "normalizer.normalizers[1].pattern.Regex",
                             reason: "unsupported regular expression \"(a|b)\" (supported: literal characters, \\s, \\d, ., and the quantifiers ?, *, +, {n}, {n,}, {n,m})"))
        #expect(error("{" + Self.bpeModel + #", "normalizer": {"type": "Precompiled", "precompiled_charsmap": "AQ=="}}"#)
            == .invalidField(file: "t.json", field: "normalizer.precompiled_charsmap", reason: "shorter than its 4-byte header"))
        #expect(error("{" + Self.bpeModel + #", "pre_tokenizer": {"type": "Metaspace", "prepend_scheme": "sometimes"}}"#)
            == .invalidField(file: "t.json", field: "pre_tokenizer.prepend_scheme", reason: "expected \"always\", \"first\" or \"never\""))
        #expect(error("{" + Self.bpeModel + #", "pre_tokenizer": {"type": "Metaspace", "replacement": "ab"}}"#)
            == .invalidField(file: "t.json", field: "pre_tokenizer.replacement", reason: "expected a single character"))
        #expect(error("{" + Self.bpeModel + #", "post_processor": {"type": "Sequence", "processors": [{"type": "BertProcessing", "cls": ["a", 0], "sep": ["b", 1]}, {"type": "BertProcessing", "cls": ["a", 0], "sep": ["b", 1]}]}}"#)
            == .invalidField(file: "t.json", field: "post_processor.processors[1]", reason: "only one template (with at most one offset trimming) is supported in a Sequence"))
        // Deeply nested sequences are refused rather than recursed into without bound.
        var deep = #"{"type": "NFC"}"#
        for _ in 0..<20 { deep = #"{"type": "Sequence", "normalizers": ["# + deep + "]}" }
        if case .invalidField(let file, let field, _)? = error("{" + Self.bpeModel + #", "normalizer": "# + deep + "}") {
            #expect(file == "t.json" && field.hasPrefix("normalizer.normalizers[0]"))
        } else {
            Issue.record("a 21-deep normalizer was accepted")
        }
    }

    /// An unknown type is refused with the path of the field and the list of what is supported.
    @Test func unsupportedTypesListTheSupportedOnes() {
        let model = error(#"{"model": {"type": "WordLevel", "vocab": {}}}"#)
        #expect(model == .unsupported(file: "t.json", component: "model", type: "WordLevel"))
        #expect(model?.description == "t.json: model of type \"WordLevel\" is not supported (supported: WordPiece, BPE, Unigram)")
        let nested = error("{" + Self.bpeModel + #", "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "StripAccents"}]}}"#)
        #expect(nested == .unsupported(file: "t.json", component: "normalizer.normalizers[1]", type: "StripAccents"))
        #expect(nested?.description.contains("Precompiled") == true)
        let pre = error("{" + Self.bpeModel + #", "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split"}]}}"#)
        #expect(pre == .unsupported(file: "t.json", component: "pre_tokenizer.pretokenizers[0]", type: "Split"))
        #expect(pre?.description.contains("Metaspace, WhitespaceSplit") == true)
    }

    /// An added token matched in the normalised text (`"normalized": true`, as MPNet's `<mask>`):
    /// its id and offsets, from several threads at once. Before the fix, Swift 6.3.1's optimiser
    /// turned the token's surface (`t.slice(r).string`) into a copy into an array buffer it had
    /// already freed: under `-sanitize=address` this test then reports heap-use-after-free; in a
    /// normal build it passes but may corrupt the malloc heap (see `AlignedText.string(_:)`).
    @Test func addedTokenInNormalizedText() throws {
        let long = String(repeating: "xyz", count: 40)   // 120 scalars: a spans copy larger than malloc's per-thread cache
        let json = #"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "c": 3}, "merges": ["a b"]}, "#
            + #""normalizer": {"type": "Lowercase"}, "added_tokens": [{"id": 4, "content": "<mask>", "normalized": true}, "#
            + #"{"id": 5, "content": ""# + long + #"", "normalized": true}]}"#
        let t = try Tokenizer(tokenizerJSON: Data(json.utf8))
        let text = "AB <MASK> c " + long.uppercased() + " ab"
        let e = t.encode(text, addSpecialTokens: false)
        #expect(e.ids == [2, 4, 3, 5, 2])
        #expect(e.offsets == [0..<2, 3..<9, 10..<11, 12..<132, 133..<135])
        let failures = Counter()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<500 where t.encode(text, addSpecialTokens: false) != e { failures.increment() }
        }
        #expect(failures.value == 0)
    }

    /// Counts from several threads.
    private final class Counter: @unchecked Sendable {
        // `@unchecked Sendable`: `count` is only touched under `lock`.
        private let lock = NSLock()
        private var count = 0
        func increment() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }

    /// Real-world shapes: RoBERTa's legacy fields and XLM-R's older Metaspace.
    @Test func legacyFields() throws {
        let t = try Tokenizer(tokenizerJSON: Data(("{" + Self.bpeModel + #", "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "add_prefix_space": false}}"#).utf8))
        if case .metaspace(let m)? = t.wordSplitter { #expect(m.prependScheme == .never) } else { Issue.record("not a Metaspace") }
        let inferred = try Tokenizer(tokenizerJSON: Data(#"{"model": {"vocab": [["<unk>", 0.0], ["a", -1.0]], "unk_id": 0}}"#.utf8))
        #expect(inferred.ids("aa") == [1, 1])
    }
}
