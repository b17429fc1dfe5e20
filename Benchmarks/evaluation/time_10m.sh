#!/usr/bin/env bash
# Times `siamese evaluate` on ten million scored pairs and reports wall time per phase and peak memory.
#
#   bash Benchmarks/evaluation/time_10m.sh            # builds siamese in release first
#   SIAMESE_BIN=/path/to/siamese bash Benchmarks/evaluation/time_10m.sh
#
# The pairs are generated once with NumPy into Benchmarks/data/ (git-ignored): 4M same pairs
# ~ N(1, 1), 6M different pairs ~ N(0, 1), scores rounded to 6 decimals (so there are ties), and a
# group column with 5 groups.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-10000000}
DATA=Benchmarks/data/pairs_${N}.csv
PY=${PYTHON:-Benchmarks/.venv/bin/python}
mkdir -p Benchmarks/data
if [ ! -f "$DATA" ]; then
  "$PY" - "$N" "$DATA" <<'PYEOF'
import sys
import numpy as np
n, path = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(1)
labels = (rng.random(n) < 0.4).astype(np.int8)
scores = np.where(labels == 1, rng.normal(1.0, 1.0, n), rng.normal(0.0, 1.0, n))
groups = np.array(["g0", "g1", "g2", "g3", "g4"])[rng.integers(0, 5, n)]
with open(path, "w") as f:
    f.write("score,label,group\n")
    chunk = 1_000_000
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        f.write("".join(f"{v:.6f},{l},{g}\n" for v, l, g in zip(scores[s:e], labels[s:e], groups[s:e])))
PYEOF
fi
if [ -z "${SIAMESE_BIN:-}" ]; then
  swift build -c release --product siamese --scratch-path .build-eval >/dev/null
  SIAMESE_BIN=.build-eval/release/siamese
fi
# Busy share of the CPUs over one second, so a reader knows whether the figure was taken on an idle machine.
read -r _ a1 a2 a3 a4 a5 a6 a7 _ < /proc/stat; sleep 1; read -r _ b1 b2 b3 b4 b5 b6 b7 _ < /proc/stat
busy=$(( (b1+b2+b3+b6+b7) - (a1+a2+a3+a6+a7) )); total=$(( busy + (b4+b5) - (a4+a5) ))
echo "machine busy before the run: $(( 100 * busy / (total > 0 ? total : 1) ))% of $(nproc) cores"
echo "input: $DATA ($(du -h "$DATA" | cut -f1))"
OUT=$(mktemp -d)
/usr/bin/time -f "wall %e s, peak RSS %M KiB" "$SIAMESE_BIN" evaluate --scores "$DATA" --group-column group \
  --target-far 0.001 --timings --json "$OUT/metrics.json" --report "$OUT/report.html"
ls -l "$OUT"
rm -rf "$OUT"
