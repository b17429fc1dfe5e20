import Foundation
import Testing
@testable import Tokenizers

/// Behaviour worth pinning down on its own, beyond the reference corpus.
@Suite struct BehaviourTests {
    @Test func normalizerStages() {
        let uncased = BertNormalizer()
        #expect(uncased.normalize("Héllo\tWÖRLD\u{0}\u{200B}!") == "hello world!")
        #expect(uncased.normalize("中文") == " 中  文 ")
        #expect(BertNormalizer(lowercase: false).normalize("Héllo") == "Héllo")          // nil follows lowercase
        #expect(BertNormalizer(stripAccents: true, lowercase: false).normalize("Héllo") == "Hello")
        #expect(BertNormalizer(stripAccents: false, lowercase: true).normalize("Héllo") == "héllo")
        // Combining sequences and precomposed letters end up the same once accents are stripped.
        #expect(uncased.normalize("e\u{301}") == uncased.normalize("\u{E9}"))
        #expect(BertNormalizer(stripAccents: true).normalize("한") == "\u{1112}\u{1161}\u{11AB}")
    }

    @Test func preTokenizer() {
        #expect(BertPreTokenizer().split("hello, world!  a-b") == ["hello", ",", "world", "!", "a", "-", "b"])
        #expect(BertPreTokenizer().split("$5+3") == ["$", "5", "+", "3"])
        #expect(BertPreTokenizer().split("   ").isEmpty)
    }

    @Test func wordPieceGreedyLongestMatch() throws {
        let vocab = Vocabulary(["[UNK]", "un", "##aff", "##able", "##a", "a", "##ff"].enumerated().map { ($1, $0) })
        let wp = try WordPiece(vocabulary: vocab, maxInputCharsPerWord: 10)
        #expect(wp.tokenize("unaffable") == [1, 2, 3])
        #expect(wp.tokenize("unx") == [0])                 // any unmatched part makes the whole word [UNK]
        #expect(wp.tokenize("aaaaaaaaaaa") == [0])         // 11 characters > 10
        #expect(wp.tokenize("aaaaaaaaaa") == [5] + [Int](repeating: 4, count: 9))
    }

    /// Strings that Swift considers equal (canonical equivalence) are different tokens.
    @Test func vocabularyComparesBytes() {
        let vocab = Vocabulary([("\u{E9}", 0), ("e\u{301}", 1)])
        #expect(vocab.id(for: "\u{E9}") == 0)
        #expect(vocab.id(for: "e\u{301}") == 1)
        #expect(vocab.id(for: "e") == nil)
        // Later duplicates win, as when the library reads vocab.txt.
        #expect(Vocabulary([("x", 0), ("x", 3)]).id(for: "x") == 3)
    }

    @Test func specialTokensInText() throws {
        let t = try Reference.tokenizer()
        #expect(t.encode("a [MASK] b").ids == [101, 1037, 103, 1038, 102])
        #expect(t.encode("[mask]").ids == [101, 1031, 7308, 1033, 102])    // case-sensitive, raw text
        #expect(t.tokenize("unaffable") == ["una", "##ffa", "##ble"])
    }

    @Test func emptyAndWhitespaceOnly() throws {
        let t = try Reference.tokenizer()
        for text in ["", " ", "\t\n", "\u{200B}", "\u{0}"] {
            let e = t.encode(text, maxLength: 256)
            #expect(e.ids == [101, 102])
            #expect(e.attentionMask == [1, 1])
        }
    }

    @Test func truncationAndPaddingHelpers() throws {
        var a = Array(0..<10), b: [Int]? = Array(0..<4)
        Tokenizer.truncate(&a, &b, to: 8, strategy: .longestFirst, fromLeft: false)
        #expect(a.count == 4 && b?.count == 4)
        a = Array(0..<10); b = Array(0..<2)
        Tokenizer.truncate(&a, &b, to: 8, strategy: .longestFirst, fromLeft: false)
        #expect(a == Array(0..<6) && b == [0, 1])
        var e = Encoding(ids: [1, 2], typeIDs: [0, 0], attentionMask: [1, 1], specialTokensMask: [true, true])
        e.pad(to: 4, padID: 0)
        #expect(e.ids == [1, 2, 0, 0] && e.attentionMask == [1, 1, 0, 0])
        let t = try Reference.tokenizer()
        let long = String(repeating: "word ", count: 600)
        #expect(t.encode(long, maxLength: 256).ids.count == 256)
        #expect(t.encode(long, maxLength: 256).ids.last == 102)
        #expect(t.encode(long, maxLength: nil).ids.count == 602)
    }

