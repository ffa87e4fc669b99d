"""Data layer end to end: `reid-nb generate-synth` output read back by the Market-1501 loader; real images."""
import json

import pytest

from reid_nb.config import make_config
from reid_nb.data.formats import load_dataset, shared_data_dir
from reid_nb.data.sampling import make_loaders

from conftest import run


def test_generate_synth_reads_back_with_same_counts(reid_nb_cmd, tmp_path):
    out = tmp_path / "synthpeds"
    res = run([reid_nb_cmd, "generate-synth", "--ids", "20", "--cams", "3", "--out", str(out), "--seed", "3"])
    assert res.returncode == 0, res.stderr
    assert "synthpeds 20 ids x 3 cams" in res.stderr  # the progress bar
    meta = json.loads((out / "meta.json").read_text())
    ds = load_dataset("folder", out)  # the plain Market-1501 reader, no SynthPeds special-casing
    assert len(ds.train) == meta["counts"]["bounding_box_train"]
    assert len(ds.query) == meta["counts"]["query"]
    assert len(ds.gallery) == meta["counts"]["bounding_box_test"]
    assert ds.num_train_pids == 10 and ds.num_cams == 3
    assert ds.stats().loc["query", "ids"] == 10
    # a second call with the same settings reuses the folder; another seed is refused nowhere but rewrites it
    res = run([reid_nb_cmd, "generate-synth", "--ids", "20", "--cams", "3", "--out", str(out), "--seed", "3"])
    assert res.returncode == 0 and "synthpeds 20 ids" not in res.stderr


def test_generate_synth_refuses_foreign_folder(reid_nb_cmd, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("x")
    res = run([reid_nb_cmd, "generate-synth", "--out", str(tmp_path / "mine")])
    assert res.returncode == 2 and "not a SynthPeds folder" in res.stderr and "Traceback" not in res.stderr
    assert (tmp_path / "mine" / "thesis.tex").exists()


def test_real_cuhk03_pair1_loads_and_batches():
    root = shared_data_dir("cuhk03_pair1")
    if root is None:
        pytest.skip("../shared/data/cuhk03_pair1 is not present on this machine")
    ds = load_dataset("folder", root)
    assert ds.stats().loc["train"].tolist() == [743, 7239, 2]
    assert ds.stats().loc["query"].tolist() == [100, 200, 2]
    assert ds.stats().loc["gallery"].tolist() == [100, 738, 2]
    cfg = make_config(height=64, width=32, num_workers=0, ids_per_batch=8, instances_per_id=4)
    b = next(iter(make_loaders(ds, cfg).train))
    assert b["image"].shape == (32, 3, 64, 32) and len(set(b["pid"].tolist())) == 8


def test_domain_and_category_datasets_load_by_name(reid_nb_cmd, tmp_path):
    for name, cams, category in [("synthpeds_cuhk", 2, "pedestrian"), ("synthpeds_vehicle", 4, "vehicle")]:
        res = run([reid_nb_cmd, "generate-synth", "--name", name, "--ids", "8", "--out", str(tmp_path / name), "--workers", "1"])
        assert res.returncode == 0, res.stderr
        ds = load_dataset(name, tmp_path)  # found by its folder name under data_root
        assert ds.name == name and ds.num_cams == cams
        assert {r.category for r in ds.train} <= {category, "cyclist"} and category in {r.category for r in ds.train}
    with pytest.raises(Exception, match="generate-synth --name synthpeds_duke"):
        load_dataset("synthpeds_duke", tmp_path)


def test_generate_corpus_writes_captioned_images(reid_nb_cmd, tmp_path):
    from reid_nb.data.corpus import load_corpus
    res = run([reid_nb_cmd, "generate-corpus", "--ids-per-domain", "8", "--ids-per-category", "4", "--out",
               str(tmp_path / "corpus"), "--workers", "2"])
    assert res.returncode == 0, res.stderr
    items = load_corpus(tmp_path / "corpus")
    assert len(items) == (5 * 8 + 4 * 4) * 4 and all(it.caption and it.attributes and it.parts for it in items)
    assert {it.source for it in items} == {"base", "market", "duke", "msmt", "cuhk", "cyclist", "vehicle", "animal", "product"}
