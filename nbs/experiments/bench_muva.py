"""Benchmark: MUVA's Table 13, the cost of each training stage and of inference.

For MUVA, MUVA without AM-MSA (equal stripes, no Residual Mask Predictor), MUVA without language (no stage 1, no
text) and the CLIP-ReID baseline, built at a preset with random weights (cost does not depend on them) on a small
SynthPeds set at the preset's input size: the parameters that training updates and those the test feature uses
(counted through autograd, so shared and frozen ones are counted as they are used), the latency of one stage-1 step
(prompts over cached features), one stage-2 step (forward, losses, backward, optimiser) and one inference pass, each
on a batch of 64 as the paper's Table 13, and the peak GPU memory of each (on a GPU). Steps run the methods' own code
(`begin_stage`, `forward`, `loss`, `after_step`, `encode`); data loading is outside the timings.

    python nbs/experiments/bench_muva.py --preset tiny      # a CPU, about a minute
    python nbs/experiments/bench_muva.py --preset paper     # one GPU, bf16 (CLIP ViT-B/16, 256x128)
Results: figures/bench_muva_<preset>_<device>.json and .md.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from reid_nb.config import get_paths, make_config, write_json
from reid_nb.data.synthpeds import SynthPedsConfig, generate_synthpeds
from reid_nb.engine import RunContext, load_run, to_device
from reid_nb.optim import build_optimizer

ROWS = {"MUVA w/o AM-MSA": ("muva", dict(mask_mode="stripes")), "MUVA w/o language": ("muva", dict(language=False)),
        "MUVA": ("muva", {}), "CLIP-ReID": ("clipreid", {})}
PAPER = {"MUVA w/o AM-MSA": (126.2, 86.1, 58.9, 152.1, 22.1, 2.1, 4.6, 0.7),  # Table 13: params train / infer (M),
         "MUVA w/o language": (117.4, 115.9, None, 243.4, 71.1, None, 6.8, 0.9),  # latency S1 / S2 / infer (ms),
         "MUVA": (161.7, 115.9, 161.2, 247.2, 69.4, 7.2, 6.9, 0.9)}  # memory S1 / S2 / infer (GB); batch 64, RTX A6000


def sync(device: torch.device) -> None:
    if device.type == "cuda": torch.cuda.synchronize()


def timed(fn, device: torch.device, repeats: int) -> tuple[float, float]:
    "Median milliseconds of `fn()` after one warm-up call, and the peak GPU memory (GiB) while it ran (0 on a CPU)."
    fn()
    if device.type == "cuda": torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(repeats):
        sync(device); t = time.perf_counter(); fn(); sync(device)
        times.append((time.perf_counter() - t) * 1000)
    mem = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else 0.0
    return statistics.median(times), mem


def used_parameters(model: torch.nn.Module, loss_fn) -> set[int]:
    """Ids of the parameters that computing `loss_fn()` uses, frozen ones included: those its gradient reaches (every
    parameter made trainable for the count, then restored) and those of every module that runs (a detached path,
    such as MUVA's mask gating, takes no gradient but still runs)."""
    ran: list[torch.nn.Module] = []
    hooks = [m.register_forward_hook(lambda mod, i, o: ran.append(mod)) for m in model.modules()]
    flags = {id(p): p.requires_grad for p in model.parameters()}
    model.requires_grad_(True)
    try:
        loss_fn().backward()
    finally:
        for h in hooks: h.remove()
    used = {id(p) for p in model.parameters() if p.grad is not None}
    used |= {id(p) for m in ran for p in m.parameters(recurse=False)}
    model.zero_grad(set_to_none=True)
    for p in model.parameters(): p.requires_grad_(flags[id(p)])
    return used


def measure(name: str, method: str, switch: dict, common: dict, repeats: int) -> dict:
    cfg = make_config(method, **common, **switch)
    run = load_run(cfg=cfg)
    model, acc = run.model, run.accelerator
    ctx, device = RunContext(cfg, run.loaders, acc), acc.device
    size = {id(p): p.numel() for p in model.parameters()}
    gallery = to_device(next(iter(run.loaders.gallery)), device)
    images, camids = gallery["image"][:64], gallery["camid"][:64]
    with acc.autocast():
        infer_used = used_parameters(model, lambda: model.encode(images, camids).float().sum())
    row, train_used = {"method": name}, set()
    for stage in model.stages(cfg):
        model.begin_stage(stage, ctx)
        model.begin_epoch(stage, 0, ctx)
        model.train()
        opt = build_optimizer(model, stage.cfg, stage.lr_by_prefix, stage.own)
        own = model.stage_batches(stage, 0, ctx)
        batch = own[0] if own else to_device(next(iter(run.loaders.train)), device)

        def step() -> torch.Tensor:
            with acc.autocast():
                loss = sum(model.loss(model(batch), batch).values())
            loss.backward()
            opt.step()
            model.after_step(stage)
            return loss

        with acc.autocast():
            train_used |= used_parameters(model, lambda: sum(model.loss(model(batch), batch).values()))
        key = "S1" if stage.name == "prompts" else "S2"
        row[f"latency {key} ms"], row[f"memory {key} GiB"] = timed(lambda: (step(), opt.zero_grad(set_to_none=True)),
                                                                  device, repeats)
        row[f"batch {key}"] = len(batch["pid"])
    model.eval()
    with torch.no_grad(), acc.autocast():
        row["latency infer ms"], row["memory infer GiB"] = timed(lambda: model.encode(images, camids), device, repeats)
    row["params train M"] = round(sum(size[i] for i in train_used) / 1e6, 2)
    row["params infer M"] = round(sum(size[i] for i in infer_used) / 1e6, 2)
    return row


def write_table(preset: str = "tiny", repeats: int = 10, precision: str | None = None) -> str:
    "Measure every row at `preset`, write figures/bench_muva_<preset>_<cpu|gpu>.json and .md; the Markdown."
    paths = get_paths()
    h, w = (128, 64) if preset == "tiny" else (256, 128)
    data = generate_synthpeds(paths.data / f"synthpeds-bench-muva-{h}x{w}", SynthPedsConfig(num_ids=64, height=h, width=w),
                              progress=False)
    gpu = torch.cuda.is_available()
    common = dict(dataset="synthpeds", data_root=str(data), preset=preset, pretrained="", height=h, width=w,
                  ids_per_batch=16, instances_per_id=4, stage1_batch_size=64, eval_batch_size=64, num_workers=0,
                  precision=precision or ("bf16" if gpu else "fp32"), device="cuda" if gpu else "cpu")
    rows = [measure(name, method, switch, common, repeats) for name, (method, switch) in ROWS.items()]
    device = torch.cuda.get_device_name() if gpu else f"cpu ({torch.get_num_threads()} threads)"
    tag = f"{preset}_{'gpu' if gpu else 'cpu'}"
    write_json(paths.figures / f"bench_muva_{tag}.json",
               {"device": device, "preset": preset, "input": f"{h}x{w}", "precision": common["precision"],
                "torch": torch.__version__, "rows": rows, "paper": PAPER})
    fmt = lambda v: "–" if v is None else f"{v:.1f}"
    md = [f"MUVA Table 13 at the {preset} preset ({h}x{w}, random weights) on {device}, {common['precision']}: "
          f"latency per batch of 64 (median of {repeats}), stage 1 over cached features; parameters that the training "
          "stages / the test feature run, frozen ones and the token-embedding table included; memory is peak GPU "
          "memory (none on a CPU). Paper: RTX A6000, ViT-B/16, batch 64.", "",
          "| method | params train / infer (M) | latency S1 / S2 / infer (ms) | memory S1 / S2 / infer (GiB) | "
          "paper params | paper latency | paper memory |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        p = PAPER.get(r["method"])
        mem = " / ".join(fmt(r.get(f"memory {k} GiB")) if gpu and f"memory {k} GiB" in r else "–" for k in ("S1", "S2", "infer"))
        md.append(f"| {r['method']} | {r['params train M']:.2f} / {r['params infer M']:.2f} | "
                  f"{fmt(r.get('latency S1 ms'))} / {fmt(r.get('latency S2 ms'))} / {fmt(r['latency infer ms'])} | {mem} | "
                  + (f"{p[0]} / {p[1]} | {fmt(p[2])} / {p[3]} / {p[4]} | {fmt(p[5])} / {p[6]} / {p[7]} |" if p else "– | – | – |"))
    text = "\n".join(md) + "\n"
    (paths.figures / f"bench_muva_{tag}.md").write_text(text)
    return text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="tiny", choices=["tiny", "paper"])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--precision", default=None, help="default: bf16 on a GPU, fp32 on a CPU")
    args = ap.parse_args()
    print(write_table(args.preset, args.repeats, args.precision))
    return 0


if __name__ == "__main__":
    sys.exit(main())
