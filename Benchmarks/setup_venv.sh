#!/usr/bin/env bash
# Creates Benchmarks/.venv with the peers we measure against (numpy/OpenBLAS, PyTorch CPU).
# Idempotent: a second run only installs what is missing. Later benchmarks add their
# packages to PACKAGES below.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"

# torch is pinned: 2.13.0 resolves to a CPU-only wheel here; newer versions drag in
# several GB of CUDA packages.
PACKAGES=(
  "numpy"
  "torch==2.13.0"
)

if [[ ! -x "$venv/bin/python" ]]; then
  echo "setup_venv: creating $venv" >&2
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
fi

# pip's own "already satisfied" check is slow-ish with many packages; ask importlib first.
missing=()
for spec in "${PACKAGES[@]}"; do
  if ! "$venv/bin/python" - "$spec" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version, PackageNotFoundError
spec = sys.argv[1]
name, _, want = spec.partition("==")
try:
    have = version(name)
except PackageNotFoundError:
    sys.exit(1)
sys.exit(0 if not want or have == want or have.split("+")[0] == want else 1)
PY
  then
    missing+=("$spec")
  fi
done

if ((${#missing[@]})); then
  echo "setup_venv: installing ${missing[*]}" >&2
  "$venv/bin/python" -m pip install --quiet "${missing[@]}"
fi
