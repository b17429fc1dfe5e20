#!/usr/bin/env python3
"""Reference data for the byte-level BPE and SentencePiece Unigram tokenizers of the Tokenizers
module: trains small tokenizers with HuggingFace `tokenizers` on real text found offline, writes
their `tokenizer.json` files and what the library encodes with them, as numbers.

    python3 -m venv Benchmarks/.venv-tok
    Benchmarks/.venv-tok/bin/pip install tokenizers sentencepiece protobuf
    Benchmarks/.venv-tok/bin/python Benchmarks/reference/tokenizers_bpe_unigram_reference.py

Writes into Tests/TokenizersTests/Fixtures/bpe_unigram/:
    <name>.tokenizer.json   one per variant (small vocabularies, a few tens of KB each)
    reference.json          ids, attention masks, offsets (in Unicode scalars, as the Python
                            binding reports them), type ids and special-token masks for every
                            variant: single texts, pairs, truncation at small lengths, padding

Training text (nothing downloaded): the corpus of tokenizer_reference.json (punctuation, accents,
CJK, emoji, control characters, …), the docstrings of Python's standard library (English), and
the CJK sample texts of Python's own codec tests (Chinese, Japanese, Korean).

Training is not bit-for-bit repeatable (the library's trainers break frequency ties in hash
order), so a rerun rewrites the tokenizer files and the reference together; commit both.

The Precompiled normaliser's charsmap comes from `sentencepiece` itself: a Unigram model trained
with its default `nmt_nfkc` rule compiles that rule into the double-array trie that XLM-R's
`tokenizer.json` carries; the library is then given those bytes (`normalizers.Precompiled`).
"""
import base64
import glob
import io
import json
import os
import random
import sys

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAYON_NUM_THREADS", "1")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "Tests", "TokenizersTests", "Fixtures")
OUT = os.path.join(FIXTURES, "bpe_unigram")


# MARK: - Text


def corpus_texts():
    """The hand-written corpus of the WordPiece parity tests: every kind of text worth testing."""
    with open(os.path.join(FIXTURES, "tokenizer_reference.json"), encoding="utf-8") as f:
        return json.load(f)["texts"]


def training_lines():
    lines = []
    # English: docstrings of the standard library.
    import pydoc  # noqa: F401  (imports many modules with docstrings)
    import inspect
    mods = ["os", "json", "re", "collections", "itertools", "functools", "pathlib", "argparse", "logging", "subprocess",
            "threading", "unittest", "email", "http.client", "urllib.parse", "random", "statistics", "decimal", "fractions",
            "datetime", "calendar", "textwrap", "string", "difflib", "csv", "sqlite3", "zipfile", "tarfile", "shutil"]
    for name in mods:
        try:
            mod = __import__(name, fromlist=["_"])
        except Exception:
            continue
        for _, obj in inspect.getmembers(mod):
            doc = getattr(obj, "__doc__", None)
            if isinstance(doc, str):
                lines.extend(l.strip() for l in doc.splitlines() if l.strip())
    # CJK: the UTF-8 sample texts of CPython's codec tests.
    test_dir = os.path.join(os.path.dirname(os.__file__), "test", "cjkencodings")
    for path in sorted(glob.glob(os.path.join(test_dir, "*-utf8.txt"))):
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", errors="ignore")
        lines.extend(l.strip() for l in text.splitlines() if l.strip())
    # Everything the parity corpus has (multilingual, emoji, symbols), a few times over.
    lines.extend(corpus_texts() * 3)
    return lines


def test_texts():
    texts = list(corpus_texts())
    texts += [
        "", " ", "  leading and trailing  ", "a  b   c    d", "tabs\tand\nnewlines\r\n", "Hello world", " Hello world",
        "The quick brown fox jumps over the lazy dog.", "I'm sure you'll see they've gone, haven't they? We'd",
        "ÉCOLE école Ecole", "e\u0301 vs \u00e9", "ﬁ ﬂ ① ｆｕｌｌ ｗｉｄｔｈ ㍿ ㎏", "👨‍👩‍👧‍👦 family 🏳️‍🌈 flag 👍🏽 thumbs",
        "中文 日本語 한국어 mixed 混合", "<s> literal </s> and <mask> tokens <unk>", "a<mask>b  <mask>  c",
        "numbers 1234567890 3.14 1,000", "  ", "\u3000\u3000ideographic", "x" * 120, "word " * 30,
    ]
    return texts


