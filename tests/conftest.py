"""Shared fixtures: the repository root and a helper to run the installed `reid-nb` command."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def reid_nb_cmd() -> str:
    exe = shutil.which("reid-nb") or str(Path(sys.executable).with_name("reid-nb"))
    if not Path(exe).exists():
        pytest.fail("the reid-nb console script is not installed: run `pip install -e .[dev]` (or `make setup`)")
    return exe


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)
