"""The installed `reid-nb` command: validated configs, one-line errors, sweeps through papermill."""
import json
import os
import shutil

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


def test_sweep_runs_papermill_reports_failures_and_skips_finished(reid_nb_cmd, root, tmp_path):
    home = tmp_path / "home"  # a project folder of its own: runs, figures and data land there
    (home / "nbs" / "experiments").mkdir(parents=True)
    shutil.copy(root / "nbs" / "experiments" / "run.ipynb", home / "nbs" / "experiments")
    env = {**os.environ, "REID_NB_HOME": str(home)}
    sp = home / "data" / "sp"
    assert run([reid_nb_cmd, "generate-synth", "--ids", "16", "--cams", "2", "--out", str(sp), "--workers", "1"],
               env=env).returncode == 0
    spec = tmp_path / "cli_sweep.yaml"
    spec.write_text("name: cli_sweep\ntitle: CLI sweep\nmethod: bot\nruns:\n  hard: {}\n"
                    "  soft: {triplet_margin: 0.0}\n  broken: {backbone: nope}\npaper:\n  hard: {mAP: 85.9}\n")
    cmd = [reid_nb_cmd, "sweep", str(spec), "--profile", "tiny", "--set", f"data_root={sp}", "--set", "epochs=1",
           "--set", "height=64", "--set", "width=32", "--set", "lr_steps=1", "--set", "warmup_epochs=1",
           "--seeds", "1"]  # the tiny profile's default is 3
    res = run(cmd, env=env)
    assert res.returncode == 1, res.stderr  # one run failed, the others finished
    assert "failed: broken" in res.stderr and "cell [" in res.stderr and "backbone 'nope' unknown" in res.stderr
    assert "Traceback" not in res.stderr
    table = (home / "figures" / "cli_sweep.md").read_text()
    assert all(f"| {r} " in table for r in ("hard", "soft", "broken")) and "85.90" in table
    assert (home / "figures" / "cli_sweep.csv").is_file() and (home / "figures" / "cli_sweep.png").is_file()
    assert len(list((home / "runs" / "sweeps").glob("bot-*/run.ipynb"))) == 3  # the executed notebooks
    again = run(cmd, env=env)
    assert again.returncode == 1 and again.stdout.count("skipped") == 2, again.stdout

    # two seeds per variant: seed 0 is the run already made (the config's default seed), seed 1 a new one
    seeded = run(cmd + ["--seeds", "2"], env=env)  # the last --seeds wins
    assert seeded.returncode == 1, seeded.stderr
    assert "failed: broken" in seeded.stderr and seeded.stderr.count("failed: broken") == 2
    table = (home / "figures" / "cli_sweep.md").read_text()
    assert " ± " in table and "mean ± sample standard deviation" in table
    assert len(list((home / "runs" / "sweeps").glob("bot-*/run.ipynb"))) == 6  # + seed 1 of each variant


def test_pretrain_caches_weights_the_tiny_preset_loads(reid_nb_cmd, tmp_path):
    "`reid-nb pretrain` writes the corpus, the weights with their probes and the table; a second call reuses them."
    import os
    from reid_nb.models.clip import build_clip
    env = {**os.environ, "REID_NB_HOME": str(tmp_path), "OMP_NUM_THREADS": "2"}
    res = run([reid_nb_cmd, "pretrain", "--steps", "3"], env=env)
    assert res.returncode == 0, res.stderr
    weights = tmp_path / "data" / "tinyworld" / "ViT-B-16.safetensors"
    assert weights.is_file() and "R@1" in res.stdout and "| pedestrian | top |" in res.stdout
    assert (tmp_path / "figures" / "tinyworld_mini_clip.md").read_text().startswith("### mini-CLIP")
    assert (tmp_path / "figures" / "tinyworld_mini_dinov2.md").read_text().startswith("### mini-DINOv2")
    assert (tmp_path / "data" / "tinyworld" / "dinov2.safetensors").is_file() and "| random |" in res.stdout
    for family, title in (("qwen2_vl", "mini-Qwen2-VL"), ("llava", "mini-LLaVA")):  # the captioners, after mini-CLIP
        assert (tmp_path / "data" / "tinyworld" / f"{family}.safetensors").is_file()
        assert (tmp_path / "figures" / f"tinyworld_mini_{family}.md").read_text().startswith(f"### {title}")
    assert "| top |" in res.stdout and "| true caption | generated caption |" in res.stdout
    mtime = weights.stat().st_mtime_ns
    res = run([reid_nb_cmd, "pretrain", "--steps", "3"], env=env)
    assert res.returncode == 0 and weights.stat().st_mtime_ns == mtime and "pretraining mini-" not in res.stderr
    os.environ["REID_NB_HOME"] = str(tmp_path)
    try:
        m = build_clip("ViT-B-16", "tiny", "tinyworld", 128, 64)
    finally:
        del os.environ["REID_NB_HOME"]
    assert m.visual.positional_embedding.shape[0] == 1 + 8 * 4
