#!/usr/bin/env python3
"""Peers for Benchmarks/text_encode.sh: all-MiniLM-L6-v2 (or all-mpnet-base-v2) embeddings of a text file with
sentence-transformers (PyTorch) and ONNX Runtime (fp32 and dynamic int8), and the benchmark corpus.

    text_peer.py corpus OUT.txt [--count 10000]
        10,000 real sentences from this machine: Debian package descriptions ("name: summary")
        from /var/lib/apt/lists/*Packages*, in a fixed shuffled order (the text is not committed).
    text_peer.py run --engine st|ort-fp32|ort-int8 --model DIR --input FILE --threads N [--output E.npy]
        one JSON line: sentences, seconds, sentences_per_second, latency_p50_ms, latency_p90_ms.

Each run tokenises inside the timed region, as ours does. ONNX models are exported once into
--cache (default Benchmarks/data/onnx): torch.onnx from the HuggingFace BertModel, dynamic axes;
int8 with onnxruntime.quantization.quantize_dynamic (QInt8 weights, its defaults).
"""
import argparse
import glob
import json
import os
import random
import re
import subprocess
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
HERE = os.path.dirname(os.path.abspath(__file__))
LATENCY_SENTENCE = "A man is riding a white horse on an enclosed ground."


def make_corpus(out, count):
    seen = set()
    for f in sorted(glob.glob("/var/lib/apt/lists/*Packages*")):
        if f.endswith((".lz4", ".gz", ".xz")):
            text = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", f], capture_output=True, check=True).stdout
        else:
            with open(f, "rb") as fh:
                text = fh.read()
        text = text.decode("utf-8", "replace")
        for m in re.finditer(r"^Package: (.*)$\n(?:.*\n)*?^Description: (.*)$", text, re.M):
            seen.add(f"{m.group(1).strip()}: {m.group(2).strip()}")
    lines = sorted(seen)
    if len(lines) < count:
        sys.exit(f"only {len(lines)} package descriptions found under /var/lib/apt/lists (run apt-get update?)")
    random.Random(20261124).shuffle(lines)
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines[:count]) + "\n")
    print(f"wrote {count} sentences to {out}", file=sys.stderr)


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def model_kind(model_dir):
    """"minilm" for BERT (token types), "mpnet" for MPNet (none): names the exported files."""
    with open(os.path.join(model_dir, "config.json")) as f:
        return "mpnet" if json.load(f).get("model_type") == "mpnet" else "minilm"


def export_onnx(model_dir, cache):
    import torch
    from transformers import AutoModel
    os.makedirs(cache, exist_ok=True)
    kind = model_kind(model_dir)
    fp32 = os.path.join(cache, f"{kind}-fp32.onnx")
    int8 = os.path.join(cache, f"{kind}-int8.onnx")
    if not os.path.exists(fp32) and kind == "mpnet":
        mpnet = AutoModel.from_pretrained(model_dir).eval()

        class WrappedMPNet(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.mpnet = mpnet

            def forward(self, input_ids, attention_mask):
                return self.mpnet(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

        ids = torch.ones(2, 8, dtype=torch.long)
        with torch.no_grad():
            torch.onnx.export(WrappedMPNet().eval(), (ids, torch.ones_like(ids)), fp32,
                              input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                              dynamic_axes={n: {0: "batch", 1: "sequence"} for n in ["input_ids", "attention_mask", "last_hidden_state"]},
                              opset_version=17, dynamo=False)
    if not os.path.exists(fp32):
        bert = AutoModel.from_pretrained(model_dir).eval()

        class Wrapped(torch.nn.Module):
            # Keyword arguments: the positional order of BertModel.forward changes between
            # transformers versions.
            def __init__(self):
                super().__init__()
                self.bert = bert

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

        model = Wrapped().eval()
        ids = torch.ones(2, 8, dtype=torch.long)
        with torch.no_grad():
            torch.onnx.export(model, (ids, torch.ones_like(ids), torch.zeros_like(ids)), fp32,
                              input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
                              dynamic_axes={n: {0: "batch", 1: "sequence"} for n in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]},
                              opset_version=17, dynamo=False)
    if not os.path.exists(int8):
        from onnxruntime.quantization import QuantType, quantize_dynamic
        quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8)
    return fp32, int8