    // MARK: Bad files

    @Test func malformedFilesThrowClearErrors() throws {
        func error(_ json: String) -> TokenizerError? {
            do { _ = try Tokenizer(tokenizerJSON: Data(json.utf8), file: "t.json"); return nil } catch { return error }
        }
        #expect(error("{") != nil)
        #expect(error("[]") == .invalidJSON(file: "t.json", reason: "the top level is not an object"))
        #expect(error("{}") == .invalidField(file: "t.json", field: "model", reason: "missing or not an object"))
        #expect(error(#"{"model": {"type": "WordLevel", "vocab": {}}}"#) == .unsupported(file: "t.json", component: "model", type: "WordLevel"))
        #expect(error(#"{"model": {"type": "WordPiece", "vocab": {"a": 0}}}"#) == .missingToken(file: "t.json", token: "[UNK]"))
        #expect(error(#"{"model": {"type": "WordPiece", "vocab": {"[UNK]": "zero"}}}"#)
            == .invalidField(file: "t.json", field: "model.vocab[\"[UNK]\"]", reason: "not a valid token id"))
        #expect(error(#"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}, "normalizer": {"type": "StripAccents"}}"#)
            == .unsupported(file: "t.json", component: "normalizer", type: "StripAccents"))
        #expect(error(#"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}, "normalizer": {"type": "BertNormalizer", "lowercase": "yes"}}"#)
            == .invalidField(file: "t.json", field: "normalizer.lowercase", reason: "expected true, false or null"))
        #expect(error(#"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}, "pre_tokenizer": {"type": "Digits"}}"#)
            == .unsupported(file: "t.json", component: "pre_tokenizer", type: "Digits"))
        #expect(error(#"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}, "post_processor": {"type": "Nonexistent"}}"#)
            == .unsupported(file: "t.json", component: "post_processor", type: "Nonexistent"))
        // RobertaProcessing (MPNet) is supported; one without its special tokens names the field.
        #expect(error(#"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}, "post_processor": {"type": "RobertaProcessing"}}"#)
            == .invalidField(file: "t.json", field: "post_processor.cls", reason: "expected [token, id]"))
        #expect(error(#"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}, "truncation": {"max_length": -1}}"#)
            == .invalidField(file: "t.json", field: "truncation.max_length", reason: "missing or negative"))
        do {
            _ = try Tokenizer(tokenizerJSON: Data([0x7B, 0xFF, 0x7D]), file: "bad.json")
            Issue.record("non-UTF-8 accepted")
        } catch {
            #expect(error == .invalidJSON(file: "bad.json", reason: "not valid UTF-8"))
        }
    }

    @Test func folderWithoutTokenizerFiles() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        #expect(throws: TokenizerError.noTokenizerFiles(folder: dir.url.path)) { try Tokenizer(folder: dir.url) }
        try Data("[PAD]\nhello\n".utf8).write(to: dir.file("vocab.txt"))
        #expect(throws: TokenizerError.missingToken(file: dir.file("vocab.txt").path, token: "[UNK]")) { try Tokenizer(folder: dir.url) }
        try Data("{\"do_lower_case\": 3}".utf8).write(to: dir.file("tokenizer_config.json"))
        try Data("[UNK]\n[CLS]\n[SEP]\nhello\n".utf8).write(to: dir.file("vocab.txt"))
        #expect(throws: TokenizerError.invalidField(file: dir.file("tokenizer_config.json").path, field: "do_lower_case",
                                                    reason: "expected true, false or null")) { try Tokenizer(folder: dir.url) }
    }

    /// Encoding is safe from many threads at once and deterministic.
    @Test func concurrentEncoding() async throws {
        let t = try Reference.tokenizer()
        let texts = Reference.texts
        let serial = texts.map { t.encode($0).ids }
        let parallel = await withTaskGroup(of: (Int, [Int]).self) { group in
            for (i, text) in texts.enumerated() { group.addTask { (i, t.encode(text).ids) } }
            var out = [[Int]](repeating: [], count: texts.count)
            for await (i, ids) in group { out[i] = ids }
            return out
        }
        #expect(parallel == serial)
    }
}
