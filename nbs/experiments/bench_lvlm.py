"""Benchmark: the cost of LVLM-ReID per image, training and inference, at each preset.

LVLM-ReID's full model (PSTG through the frozen LLM, SGI, CSS-x^p) is built with random weights (cost does not depend
on them) and timed on random images: one training step (forward, ID + triplet losses, backward through the frozen LLM
into the visual model, Adam step) and one inference pass (the refined v_reid), each the median of `--repeats` after a
warm-up, with the peak GPU memory of each (on a GPU). Rows:

- `tiny`: the tiny world's mini-Qwen2-VL at 64x32 (the tiny profile's runs, 8 visual tokens);
- `real_small`: ImageNet EfficientNet-Lite0 tokens through a connector into SmolLM2-135M (real weights), 320x160
  (a 10x5 feature map: 50 image tokens, as Qwen2-VL at 280x140);
- `paper`: Qwen2-VL-2B's architecture at 280x140 (50 merged tokens), with and without gradient checkpointing.

    python nbs/experiments/bench_lvlm.py                                   # CPU: tiny and real_small, batch 8
    python nbs/experiments/bench_lvlm.py --rows "paper, gradient checkpointing" --batch 4   # CPU: Qwen2-VL-2B, 21 GB
    python nbs/experiments/bench_lvlm.py                                   # one GPU: every row, batch 64, bf16
Results: figures/bench_lvlm_<cpu|gpu>.json and .md (rows measured earlier on the same kind of device are kept).
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Callable

import torch

from bench_muva import timed
from reid_nb.config import get_paths, make_config, write_json
from reid_nb.engine import build_model
from reid_nb.models.weights import WeightsNotFound

ROWS = {  # name -> config overrides (all: random weights)
    "tiny": dict(backbone="qwen2_vl", preset="tiny", height=64, width=32),  # the tiny profile's input
    "real_small": dict(backbone="real_small", preset="paper", norm="half", height=320, width=160),
    "paper": dict(backbone="qwen2_vl", preset="paper", height=280, width=140),
    "paper, gradient checkpointing": dict(backbone="qwen2_vl", preset="paper", height=280, width=140,
                                          gradient_checkpointing=True),
}


CAPTION = ("A young woman with long black hair, wearing a white short-sleeved shirt, blue long trousers and white shoes, "
           "carrying a black shoulder bag.")  # 23 words (CUHK-PEDES' mean length) in the tiny world's words: MLLMReID's caption task


def measure(name: str, batch: int, repeats: int, device: torch.device, precision: str, method: str = "lvlm_reid",
            rows: dict | None = None) -> dict:
    "Training-step and inference latency per batch, images/s and peak memory of `method`'s row `name` (of `rows`, default ROWS)."
    cfg = make_config(method, **{"pretrained": "", **(rows or ROWS)[name]})  # random weights unless the row names some
    torch.manual_seed(0)
    model = build_model(cfg, num_classes=751, num_cams=6).to(device)
    images = torch.randn(batch, 3, cfg.height, cfg.width, device=device)
    camids = torch.arange(batch, device=device) % 6
    pids = torch.arange(batch, device=device) // max(1, min(4, batch // 2))  # K images per identity (4, or fewer in a small batch)
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(trainable, lr=cfg.lr, weight_decay=cfg.weight_decay)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    autocast = lambda: torch.autocast(device.type, dtype=dtype, enabled=dtype is not None)

    def step() -> None:
        with autocast():
            batch_in = {"image": images, "camid": camids, "pid": pids, "caption": [CAPTION] * batch}
            loss = sum(model.loss(model(batch_in), batch_in).values())
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    model.train()
    train_ms, train_mem = timed(step, device, repeats)
    model.eval()
    with torch.no_grad(), autocast():
        infer_ms, infer_mem = timed(lambda: model.encode(images, camids), device, repeats)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    return {"row": name, "input": f"{cfg.height}x{cfg.width}", "visual_tokens": model.vlm.image_inputs(images[:1])[1],
            "batch": batch, "precision": precision, "train_ms": round(train_ms, 1),
            "train_images_per_s": round(batch / train_ms * 1000, 2), "infer_ms": round(infer_ms, 1),
            "infer_images_per_s": round(batch / infer_ms * 1000, 2),
            "train_peak_gib": round(train_mem, 2) if device.type == "cuda" else None,
            "infer_peak_gib": round(infer_mem, 2) if device.type == "cuda" else None,
            "trainable_M": round(sum(p.numel() for p in trainable) / 1e6, 2), "frozen_M": round(frozen / 1e6, 1),
            "lora_M": round(sum(p.numel() for n, p in model.named_parameters() if "lora_" in n) / 1e6, 2)}


TRAINING = "training step = forward, ID + triplet, backward through the frozen LLM, Adam"


WEIGHTS = "random weights but real_small's, which are real: cost does not depend on them"


def merge_rows(rows: list[dict], device_name: str, name: str) -> list[dict]:
    "figures/<name>.json's earlier rows with `rows` added (replacing rows of the same name, batch and precision), saved."
    path = get_paths().figures / f"{name}.json"
    old = json.loads(path.read_text())["rows"] if path.is_file() else []
    key = lambda r: (r["row"], r["batch"], r["precision"])
    merged = [r for r in old if key(r) not in {key(n) for n in rows}] + rows
    write_json(path, {"device": device_name, "torch": torch.__version__, "rows": merged})
    return merged


def write_table(rows: list[dict], device_name: str, tag: str, stem: str = "bench_lvlm", title: str = "LVLM-ReID's cost",
                training: str = TRAINING, weights: str = WEIGHTS) -> str:
    "Add `rows` to figures/<stem>_<tag>.json (replacing rows of the same name and batch) and write the Markdown."
    paths = get_paths()
    merged = merge_rows(rows, device_name, f"{stem}_{tag}")
    gib = lambda v: "–" if v is None else f"{v:.1f}"
    lora = any(r.get("lora_M") for r in merged)
    md = [f"{title} on {device_name} ({weights}; {training}; median over repeats after a warm-up):", "",
          "| row | input | visual tokens | batch | precision | train ms / image | train images/s | infer ms / image | "
          "infer images/s | peak GiB train / infer | trainable M |" + (" of which LoRA M |" if lora else "") + " frozen M |",
          "|---|---|---|---|---|---|---|---|---|---|---|" + ("---|" if lora else "") + "---|"]
    md += [f"| {r['row']} | {r['input']} | {r['visual_tokens']} | {r['batch']} | {r['precision']} | "
           f"{r['train_ms'] / r['batch']:.1f} | {r['train_images_per_s']:.1f} | {r['infer_ms'] / r['batch']:.1f} | "
           f"{r['infer_images_per_s']:.1f} | {gib(r['train_peak_gib'])} / {gib(r['infer_peak_gib'])} | "
           f"{r['trainable_M']} |" + (f" {r.get('lora_M', 0)} |" if lora else "") + f" {r['frozen_M']} |" for r in merged]
    text = "\n".join(md) + "\n"
    (paths.figures / f"{stem}_{tag}.md").write_text(text)
    return text


@dataclass
class CostBench:
    """A method's cost benchmark: `measure_row(name, batch, repeats, device, precision)` for each chosen row of `rows`
    (default `default_rows(gpu)`), written with `table(measured, device_name, tag)`. Its command line is `cli()`;
    bench_gpu.py runs `run()` with the GPU defaults."""
    doc: str
    rows: dict
    measure_row: Callable[..., dict]
    table: Callable[[list[dict], str, str], str]
    default_rows: Callable[[bool], list[str]] = lambda gpu: ["tiny", "real_small"]
    gpu_batch: int = 64
    repeats: int = 5

    def run(self, device: torch.device, names: list[str] | None = None, batch: int | None = None,
            repeats: int | None = None, precision: str | None = None) -> str:
        "Measure the rows (defaults: this device's rows, batch and precision) and write the table; its Markdown."
        gpu = device.type == "cuda"
        batch, precision = batch or (self.gpu_batch if gpu else 8), precision or ("bf16" if gpu else "fp32")
        measured = []
        for name in names or self.default_rows(gpu):
            try: measured.append(self.measure_row(name, batch, repeats or self.repeats, device, precision))
            except WeightsNotFound as e:  # a row with real weights on a machine without them: the others still run
                print(f"row {name!r} not measured: {e}", file=sys.stderr, flush=True)
                continue
            print(measured[-1], flush=True)
            if gpu: torch.cuda.empty_cache()
        if not measured: raise SystemExit("no row could be measured (see above)")
        device_name = torch.cuda.get_device_name() if gpu else f"cpu ({torch.get_num_threads()} threads)"
        return self.table(measured, device_name, "gpu" if gpu else "cpu")

    def cli(self) -> int:
        "The command line: --rows, --batch, --repeats, --precision."
        ap = argparse.ArgumentParser(description=self.doc.splitlines()[0])
        ap.add_argument("--rows", nargs="+", default=None, choices=list(self.rows), help="default: "
                        + ", ".join(self.default_rows(False)) + " on a CPU, " + ", ".join(self.default_rows(True)) + " on a GPU")
        ap.add_argument("--batch", type=int, default=None, help=f"default: {self.gpu_batch} on a GPU (the paper's), 8 on a CPU")
        ap.add_argument("--repeats", type=int, default=self.repeats)
        ap.add_argument("--precision", default=None, help="default: bf16 on a GPU, fp32 on a CPU")
        args = ap.parse_args()
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        print(self.run(device, args.rows, args.batch, args.repeats, args.precision))
        return 0


BENCH = CostBench(__doc__, ROWS, measure, write_table, default_rows=lambda gpu: list(ROWS) if gpu else ["tiny", "real_small"])


if __name__ == "__main__":
    sys.exit(BENCH.cli())
