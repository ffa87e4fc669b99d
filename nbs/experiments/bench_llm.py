"""Benchmark: the cost of training an image encoder through a frozen LLM (LVLM-ReID's path), per image.

For each VLM, a batch of images goes through the vision side into the frozen LLM with LVLM-ReID's instruction; the
loss is on the hidden state that predicts the first answer token; backward reaches the image encoder and the
connector, never the LLM's weights. Reported: seconds per image for forward+backward (median over timed steps after
warm-up), images/s and peak GPU memory.

- `real_small` (real weights): ImageNet EfficientNet-Lite0 at 320x160 (a 10x5 feature map: 50 image tokens, the
  count of Qwen2-VL at 280x140) through LLaVA's MLP into SmolLM2-135M-Instruct.
- `qwen2_vl` (GPU only): Qwen2-VL-2B's architecture at 280x140 (50 merged tokens) with random weights (speed and
  memory do not depend on them; no machine here can download the checkpoint).

    python nbs/experiments/bench_llm.py                       # CPU: real_small, batch 8, a few minutes on 2 cores
    python nbs/experiments/bench_llm.py --device cuda --batch 64 --precision bf16 --vlms real_small qwen2_vl
Results: figures/bench_llm_<device>.json and .md.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from reid_nb.config import get_paths, write_json
from reid_nb.methods.lvlm_reid import PSTG_INSTRUCTION as INSTRUCTION
from reid_nb.models.llm import freeze, gradient_checkpointing
from reid_nb.models.vlm import VLM, build_real_small, build_vlm


def bench(vlm: VLM, size: tuple[int, int], batch: int, steps: int, device: str, precision: str, checkpointing: bool) -> dict:
    "Seconds per image of forward+backward through the frozen LLM, and peak memory."
    lm = vlm.model.llm if vlm.family == "real_small" else vlm.model.model.language_model
    freeze(lm)
    if vlm.family != "real_small": freeze(vlm.model.lm_head)
    if checkpointing: gradient_checkpointing(vlm.model)
    vlm.to(device).train()
    trainable = [p for p in vlm.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-5)
    x = torch.randn(batch, 3, *size, device=device)
    dtype = {"bf16": torch.bfloat16, "no": None}[precision]
    if device == "cuda": torch.cuda.reset_peak_memory_stats()
    times = []
    for step in range(steps + 2):
        t = time.perf_counter()
        with torch.autocast(device_type=device.split(":")[0], dtype=dtype, enabled=dtype is not None):
            loss = vlm.next_token_state(x, INSTRUCTION).float().pow(2).mean()
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        if device == "cuda": torch.cuda.synchronize()
        if step >= 2: times.append(time.perf_counter() - t)  # the first two steps hold warm-up
    s = statistics.median(times)
    return {"family": vlm.family, "input": f"{size[0]}x{size[1]}", "image_tokens": vlm.image_inputs(x[:1])[1],
            "batch": batch, "precision": precision, "checkpointing": checkpointing, "s_per_image": round(s / batch, 4),
            "images_per_s": round(batch / s, 2),
            "trainable_M": round(sum(p.numel() for p in trainable) / 1e6, 2),
            "frozen_llm_M": round(sum(p.numel() for p in lm.parameters()) / 1e6, 1),
            "peak_mem_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if device == "cuda" else None}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vlms", nargs="+", default=["real_small"], choices=["real_small", "qwen2_vl"])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--precision", default="no", choices=["no", "bf16"])
    ap.add_argument("--checkpointing", action="store_true", help="activation checkpointing in the LLM")
    args = ap.parse_args()
    torch.manual_seed(0)
    rows = []
    for fam in args.vlms:
        vlm, size = (build_real_small("paper"), (320, 160)) if fam == "real_small" else (build_vlm("qwen2_vl", "paper", ""), (280, 140))
        rows.append(bench(vlm, size, args.batch, args.steps, args.device, args.precision, args.checkpointing))
        print(rows[-1], flush=True)
        del vlm
    dev = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"cpu ({torch.get_num_threads()} threads)"
    out = get_paths().figures
    out.mkdir(parents=True, exist_ok=True)
    name = "cuda" if args.device.startswith("cuda") else "cpu"
    write_json(out / f"bench_llm_{name}.json", {"device": dev, "rows": rows})
    lines = [f"### Training an image encoder through a frozen LLM ({dev})", "",
             "| VLM | input | image tokens | batch | precision | s / image | images / s | trainable M | frozen LLM M | peak GiB |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['family']} | {r['input']} | {r['image_tokens']} | {r['batch']} | {r['precision']} | {r['s_per_image']} | "
              f"{r['images_per_s']} | {r['trainable_M']} | {r['frozen_llm_M']} | {r['peak_mem_gib'] or '-'} |" for r in rows]
    (out / f"bench_llm_{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
