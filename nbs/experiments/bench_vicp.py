"""Benchmark: the cost of VICP: a training step, the prompt generation of one category, and inference with the
category's cached prompts against prompts generated anew for every batch (what the cache saves).

Rows (random weights where the row says so: cost does not depend on them):

- `tiny`: the tiny profile's model: mini-DINOv2 at 56x28 and the tiny world's LLaMA (`reid-nb pretrain --model dinov2`
  and `--model llava` write their weights), 16 support pairs of 8 Q-Former tokens;
- `paper`: DINOv2 ViT-S/14 at 224x224 and Qwen3-0.6B's architecture (the official code's LLM; random weights, its
  vocabulary's size), 64 support pairs of 32 Q-Former tokens (a context of 2,116 tokens).

    python nbs/experiments/bench_vicp.py --rows tiny                    # CPU: the tiny row, batch 8
    python nbs/experiments/bench_vicp.py --rows paper --batch 256        # one GPU, bf16: the paper's batch
Results: figures/bench_vicp_<cpu|gpu>.json and .md (rows measured earlier on the same kind of device are kept).
"""
from __future__ import annotations

import dataclasses
import sys

import torch
from transformers import Qwen3Config, Qwen3ForCausalLM

from bench_lvlm import CostBench, merge_rows
from bench_muva import timed
from reid_nb.config import get_paths, make_config
from reid_nb.methods.vicp import VICP, InContextPrompter
from reid_nb.models.llm import LanguageModel, Vocab, smollm2_tokenizer

ROWS = {
    "tiny": dict(preset="tiny", pretrained="tinyworld", llm="llama", llm_pretrained="tinyworld", height=56, width=28,
                 support_pairs=16, num_queries=8, qformer_dim=128, qformer_heads=4),
    "paper": dict(preset="paper", pretrained="", height=224, width=224, support_pairs=64),
}
QWEN3_0_6B = dict(hidden_size=1024, intermediate_size=3072, num_hidden_layers=28, num_attention_heads=16,
                  num_key_value_heads=8, head_dim=128, vocab_size=151936, tie_word_embeddings=True)


def build(name: str) -> VICP:
    "The row's VICP model; the paper row's LLM is Qwen3-0.6B's architecture with random weights (no download here)."
    row = ROWS[name]
    if name != "paper": return VICP(make_config("vicp", **row), num_classes=300)
    cfg = make_config("vicp", **row)
    model = VICP(dataclasses.replace(cfg, prompting=False), num_classes=300)
    llm = LanguageModel(Qwen3ForCausalLM(Qwen3Config(**QWEN3_0_6B)), Vocab(smollm2_tokenizer()))
    model.prompter = InContextPrompter(llm, model.vit.out_dim, len(model.vit.model.encoder.layer), cfg.num_prompts,
                                       cfg.num_queries, cfg.qformer_dim, cfg.qformer_layers, cfg.qformer_heads)
    model.cfg = cfg
    return model


