"""Benchmark: this project's evaluation and re-ranking against torchreid and fast-reid, side by side.

Builds the same synthetic identity-structured features at Market-1501 size (3,368 queries x 15,913
gallery, 750 test ids, 6 cameras) and MSMT17 size (11,659 x 82,161, 3,060 ids, 15 cameras), and times, on
one machine in one run:

- evaluation from the same float32 distance matrix: fast-reid's Cython `evaluate_cy` (compiled here from its
  sources; torchreid's is the same code, but its PyPI package ships no Cython source) and the NumPy
  `eval_market1501` of torchreid and fast-reid, against `reid_nb.metrics.evaluate_rank` (from the matrix)
  and `evaluate_features` (from the features, distances included in its time);
- k-reciprocal re-ranking (k1=20, k2=6, lambda=0.3): torchreid's and fast-reid's `re_ranking` and
  `reid_nb.metrics.k_reciprocal_rerank` (dense) from the same squared-Euclidean distance matrices (what torchreid's
  engine passes), at Market-1501 size only (they hold N x N matrices: 35 GB each at MSMT17 size); and
  `reid_nb.metrics.evaluate_reranked` (sparse, from the features, in bounded memory) at both sizes: its time includes
  the distances and the evaluation of the re-ranked chunks.

Every repeat of a (method, size) runs in a fresh process, the repeats interleaved across methods (so that a slower
spell of the machine does not fall on one method only); a row holds their median and the highest peak memory above
the inputs (resident set size). `--device cuda` runs this project's methods on the GPU (peak: allocated GPU
memory). Needs the dev install (torchreid, Cython) and network access to
PyPI for fast-reid's sources (`pip download --no-deps fastreid==1.4.0`, no install).

    python nbs/experiments/bench_metrics.py                 # everything (about 25 minutes on 2 cores)
    python nbs/experiments/bench_metrics.py --sizes market --tasks eval
Results: figures/bench_metrics.json and figures/bench_metrics.md.
"""
from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch

CACHE = Path(os.environ.get("REID_NB_CACHE", Path.home() / ".cache" / "reid_nb" / "peers"))
SIZES = {"market": dict(nq=3368, ng=15913, ids=750, cams=6), "msmt": dict(nq=11659, ng=82161, ids=3060, cams=15)}
EVAL_METHODS = ["reid_nb", "reid_nb_features", "fastreid_cython", "torchreid_numpy", "fastreid_numpy"]
RERANK_METHODS = ["reid_nb", "reid_nb_sparse", "torchreid", "fastreid"]
GPU_METHODS = ["reid_nb", "reid_nb_features", "reid_nb_sparse"]  # the peers are NumPy / Cython code


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024


def peak_mb() -> float:
    "Peak resident set size since the last `reset_peak()` (Linux VmHWM)."
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024


def reset_peak() -> None:
    "Reset the kernel's peak-RSS counter of this process, so that the inputs' construction is not counted."
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def features(size: str | dict, dim: int = 512, seed: int = 0):
    """Identity-structured features: per-id centres, per-camera shifts, per-image noise (same for every method), at a
    size of `SIZES` or one given as a dict of the same keys."""
    s = SIZES[size] if isinstance(size, str) else size
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(s["ids"], dim, generator=g)
    cam_shift = 0.6 * torch.randn(s["cams"], dim, generator=g)
    qp, gp = torch.randint(0, s["ids"], (s["nq"],), generator=g), torch.randint(0, s["ids"], (s["ng"],), generator=g)
    qc, gc_ = torch.randint(0, s["cams"], (s["nq"],), generator=g), torch.randint(0, s["cams"], (s["ng"],), generator=g)
    qf = centres[qp] + cam_shift[qc] + 1.2 * torch.randn(s["nq"], dim, generator=g)
    gf = centres[gp] + cam_shift[gc_] + 1.2 * torch.randn(s["ng"], dim, generator=g)
    return qf, gf, qp.numpy(), gp.numpy(), qc.numpy(), gc_.numpy()


def load_file(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def fastreid_sources() -> Path:
    "fast-reid's evaluation folder from its PyPI wheel (downloaded once, never installed)."
    dst = CACHE / "fastreid"
    if not (dst / "evaluation" / "rank.py").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(CACHE), "fastreid==1.4.0"], check=True)
        with zipfile.ZipFile(next(CACHE.glob("fastreid-1.4.0-*.whl"))) as z:
            for n in z.namelist():
                if n.startswith("fastreid/evaluation/"): z.extract(n, CACHE)
    return dst


