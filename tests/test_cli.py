"""The installed `reid-nb` command: validated configs, one-line errors, placeholders that say so."""
import json
import os

from conftest import run


def test_config_prints_validated_json(reid_nb_cmd):
    res = run([reid_nb_cmd, "config", "--set", "epochs=3", "--set", "lr_steps=1,2"])
    assert res.returncode == 0, res.stderr
    cfg = json.loads(res.stdout)
    assert cfg["epochs"] == 3 and cfg["lr_steps"] == [1, 2] and cfg["method"] == "bot"


def test_unknown_key_is_one_line_error(reid_nb_cmd):
    res = run([reid_nb_cmd, "config", "--set", "lamda=0.5"])
    assert res.returncode == 2
    assert "unknown config key 'lamda'" in res.stderr and "Valid keys:" in res.stderr
    assert "Traceback" not in res.stderr


def test_config_file(tmp_path, reid_nb_cmd):
    f = tmp_path / "run.yaml"
    f.write_text("method: bot\nepochs: 5\nrerank: true\n")
    res = run([reid_nb_cmd, "config", "--config", str(f), "--set", "seed=7"])
    cfg = json.loads(res.stdout)
    assert (cfg["epochs"], cfg["rerank"], cfg["seed"]) == (5, True, 7)
    f.write_text("epochs: [1\n")
    res = run([reid_nb_cmd, "config", "--config", str(f)])
    assert res.returncode == 2 and str(f) in res.stderr and "Traceback" not in res.stderr


def test_unknown_method_and_missing_file(reid_nb_cmd):
    res = run([reid_nb_cmd, "config", "--method", "nosuch"])
    assert res.returncode == 2 and "registered methods" in res.stderr
    res = run([reid_nb_cmd, "config", "--config", "/no/such/file.json"])
    assert res.returncode == 2 and "/no/such/file.json" in res.stderr


def test_demo_runs_and_says_where(reid_nb_cmd, root, tmp_path):
    res = run([reid_nb_cmd, "demo"], cwd=root, env={**os.environ, "REID_NB_HOME": str(tmp_path)})
    assert res.returncode == 0, res.stderr
    assert "device cpu" in res.stdout or "device cuda" in res.stdout
    assert f"SynthPeds is in {tmp_path / 'data' / 'synthpeds'}" in res.stdout
    assert str(tmp_path / "figures") in res.stdout
    assert (tmp_path / "data" / "synthpeds" / "bounding_box_train").is_dir()
