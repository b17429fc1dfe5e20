#!/usr/bin/env bash
# GEMM GFLOP/s: ours (`siamese bench gemm`) next to numpy (OpenBLAS) and PyTorch, at 1 and 2
# threads, on the shapes of issue 2. Prints one table with the ratios.
#
#   Benchmarks/gemm.sh [--isa avx2|avx512|generic] [--threads N]
#
# --isa avx2 also restricts the peers to AVX2 (OPENBLAS_CORETYPE=Haswell, MKL/oneDNN AVX2), which
# reproduces on an AVX-512 machine what a Zen 3 CI machine runs.
# Environment: SWIFT_SCRATCH (SwiftPM --scratch-path, default .build), SECONDS_PER_CASE (0.3).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
isa=""
threads=(1 2)
while (($#)); do
  case "$1" in
    --isa) isa="$2"; shift 2 ;;
    --threads) threads=("$2"); shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "gemm.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

"$here/setup_venv.sh"
py="$here/.venv/bin/python"
scratch="${SWIFT_SCRATCH:-$root/.build}"
(cd "$root" && swift build -c release --product siamese --scratch-path "$scratch" 2>&1 | tail -1) >&2
siamese="$scratch/release/siamese"

# Busy CPUs (in cores) over one second, from /proc/stat.
busy_cores() {
  read -r _ u1 n1 s1 i1 w1 q1 sq1 st1 _ < /proc/stat
  sleep 1
  read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ < /proc/stat
  local hz; hz=$(getconf CLK_TCK)
  echo "$(( (u2+n2+s2+q2+sq2+st2) - (u1+n1+s1+q1+sq1+st1) )) $hz" | awk '{printf "%.2f", $1/$2}'
}
busy=$(busy_cores)
ncpu=$(nproc)
echo "machine: $ncpu CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), busy before the run: $busy cores"
if awk -v b="$busy" 'BEGIN{exit !(b > 0.15)}'; then
  echo "WARNING: the machine is not idle ($busy cores busy): 2-thread figures will be distorted; rerun when idle"
fi

peer_env=()
ours_isa=()
if [[ -n "$isa" ]]; then
  ours_isa=(--isa "$isa")
  if [[ "$isa" != avx512 ]]; then
    peer_env=(OPENBLAS_CORETYPE=Haswell MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2)
    [[ "$isa" == generic ]] && echo "note: peers still use AVX2 with --isa generic"
  fi
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for t in "${threads[@]}"; do
  # Same thread count, back to back, so that drift affects all three alike.
  "$siamese" bench gemm --json --threads "$t" "${ours_isa[@]}" --seconds "${SECONDS_PER_CASE:-0.3}" \
    > "$out/ours-$t.jsonl" 2> >(grep -v '^warning' >&2)
  env "${peer_env[@]}" OPENBLAS_NUM_THREADS="$t" OMP_NUM_THREADS="$t" \
    "$py" "$here/peers/gemm_peer.py" --lib numpy --threads "$t" > "$out/numpy-$t.jsonl"
  wait_policy=()
  ((t > 1)) && wait_policy=(OMP_WAIT_POLICY=PASSIVE)  # spinning OpenMP workers fight over 2 cores
  env "${peer_env[@]}" "${wait_policy[@]}" OMP_NUM_THREADS="$t" \
    "$py" "$here/peers/gemm_peer.py" --lib torch --threads "$t" > "$out/torch-$t.jsonl"
done
after=$(busy_cores)

"$py" - "$out" "$busy" "$after" <<'PY'
import glob, json, os, sys
out, before, after = sys.argv[1], sys.argv[2], sys.argv[3]
rows = {}
def load(kind):
    for path in sorted(glob.glob(os.path.join(out, f"{kind}-*.jsonl"))):
        for line in open(path):
            line = line.strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            key = (r["m"], r["k"], r["n"], r["batch"], r["threads"])
            rows.setdefault(key, {})[kind] = r
for kind in ("ours", "numpy", "torch"):
    load(kind)
isa = next((r["ours"].get("isa") for r in rows.values() if "ours" in r), "?")
print(f"GFLOP/s, best of ≥0.3 s of blocks; ours: isa {isa}")
print("* = measured while other processes used more than 0.1 cores (distorted, above all at 2 threads)")
head = f"{'shape (M×K×N)':<24} {'thr':>3} {'ours':>8} {'numpy':>8} {'torch':>8} {'ours/np':>8} {'ours/torch':>10}"
print(head)
print("-" * len(head))
def shape_label(m, k, n, b):
    return f"{m}×{k}×{n}" if b == 1 else f"{b}×({m}×{k}·{k}×{n})"
tainted = 0
for key in sorted(rows, key=lambda k: (k[4],)):
    m, k, n, b, t = key
    r = rows[key]
    g = {kind: r[kind]["gflops"] if kind in r else None for kind in ("ours", "numpy", "torch")}
    def cell(kind):
        global tainted
        if g[kind] is None:
            return f"{'-':>8}"
        busy = r[kind].get("busy_others")
        mark = "*" if busy is not None and busy > 0.1 else " "
        tainted += mark == "*"
        return f"{g[kind]:7.1f}{mark}"
    def ratio(a, c, w): return f"{a / c:{w}.2f}" if a and c else f"{'-':>{w}}"
    print(f"{shape_label(m, k, n, b):<24} {t:>3} {cell('ours')} {cell('numpy')} {cell('torch')} "
          f"{ratio(g['ours'], g['numpy'], 8)} {ratio(g['ours'], g['torch'], 10)}")
print(f"other processes' CPU use: {before} cores before the run, {after} after; {tainted} figures marked *")
PY
