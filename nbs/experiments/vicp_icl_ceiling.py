"""Measurement: how far can VICP's frozen LLM be steered towards a label word at all?

VICP's ICL loss is the frozen LLM's cross-entropy on the label words ("yes" / "no") after each in-context pair. At
the tiny profile it stalls near 3.1. This script asks what the frozen LLM allows: it optimises free input embeddings
(anything a Q-Former could output, with no limit on their norm) so that the LLM's next token is one label word, and
reports the highest probability reached, the label words' embedding norms against the vocabulary's, and the lowest
ICL loss those probabilities permit (a perfect reader of the pairs, half of them labelled each word). It needs the tiny world's LLM (`reid-nb pretrain`), or a paper-scale LLM folder.

    python nbs/experiments/vicp_icl_ceiling.py                       # the tiny world's LLM (1-2 minutes on 2 cores)
    python nbs/experiments/vicp_icl_ceiling.py --family qwen3 --preset paper --pretrained /path/to/Qwen3-0.6B
Results: figures/vicp_icl_ceiling_<family>_<preset>.json.
"""
from __future__ import annotations

import argparse
import math

import torch

from reid_nb.config import get_paths, write_json
from reid_nb.methods.vicp import LABEL_WORDS
from reid_nb.models.llm import build_llm


def steer(model: torch.nn.Module, target: int, tokens: int, steps: int, lr: float, seed: int = 0) -> float:
    "The highest probability of token `target` next, over `tokens` free input embeddings optimised with Adam."
    g = torch.Generator().manual_seed(seed)
    dim = model.get_input_embeddings().weight.shape[1]
    x = (0.03 * torch.randn(1, tokens, dim, generator=g)).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    best = 0.0
    for _ in range(steps):
        logp = model(inputs_embeds=x).logits[0, -1].float().log_softmax(-1)[target]
        best = max(best, float(logp.detach().exp()))
        opt.zero_grad(); (-logp).backward(); opt.step()
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", default="llama")
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--pretrained", default="tinyworld")
    ap.add_argument("--tokens", type=int, default=33, help="free input tokens (a pair's 32 Q-Former tokens and one more)")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--lr", type=float, default=3e-2)
    args = ap.parse_args()
    lm = build_llm(args.family, args.preset, args.pretrained)
    model = lm.model.eval()
    for p in model.parameters(): p.requires_grad_(False)
    emb = model.get_input_embeddings().weight.detach()
    ids = [lm.vocab.id(w) for w in LABEL_WORDS]
    best = {w: steer(model, i, args.tokens, args.steps, args.lr) for w, i in zip(LABEL_WORDS, ids)}
    out = {"llm": f"{args.family} ({args.preset}, {args.pretrained or 'random'})", "vocabulary": int(emb.shape[0]),
           "highest probability of the word next": {w: round(p, 4) for w, p in best.items()},
           "lowest ICL loss those permit (half the labels each word)": round(sum(-math.log(p) for p in best.values()) / 2, 3),
           "embedding norm of the word": {w: round(float(emb[i].norm()), 3) for w, i in zip(LABEL_WORDS, ids)},
           "mean embedding norm of the vocabulary": round(float(emb.norm(dim=1).mean()), 3),
           "steps": args.steps, "lr": args.lr, "free tokens": args.tokens}
    write_json(get_paths().figures / f"vicp_icl_ceiling_{args.family}_{args.preset}.json", out)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
