"""Benchmark: the cost of MLLMReID per image, training and inference, at each preset.

MLLMReID's full model (the visual encoder's ID + triplet losses, the Common Instruction's caption loss and DirectReID's
ID + triplet losses on the LLM's latent image features, LoRA on the LLM) is built with random weights where no machine
here can download them (cost does not depend on them) and timed on random images with a 23-word caption each (CUHK-PEDES' mean): one training step (forward,
the three tasks' losses, backward through the LoRA-adapted LLM into the projector and the visual encoder, Adam step) and
one inference pass (the visual encoder's feature, the test feature), each the median of `--repeats` after a warm-up,
with the peak GPU memory of each (on a GPU). Rows:

- `tiny`: the tiny world's mini-LLaVA at 64x32, its own weights (`reid-nb pretrain --model llava`): the tiny profile's
  runs, 16 image tokens after padding to 64x64, an output layer over the corpus's vocabulary;
- `real_small`: ImageNet EfficientNet-Lite0 tokens through a connector into SmolLM2-135M (real weights), 256x128 (an
  8x4 feature map: 32 image tokens);
- `paper`: LLaVA-1.5-7B's architecture (CLIP ViT-L/14-336, Vicuna-7B) at 256x128 padded and resized to 336x336 (576
  image tokens), LoRA rank 128, with and without gradient checkpointing (GPU only: its fp32 weights alone exceed 24 GB).

    python nbs/experiments/bench_mllmreid.py                                   # CPU: tiny and real_small, batch 8
    python nbs/experiments/bench_mllmreid.py                                   # one GPU: real_small and paper rows, batch 64, bf16
Results: figures/bench_mllmreid_<cpu|gpu>.json and .md (rows measured earlier on the same kind of device are kept).
"""
from __future__ import annotations

import sys

from bench_lvlm import CostBench, measure, write_table

ROWS = {  # name -> config overrides (random weights unless the row names its own)
    # the tiny profile's runs: mini-LLaVA's own weights, whose vocabulary (the corpus's tokens) sets the caption loss's cost
    "tiny": dict(backbone="llava", preset="tiny", pretrained="tinyworld", height=64, width=32, lora_r=8, lora_alpha=16),
    "real_small": dict(backbone="real_small", preset="paper", norm="half", height=256, width=128),
    "paper": dict(backbone="llava", preset="paper", height=256, width=128),
    "paper, gradient checkpointing": dict(backbone="llava", preset="paper", height=256, width=128, gradient_checkpointing=True),
}
TRAINING = ("training step = forward, visual ID + triplet, caption loss, DirectReID's ID + triplet, backward through "
            "the LoRA-adapted LLM into the visual encoder, Adam; inference = the visual encoder's feature")


def table(rows: list[dict], device_name: str, tag: str) -> str:
    "MLLMReID's rows added to figures/bench_mllmreid_<tag>.json and .md."
    weights = "tiny: mini-LLaVA's own weights; real_small: real ones; the paper rows: random, as cost does not depend on them"
    return write_table(rows, device_name, tag, "bench_mllmreid", "MLLMReID's cost", TRAINING, weights)


# on a GPU every row but tiny, which needs the tiny world's weights (pretrained on a CPU)
BENCH = CostBench(__doc__, ROWS, lambda *a: measure(*a, "mllmreid", ROWS), table,
                  default_rows=lambda gpu: [r for r in ROWS if r != "tiny"] if gpu else ["tiny", "real_small"])


if __name__ == "__main__":
    sys.exit(BENCH.cli())