def cython_module(pyx: Path, name: str):
    "Compile a peer's rank_cy.pyx once into the cache and import it."
    out = CACHE / "build" / name
    built = list(out.glob(f"{name}*.so"))
    if not built:
        from Cython.Build import cythonize
        from setuptools import Extension
        from setuptools.dist import Distribution
        out.mkdir(parents=True, exist_ok=True)
        src = out / f"{name}.pyx"
        src.write_text(pyx.read_text())
        ext = Extension(name, [str(src)], include_dirs=[np.get_include()])
        dist = Distribution({"ext_modules": cythonize([ext], quiet=True, language_level=3)})
        cmd = dist.get_command_obj("build_ext"); cmd.build_lib = str(out); cmd.build_temp = str(out / "tmp")
        cmd.ensure_finalized(); cmd.run()
        built = list(out.glob(f"{name}*.so"))
    return load_file(built[0], name)


def eval_fn(method: str):
    from reid_nb.metrics import load_reference_module
    warnings.simplefilter("ignore")
    if method == "torchreid_numpy":
        m = load_reference_module("torchreid", "reid/metrics/rank.py")
        return lambda d, qp, gp, qc, gc: m.eval_market1501(d, qp, gp, qc, gc, 50)[1]
    if method == "fastreid_numpy":
        m = load_file(fastreid_sources() / "evaluation" / "rank.py", "fastreid_rank")
        return lambda d, qp, gp, qc, gc: float(np.mean(m.eval_market1501(d, qp, gp, qc, gc, 50)[1]))
    if method == "fastreid_cython":
        m = cython_module(fastreid_sources() / "evaluation" / "rank_cylib" / "rank_cy.pyx", "fastreid_rank_cy")
        return lambda d, qp, gp, qc, gc: float(np.mean(m.evaluate_cy(d, qp, gp, qc, gc, 50, False)[1]))
    raise SystemExit(f"unknown evaluation method {method}")


def rerank_fn(method: str):
    from reid_nb.metrics import k_reciprocal_rerank, load_reference_module
    if method == "reid_nb":
        return k_reciprocal_rerank
    if method == "torchreid":
        return load_reference_module("torchreid", "reid/utils/rerank.py").re_ranking
    if method == "fastreid":
        return load_file(fastreid_sources() / "evaluation" / "rerank.py", "fastreid_rerank").re_ranking
    raise SystemExit(f"unknown re-ranking method {method}")


