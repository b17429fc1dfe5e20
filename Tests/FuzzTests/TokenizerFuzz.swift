import Foundation
import Testing
import Tokenizers

/// Tokenizer files of text models: `tokenizer.json` and `vocab.txt` (sentence-transformers folders
/// for `embed --model`, `serve --model`). An accepted tokenizer must encode any text into
/// consistent arrays.
struct TokenizerTarget: FuzzTarget {
    enum Format { case tokenizerJSON, vocabTXT }
    let format: Format
    var name: String { format == .tokenizerJSON ? "tokenizer-json" : "vocab-txt" }
    let quickIterations = 400

    static let texts = ["Hello, world!", "", "   ", "unaffable héllo 中文 [CLS] [MASK] x", String(repeating: "a", count: 300),
                        "\u{0}\u{1}\u{FEFF}\u{200B}", "naïve café résumé", "😀👍🏽 e\u{301}", "ａｂ①\u{200B}ﬁ  <mask> ab\tabc ▁x"]

    func mutate(_ seed: [UInt8], pool: [[UInt8]], _ m: inout Mutator) -> [UInt8] {
        switch format {
        case .tokenizerJSON:
            return m.json(seed, pool: pool, dictionary: ["\"type\"", "\"WordPiece\"", "\"BertNormalizer\"", "\"TemplateProcessing\"",
                                                         "\"BertProcessing\"", "\"vocab\"", "\"added_tokens\"", "\"truncation\"", "\"padding\"",
                                                         "\"max_length\"", "\"stride\"", "\"pad_id\"", "\"[CLS]\"", "\"##\"",
                                                         // BPE / Unigram shapes (seeds bpe-*.json, unigram-*.json)
                                                         "\"BPE\"", "\"Unigram\"", "\"merges\"", "\"ByteLevel\"", "\"Metaspace\"",
                                                         "\"WhitespaceSplit\"", "\"Sequence\"", "\"Precompiled\"", "\"Replace\"",
                                                         "\"Regex\"", "\"NFKC\"", "\"Lowercase\"", "\"Prepend\"", "\"byte_fallback\"",
                                                         "\"ignore_merges\"", "\"unk_id\"", "\"trim_offsets\"", "\"prepend_scheme\"",
                                                         "\"first\"", "\"<0xC3>\"", "\"▁\"", "\" {2,}\""])
        case .vocabTXT:
            return m.bytes(seed, pool: pool, dictionary: ["\n", "\r\n", "[CLS]\n", "[SEP]\n", "[UNK]\n", "##", "[PAD]", "\u{0}"])
        }
    }

    func check(_ input: [UInt8]) -> FuzzOutcome {
        let tokenizer: Tokenizer
        do {
            switch format {
            case .tokenizerJSON: tokenizer = try Tokenizer(tokenizerJSON: Data(input), file: "tokenizer.json")
            case .vocabTXT: tokenizer = try Tokenizer(vocabTXT: Data(input), file: "vocab.txt")
            }
        } catch {
            return "\(error)".contains(format == .tokenizerJSON ? "tokenizer.json" : "vocab.txt")
                ? .rejected(kind: "TokenizerError.\(Fuzz.kind(error))") : .violation("error does not name the file: \(error)")
        }
        // Texts built from the input too: its own tokens make the vocabulary match.
        let own = String(decoding: input.prefix(400), as: UTF8.self)
        for text in Self.texts + [own] {
            // Offsets point into the text (or the pair's second text): never past the longer one's end.
            let limit = max(text.unicodeScalars.count, 10)
            for e in [tokenizer.encode(text), tokenizer.encode(text, pair: "second one"), tokenizer.encode(text, maxLength: 8)] {
                guard e.typeIDs.count == e.count, e.attentionMask.count == e.count, e.specialTokensMask.count == e.count,
                      e.offsets.count == e.count, e.offsets.allSatisfy({ $0.lowerBound >= 0 && $0.upperBound <= limit }),
                      e.ids.allSatisfy({ $0 >= 0 }), e.typeIDs.allSatisfy({ $0 >= 0 }) else {
                    return .violation("inconsistent encoding of \(text.debugDescription.prefix(40)): \(e.count) ids, \(e.typeIDs.count) type ids, \(e.attentionMask.count) mask")
                }
            }
        }
        let batch = tokenizer.encodeBatch(["a", "b c", own])
        guard batch.allSatisfy({ $0.ids.allSatisfy { $0 >= 0 } && $0.attentionMask.count == $0.count }),
              tokenizer.padding == nil || tokenizer.padding?.fixedLength != nil || Set(batch.map(\.count)).count == 1 else {
            return .violation("a padded batch with negative ids or unequal lengths: \(batch.map(\.count))")
        }
        return .accepted
    }
}

@Suite("fuzz: tokenizer files") struct TokenizerFuzz {
    @Test("corpus replay, then mutated tokenizer.json: a tokenizer that encodes consistently, or a TokenizerError")
    func tokenizerJSON() async throws { try await Fuzz.run(TokenizerTarget(format: .tokenizerJSON)) }

    @Test("corpus replay, then mutated vocab.txt: a tokenizer that encodes consistently, or a TokenizerError")
    func vocabTXT() async throws { try await Fuzz.run(TokenizerTarget(format: .vocabTXT)) }
}
