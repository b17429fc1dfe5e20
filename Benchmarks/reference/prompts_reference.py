"""Reference embeddings for prompts (issue 14): all-MiniLM-L6-v2 given a prompt table.

sentence-transformers puts a prompt's text before each input (`prompts` and `default_prompt_name`
in config_sentence_transformers.json; `encode(prompt_name=…)`, `encode_query`, `encode_document`),
and a Pooling module with `include_prompt: false` leaves the prompt's tokens out of the pooling.
This writes, for the same copy of the model that Tests/TextEncodersTests/PromptTests.swift makes
(`PROMPTS` below written into config_sentence_transformers.json, the pooling flag set), the
library's embeddings of SENTENCES under each way of choosing a prompt, with include_prompt true
and false, plus the prompt lengths the library masks.

    Benchmarks/.venv/bin/python Benchmarks/reference/prompts_reference.py MINILM_DIR OUT.json
"""
import json, os, shutil, sys, tempfile

import numpy as np
from sentence_transformers import SentenceTransformer

PROMPTS = {"query": "query: ", "document": "passage: ", "classify": "Classify the topic of this text: "}
DEFAULT = "classify"
SENTENCES = [
    "A man is eating a piece of bread.",
    "Zwei Hunde spielen im Schnee — und ein drittes Tier schaut zu.",
    "Python 3 bindings for the IPA library, with 漢字 and emoji 🙂 in the description.",
]
# (key, how the library is called): the model's default, a prompt by name, the two roles, no prompt.
CHOICES = [
    ("default", lambda m: m.encode(SENTENCES, convert_to_numpy=True)),
    ("named_query", lambda m: m.encode(SENTENCES, prompt_name="query", convert_to_numpy=True)),
    ("role_query", lambda m: m.encode_query(SENTENCES, convert_to_numpy=True)),
    ("role_document", lambda m: m.encode_document(SENTENCES, convert_to_numpy=True)),
    ("none", lambda m: m.encode(SENTENCES, prompt="", convert_to_numpy=True)),
]


def prepared(source, include_prompt):
    folder = tempfile.mkdtemp()
    target = os.path.join(folder, "model")
    shutil.copytree(source, target)
    with open(os.path.join(target, "config_sentence_transformers.json"), "w") as f:
        json.dump({"prompts": PROMPTS, "default_prompt_name": DEFAULT, "similarity_fn_name": "cosine"}, f)
    pooling = os.path.join(target, "1_Pooling", "config.json")
    with open(pooling) as f:
        config = json.load(f)
    config["include_prompt"] = include_prompt
    with open(pooling, "w") as f:
        json.dump(config, f)
    return target


def main():
    source, out = sys.argv[1], sys.argv[2]
    result = {"prompts": PROMPTS, "default_prompt_name": DEFAULT, "sentences": SENTENCES}
    for include in [True, False]:
        model = SentenceTransformer(prepared(source, include), device="cpu")
        key = "include_prompt" if include else "exclude_prompt"
        # Nine significant digits are enough to give back each float32 exactly.
        result[key] = {name: [[float("%.9g" % v) for v in row] for row in np.asarray(call(model), dtype=np.float32)]
                       for name, call in CHOICES}
        if not include:
            result["prompt_lengths"] = {n: model[0]._get_prompt_length(p) for n, p in PROMPTS.items()}
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
