#!/usr/bin/env bash
# Vector search: FAISS IndexFlatIP, hnswlib and ours on the same data in one run.
#
#   Benchmarks/index.sh [--skip-mining-peer] [--repeats N]
#
# Data (Benchmarks/peers/index_data.py, made once into Benchmarks/data/index/): 100,000 × 384
# float32 vectors from real text on this machine (Debian package descriptions, embedded by a
# deterministic hashed-feature projection, cycled with small noise), 1,000 held-out queries,
# top-10; exact ground truth from numpy.
#
# Measured, every figure in this run:
#   exact     FAISS IndexFlatIP, 2 threads, batched       vs  siamese index build (exact) + siamese search --threads 2
#   HNSW      hnswlib M=16 ef_construction=200: build at 2 threads, queries at 1 thread, ef sweep
#             vs siamese index build --hnsw --m 16 --ef-construction 200 --threads 2, siamese search --threads 1 --ef E
#   mining    sentence-transformers paraphrase_mining_embeddings (top-10, 10,000 × 384, 2 threads)
#             vs siamese dedupe --top-k 10 --threads 2
# Query rates are the best of --repeats timed runs (loading excluded on both sides).
#
# Environment: SWIFT_SCRATCH (SwiftPM --scratch-path, default .build), SIAMESE_BIN (use this
# siamese executable instead of building one), PYTHON (for the venv).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
repeats=3
mining_peer=1
while (($#)); do
  case "$1" in
    --skip-mining-peer) mining_peer=0; shift ;;
    --repeats) repeats="$2"; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "index.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

# --- peers' virtual environment -----------------------------------------------------------------
venv="$here/.venv-index"
if [[ ! -x "$venv/bin/python" ]]; then
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
fi
need=(numpy faiss-cpu hnswlib)
((mining_peer)) && need+=(sentence-transformers "torch==2.13.0")  # 2.13.0 is the CPU-only wheel here
missing=()
for spec in "${need[@]}"; do
  "$venv/bin/python" - "$spec" <<'PY' 2>/dev/null || missing+=("$spec")
