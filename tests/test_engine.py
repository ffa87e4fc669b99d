"""The engine from the shell: `reid-nb train` / `evaluate`, a run killed with SIGKILL and resumed, and a
two-process `accelerate launch` (DDP over gloo on the CPU)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reid_nb.data.synthpeds import SynthPedsConfig, generate_synthpeds

from conftest import run


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    return generate_synthpeds(tmp_path_factory.mktemp("data") / "synthpeds", SynthPedsConfig(num_ids=40, num_cams=3),
                              workers=1, progress=False)


def _sets(synth: Path, run_dir: Path, **extra) -> list[str]:
    keys = dict(data_root=synth, preset="tiny", pretrained="", height=64, width=32, ids_per_batch=4, instances_per_id=4,
                num_workers=2, epochs=4, warmup_epochs=1, lr=1e-3, lr_steps=3, eval_period=0, device="cpu",
                run_dir=run_dir)
    keys.update(extra)
    return [a for k, v in keys.items() for a in ("--set", f"{k}={v}")]


def _checkpoint_epoch(run_dir: Path) -> int:
    from reid_nb.checkpoint import CheckpointError, load_checkpoint
    try:
        return load_checkpoint(run_dir / "checkpoints" / "last.safetensors")["epoch"]
    except CheckpointError:
        return 0


def test_train_evaluate_and_killed_run_resumes_exactly(reid_nb_cmd, synth, tmp_path):
    full = tmp_path / "full"
    res = run([reid_nb_cmd, "train", "--method", "bot", *_sets(synth, full)])
    assert res.returncode == 0, res.stderr[-3000:]
    assert f"results: {full / 'results.json'}" in res.stdout
    record = json.loads((full / "results.json").read_text())
    assert record["finished"] and len(record["history"]) == 4 and record["config"]["num_workers"] == 2
    assert {"train_s", "eval_s", "images_per_s"} <= set(record["timings"]) and record["parameters"]["trainable"] > 0

    # evaluate the saved run: the same metrics as the training run's final evaluation
    res = run([reid_nb_cmd, "evaluate", str(full)])
    assert res.returncode == 0, res.stderr[-3000:]
    saved = json.loads((full / "eval.json").read_text())["metrics"]
    assert abs(saved["mAP"] - record["metrics"]["mAP"]) < 1e-6
    assert f"mAP {record['metrics']['mAP']:.2f}" in res.stdout

    # ... and on other datasets' query/gallery: a second SynthPeds folder with no training split, and the real
    # CUHK03 camera-pair-1 images beside the project (Market-1501 layout)
    other = generate_synthpeds(tmp_path / "other" / "synthpeds", SynthPedsConfig(num_ids=20, num_cams=4, seed=3),
                               workers=1, progress=False)
    shutil.rmtree(other / "bounding_box_train")
    res = run([reid_nb_cmd, "evaluate", str(full), "--target", "synthpeds", "--set", f"data_root={other}"])
    assert res.returncode == 0, res.stderr[-3000:]
    targets = json.loads((full / "targets_eval.json").read_text())
    assert list(targets) == [f"synthpeds:{other}"] and targets[f"synthpeds:{other}"]["dataset"] == "synthpeds"
    assert json.loads((full / "eval.json").read_text())["metrics"] == saved  # the in-domain result stays
    from reid_nb.data.formats import shared_data_dir
    real = shared_data_dir("cuhk03_pair1")
    if real:
        res = run([reid_nb_cmd, "evaluate", str(full), "--target", "folder", "--set", f"data_root={real}"])
        assert res.returncode == 0, res.stderr[-3000:]
        assert len(json.loads((full / "targets_eval.json").read_text())) == 2
    res = run([reid_nb_cmd, "evaluate", str(full), "--target", "market1501", "--set", f"data_root={tmp_path}"])
    assert res.returncode == 2 and "not found" in res.stderr and "Traceback" not in res.stderr

    # the same run killed with SIGKILL after its first checkpoint, then started again with the same command
    killed = tmp_path / "killed"
    cmd = [reid_nb_cmd, "train", "--method", "bot", *_sets(synth, killed)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while _checkpoint_epoch(killed) < 1:
        assert proc.poll() is None and time.time() < deadline, "the run ended before its first checkpoint"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "results.json").exists()
    res = run(cmd)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "resuming" in res.stdout
    resumed = json.loads((killed / "results.json").read_text())
    assert resumed["metrics"] == record["metrics"]
    assert [h["loss"] for h in resumed["history"]] == [h["loss"] for h in record["history"]]


def test_train_errors_are_one_line(reid_nb_cmd, synth, tmp_path):
    res = run([reid_nb_cmd, "train", *_sets(synth, tmp_path / "r", backbone="vgg")])
    assert res.returncode == 2 and "backbone 'vgg' unknown" in res.stderr and "Traceback" not in res.stderr
    res = run([reid_nb_cmd, "train", *_sets(synth, tmp_path / "r2", pretrained="imagenet", preset="paper")])
    assert res.returncode == 2 and "reid-nb weights fetch resnet50-imagenet" in res.stderr and "Traceback" not in res.stderr
    res = run([reid_nb_cmd, "evaluate", str(tmp_path / "nothing")])
    assert res.returncode == 2 and "not a run folder" in res.stderr


def test_two_processes_ddp(reid_nb_cmd, synth, tmp_path):
    """Two processes started by torchrun (what `accelerate launch` does on GPUs): accelerate sets up DDP (gloo on the
    CPU), each process trains on its own share of the PK batches, the main one evaluates and writes the record."""
    torchrun = shutil.which("torchrun") or str(Path(sys.executable).with_name("torchrun"))
    run_dir = tmp_path / "ddp"
    res = run([torchrun, "--nproc_per_node", "2", "--master_port", "29517", reid_nb_cmd, "train", "--method", "bot",
               *_sets(synth, run_dir, epochs=2, num_workers=0)], timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    record = json.loads((run_dir / "results.json").read_text())
    assert record["num_processes"] == 2 and record["finished"] and "mAP" in record["metrics"]
    single = run([reid_nb_cmd, "train", "--method", "bot", *_sets(synth, tmp_path / "one", epochs=2, num_workers=0)])
    assert single.returncode == 0, single.stderr[-3000:]
    one = json.loads((tmp_path / "one" / "results.json").read_text())
    # each process sees half of the batches of an epoch
    assert record["history"][0]["images"] == one["history"][0]["images"] // 2
