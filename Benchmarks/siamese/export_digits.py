"""Writes scikit-learn's 8x8 digits (it ships inside the scikit-learn package) as CSV files.

digits.csv: f0..f63 (pixel intensity / 16, in [0, 1]) and label; plus the two benchmark splits:
random 70/30 (stratified, seed 0) and open set (train on digits 0-6, test on 7-9).
"""
import csv
import os
import sys

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

out = sys.argv[1] if len(sys.argv) > 1 else "Benchmarks/data/digits"
os.makedirs(out, exist_ok=True)
d = load_digits()
x = (d.data / 16.0).astype(np.float32)
y = d.target.astype(int)


def write(name, rows, labels):
    with open(os.path.join(out, name), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"f{i}" for i in range(64)] + ["label"])
        for r, l in zip(rows, labels):
            w.writerow([f"{v:.6g}" for v in r] + [int(l)])


write("digits.csv", x, y)
xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
write("random_train.csv", xtr, ytr)
write("random_test.csv", xte, yte)
write("open_train.csv", x[y <= 6], y[y <= 6])
write("open_test.csv", x[y >= 7], y[y >= 7])
print(f"wrote {len(y)} digits to {out}")
