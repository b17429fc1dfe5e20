#!/usr/bin/env python3
"""Reference models for RoBERTa and XLM-RoBERTa (issue 14): tiny sentence-transformers folders with
random weights and tokenizers trained here, and what sentence-transformers computes with them, so
that the Swift parity tests (Tests/TextEncodersTests/RobertaParityTests.swift) need no Python.

    Benchmarks/.venv/bin/python -m pip install transformers sentence-transformers   # + torch, tokenizers
    Benchmarks/.venv/bin/python Benchmarks/reference/roberta_reference.py

Writes, for each fixture, Tests/TextEncodersTests/Fixtures/<name>/:
    a sentence-transformers folder (modules.json, config.json, model.safetensors, tokenizer.json,
    tokenizer_config.json, sentence_bert_config.json, 1_Pooling/config.json; Normalize last)
    reference.json: the test sentences, the ids sentence-transformers feeds the model, the lengths
    before truncation, a few pairs as the `tokenizers` library encodes them, and the embeddings
    from `SentenceTransformer.encode` (float32, written as the exact JSON number of each float)

The fixtures:
    tiny-roberta      RobertaModel, byte-level BPE (ByteLevel pre-tokenizer and decoder,
                      RobertaProcessing), max_seq_length 40 under 64 positions; weights saved by
                      sentence-transformers itself (no name prefix), with the pooler
    tiny-xlm-roberta  XLMRobertaForMaskedLM as saved by transformers (`roberta.` prefix, `lm_head.`),
                      SentencePiece-style Unigram (NFKC, Metaspace, TemplateProcessing),
                      max_seq_length 64 = every position the model has

Both: hidden 32, 2 layers, 4 heads, intermediate 64, type_vocab_size 1, pad_token_id 1, so that
position ids start at 2 and count only non-padding tokens. The weights are drawn wider than
transformers' N(0, 0.02) initialisation (which makes every sentence's embedding nearly the same),
including LayerNorm scales and the padding row of the position table (a literal `<pad>` in a text
takes that position).

Training text (nothing downloaded): Debian package descriptions from `apt-cache dumpavail` where
the command exists, and the multilingual lines below. Training is not bit-for-bit repeatable
across machines, so a rerun rewrites the folders and their references together; commit both.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAYON_NUM_THREADS", "1")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "Tests", "TextEncodersTests", "Fixtures")

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]  # ids 0..4, as RoBERTa and XLM-R number them

MULTILINGUAL = [
    "Der schnelle braune Fuchs springt über den faulen Hund. Straße, Größe, Übung.",
    "Le café est très bon, n'est-ce pas ? Où est la bibliothèque ? Élève, garçon, français.",
    "¿Dónde está la estación de tren? ¡Gracias! El niño come una manzana.",
    "Москва — столица России. Привет, мир! Спасибо за помощь.",
    "東京は日本の首都です。今日はいい天気ですね。",
    "北京欢迎你。我们今天去公园散步。中文分词很有趣。",
    "서울은 한국의 수도입니다. 안녕하세요, 만나서 반갑습니다.",
    "Γειά σου Κόσμε. Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
    "Il gatto dorme sul divano. La città è bellissima d'estate.",
    "O rato roeu a roupa do rei de Roma. Ação, coração, não.",
    "Zoë's naïve coöperation with the jalapeño façade in Ångström units.",
    "I love pizza 🍕 and ice cream 🍦! 😀 👍",
]

LONG_EN = ("The Siamese network architecture was introduced in the early 1990s by Bromley and LeCun to solve "
           "signature verification as an image matching problem. A Siamese neural network consists of twin "
           "networks which accept distinct inputs but are joined by an energy function at the top. ")


def sentences():
    """Mixed lengths, scripts the tokenizers saw and did not see, special-token text, truncation."""
    return [
        "A man is eating food.",
        "A man is riding a white horse on an enclosed ground.",
        "hi",
        "",
        "   ",
        ".",
        "Hello, World! HELLO, world!",
        "It's 3.14159 — or ~22/7 — isn't it? e-mail: john.doe+spam@example.com",
        "library for parsing and writing JSON documents (development files)",
        "Der schnelle braune Fuchs springt über den faulen Hund.",
        "Le café est très bon, n'est-ce pas ?",
        "Москва — столица России.",
        "東京は日本の首都です。",
        "北京欢迎你",
        "서울은 한국의 수도입니다.",
        "مرحبا بالعالم",
        "नमस्ते दुनिया",
        "I love pizza 🍕🍕 and ice cream 🍦! 😀👍🏽",
        "👨‍👩‍👧‍👦 family emoji and flags 🇫🇷🇯🇵",
        "naïve café résumé Zoë coöperate façade jalapeño Ångström",
        "ﬁne ｆｕｌｌｗｉｄｔｈ ①②③ x²",  # compatibility forms: NFKC folds them for the Unigram tokenizer
        "The <mask> sat on the mat. <s> </s> <pad> <unk>",
        "double  spaces   and\ttabs\nnew line",
        LONG_EN,                      # more than 40 tokens: cut for tiny-roberta
        LONG_EN * 3,                  # more than 64: cut for both
        "Un réseau siamois utilise les mêmes poids sur deux vecteurs d'entrée différents. " * 4,
    ]


PAIRS = [("A man is eating food.", "A man is eating a piece of bread."),
         ("hi", ""),
         ("Where is the station?", "Der Bahnhof ist dort drüben. 🚉")]


def debian_descriptions(limit=1500):
    """Package descriptions (first lines and bodies), sorted so that the same archive gives the same text."""
    try:
        out = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    lines = set()
    for line in out.splitlines():
        if line.startswith("Description: "):
            lines.add(line[len("Description: "):])
        elif line.startswith(" ") and line.strip() not in (".", ""):
            lines.add(line.strip())
    return sorted(lines)[:: max(1, len(lines) // limit)][:limit]


def training_lines():
    return debian_descriptions() + MULTILINGUAL * 5


# MARK: - Tokenizers


def bpe_tokenizer(lines):
    """RoBERTa's: byte-level BPE over GPT-2's pre-tokenizer regex, `<s> A </s></s> B </s>`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=900, min_frequency=2, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(lines, trainer)
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True, add_prefix_space=False)
    return tok


