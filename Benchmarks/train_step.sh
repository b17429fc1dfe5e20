#!/usr/bin/env bash
# Training-step overhead: ours vs PyTorch on the same MLP, same batch, in one run.
# Usage: Benchmarks/train_step.sh            (needs network once, for the venv)
set -euo pipefail
cd "$(dirname "$0")/.."
bash Benchmarks/setup_venv.sh >/dev/null
PY=Benchmarks/.venv/bin/python
swift build -c release --product siamese >/dev/null
BIN=$(swift build -c release --show-bin-path)/siamese
source Benchmarks/lib/idle.sh
check_idle

printf '%-8s %12s %12s %8s\n' threads ours_ms torch_ms ratio
for t in 1 2; do
  ours=$("$BIN" bench train-step --threads "$t" --json)
  if [ "$t" = 2 ]; then export OMP_WAIT_POLICY=PASSIVE; fi
  peer=$(OMP_NUM_THREADS=$t "$PY" Benchmarks/peers/train_step_peer.py "$t")
  python3 - "$ours" "$peer" "$t" <<'PYEOF'
import json, sys
o, p, t = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
print(f"{t:<8} {o['median_ms']:12.3f} {p['median_ms']:12.3f} {p['median_ms']/o['median_ms']:7.1f}x")
PYEOF
done
echo "(median step time; ratio = torch / ours, higher is better for us)"
