"""Tiny cross-encoders and sentence-transformers' scores for them (issue 14).

No cross-encoder weights are reachable offline, so this builds small BERT sequence classifiers
with random weights (hidden 32, 2 layers) and a WordPiece tokenizer trained with `tokenizers` on
real text (Debian package descriptions from `apt-cache dumpavail`, or the built-in lines when
that is empty), saves each with sentence-transformers' `CrossEncoder.save`, and writes the scores
`CrossEncoder.predict` gives for PAIRS (long ones cut at max_length 48, longest first) beside it.

    Benchmarks/.venv/bin/python Benchmarks/reference/cross_encoder_reference.py OUT_FOLDER

Fixtures: ce-bert-1 (one label: sigmoid, the library's default) and ce-bert-3 (three labels:
identity, its default), each OUT_FOLDER/<name>/ with reference.json.
"""
import json, os, subprocess, sys

import torch
from tokenizers import BertWordPieceTokenizer
from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast
from sentence_transformers import CrossEncoder

FALLBACK = [
    "Python 3 bindings for the IPA library", "command-line tool for transferring data with URL syntax",
    "GNU C Library: Shared libraries", "fast, scalable, distributed revision control system",
    "lossless data compressor based on the LZMA algorithm", "PostgreSQL extension for vector similarity search",
]
QUERIES = ["how do I compress files", "vector search in a database", "Python bindings"]
CANDIDATES = [
    "lossless data compressor based on the LZMA algorithm",
    "PostgreSQL extension for vector similarity search, with HNSW and IVFFlat indexes for approximate nearest neighbours",
    "Python 3 bindings for the IPA library",
    "Zwei Hunde spielen im Schnee — ein Satz, den der Tokenizer kaum kennt: 漢字 🙂",
    "a very long description " + " ".join(["of a package that keeps going"] * 12),
    "",
]


def corpus():
    try:
        out = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, timeout=120).stdout
        lines = [l[len("Description: "):] for l in out.splitlines() if l.startswith("Description: ")][:20000]
    except Exception:
        lines = []
    return lines or FALLBACK * 50


def build(out, name, labels, tokenizer_folder, seed):
    torch.manual_seed(seed)
    tok = BertTokenizerFast.from_pretrained(tokenizer_folder, model_max_length=48)
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=64, max_position_embeddings=64, num_labels=labels,
                     initializer_range=0.2)  # wide weights: scores that differ between pairs by far more than 1e-5
    raw = os.path.join(out, name + "-raw")
    BertForSequenceClassification(cfg).eval().save_pretrained(raw)
    tok.save_pretrained(raw)
    ce = CrossEncoder(raw, device="cpu", max_length=48)
    folder = os.path.join(out, name)
    ce.save(folder)
    subprocess.run(["rm", "-rf", raw], check=True)
    ce = CrossEncoder(folder, device="cpu")
    pairs = [[q, c] for q in QUERIES for c in CANDIDATES]
    scores = ce.predict(pairs, convert_to_numpy=True)
    # Batched, as predict tokenizes (a lone call would treat an empty second text as no pair).
    ids = tok([q for q, _ in pairs], [c for _, c in pairs], truncation=True, max_length=48)["input_ids"]
    with open(os.path.join(folder, "reference.json"), "w") as f:
        json.dump({"pairs": pairs, "labels": labels, "max_length": 48,
                   "activation": type(ce.activation_fn).__name__ if hasattr(ce, "activation_fn") else None,
                   "ids": ids, "scores": [[float("%.9g" % v) for v in (row if labels > 1 else [row])] for row in scores.tolist()]}, f)
    # The README the library writes is long and not needed by the tests.
    for extra in ["README.md"]:
        p = os.path.join(folder, extra)
        if os.path.exists(p):
            os.remove(p)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    wp = BertWordPieceTokenizer(lowercase=True)
    wp.train_from_iterator(corpus(), vocab_size=800, min_frequency=2)
    tokenizer_folder = os.path.join(out, "tokenizer-tmp")
    os.makedirs(tokenizer_folder, exist_ok=True)
    wp.save(os.path.join(tokenizer_folder, "trained.json"))
    BertTokenizerFast(tokenizer_file=os.path.join(tokenizer_folder, "trained.json"), do_lower_case=True, unk_token="[UNK]",
                      sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]").save_pretrained(tokenizer_folder)
    build(out, "ce-bert-1", 1, tokenizer_folder, 1)
    build(out, "ce-bert-3", 3, tokenizer_folder, 3)
    subprocess.run(["rm", "-rf", tokenizer_folder], check=True)


if __name__ == "__main__":
    main()