def measure(name: str, batch: int, repeats: int, device: torch.device, precision: str) -> dict:
    "Training step, prompt generation and inference (cached prompts, and prompts per batch) of row `name`."
    torch.manual_seed(0)
    model = build(name).to(device)
    cfg = model.cfg
    images = torch.randn(batch, 3, cfg.height, cfg.width, device=device)
    pids = torch.arange(batch, device=device) // cfg.instances_per_id
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=cfg.lr)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    autocast = lambda: torch.autocast(device.type, dtype=dtype, enabled=dtype is not None)
    positives = (batch // cfg.instances_per_id) * cfg.instances_per_id * (cfg.instances_per_id - 1) // 2
    if positives < cfg.support_pairs // 2:
        raise SystemExit(f"a batch of {batch} has {positives} positive pairs; {cfg.support_pairs} context pairs need "
                         f"{cfg.support_pairs // 2}: raise --batch")
    support = torch.randn(2 * cfg.support_pairs, 3, cfg.height, cfg.width, device=device)
    same = (torch.arange(cfg.support_pairs, device=device) % 2 == 0).long()

    def step() -> None:
        with autocast():
            b = {"image": images, "pid": pids}
            loss = sum(model.loss(model(b), b).values())
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)

    def generate() -> torch.Tensor:
        k = cfg.support_pairs
        return model.generate(support[:k], support[k:2 * k], same)["prompts"]

    model.train()
    train_ms, train_mem = timed(step, device, repeats)
    model.eval()
    with torch.no_grad(), autocast():
        gen_ms, gen_mem = timed(generate, device, repeats)
        model.prompts = generate()
        cached_ms, infer_mem = timed(lambda: model.encode(images), device, repeats)

        def uncached():
            model.prompts = generate()
            return model.encode(images)
        uncached_ms, _ = timed(uncached, device, repeats)
    gib = lambda v: round(v, 2) if device.type == "cuda" else None
    return {"row": name, "input": f"{cfg.height}x{cfg.width}", "support_pairs": cfg.support_pairs,
            "context_tokens": cfg.support_pairs * (cfg.num_queries + 1) + cfg.num_prompts, "batch": batch,
            "precision": precision, "train_ms": round(train_ms, 1), "train_images_per_s": round(batch / train_ms * 1000, 2),
            "prompt_ms": round(gen_ms, 1), "infer_cached_ms": round(cached_ms, 1),
            "infer_uncached_ms": round(uncached_ms, 1), "infer_images_per_s": round(batch / cached_ms * 1000, 2),
            "train_peak_gib": gib(train_mem), "prompt_peak_gib": gib(gen_mem), "infer_peak_gib": gib(infer_mem),
            "trainable_M": round(sum(p.numel() for p in trainable) / 1e6, 2),
            "frozen_M": round(sum(p.numel() for p in model.parameters() if not p.requires_grad) / 1e6, 1)}


def write_table(rows: list[dict], device_name: str, tag: str) -> str:
    "Add `rows` to figures/bench_vicp_<tag>.json (replacing rows of the same name, batch and precision) and write the Markdown."
    merged = merge_rows(rows, device_name, f"bench_vicp_{tag}")
    gib = lambda v: "–" if v is None else f"{v:.1f}"
    md = [f"VICP's cost on {device_name} (tiny: the tiny world's weights; paper: random weights of the paper's "
          f"architecture; median over repeats after a warm-up). Training step = the batch's context pairs through the "
          f"Q-Former and the frozen LLM, the prompted DINOv2, triplet + ICL + OT, backward, AdamW. Prompt generation = one "
          f"category's support pairs into prompts, once per category with the cache; without it, once per batch:", "",
          "| row | input | K pairs (context tokens) | batch | precision | train ms / image | train images/s | "
          "prompts ms / category | infer ms / image, cached | infer ms / image, prompts per batch | "
          "peak GiB train / prompts / infer | trainable M | frozen M |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    md += [f"| {r['row']} | {r['input']} | {r['support_pairs']} ({r['context_tokens']}) | {r['batch']} | {r['precision']} | "
           f"{r['train_ms'] / r['batch']:.1f} | {r['train_images_per_s']:.1f} | {r['prompt_ms']:.0f} | "
           f"{r['infer_cached_ms'] / r['batch']:.2f} | {r['infer_uncached_ms'] / r['batch']:.2f} | "
           f"{gib(r['train_peak_gib'])} / {gib(r['prompt_peak_gib'])} / {gib(r['infer_peak_gib'])} | "
           f"{r['trainable_M']} | {r['frozen_M']} |" for r in merged]
    text = "\n".join(md) + "\n"
    (get_paths().figures / f"bench_vicp_{tag}.md").write_text(text)
    return text


# on a GPU the paper row (the tiny row needs the tiny world's weights, pretrained on a CPU)
BENCH = CostBench(__doc__, ROWS, measure, write_table, default_rows=lambda gpu: ["paper"] if gpu else ["tiny"],
                  gpu_batch=256, repeats=3)


if __name__ == "__main__":
    sys.exit(BENCH.cli())
