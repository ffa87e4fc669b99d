"""The docs site builds offline from the notebooks and opens in a real browser."""
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from reid_nb.docs import build_site

from conftest import ROOT

NOTEBOOKS = sorted(p for p in (ROOT / "nbs").glob("*.ipynb"))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build_site(ROOT, out=tmp_path_factory.mktemp("site"))


def _page_of(nb: Path) -> str:
    "nbdev's page name: the notebook name without its number prefix."
    if nb.stem == "index": return "index.html"
    return re.sub(r"^\d+_", "", nb.stem) + ".html"


def test_one_page_per_notebook_with_navigation(site):
    pages = [_page_of(nb) for nb in NOTEBOOKS]
    for page in pages:
        html = (site / page).read_text()
        for other in pages:
            if other not in ("index.html", page):
                assert f'href="{other}"' in html, f"{page} has no navigation link to {other}"
    assert (site / "search.html").exists() and (site / "genindex.html").exists()


def test_notebook_prose_and_outputs_are_rendered(site):
    for nb in NOTEBOOKS:
        cells = json.loads(nb.read_text())["cells"]
        html = (site / _page_of(nb)).read_text()
        heading = next(c["source"] for c in cells if c["cell_type"] == "markdown")
        title = "".join(heading).splitlines()[0].lstrip("# ").strip()
        assert title in html, f"title {title!r} of {nb.name} missing from its page"
        n_png = sum("image/png" in o.get("data", {}) for c in cells for o in c.get("outputs", []))
        assert html.count("<img") >= n_png, f"{nb.name} has {n_png} plots but its page shows fewer"
        assert not re.search(r'class="c1">#\|', html), f"Quarto cell options leaked into {nb.name}'s code"


def test_api_entries_documented_and_linked(site):
    html = (site / "config.html").read_text()
    text = re.sub(r"<[^>]+>", "", html)
    assert 'id="make-config"' in html and "def make_config(" in text  # heading anchor and signature
    assert "The paper-default config of" in html  # the docstring
    assert 'href="config.html#make-config"' in html  # backticked names link to their API entry
    assert "reid-nb.github.io" not in html  # links are relative: the site works from disk


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def test_site_opens_in_headless_chromium(site, tmp_path):
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.skip("Debian chromium/chromium-driver not installed (apt-get install chromium chromium-driver); "
                    ".ci/run installs them")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1000", f"--user-data-dir={tmp_path / 'profile'}"]:
        opts.add_argument(flag)
    browser = webdriver.Chrome(service=Service(driver), options=opts)
    try:
        browser.get((site / "index.html").as_uri())
        assert "reid_nb" in browser.title
        nav = browser.find_element(By.CSS_SELECTOR, ".sidebar-tree")
        links = {a.text: a for a in nav.find_elements(By.TAG_NAME, "a") if a.is_displayed()}
        assert "Run configuration" in links and "Command line" in links, list(links)
        shot = tmp_path / "index.png"
        browser.save_screenshot(str(shot))
        assert _png_size(shot.read_bytes())[0] == 1400

        links["Run configuration"].click()
        assert browser.current_url.endswith("config.html")
        entry = browser.find_element(By.ID, "make-config")
        browser.execute_script("arguments[0].scrollIntoView()", entry)
        assert entry.is_displayed() and "make_config" in entry.text
        browser.save_screenshot(str(tmp_path / "config.png"))
        assert len((tmp_path / "config.png").read_bytes()) > 10_000  # a rendered page, not a blank one

        # Every formula is typeset, offline: no page shows TeX source in its prose, headings, tables or math blocks.
        with_math = 0
        for page in sorted(p.name for p in site.glob("*.html") if p.name not in ("search.html", "genindex.html")):
            browser.get((site / page).as_uri())
            n_math = len(browser.find_elements(By.CSS_SELECTOR, ".math"))
            if n_math:
                with_math += 1
                WebDriverWait(browser, 20).until(
                    lambda b: len(b.find_elements(By.CSS_SELECTOR, "mjx-container")) >= n_math,
                    f"MathJax did not typeset the {n_math} formulas of {page}")
            raw = browser.execute_script(
                "return [...document.querySelectorAll('article p, article li, article td, article h1, article h2, "
                "article h3, article .math')].map(e => e.innerText).filter(t => /\\\\[a-zA-Z]+|\\\\[(\\[]|\\$\\$/.test(t))")
            assert not raw, f"{page} shows unrendered TeX: {raw[:3]}"
        assert with_math >= 3  # the losses, transforms and baselines pages hold formulas
    finally:
        browser.quit()
