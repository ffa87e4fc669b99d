"""Benchmark: real-size training speed and GPU memory of the CLIP baseline, CLIP-ReID and PromptSG (one GPU, bf16).

Trains each method at the paper's size (CLIP ViT-B/16, 256x128, batch 16x4, bf16) through the engine for a few
hundred steps on a SynthPeds set rendered at 256x128, and records steady-state training images/s (epochs after
the first) and peak GPU memory per method. Then measures PromptSG's Table 5 inference throughput of every
interaction-module variant relative to the bare visual encoder, in the same process. Then MUVA's Table 13 at the
paper preset (`bench_muva.py`: parameters, latency and memory of stage 1, stage 2 and inference at batch 64), and
LVLM-ReID's cost per image (`bench_lvlm.py`: the full model's training step, which trains the visual model through
the frozen LLM, and inference at batch 64 in bf16, for mini-Qwen2-VL, the real-small VLM and Qwen2-VL-2B with and
without gradient checkpointing; these rows also measure the LLM layer's frozen-LLM training path, which
`bench_llm.py` isolates), and MLLMReID's (`bench_mllmreid.py`: the three tasks' training step through the LoRA-adapted
LLM and inference, real-small and LLaVA-1.5-7B with and without gradient checkpointing), and VICP's (`bench_vicp.py`:
the training step at the paper's batch of 256, one category's prompt generation from 64 support pairs through
Qwen3-0.6B's architecture, and inference with cached prompts against prompts generated per batch), and the
evaluation and sparse k-reciprocal re-ranking on CUDA tensors (`bench_metrics.py --device cuda`, after a check that
the re-ranked distances on the GPU equal the CPU's). Weights are random where no machine here can download them
(`pretrained=''`): speed and memory do not depend on them.

    python nbs/experiments/bench_gpu.py                      # every table
    python nbs/experiments/bench_gpu.py --tables train promptsg --backbone RN50
    bash nbs/experiments/gpu_session.sh run                  # through the device tool: one table a step, see there
Results: figures/bench_gpu_<backbone>_<preset>.json and .md (the train and promptsg tables; a call keeps what an
earlier one on the same device measured), and each cost benchmark's own files.
"""
from __future__ import annotations

import argparse
import importlib
import json
import statistics
import subprocess
import sys
from pathlib import Path

import torch

from reid_nb.config import get_paths, make_config, write_json
from reid_nb.engine import build_model, train
from reid_nb.methods.promptsg import relative_flops, relative_throughput
from reid_nb.data.synthpeds import SynthPedsConfig, generate_synthpeds

METHODS = {"clip_baseline": {}, "clipreid": {"stage1_epochs": 1}, "promptsg": {}}
COST_BENCHES = {"lvlm_reid": "bench_lvlm", "mllmreid": "bench_mllmreid", "vicp": "bench_vicp"}
VARIANTS = {"no interaction": dict(use_interaction=False), "+1 cross": dict(num_self=0),
            "+1 cross +1 self": dict(num_self=1), "+1 cross +2 self": dict(num_self=2)}


def steady(history: list[dict], stage: str) -> dict[str, float]:
    "Median images/s over a stage's epochs after its first (which holds warm-up), and its peak memory."
    recs = [h for h in history if h["stage"] == stage]
    timed = recs[1:] or recs
    ips = statistics.median(h["images"] / h["train_s"] for h in timed)
    return {"epochs": len(recs), "steps": sum(h["images"] for h in recs) // 64, "images_per_s": round(ips, 1),
            "epoch_s": round(statistics.median(h["train_s"] for h in timed), 2),
            "peak_mem_gib": max((h.get("peak_mem_gib", 0.0) for h in recs), default=0.0)}


def rerank_on_cuda(nq: int = 600, ng: int = 3000) -> dict:
    "The sparse re-ranking on CUDA tensors against the same code on the CPU: largest difference and rows ranked alike."
    from bench_metrics import features
    from reid_nb.metrics import rerank_features
    qf, gf = features(dict(nq=nq, ng=ng, ids=150, cams=6))[:2]
    cpu, gpu = rerank_features(qf, gf), rerank_features(qf.cuda(), gf.cuda()).cpu()
    return {"max_abs_diff": float((cpu - gpu).abs().max()),
            "rows_ranked_alike": float((cpu.argsort(1) == gpu.argsort(1)).all(1).float().mean())}


TABLES = ["train", "promptsg", "muva", "lvlm_reid", "mllmreid", "vicp", "rerank"]


def train_methods(args, common: dict, out: dict) -> None:
    "Train each of `args.methods` for a few epochs; their steady speed and memory into `out['training']`."
    for method in args.methods:
        res = train(make_config(method, **common, **METHODS[method],
                                run_dir=str(get_paths().runs / f"bench-gpu-{method}-{args.backbone}-{args.preset}")))
        stages = dict.fromkeys(h["stage"] for h in res["history"])
        rec = {s: steady(res["history"], s) for s in stages}
        rec["learnable_parameters"] = res["parameters"]
        out["training"][method] = rec


