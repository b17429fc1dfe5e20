"""Fine-tuning a sentence-transformers bi-encoder the way `siamese finetune` does, for the speed
comparisons of Benchmarks/text_train.sh and Benchmarks/simcse_lee.sh.

  text_train_peer.py BASE DATA.jsonl LOSS EPOCHS BATCH LR SEED THREADS [OUT_DIR]
      LOSS: mnrl ({"anchor", "positive"} lines; in-batch negatives, scale 20), contrastive
      ({"sentence1", "sentence2", "label"}; cosine distance, margin 0.5), both as the library's
      losses. AdamW (weight decay 0.01), linear warm-up over 10 % of the steps then linear decay,
      gradient norm clipped to 1: `siamese finetune`'s recipe (sentence-transformers' defaults).
      Prints {"steps", "seconds", "steps_per_s"}: tokenising, forward, backward and update timed.
      With OUT_DIR, saves the model there.
"""
import json
import os
import random
import sys
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def train(base, examples, loss_name, epochs, batch, lr, seed, threads, out_dir=None, scale=20.0):
    """Trains on `examples` (tuples of texts, plus a float label for contrastive) and returns the timing."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import get_linear_schedule_with_warmup
    try:
        from sentence_transformers.sentence_transformer import losses
    except ImportError:  # before sentence-transformers 6
        from sentence_transformers import losses
    warnings.filterwarnings("ignore")
    import logging
    logging.getLogger("sentence_transformers").setLevel(logging.ERROR)

    torch.set_num_threads(threads)
    random.seed(seed)
    torch.manual_seed(seed)
    model = SentenceTransformer(base, device="cpu")
    if loss_name == "mnrl":
        loss = losses.MultipleNegativesRankingLoss(model, scale=scale)
    elif loss_name == "contrastive":
        loss = losses.ContrastiveLoss(model)
    else:
        raise SystemExit(f"unknown loss {loss_name}")
    order = list(range(len(examples)))
    steps_per_epoch = sum(1 for i in range(0, len(order), batch) if len(order[i:i + batch]) >= 2)
    total = steps_per_epoch * epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, int(round(0.1 * total)), total)
    model.train()
    steps, started = 0, time.perf_counter()
    for _ in range(epochs):
        random.shuffle(order)
        for i in range(0, len(order), batch):
            chunk = [examples[j] for j in order[i:i + batch]]
            if len(chunk) < 2:
                continue
            # One forward pass per column, as the library's trainer does (each its own dropout masks).
            features = [model.tokenize([e[0] for e in chunk]), model.tokenize([e[1] for e in chunk])]
            labels = torch.tensor([e[2] for e in chunk], dtype=torch.float32) if loss_name == "contrastive" else None
            value = loss(features, labels)
            value.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            steps += 1
    seconds = time.perf_counter() - started
    model.eval()
    if out_dir:
        model.save(out_dir)
    return model, {"steps": steps, "seconds": seconds, "steps_per_s": steps / seconds}


def read_examples(path, loss_name):
    out = []
    for line in open(path, encoding="utf-8"):
        if not line.strip():
            continue
        o = json.loads(line)
        out.append((o["anchor"], o["positive"]) if loss_name == "mnrl" else (o["sentence1"], o["sentence2"], float(o["label"])))
    return out


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) < 8:
        sys.exit(__doc__)
    _, timing = train(a[0], read_examples(a[1], a[2]), a[2], int(a[3]), int(a[4]), float(a[5]), int(a[6]), int(a[7]),
                      a[8] if len(a) > 8 else None)
    print(json.dumps(timing))
