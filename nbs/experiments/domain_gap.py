"""Experiment: how far apart the tiny world's domains are. BoT (tiny preset) trained on each SynthPeds domain and
evaluated on every domain's query/gallery, over several seeds.

Each run is `reid-nb train` (checkpointed: re-running skips finished runs) followed by `reid-nb evaluate RUN
--target` on the other domains; two runs at a time, one compute thread each.

    python nbs/experiments/domain_gap.py              # 4 domains x 3 seeds: about 15 minutes on 2 cores
    python nbs/experiments/domain_gap.py --seeds 1
Results: figures/domain_gap.json, .md and .png (mean ± std of mAP and rank-1 over the seeds).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from reid_nb.config import get_paths, write_json
from reid_nb.data.synthpeds import config_for_name, generate_synthpeds
from reid_nb.sweep import TINY

DOMAINS = ["market", "duke", "msmt", "cuhk"]


def cli(*args: str) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    res = subprocess.run([str(Path(sys.executable).parent / "reid-nb"), *args], env=env, capture_output=True, text=True)
    if res.returncode:
        raise RuntimeError(f"reid-nb {' '.join(args)} failed:\n{res.stderr[-3000:]}")


def sets(d: dict) -> list[str]:
    out = []
    for k, v in d.items():
        out += ["--set", f"{k}={','.join(map(str, v)) if isinstance(v, tuple) else v}"]
    return out


def one_run(source: str, seed: int, roots: dict[str, Path], runs: Path) -> dict:
    "Train on `source` with `seed` (skipped when finished), evaluate on every domain; {target: metrics}."
    run = runs / f"{source}-seed{seed}"
    if not (run / "results.json").exists():
        cli("train", "--method", "bot", *sets({**TINY["all"], **TINY["bot"], "dataset": f"synthpeds_{source}",
                                               "data_root": roots[source], "seed": seed, "run_dir": run}))
    out = {}
    for target in DOMAINS:
        if target == source:
            out[target] = json.loads((run / "results.json").read_text())["metrics"]
            continue
        key = f"synthpeds_{target}:{roots[target]}"
        f = run / "targets_eval.json"
        if not (f.exists() and key in json.loads(f.read_text())):
            cli("evaluate", str(run), "--target", f"synthpeds_{target}", "--set", f"data_root={roots[target]}")
        out[target] = json.loads(f.read_text())[key]["metrics"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    paths = get_paths()
    roots = {d: generate_synthpeds(paths.data / f"synthpeds_{d}", config_for_name(f"synthpeds_{d}")) for d in DOMAINS}
    runs = paths.runs / "domain_gap"
    tasks = [(s, seed) for seed in range(args.seeds) for s in DOMAINS]
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda t: one_run(t[0], t[1], roots, runs), tasks))
    cells = {}
    for (s, seed), res in zip(tasks, results):
        for t, m in res.items(): cells.setdefault((s, t), []).append(m)
    table = {f"{s}->{t}": {k: [m[k] for m in ms] for k in ("mAP", "rank1")} for (s, t), ms in cells.items()}
    write_json(paths.figures / "domain_gap.json", {"seeds": args.seeds, "method": "bot", "profile": "tiny", "cells": table})
    fmt = lambda v: f"{statistics.mean(v):.1f} ± {statistics.stdev(v):.1f}" if len(v) > 1 else f"{v[0]:.1f}"
    lines = [f"### Domain gap: BoT (tiny preset) trained on one SynthPeds domain, mAP on each ({args.seeds} seeds, mean ± std)",
             "", "| trained on \\ tested on | " + " | ".join(DOMAINS) + " |", "|---" * (len(DOMAINS) + 1) + "|"]
    for s in DOMAINS:
        lines.append(f"| {s} | " + " | ".join(("**" + fmt(table[f'{s}->{t}']['mAP']) + "**") if s == t
                                               else fmt(table[f'{s}->{t}']['mAP']) for t in DOMAINS) + " |")
    lines += ["", "Bold: the source domain itself (its own test identities). Rank-1 is in domain_gap.json."]
    (paths.figures / "domain_gap.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