import sys
from importlib.metadata import version
name, _, want = sys.argv[1].partition("==")
have = version(name)
sys.exit(0 if not want or have.split("+")[0] == want else 1)
PY
done
if ((${#missing[@]})); then
  echo "index.sh: installing ${missing[*]}" >&2
  "$venv/bin/python" -m pip install --quiet "${missing[@]}"
fi
py="$venv/bin/python"

# --- data ---------------------------------------------------------------------------------------
data="$here/data/index"
if [[ ! -f "$data/X.npy" || ! -f "$data/Q.npy" || ! -f "$data/mine.npy" ]]; then
  "$py" "$here/peers/index_data.py" --out "$data"
fi
[[ -f "$data/truth.npy" ]] || "$py" "$here/peers/index_peer.py" truth --data "$data" >/dev/null

# --- ours ---------------------------------------------------------------------------------------
if [[ -n "${SIAMESE_BIN:-}" ]]; then
  siamese="$SIAMESE_BIN"
else
  scratch="${SWIFT_SCRATCH:-$root/.build}"
  (cd "$root" && swift build -c release --product siamese --scratch-path "$scratch" 2>&1 | tail -1) >&2
  siamese="$scratch/release/siamese"
fi
if ! "$siamese" index --help >/dev/null 2>&1; then
  echo "index.sh: $siamese has no 'index' command (are IndexCommand, SearchCommand, DedupeCommand registered in SiameseCommand.swift?)" >&2
  exit 1
fi

source "$here/lib/idle.sh"
check_idle

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
log="$out/results.jsonl"
efs=(32 64 96 128 192 256)

seconds_from() { sed -n 's/.*in \([0-9.]*\) s.*/\1/p' | head -1; }

echo "exact: FAISS IndexFlatIP, 2 threads" >&2
OMP_NUM_THREADS=2 "$py" "$here/peers/index_peer.py" faiss --data "$data" --threads 2 --repeats "$repeats" >> "$log"
echo "exact: ours, 2 threads" >&2
"$siamese" index build --vectors "$data/X.npy" --output "$out/flat.idx" --metric dot >&2
s=$("$siamese" search --index "$out/flat.idx" --queries "$data/Q.npy" --k 10 --threads 2 --repeat "$repeats" --output "$out/ids_flat.npy" 2>&1 >/dev/null | seconds_from)
echo "{\"lib\":\"ours\",\"kind\":\"flat\",\"threads\":2,\"seconds\":$s,\"ids\":\"$out/ids_flat.npy\"}" >> "$log"

echo "HNSW: hnswlib (build 2 threads, queries 1 thread)" >&2
"$py" "$here/peers/index_peer.py" hnswlib --data "$data" --build-threads 2 --repeats "$repeats" --ef "${efs[@]}" >> "$log"
echo "HNSW: ours (build 2 threads, queries 1 thread)" >&2
b=$("$siamese" index build --vectors "$data/X.npy" --output "$out/g.idx" --metric dot --hnsw --m 16 --ef-construction 200 --threads 2 | sed -n 's/.*build_seconds=\([0-9.]*\).*/\1/p')
echo "{\"lib\":\"ours\",\"kind\":\"build\",\"threads\":2,\"build_s\":$b}" >> "$log"
for ef in "${efs[@]}"; do
  s=$("$siamese" search --index "$out/g.idx" --queries "$data/Q.npy" --k 10 --ef "$ef" --threads 1 --repeat "$repeats" --output "$out/ids_$ef.npy" 2>&1 >/dev/null | seconds_from)
  echo "{\"lib\":\"ours\",\"kind\":\"search\",\"ef\":$ef,\"threads\":1,\"seconds\":$s,\"ids\":\"$out/ids_$ef.npy\"}" >> "$log"
done

echo "paraphrase mining, 10,000 × 384, top-10, 2 threads" >&2
if ((mining_peer)); then
  OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE HF_HUB_OFFLINE=1 "$py" "$here/peers/index_peer.py" mining --data "$data" --threads 2 --repeats "$repeats" >> "$log"
fi
best=""
for _ in $(seq "$repeats"); do
  s=$("$siamese" dedupe --vectors "$data/mine.npy" --top-k 10 --threads 2 --output "$out/pairs.jsonl" | sed -n 's/.*mining_seconds=\([0-9.]*\).*/\1/p')
  best=$(awk -v a="$s" -v b="$best" 'BEGIN{print (b == "" || a < b) ? a : b}')
done
echo "{\"lib\":\"ours\",\"kind\":\"mining\",\"threads\":2,\"seconds\":$best,\"pairs_file\":\"$out/pairs.jsonl\"}" >> "$log"

after=$(check_idle 2>&1)
"$py" - "$log" "$data" "$after" <<'PY'
import json, sys
import numpy as np
log, data, after = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [json.loads(l) for l in open(log) if l.startswith("{")]
truth = np.load(f"{data}/truth.npy")[:, :10]
def recall(path):
    ids = np.load(path)
    return sum(len(set(a) & set(b)) for a, b in zip(ids[:, :10], truth)) / truth.size
def pick(lib, kind, **kw):
    for r in rows:
        if r["lib"] == lib and r["kind"] == kind and all(r.get(k) == v for k, v in kw.items()):
            return r
    return None

faiss, flat = pick("faiss", "flat"), pick("ours", "flat")
flat_qps = 1000 / flat["seconds"]
flat_recall = recall(flat["ids"])
hb, ob = pick("hnswlib", "build"), pick("ours", "build")
efs = sorted(r["ef"] for r in rows if r["lib"] == "hnswlib" and r["kind"] == "search")
ours_curve, peer_curve = [], []
for ef in efs:
    p, o = pick("hnswlib", "search", ef=ef), pick("ours", "search", ef=ef)
    peer_curve.append((p["recall"], p["qps"]))
    ours_curve.append((recall(o["ids"]), 1000 / o["seconds"]))

def qps_at(curve, target):
    """Queries/s at a recall, by linear interpolation along the ef sweep (None when out of range)."""
    pts = sorted(curve)
    for (r0, q0), (r1, q1) in zip(pts, pts[1:]):
        if r0 <= target <= r1:
            return q0 if r1 == r0 else q0 + (q1 - q0) * (target - r0) / (r1 - r0)
    return None

print("\nVector search, 100,000 × 384 (Debian package descriptions, hashed-feature embeddings), 1,000 queries, top-10")
print(f"{'work':<44} {'peer':>14} {'ours':>14} {'ours vs peer':>13}")
print("-" * 88)
print(f"{'exact batched, 2 threads (q/s)':<44} {faiss['qps']:>14.0f} {flat_qps:>14.0f} {flat_qps / faiss['qps']:>12.2f}×   FAISS IndexFlatIP; recall {faiss['recall']:.3f} / {flat_recall:.3f}")
print(f"{'HNSW build M=16 efC=200, 2 threads (s)':<44} {hb['build_s']:>14.1f} {ob['build_s']:>14.1f} {hb['build_s'] / ob['build_s']:>12.2f}×   hnswlib (time ratio peer/ours: >1 = faster)")
p128 = pick("hnswlib", "search", ef=128)
same = qps_at(ours_curve, p128["recall"])
o128 = dict(zip(efs, ours_curve)).get(128)
print(f"{'HNSW ef=128, 1 thread (q/s)':<44} {p128['qps']:>14.0f} {o128[1]:>14.0f} {o128[1] / p128['qps']:>12.2f}×   recall {p128['recall']:.3f} / {o128[0]:.3f}")
if same:
    print(f"{'HNSW at hnswlib ef=128 recall ' + format(p128['recall'], '.3f') + ', 1 thread (q/s)':<44} {p128['qps']:>14.0f} {same:>14.0f} {same / p128['qps']:>12.2f}×   ours interpolated on its ef sweep")
mp, mo = pick("sentence-transformers", "paraphrase_mining"), pick("ours", "mining")
if mp:
    print(f"{'paraphrase mining 10,000 × 384, top-10 (s)':<44} {mp['seconds']:>14.3f} {mo['seconds']:>14.3f} {mp['seconds'] / mo['seconds']:>12.2f}×   sentence-transformers (time ratio peer/ours)")
else:
    print(f"{'paraphrase mining 10,000 × 384, top-10 (s)':<44} {'-':>14} {mo['seconds']:>14.3f}")

print("\nHNSW ef sweep (queries at 1 thread)")
print(f"{'ef':>5} {'hnswlib recall':>15} {'hnswlib q/s':>12} {'ours recall':>12} {'ours q/s':>10} {'q/s ratio':>10}")
for ef, (pr, pq), (orr, oq) in zip(efs, peer_curve, ours_curve):
    print(f"{ef:>5} {pr:>15.4f} {pq:>12.0f} {orr:>12.4f} {oq:>10.0f} {oq / pq:>9.2f}×")
print(f"\n{after}")
PY