PAIRS = [
    ("Hello world", "How are you?"), ("", "only second"), ("only first", ""), ("中文分词", "日本語のテキスト"),
    ("The quick brown fox jumps over the lazy dog.", "Emoji 😀👍🏽 and café"), ("a " * 40, "b " * 10),
    ("short", "a much longer second sentence that goes on and on for a while"),
]


# MARK: - Tokenizers


SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def train_bpe(lines, vocab_size):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(lines, trainer)
    return json.loads(tok.to_str())


def train_unigram(lines, vocab_size):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, unk_token="<unk>",
                                      show_progress=False, max_piece_length=8)
    tok.train_from_iterator(lines, trainer)
    return json.loads(tok.to_str())


def train_bpe_wordlevel(lines, vocab_size):
    """A classic (not byte-level) BPE with a continuation prefix and an end-of-word suffix."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE(unk_token="<unk>", continuing_subword_prefix="##", end_of_word_suffix="</w>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, show_progress=False,
                                  continuing_subword_prefix="##", end_of_word_suffix="</w>", limit_alphabet=300)
    tok.train_from_iterator(lines, trainer)
    return json.loads(tok.to_str())


def train_bpe_plain(lines, vocab_size):
    """A BPE over whole lines with spaces as ▁ (no pre-tokeniser), a limited alphabet and an unknown token."""
    from tokenizers import Tokenizer, models, normalizers, trainers
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.Replace(" ", "\u2581")])
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, show_progress=False, limit_alphabet=200,
                                  max_token_length=8)
    tok.train_from_iterator(lines, trainer)
    return json.loads(tok.to_str())


def sentencepiece_charsmap(lines):
    """The `nmt_nfkc` charsmap as sentencepiece compiles it (the bytes XLM-R's file carries)."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=model, vocab_size=1000, character_coverage=0.98,
                                   model_type="unigram", normalization_rule_name="nmt_nfkc", minloglevel=2, num_threads=1,
                                   hard_vocab_limit=False)
    proto = pb.ModelProto()
    proto.ParseFromString(model.getvalue())
    return proto.normalizer_spec.precompiled_charsmap


def added_token(content, id, lstrip=False):
    return {"id": id, "content": content, "single_word": False, "lstrip": lstrip, "rstrip": False,
            "normalized": False, "special": True}


