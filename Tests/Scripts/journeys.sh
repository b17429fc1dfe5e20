#!/usr/bin/env bash
# The new user's journeys (issue 16), end to end on real text: Debian package descriptions
# (Examples/packages, made by make_data.py from this machine's package database) and the real
# all-MiniLM-L6-v2. Each journey is at most five commands; their output is what a user reads.
#
#   Tests/Scripts/journeys.sh          # SIAMESE_MINILM_DIR: the model folder (scripts/test.sh sets it)
#
# 1. pretrained model -> score labelled pairs -> calibrate -> verify -> report
# 2. texts with ids and metadata -> store -> search by text with a filter -> duplicates
# Fails on any command that fails, or on an answer that is plainly wrong (checked after each journey).
set -euo pipefail
source "$(dirname "$0")/service_common.sh"
build_siamese
[[ -n "${SIAMESE_MINILM_DIR:-}" && -f "$SIAMESE_MINILM_DIR/modules.json" ]] \
  || { echo "journeys: SIAMESE_MINILM_DIR must name the all-MiniLM-L6-v2 folder" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
data="$repo/Examples/packages"
siamese() { "$SIAMESE_BIN" "$@"; }
step() { printf '\n$ siamese %s\n' "$*" >&2; siamese "$@"; }

# The model folder, with our own calibration.json beside links to the installed files.
cp -rs "$SIAMESE_MINILM_DIR" "$work/minilm"
model="$work/minilm"

echo "== journey 1: a pretrained model, calibrated on labelled pairs"
step score --model "$model" --pairs "$data/pairs.csv" --group-column group --output "$work/scores.csv"
step calibrate --scores "$work/scores.csv" --eer --model "$model"
step verify --model "$model" --a "Secure Sockets Layer toolkit - shared libraries" --b "Secure Sockets Layer toolkit - development files" --format json | tee "$work/verify.json"
step report --scores "$work/scores.csv" --group-column group --min-group-size 5 --output "$work/report.html"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
v = json.load(open(f"{work}/verify.json"))
assert v["same"] is True, f"two packages of one source should verify as same: {v}"
html = open(f"{work}/report.html", encoding="utf-8").read()
assert "<svg" in html and "AUC" in html, "the report has plots and the AUC"
print("journey 1: OK")
PY

echo "== journey 2: a store of texts with ids and metadata"
step store import --store "$work/items.sqlite" --model "$model" --input "$data/items.jsonl"
step search --store "$work/items.sqlite" --model "$model" --query "compress and decompress files" --k 5 --filter section=utils --format json | tee "$work/hits.json"
step dedupe --store "$work/items.sqlite" --threshold 0.97 --format jsonl | tee "$work/dupes.jsonl" | sed -n 1,5p
python3 - "$work" "$data/items.jsonl" <<'PY'
import json, sys
work, items = sys.argv[1], sys.argv[2]
meta = {}
for line in open(items, encoding="utf-8"):
    o = json.loads(line)
    meta[o["id"]] = o["metadata"]
hits = json.load(open(f"{work}/hits.json"))["hits"]
assert len(hits) == 5, hits
assert all(meta[h["id"]]["section"] == "utils" for h in hits), "every hit passes the filter"
scores = [h["score"] for h in hits]
assert scores == sorted(scores, reverse=True), "best first"
dupes = [json.loads(l) for l in open(f"{work}/dupes.jsonl")]
assert dupes and all(d["score"] >= 0.97 for d in dupes), "near-duplicates above the threshold"
print(f"journey 2: OK ({len(dupes)} near-duplicate pairs)")
PY

echo "== journey 3: labelled pairs -> fine-tuned, calibrated model -> served"
step finetune --model "$model" --data "$data/train.jsonl" --loss contrastive --epochs 1 --validation "$data/pairs.csv" --keep-best --output "$work/tuned"
port="$(free_port)"
echo "\$ siamese serve --model $work/tuned --port $port" >&2
start_server "$work/serve.log" --model "$work/tuned" --host 127.0.0.1 --port "$port"
trap 'stop_server; rm -rf "$work"' EXIT
curl -sf "http://127.0.0.1:$port/v1/verify" -d '{"a":"Secure Sockets Layer toolkit - shared libraries","b":"Secure Sockets Layer toolkit - development files"}' | tee "$work/served.json"
echo
stop_server
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
v = json.load(open(f"{work}/served.json"))
cal = json.load(open(f"{work}/tuned/calibration.json"))
assert v["rule"]["source"] == "calibration.json" and abs(v["threshold"] - cal["threshold"]) < 1e-9, f"the served threshold is the fine-tuned model's calibration: {v}"
assert v["same"] is True, v
print("journey 3: OK")
PY
