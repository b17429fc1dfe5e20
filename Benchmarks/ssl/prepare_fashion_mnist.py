#!/usr/bin/env python3
"""Seeded subsets of Fashion-MNIST from Debian's dataset-fashion-mnist files for
Benchmarks/ssl_fashion_mnist.sh: IDX (ours), .npy in [0, 1] (the PyTorch side), labels one per line.

Usage: prepare_fashion_mnist.py SRC_DIR OUT_DIR TRAIN_N TEST_N SEED [LABELLED_N]

LABELLED_N (default 600): a class-balanced, seeded subset of the training images whose labels are
the only ones label-efficiency runs may use: labelled-images-idx3-ubyte, labelled-labels-idx1-ubyte
(for `siamese train`) and labelled-labels.txt.
"""
import gzip
import os
import sys

import numpy as np


def idx(path):
    data = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
    dims = [int.from_bytes(data[4 + 4 * k:8 + 4 * k], "big") for k in range(data[3])]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


def find(src, stem):
    for name in os.listdir(src):
        if name.startswith(stem):
            return os.path.join(src, name)
    raise SystemExit(f"no {stem}* in {src}")


src, out, train_n, test_n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
labelled_n = int(sys.argv[6]) if len(sys.argv) > 6 else 600
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(seed)
for split, stem, n in [("train", "train", train_n), ("test", "t10k", test_n)]:
    images, labels = idx(find(src, f"{stem}-images")), idx(find(src, f"{stem}-labels"))
    pick = np.sort(rng.choice(len(labels), size=min(n, len(labels)), replace=False))
    images, labels = images[pick], labels[pick]
    header = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in images.shape)
    open(os.path.join(out, f"{split}-images-idx3-ubyte"), "wb").write(header + images.tobytes())
    np.save(os.path.join(out, f"{split}.npy"), (images.reshape(len(labels), -1) / 255).astype(np.float32))
    open(os.path.join(out, f"{split}-labels.txt"), "w").write("".join(f"{v}\n" for v in labels))
    if split == "train":
        classes = np.unique(labels)
        per = labelled_n // len(classes)
        keep = np.sort(np.concatenate([rng.choice(np.flatnonzero(labels == c), size=per, replace=False) for c in classes]))
        header = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in images[keep].shape)
        open(os.path.join(out, "labelled-images-idx3-ubyte"), "wb").write(header + images[keep].tobytes())
        open(os.path.join(out, "labelled-labels-idx1-ubyte"), "wb").write(bytes([0, 0, 8, 1]) + len(keep).to_bytes(4, "big") + labels[keep].astype(np.uint8).tobytes())
        open(os.path.join(out, "labelled-labels.txt"), "w").write("".join(f"{v}\n" for v in labels[keep]))
print(f"{train_n} train and {test_n} test images in {out}")