def roberta_variants(bpe):
    out = {}
    ids = {t: bpe["model"]["vocab"][t] for t in SPECIALS}
    base = dict(bpe)
    base["added_tokens"] = [added_token(t, ids[t], lstrip=(t == "<mask>")) for t in SPECIALS]
    base["decoder"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}

    # RoBERTa: ByteLevel without a prefix space, RobertaProcessing trimming the offsets.
    v = json.loads(json.dumps(base))
    v["normalizer"] = None
    v["pre_tokenizer"] = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    v["post_processor"] = {"type": "RobertaProcessing", "sep": ["</s>", ids["</s>"]], "cls": ["<s>", ids["<s>"]],
                           "trim_offsets": True, "add_prefix_space": False}
    out["bpe_roberta"] = v

    # The same with merges as "a b" strings (the older file format) and RobertaProcessing keeping offsets.
    v = json.loads(json.dumps(out["bpe_roberta"]))
    v["model"]["merges"] = [" ".join(m) if isinstance(m, list) else m for m in v["model"]["merges"]]
    v["post_processor"]["trim_offsets"] = False
    out["bpe_roberta_string_merges"] = v

    # GPT-2 style with a prefix space, NFC + Lowercase, and Sequence[ByteLevel, TemplateProcessing].
    v = json.loads(json.dumps(base))
    v["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Lowercase"}]}
    v["pre_tokenizer"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
    v["post_processor"] = {"type": "Sequence", "processors": [
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        template(ids, "<s>", "</s>", pair_type=1)]}
    out["bpe_template_lower"] = v

    # ModernBERT-like: TemplateProcessing alone (offsets keep their spaces), ignore_merges, no regex.
    v = json.loads(json.dumps(base))
    v["normalizer"] = {"type": "NFKC"}
    v["pre_tokenizer"] = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    v["model"]["ignore_merges"] = True
    v["post_processor"] = template(ids, "<s>", "</s>", pair_type=0)
    out["bpe_ignore_merges_noregex"] = v
    return out


def template(ids, cls, sep, pair_type, double_sep=False):
    single = [{"SpecialToken": {"id": cls, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
              {"SpecialToken": {"id": sep, "type_id": 0}}]
    pair = list(single)
    if double_sep:
        pair.append({"SpecialToken": {"id": sep, "type_id": pair_type}})
    pair += [{"Sequence": {"id": "B", "type_id": pair_type}}, {"SpecialToken": {"id": sep, "type_id": pair_type}}]
    return {"type": "TemplateProcessing", "single": single, "pair": pair,
            "special_tokens": {cls: {"id": cls, "ids": [ids[cls]], "tokens": [cls]},
                               sep: {"id": sep, "ids": [ids[sep]], "tokens": [sep]}}}


def wordlevel_bpe_variants(bpe):
    out = {}
    vocab = bpe["model"]["vocab"]
    ids = {t: vocab[t] for t in SPECIALS}
    v = json.loads(json.dumps(bpe))
    v["added_tokens"] = [added_token(t, ids[t]) for t in SPECIALS]
    v["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "Strip", "strip_left": True, "strip_right": True},
                                                          {"type": "Replace", "pattern": {"String": "ß"}, "content": "ss"}]}
    v["post_processor"] = template(ids, "<s>", "</s>", pair_type=1)
    out["bpe_suffix_unk"] = v
    return out


def byte_fallback_bpe_variant(bpe):
    """Llama / Mistral style: characters outside the vocabulary become `<0xXX>` byte tokens.

    Trained without a prefix or suffix: with them, the library's byte fallback also encodes the
    prefix and suffix bytes and gives offsets past the end of the word (a quirk not worth copying).
    """
    v = json.loads(json.dumps(bpe))
    ids = {t: v["model"]["vocab"][t] for t in SPECIALS}
    v["added_tokens"] = [added_token(t, ids[t]) for t in SPECIALS]
    n = max(v["model"]["vocab"].values()) + 1
    for b in range(256):
        v["model"]["vocab"]["<0x%02X>" % b] = n + b
    v["model"]["byte_fallback"] = True
    v["model"]["fuse_unk"] = True
    v["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}
    v["pre_tokenizer"] = None
    v["post_processor"] = template(ids, "<s>", "</s>", pair_type=0)
    return {"bpe_byte_fallback": v}


def unigram_variants(uni, charsmap):
    out = {}
    vocab = [p for p, _ in uni["model"]["vocab"]]
    ids = {t: vocab.index(t) for t in SPECIALS}
    base = json.loads(json.dumps(uni))
    base["added_tokens"] = [added_token(t, ids[t], lstrip=(t == "<mask>")) for t in SPECIALS]
    base["decoder"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    xlmr_post = template(ids, "<s>", "</s>", pair_type=0, double_sep=True)

    # XLM-R as `transformers` converts it: Precompiled + Replace(" {2,}"), Metaspace, <s> A </s></s> B </s>.
    v = json.loads(json.dumps(base))
    v["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(charsmap).decode("ascii")},
        {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]}
    v["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    v["post_processor"] = xlmr_post
    out["unigram_xlmr_precompiled"] = v

    # NFKC instead of Precompiled; Sequence[WhitespaceSplit, Metaspace(first)].
    v = json.loads(json.dumps(base))
    v["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "NFKC"},
                                                          {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]}
    v["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "WhitespaceSplit"},
        {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True}]}
    v["post_processor"] = xlmr_post
    out["unigram_nfkc_first"] = v

    # Metaspace never prepending and not splitting; Lowercase + Prepend normalisers; byte_fallback.
    v = json.loads(json.dumps(base))
    v["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "Lowercase"}, {"type": "Prepend", "prepend": "\u2581"}]}
    v["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "never", "split": False}
    for b in range(256):
        v["model"]["vocab"].append(["<0x%02X>" % b, -30.0])
    v["model"]["byte_fallback"] = True
    v["post_processor"] = template(ids, "<s>", "</s>", pair_type=1)
    out["unigram_never_byte_fallback"] = v
    return out


# MARK: - Encoding


def encoding_json(e, masks=False):
    """Ids, type ids, special-token mask (0/1) and offsets flattened to [start0, end0, start1, …];
    the attention mask only where padding makes it differ from all ones (the tests check that)."""
    out = {"ids": e.ids, "type_ids": e.type_ids, "special": e.special_tokens_mask,
           "offsets": [x for o in e.offsets for x in o]}
    assert masks or all(m == 1 for m in e.attention_mask)
    if masks:
        out["attention_mask"] = e.attention_mask
    return out


def reference_for(tokenizer_json, texts):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_str(json.dumps(tokenizer_json))
    ref = {"single": [encoding_json(tok.encode(t)) for t in texts],
           "no_special": [tok.encode(t, add_special_tokens=False).ids for t in texts[:40]],
           "pairs": [encoding_json(tok.encode(a, b)) for a, b in PAIRS]}
    for n in (6,):
        tok.enable_truncation(max_length=n)
        ref["truncated_%d" % n] = [encoding_json(tok.encode(t)) for t in texts]
        ref["pairs_truncated_%d" % n] = [encoding_json(tok.encode(a, b)) for a, b in PAIRS]
    tok.no_truncation()
    pad_id = tokenizer_json["model"]["vocab"]["<pad>"] if isinstance(tokenizer_json["model"]["vocab"], dict) else 1
    tok.enable_padding(pad_id=pad_id, pad_token="<pad>")
    tok.enable_truncation(max_length=12, strategy="longest_first")
    batch = texts[5:12]
    ref["padded_batch"] = {"texts": batch, "pad_id": pad_id,
                           "encodings": [encoding_json(e, masks=True) for e in tok.encode_batch(batch)]}
    return ref


def wordpiece_offsets():
    """Offsets of the WordPiece tokenizer of the older parity tests (template + vocab.txt, uncased),
    which did not record them: the BERT path now reports offsets too."""
    from tokenizers import Tokenizer
    with open(os.path.join(FIXTURES, "tokenizer_reference.json"), encoding="utf-8") as f:
        ref = json.load(f)
    template = ref["template"]
    with open(os.path.join(FIXTURES, "vocab.txt"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    vocab = {}
    for i, t in enumerate(lines):
        vocab[t] = i
    template["model"]["vocab"] = vocab
    tok = Tokenizer.from_str(json.dumps(template))
    return [[x for o in tok.encode(t).offsets for x in o] for t in ref["texts"]]


def main():
    import tokenizers
    random.seed(0)
    os.makedirs(OUT, exist_ok=True)
    lines = training_lines()
    print(f"training on {len(lines)} lines", file=sys.stderr)
    variants = {}
    variants.update(roberta_variants(train_bpe(lines, 1200)))
    variants.update(wordlevel_bpe_variants(train_bpe_wordlevel(lines, 900)))
    variants.update(byte_fallback_bpe_variant(train_bpe_plain(lines, 900)))
    variants.update(unigram_variants(train_unigram(lines, 1200), sentencepiece_charsmap(lines)))
    texts = test_texts()
    reference = {"tokenizers_version": tokenizers.__version__, "texts": texts,
                 "pairs": [list(p) for p in PAIRS], "variants": {}}
    reference["wordpiece_offsets"] = wordpiece_offsets()
    for name, v in sorted(variants.items()):
        path = os.path.join(OUT, name + ".tokenizer.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(v, f, ensure_ascii=False, separators=(",", ":"))
        reference["variants"][name] = reference_for(v, texts)
        print(f"{name}: {os.path.getsize(path)} bytes", file=sys.stderr)
    with open(os.path.join(OUT, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(reference, f, ensure_ascii=False, separators=(",", ":"))
    print(f"reference.json: {os.path.getsize(os.path.join(OUT, 'reference.json'))} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