def promptsg_inference(common: dict, precision: str, device: torch.device) -> dict:
    "PromptSG's Table 5: each interaction-module variant's throughput and FLOPs relative to the bare visual encoder."
    images = torch.randn(128, 3, common["height"], common["width"], device=device)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    res = {}
    for name, switch in VARIANTS.items():
        model = build_model(make_config("promptsg", **common, **switch), num_classes=500, num_cams=4).to(device)
        with torch.inference_mode(), torch.autocast(device.type, dtype=dtype, enabled=precision != "fp32"):
            measured = relative_throughput(model, images, repeats=20)
        res[name] = {k: round(v, 3) for k, v in {**measured, **relative_flops(model, images[:2])}.items()}
        del model
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backbone", default="ViT-B-16")
    ap.add_argument("--preset", default="paper", help="'tiny' checks the script on a CPU in seconds")
    ap.add_argument("--ids", type=int, default=1000, help="SynthPeds identities (half train)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--precision", default="bf16")
    ap.add_argument("--workers", type=int, default=12, help="decoding processes per loader")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS), help="the train table's methods")
    ap.add_argument("--tables", nargs="*", default=TABLES, choices=TABLES,
                    help="train: the methods' training speed and memory; promptsg: PromptSG's Table 5 inference; "
                         "MUVA's Table 13 at --preset: bench_muva.py; LVLM-ReID's rows: bench_lvlm.py; MLLMReID's: "
                         "bench_mllmreid.py; VICP's: bench_vicp.py; rerank: evaluation and sparse re-ranking on CUDA "
                         "tensors (bench_metrics.py --device cuda). The cost tables need a GPU")
    args = ap.parse_args()
    paths = get_paths()
    tiny = args.preset == "tiny"
    h, w = (64, 32) if tiny else (256, 128)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    name = f"bench_gpu_{args.backbone}_{args.preset}"
    out = {"device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
           "backbone": args.backbone, "preset": args.preset, "input": f"{h}x{w}", "precision": args.precision,
           "batch": "16x4", "torch": torch.__version__, "training": {}, "inference": {}}
    path = paths.figures / f"{name}.json"
    if path.is_file():  # keep what earlier calls on the same device measured and this one does not
        prev = json.loads(path.read_text())
        if (prev.get("device"), prev.get("precision")) == (out["device"], out["precision"]):
            out["training"], out["inference"] = prev.get("training", {}), prev.get("inference", {})
    common = dict(dataset="synthpeds", preset=args.preset, backbone=args.backbone, pretrained="", height=h, width=w,
                  epochs=args.epochs, warmup_epochs=1, eval_period=0, num_workers=args.workers,
                  precision=args.precision, resume=False)
    if "train" in args.tables:
        data = generate_synthpeds(paths.data / f"synthpeds-{args.ids}ids-{h}x{w}",
                                  SynthPedsConfig(num_ids=args.ids, height=h, width=w))
        train_methods(args, {**common, "data_root": str(data)}, out)
    if "promptsg" in args.tables: out["inference"] = promptsg_inference(common, args.precision, device)
    if device.type == "cuda" and "muva" in args.tables:
        from bench_muva import write_table
        print(write_table(args.preset, 10, args.precision))
    for table in ("lvlm_reid", "mllmreid", "vicp"):  # each cost benchmark's GPU rows, batch and repeats
        if device.type == "cuda" and table in args.tables:
            print(importlib.import_module(COST_BENCHES[table]).BENCH.run(device, precision=args.precision))
    if device.type == "cuda" and "rerank" in args.tables:
        check = rerank_on_cuda()
        print("sparse re-ranking, CUDA against CPU:", check)
        write_json(paths.figures / "bench_rerank_cuda_check.json", {"device": out["device"], **check})
        subprocess.run([sys.executable, str(Path(__file__).with_name("bench_metrics.py")), "--device", "cuda",
                        "--out", str(paths.figures / "bench_metrics_gpu")], check=True)
    if not ({"train", "promptsg"} & set(args.tables)): return 0
    write_json(path, out)
    md = [f"On {out['device']}, {args.backbone} ({args.preset}), {args.precision}:"]
    if out["training"]:
        md += ["", f"Training at {h}x{w}, batch 16x4:", "",
               "| method | stage | steps | images/s | s per epoch | peak GPU memory (GiB) |", "|---|---|---|---|---|---|"]
        md += [f"| {m} | {s} | {r['steps']} | {r['images_per_s']:.0f} | {r['epoch_s']:.1f} | {r['peak_mem_gib']:.1f} |"
               for m, rec in out["training"].items() for s, r in rec.items() if s != "learnable_parameters"]
    if out["inference"]:
        md += ["", "PromptSG inference throughput relative to the bare visual encoder (batch 128, same process):", "",
               "| interaction module | bare encoder img/s | simplified prompt | composed prompt | by FLOPs (simplified / composed) |",
               "|---|---|---|---|---|"]
        md += [f"| {n} | {r['bare encoder img/s']:.0f} | {r['simplified x']:.2f}x | {r['composed x']:.2f}x "
               f"| {r['simplified flops x']:.3f}x / {r['composed flops x']:.3f}x |" for n, r in out["inference"].items()]
    (paths.figures / f"{name}.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
