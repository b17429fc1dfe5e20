#!/usr/bin/env python3
"""Makes the README's sample data from Debian's package database of this machine.

    python3 Examples/packages/make_data.py [/var/lib/dpkg/status]

Writes, beside this script:
- items.jsonl: one package per line, {"id": name, "text": its one-line description,
  "metadata": {"section", "priority", "source"}} — texts with ids and metadata for a store;
- pairs.csv: a,b,label,group — two packages' descriptions; label 1 when both come from the same
  source package (libfoo3 and libfoo-dev), 0 for two packages of different sources; group is
  the first package's section (for the per-group audit);
- train.jsonl: more such pairs, {"sentence1", "sentence2", "label"}, for `siamese finetune`,
  drawn from other source packages than pairs.csv (so that evaluating on pairs.csv is fair).

Deterministic for a given database (sorted, seeded). The committed files were made once on the
project's machine image; rerunning on another machine gives other (equally valid) data.
"""
import csv, json, os, random, sys

path = sys.argv[1] if len(sys.argv) > 1 else "/var/lib/dpkg/status"
packages = {}
record = {}
with open(path, encoding="utf-8", errors="replace") as f:
    for line in list(f) + ["\n"]:
        if line.strip() == "":
            if "Package" in record and "Description" in record:
                name = record["Package"]
                source = record.get("Source", name).split(" ")[0]
                packages[name] = {
                    "text": record["Description"].strip(),
                    "section": record.get("Section", "unknown").split("/")[-1],
                    "priority": record.get("Priority", "optional"),
                    "source": source,
                }
            record = {}
        elif not line.startswith(" ") and ":" in line:
            key, value = line.split(":", 1)
            record[key] = value.strip()

names = sorted(packages)
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "items.jsonl"), "w", encoding="utf-8") as out:
    for n in names:
        p = packages[n]
        out.write(json.dumps({"id": n, "text": p["text"],
                              "metadata": {"section": p["section"], "priority": p["priority"], "source": p["source"]}},
                             ensure_ascii=False, sort_keys=True) + "\n")

rng = random.Random(20261206)
by_source = {}
for n in names:
    by_source.setdefault(packages[n]["source"], []).append(n)
# Sources split once: 60% for training pairs, 40% for the evaluation pairs.
sources = sorted(by_source)
rng.shuffle(sources)
cut = int(0.6 * len(sources))
splits = {"train": sorted(sources[:cut]), "eval": sorted(sources[cut:])}


def make_pairs(split):
    members_of = {s: by_source[s] for s in splits[split]}
    pool = [n for s in splits[split] for n in by_source[s]]
    positives = []
    for source in splits[split]:
        members = members_of[source]
        candidates = [(a, b) for i, a in enumerate(members) for b in members[i + 1:]
                      if packages[a]["text"] != packages[b]["text"]]
        rng.shuffle(candidates)
        positives += candidates[:3]
    negatives = []
    while len(negatives) < len(positives):
        a, b = rng.sample(pool, 2)
        if packages[a]["source"] != packages[b]["source"]:
            negatives.append((a, b))
    rows = [(a, b, 1) for a, b in positives] + [(a, b, 0) for a, b in negatives]
    rng.shuffle(rows)
    return rows


evaluation, training = make_pairs("eval"), make_pairs("train")
with open(os.path.join(here, "pairs.csv"), "w", encoding="utf-8", newline="") as out:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["a", "b", "label", "group"])
    for a, b, label in evaluation:
        w.writerow([packages[a]["text"], packages[b]["text"], label, packages[a]["section"]])
with open(os.path.join(here, "train.jsonl"), "w", encoding="utf-8") as out:
    for a, b, label in training:
        out.write(json.dumps({"sentence1": packages[a]["text"], "sentence2": packages[b]["text"], "label": label},
                             ensure_ascii=False) + "\n")
print(f"{len(names)} items, {len(evaluation)} evaluation pairs, {len(training)} training pairs", file=sys.stderr)