class OrtEncoder:
    """Tokenise (padding to the batch's longest, max_length 256), run, mean-pool, normalise, in
    batches of 32 sorted by length, as sentence-transformers does."""

    def __init__(self, path, model_dir, threads):
        import onnxruntime as ort
        from transformers import AutoTokenizer
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.inputs = {i.name for i in self.session.get_inputs()}
        with open(os.path.join(model_dir, "config.json")) as f:
            self.dimension = json.load(f)["hidden_size"]
        self.max_length = 256
        sbert = os.path.join(model_dir, "sentence_bert_config.json")
        if os.path.exists(sbert):
            with open(sbert) as f:
                self.max_length = json.load(f).get("max_seq_length", 256)

    def encode(self, sentences, batch_size=32):
        import numpy as np
        order = sorted(range(len(sentences)), key=lambda i: -len(sentences[i]))
        out = np.zeros((len(sentences), self.dimension), dtype=np.float32)
        for s in range(0, len(order), batch_size):
            idx = order[s:s + batch_size]
            t = self.tokenizer([sentences[i] for i in idx], padding=True, truncation=True, max_length=self.max_length, return_tensors="np")
            feed = {"input_ids": t["input_ids"], "attention_mask": t["attention_mask"]}
            if "token_type_ids" in self.inputs:
                feed["token_type_ids"] = t.get("token_type_ids", np.zeros_like(t["input_ids"]))
            h = self.session.run(None, feed)[0]
            m = t["attention_mask"][..., None].astype(np.float32)
            e = (h * m).sum(1) / np.maximum(m.sum(1), 1e-9)
            out[idx] = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
        return out


def run(args):
    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    sentences = read_lines(args.input)
    if args.engine == "st":
        from sentence_transformers import SentenceTransformer
        model = SentenceTransformer(args.model, device="cpu")
        encode = lambda s: model.encode(s, batch_size=32, convert_to_numpy=True)
    else:
        fp32, int8 = export_onnx(args.model, args.cache)
        model = OrtEncoder(int8 if args.engine == "ort-int8" else fp32, args.model, args.threads)
        encode = model.encode
    with torch.inference_mode():
        encode(sentences[:256])
        best = float("inf")
        for _ in range(max(1, args.repeats)):
            t = time.perf_counter()
            emb = encode(sentences)
            best = min(best, time.perf_counter() - t)
        for _ in range(10):
            encode([LATENCY_SENTENCE])
        lat = []
        for _ in range(args.latency_runs):
            t = time.perf_counter()
            encode([LATENCY_SENTENCE])
            lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    if args.output:
        np.save(args.output, np.asarray(emb, dtype=np.float32))
    print(json.dumps({"engine": args.engine, "sentences": len(sentences), "seconds": best,
                      "sentences_per_second": len(sentences) / best, "latency_p50_ms": lat[len(lat) // 2],
                      "latency_p90_ms": lat[min(len(lat) - 1, len(lat) * 9 // 10)], "threads": args.threads}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("corpus")
    c.add_argument("out")
    c.add_argument("--count", type=int, default=10000)
    r = sub.add_parser("run")
    r.add_argument("--engine", choices=["st", "ort-fp32", "ort-int8"], required=True)
    r.add_argument("--model", required=True)
    r.add_argument("--input", required=True)
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--repeats", type=int, default=1)
    r.add_argument("--latency-runs", type=int, default=200)
    r.add_argument("--output")
    r.add_argument("--cache", default=os.path.join(os.path.dirname(HERE), "data", "onnx"))
    a = ap.parse_args()
    if a.command == "corpus":
        make_corpus(a.out, a.count)
    else:
        run(a)


if __name__ == "__main__":
    main()
