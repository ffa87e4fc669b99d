#!/usr/bin/env bash
# One device session's prepared script: bench_gpu.py's tables one step at a time, each under its own time limit and
# all under one deadline, with the figures they wrote packed into $OUT after every step (a step that runs out of time
# loses only itself).
#
# Here, once (needs PyPI; writes .gpu/, which git ignores; 19 MB that travel beside the tree, 64 MiB in all):
#     bash nbs/experiments/gpu_session.sh fetch
#   .gpu/wheels: what the device image lacks, for its Python 3.12 (open_clip, gguf, transformers at our pin);
#   .gpu/weights: SmolLM2's tokenizer (3 MB), the vocabulary of the random-weight rows.
# There, through the device tool (budget: 15 minutes a task, machine start included):
#     run(command="bash nbs/experiments/gpu_session.sh run", carry=[".gpu"], timeout_s=600)
#     run(command="bash nbs/experiments/gpu_session.sh run mllmreid train", carry=[".gpu"], timeout_s=600)
#   Steps, in the default order (the open issues' first): rerank lvlm_reid muva vicp mllmreid promptsg train.
# Back: $OUT/figures.tgz (every figures/ file the steps wrote) and $OUT/log. Unpack it into the checkout
# (tar xzf figures.tgz) and commit the figures. Not measured there: the real_small rows, whose weights (SmolLM2's
# 94 MB GGUF, EfficientNet-Lite0's 17 MB package) do not fit beside the tree; the log says so.
set -uo pipefail
cd "$(dirname "$0")/../.."
WHEELS="open_clip_torch==3.3.0 ftfy==6.3.1 wcwidth==0.9.4 gguf==0.19.0 transformers==5.24.0"
declare -A LIMIT=([rerank]=120 [lvlm_reid]=200 [muva]=120 [vicp]=120 [mllmreid]=300 [promptsg]=90 [train]=400)
DEADLINE_S=${DEADLINE_S:-560}  # seconds from the start for the whole run (the call's limit is 600)
# BENCH_ARGS: more arguments for every bench_gpu.py call ("--preset tiny" checks the script here, on a CPU)

fetch() {
  mkdir -p .gpu/wheels .gpu/weights
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .gpu/wheels $WHEELS || exit 1
  python3 -c "from reid_nb.models.llm import smollm2_tokenizer as t; t('.gpu/weights/smollm2-135m-instruct-tokenizer')" || exit 1
  du -sh .gpu
}

run() {
  local start=$SECONDS out=${OUT:-/tmp/gpu_session_out} marker
  mkdir -p "$out"
  marker=$(mktemp)
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    .gpu/wheels/*.whl || { echo "no wheels in .gpu/wheels: run 'bash $0 fetch' here and carry .gpu"; exit 1; }
  export PYTHONPATH="/tmp/site:$PWD" REID_NB_WEIGHTS="$PWD/.gpu/weights" PYTHONUNBUFFERED=1
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
  for step in ${*:-rerank lvlm_reid muva vicp mllmreid promptsg train}; do
    local left=$((DEADLINE_S - (SECONDS - start)))
    [[ -n "${LIMIT[$step]:-}" ]] || { echo "== $step: unknown step (one of ${!LIMIT[*]})"; continue; }
    if ((left < 30)); then echo "== $step: not run, ${left}s left before the deadline"; continue; fi
    echo "== $step: start $(date +%T), limit $((left < LIMIT[$step] ? left : LIMIT[$step]))s"
    timeout "$((left < LIMIT[$step] ? left : LIMIT[$step]))" python3 nbs/experiments/bench_gpu.py --tables "$step" ${BENCH_ARGS:-}
    echo "== $step: exit $? after $((SECONDS - start))s"
    find figures -type f -newer "$marker" -print0 | tar czf "$out/figures.tgz" --null -T -
  done
}

case "${1:-}" in
  fetch) fetch ;;
  run) shift; mkdir -p "${OUT:-/tmp/gpu_session_out}"; run "$@" 2>&1 | tee "${OUT:-/tmp/gpu_session_out}/log" ;;
  *) echo "usage: bash $0 fetch | run [STEP ...]"; exit 2 ;;
esac
