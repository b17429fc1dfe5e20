#!/usr/bin/env python3
"""Reference data for MPNet (issue 14): all-mpnet-base-v2 run by sentence-transformers, committed
as numbers so that the Swift tests need no Python.

    PY=/work/venv-peers/bin/python   # numpy, torch, sentence-transformers, transformers, tokenizers
    $PY Benchmarks/reference/mpnet_reference.py --model "$(scripts/fetch_mpnet.sh)"
        # writes Tests/TextEncodersTests/Fixtures/mpnet_reference.json
    $PY Benchmarks/reference/mpnet_reference.py --model DIR --check-folder SAVED --sentences FILE.txt --embeddings X.npy
        # loads a folder written by Swift with sentence-transformers and compares its embeddings
        # with X.npy (what Swift computed for the same sentences)

The fixture holds, for ~30 varied sentences (short, longer than 128 and than the 384 word pieces
the model keeps, multilingual, emoji, empty-ish): the token ids sentence-transformers feeds the
model, the lengths before truncation, the normalised embeddings rounded to 8 significant digits,
the tokenizer's ids and token types of a few pairs (RobertaProcessing's pair template), and the
relative position bucket of every offset -511..511 as HF transformers' MPNet computes it.
"""
import argparse
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(ROOT, "Tests", "TextEncodersTests", "Fixtures", "mpnet_reference.json")

LONG_EN = ("The Siamese network architecture was introduced in the early 1990s by Bromley and LeCun to solve "
           "signature verification as an image matching problem. A Siamese neural network consists of twin "
           "networks which accept distinct inputs but are joined by an energy function at the top. This function "
           "computes some metric between the highest level feature representation on each side. The parameters "
           "between the twin networks are tied. Weight tying guarantees that two extremely similar images could "
           "not possibly be mapped by their respective networks to very different locations in feature space "
           "because each network computes the same function. ")


def sentences():
    return [
        "A man is eating food.",
        "A man is riding a white horse on an enclosed ground.",
        "The new movie is awesome!",
        "hi",
        "",
        "   ",
        ".",
        "?!?!",
        "Hello, World! HELLO, world!",
        "It's 3.14159 — or ~22/7 — isn't it? e-mail: john.doe+spam@example.com",
        "https://example.org/a?b=c&d=e#f and C++ / C# / .NET",
        "Der schnelle braune Fuchs springt über den faulen Hund.",
        "Le café est très bon, n'est-ce pas ? Où est la bibliothèque ?",
        "¿Dónde está la estación de tren? ¡Gracias!",
        "Москва — столица России.",
        "東京は日本の首都です。",
        "北京欢迎你",
        "서울은 한국의 수도입니다.",
        "مرحبا بالعالم",
        "नमस्ते दुनिया",
        "Γειά σου Κόσμε",
        "I love pizza 🍕🍕 and ice cream 🍦! 😀👍🏽",
        "👨‍👩‍👧‍👦 family emoji and flags 🇫🇷🇯🇵",
        "naïve café résumé Zoë coöperate façade jalapeño Ångström",
        "The <mask> sat on the mat. <s> </s> <pad> <unk>",
        "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
        "Tab\tseparated\nnew line\r\ncarriage return",
        LONG_EN + LONG_EN[:300],      # about 150 word pieces: more than 128
        LONG_EN * 4,                  # about 440 word pieces: cut to the model's 384
        ("Un réseau siamois est un réseau de neurones artificiels qui utilise les mêmes poids en travaillant "
         "en parallèle sur deux vecteurs d'entrée différents pour calculer des vecteurs de sortie comparables. ") * 3,
    ]


PAIRS = [("A man is eating food.", "A man is eating a piece of bread."),
         ("hi", ""),
         ("Where is the station?", "Der Bahnhof ist dort drüben. 🚉")]


def bucket_table(span):
    """HF transformers' own bucket function, called on every offset."""
    import torch
    from transformers.models.mpnet.modeling_mpnet import MPNetEncoder
    rel = torch.arange(-(span - 1), span)
    return MPNetEncoder.relative_position_bucket(rel, num_buckets=32, max_distance=128).tolist()


def g8(x):
    return float(f"{x:.8g}")


def write_fixture(model_dir):
    import numpy as np
    import sentence_transformers
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(2)
    model = SentenceTransformer(model_dir, device="cpu")
    sents = sentences()
    emb = model.encode(sents, batch_size=8, convert_to_numpy=True)
    tok = model.tokenizer
    ids = []
    for s in sents:
        f = model.tokenize([s])
        ids.append(f["input_ids"][0][f["attention_mask"][0].bool()].tolist())
    untruncated = [len(tok(s)["input_ids"]) for s in sents]
    # Pairs through the `tokenizers` library itself (transformers' MPNet tokenizer drops the token
    # types): tokenizer.json as written, its truncation kept, its fixed padding off (the Swift
    # tokenizer pads only in encodeBatch).
    from tokenizers import Tokenizer
    raw = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    raw.no_padding()
    pairs = []
    for a, b in PAIRS:
        e = raw.encode(a, b)
        pairs.append({"a": a, "b": b, "ids": e.ids, "type_ids": e.type_ids})
    span = model[0].auto_model.config.max_position_embeddings - model[0].auto_model.config.pad_token_id - 1
    out = {
        "generator": "Benchmarks/reference/mpnet_reference.py",
        "versions": {"sentence_transformers": sentence_transformers.__version__, "transformers": transformers.__version__,
                     "tokenizers": __import__("tokenizers").__version__,
                     "torch": torch.__version__},
        "max_seq_length": model.max_seq_length,
        "sentences": sents,
        "ids": ids,
        "untruncated_lengths": untruncated,
        "embeddings": [[g8(v) for v in row] for row in emb.astype(np.float64)],
        "pairs": pairs,
        "bucket_span": span,
        "buckets": bucket_table(span),
    }
    with open(FIXTURE, "w") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {FIXTURE}: {len(sents)} sentences, lengths {untruncated}, {os.path.getsize(FIXTURE)} bytes", file=sys.stderr)


def check_folder(folder, sentences_file, embeddings_file):
    import numpy as np
    from sentence_transformers import SentenceTransformer
    with open(sentences_file, encoding="utf-8") as f:
        sents = [line.rstrip("\n") for line in f]
    ours = np.load(embeddings_file).astype(np.float64)
    model = SentenceTransformer(folder, device="cpu")
    theirs = model.encode(sents, batch_size=16, convert_to_numpy=True).astype(np.float64)
    cos = (ours * theirs).sum(1) / np.maximum(np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1), 1e-30)
    diff = np.abs(ours - theirs).max()
    print(json.dumps({"sentences": len(sents), "min_cosine": float(cos.min()), "max_abs_diff": float(diff)}))
    return 0 if cos.min() >= 0.99999 and diff <= 1e-5 else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", help="the all-mpnet-base-v2 folder (scripts/fetch_mpnet.sh prints it)")
    ap.add_argument("--check-folder")
    ap.add_argument("--sentences")
    ap.add_argument("--embeddings")
    a = ap.parse_args()
    if a.check_folder:
        sys.exit(check_folder(a.check_folder, a.sentences, a.embeddings))
    if not a.model:
        ap.error("--model is required to write the fixture")
    write_fixture(a.model)


if __name__ == "__main__":
    main()