def unigram_tokenizer(lines):
    """XLM-R's shape: SentencePiece Unigram, NFKC and runs of spaces folded, Metaspace `▁`."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(vocab_size=700, special_tokens=SPECIALS, unk_token="<unk>", show_progress=False)
    tok.train_from_iterator(lines, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    return tok


def wrap(tok):
    """A transformers tokenizer that uses tokenizer.json as it is (no class of its own rebuilding it)."""
    from transformers import PreTrainedTokenizerFast
    for i, s in enumerate(SPECIALS):
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s))
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>", cls_token="<s>", sep_token="</s>", mask_token="<mask>",
                                   model_max_length=64)


# MARK: - Models


def randomize(model, seed):
    """Every parameter drawn again, wide enough that tokens and positions move the embedding."""
    import torch
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if "LayerNorm" in name or "layer_norm" in name:
                p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif "embeddings" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=g))


def config(kind, vocab):
    from transformers import RobertaConfig, XLMRobertaConfig
    cls = RobertaConfig if kind == "roberta" else XLMRobertaConfig
    return cls(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
               max_position_embeddings=66, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2,
               layer_norm_eps=1e-5, hidden_act="gelu", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)


def build(name, kind, tokenizer, max_seq_length, masked_lm, seed):
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import RobertaModel, XLMRobertaForMaskedLM, XLMRobertaModel
    torch.manual_seed(seed)
    hf_tok = wrap(tokenizer)
    cfg = config(kind, tokenizer.get_vocab_size())
    base = (RobertaModel if kind == "roberta" else XLMRobertaModel)(cfg)
    randomize(base, seed)
    folder = os.path.join(FIXTURES, name)
    shutil.rmtree(folder, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        base.save_pretrained(tmp, safe_serialization=True)
        hf_tok.save_pretrained(tmp)
        transformer = models.Transformer(tmp, max_seq_length=max_seq_length)
        pooling = models.Pooling(transformer.get_word_embedding_dimension(), pooling_mode="mean")
        st = SentenceTransformer(modules=[transformer, pooling, models.Normalize()], device="cpu")
        st.save(folder)
    if masked_lm:
        # The checkpoint as transformers saves a pre-training model: `roberta.` before every encoder
        # name, the MLM head beside it (its decoder tied to the word embeddings), no pooler.
        mlm = XLMRobertaForMaskedLM(config(kind, tokenizer.get_vocab_size()))
        missing = mlm.roberta.load_state_dict(base.state_dict(), strict=False)
        assert all(k.startswith("pooler.") for k in missing.unexpected_keys), missing
        randomize(mlm.lm_head, seed + 1)
        mlm.save_pretrained(folder, safe_serialization=True)
    for junk in ["README.md", "special_tokens_map.json", "chat_template.jinja"]:
        path = os.path.join(folder, junk)
        if os.path.exists(path):
            os.remove(path)
    for d, _, names in os.walk(folder):  # safetensors writes 0600; the repository wants readable files
        for n in names:
            os.chmod(os.path.join(d, n), 0o644)
    return folder


def write_reference(folder):
    import numpy as np
    import sentence_transformers
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer
    torch.set_num_threads(1)
    model = SentenceTransformer(folder, device="cpu")  # the folder as committed, read back
    sents = sentences()
    emb = model.encode(sents, batch_size=8, convert_to_numpy=True, precision="float32")
    assert emb.dtype == np.float32
    ids = []
    for s in sents:
        f = model.tokenize([s])
        ids.append(f["input_ids"][0][f["attention_mask"][0].bool()].tolist())
    raw = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    raw.no_padding()
    raw.no_truncation()
    untruncated = [len(raw.encode(s).ids) for s in sents]
    pairs = []
    for a, b in PAIRS:
        e = raw.encode(a, b)
        pairs.append({"a": a, "b": b, "ids": e.ids, "type_ids": e.type_ids})
    auto = model[0].auto_model
    out = {
        "generator": "Benchmarks/reference/roberta_reference.py",
        "versions": {"sentence_transformers": sentence_transformers.__version__, "transformers": transformers.__version__,
                     "tokenizers": __import__("tokenizers").__version__, "torch": torch.__version__},
        "model_type": auto.config.model_type,
        "architecture": type(auto).__name__,
        "max_seq_length": model.max_seq_length,
        "sentences": sents,
        "ids": ids,
        "untruncated_lengths": untruncated,
        "pairs": pairs,
        # float(np.float32) is that float32 exactly; its repr reads back to the same float32.
        "embeddings": [[float(v) for v in row] for row in emb],
    }
    path = os.path.join(folder, "reference.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    size = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(folder) for n in ns)
    print(f"{folder}: {len(sents)} sentences, lengths {untruncated}, max_seq_length {model.max_seq_length}, "
          f"{size} bytes", file=sys.stderr)


def main():
    lines = training_lines()
    print(f"training on {len(lines)} lines", file=sys.stderr)
    write_reference(build("tiny-roberta", "roberta", bpe_tokenizer(lines), max_seq_length=40, masked_lm=False, seed=14))
    write_reference(build("tiny-xlm-roberta", "xlm-roberta", unigram_tokenizer(lines), max_seq_length=64, masked_lm=True,
                          seed=15))


if __name__ == "__main__":
    main()