def worker(task: str, method: str, size: str, repeats: int, device: str = "cpu") -> dict:
    "Run one (task, method, size) in this process; report median seconds and peak memory above the inputs."
    from reid_nb.metrics import evaluate_features, evaluate_rank, evaluate_reranked, pairwise_distance
    qf, gf, qp, gp, qc, gc_ = features(size)
    cuda = device != "cpu"
    if cuda:  # this project's methods only: the peers are CPU code
        if method not in GPU_METHODS: raise SystemExit(f"{method} runs on the CPU only; on {device}: {', '.join(GPU_METHODS)}")
        qf, gf = qf.to(device), gf.to(device)
    threads = None if cuda else 2  # NumPy's sorts on the CPU, torch's on the GPU
    if task == "eval":
        d = pairwise_distance(qf, gf)
        if method == "reid_nb": fn, args = lambda: evaluate_rank(d, qp, gp, qc, gc_, threads=threads).mAP, ()
        elif method == "reid_nb_features": fn, args = lambda: evaluate_features(qf, gf, qp, gp, qc, gc_, threads=threads).mAP, ()
        else: fn, args = eval_fn(method), (d.numpy(), qp, gp, qc, gc_)
    elif method == "reid_nb_sparse":  # from the features: re-ranking and evaluation, chunk by chunk
        fn, args = lambda: evaluate_reranked(qf, gf, qp, gp, qc, gc_, threads=threads).mAP, ()
    else:
        if size != "market": raise SystemExit("dense re-ranking needs N x N matrices: Market-1501 size only")
        qg, qq, gg = (pairwise_distance(a, b) for a, b in ((qf, gf), (qf, qf), (gf, gf)))
        fn, args = rerank_fn(method), ((qg, qq, gg) if method == "reid_nb" else (qg.numpy(), qq.numpy(), gg.numpy()))
    gc.collect()
    if cuda: torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
    else: reset_peak()
    base = torch.cuda.memory_allocated() / 2**20 if cuda else rss_mb()
    times, value = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        value = fn(*args)
        if cuda: torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else peak_mb()
    if task == "rerank" and method != "reid_nb_sparse":
        value = float(evaluate_rank(value, qp, gp, qc, gc_).mAP)
    return {"task": task, "method": method, "size": size, "device": device, "median_s": float(np.median(times)),
            "repeats": repeats, "peak_above_inputs_mb": max(0.0, peak - base), "mAP": float(value)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="market,msmt")
    ap.add_argument("--tasks", default="eval,rerank")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip", default="", help="comma-separated methods not to run")
    ap.add_argument("--device", default="cpu", help=f"'cuda': this project's methods ({', '.join(GPU_METHODS)}) on the GPU")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "figures" / "bench_metrics"))
    ap.add_argument("--worker", nargs=3, metavar=("TASK", "METHOD", "SIZE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker, args.repeats, args.device)))
        return
    rows, skip = [], set(args.skip.split(",")) if args.skip else set()
    if args.device != "cpu": skip |= {m for m in EVAL_METHODS + RERANK_METHODS if m not in GPU_METHODS}
    for task in args.tasks.split(","):
        for size in args.sizes.split(","):
            plan = {}  # method -> repeats: every method in its own process, the repeats interleaved across methods
            for method in (EVAL_METHODS if task == "eval" else RERANK_METHODS):
                if method in skip or (size == "msmt" and method.endswith("_numpy")): continue  # hours-long loops
                if task == "rerank" and size != "market" and method != "reid_nb_sparse": continue  # N x N matrices
                plan[method] = 1 if (task == "rerank" and not method.startswith("reid_nb")) or size == "msmt" else args.repeats
            runs: dict[str, list[dict]] = {m: [] for m in plan}
            for rep in range(max(plan.values(), default=0)):
                for method in [m for m, n in plan.items() if n > rep]:
                    res = subprocess.run([sys.executable, __file__, "--worker", task, method, size, "--repeats", "1",
                                          "--device", args.device], capture_output=True, text=True)
                    if res.returncode != 0:
                        print(f"{task} {method} {size} failed:\n{res.stderr[-2000:]}", file=sys.stderr)
                        plan[method] = 0
                        continue
                    runs[method].append(json.loads(res.stdout.strip().splitlines()[-1]))
            for method, rs in runs.items():
                if not rs: continue
                row = {**rs[0], "median_s": float(np.median([r["median_s"] for r in rs])), "repeats": len(rs),
                       "peak_above_inputs_mb": max(r["peak_above_inputs_mb"] for r in rs)}
                rows.append(row)
                print(f"{task:7s} {size:7s} {method:18s} {row['median_s']:8.2f} s  peak +{row['peak_above_inputs_mb']:7.0f} MB  mAP {row['mAP']:.6f}", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = merge_rows(out.with_suffix(".json"), rows)
    meta = {"cpu_count": os.cpu_count(), "torch": torch.__version__, "numpy": np.__version__, "rows": rows}
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2))
    write_table(rows, out.with_suffix(".md"))


def merge_rows(path: Path, rows: list[dict]) -> list[dict]:
    """The earlier results at `path` (if any) with `rows` added (replacing earlier rows of the same task, size, method
    and device), in the table's order."""
    key = lambda r: (r["task"], r["size"], r["method"], r.get("device", "cpu"))
    old = json.loads(path.read_text())["rows"] if path.is_file() else []
    new = {key(r) for r in rows}
    methods = {"eval": EVAL_METHODS, "rerank": RERANK_METHODS}
    rank = lambda r: (r["task"] != "eval", r.get("device", "cpu"), r["size"] != "market", methods[r["task"]].index(r["method"]))
    return sorted([r for r in old if key(r) not in new] + rows, key=rank)


def write_table(rows: list[dict], path: Path) -> None:
    """The results as a Markdown table, each time relative to this project's default for the same task, size and device
    (evaluation: `reid_nb` from the matrix; re-ranking: `reid_nb_sparse`, which is what `evaluate_reranked` runs)."""
    ref = {"eval": "reid_nb", "rerank": "reid_nb_sparse"}
    lines = ["| task | size | device | method | median s | peak MB above inputs | mAP | time relative to ours |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        dev = r.get("device", "cpu")
        ours = next((x for x in rows if (x["task"], x["size"], x.get("device", "cpu"), x["method"]) == (r["task"], r["size"], dev, ref[r["task"]])), None)
        rel = f"{r['median_s'] / ours['median_s']:.1f}x" if ours else "–"
        lines.append(f"| {r['task']} | {r['size']} | {dev} | {r['method']} | {r['median_s']:.2f} | {r['peak_above_inputs_mb']:.0f} | "
                     f"{100 * r['mAP']:.4f} | {rel} |")
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
