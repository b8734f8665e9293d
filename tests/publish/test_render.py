"""The published pages in a real browser: headless Chromium renders each page, its DOM is checked (language,
captions, header scopes, no script, nothing fetched from elsewhere), the screenshot is a real image of the size
asked for with the masthead's colour where the style sheet puts it, and printing gives a PDF.

CI installs Chromium (``.ci/run``); on a machine without it these tests are skipped, except under CI, where a
missing browser is a failure rather than a silent skip.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mincredit._publish._api import publish, read_publication
from mincredit.facts._validating import read_facts_file
from mincredit.rules._registry import load_rulebook

ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 1280, 1600


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


def browse(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    profile.mkdir()
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("publication")
    entries = list(read_facts_file(ROOT / "examples" / "publication.yaml"))
    book = load_rulebook("miner")
    publish(entries, book, dt.date(2023, 3, 31)).write(base / "2023Q1")
    publish(entries, book, dt.date(2023, 6, 30), previous=read_publication(base / "2023Q1")).write(base / "2023Q2")
    return base / "2023Q2"


class Outline(HTMLParser):
    """What the checks need from a DOM: the html lang, tags, th scopes, captions, attributes that fetch."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.tags: list[str] = []
        self.scopes: list[str | None] = []
        self.captions: list[str] = []
        self.fetching: list[str] = []
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append(tag)
        if tag == "html":
            self.lang = values.get("lang")
        if tag == "th":
            self.scopes.append(values.get("scope"))
        if tag == "caption":
            self._in_caption = True
            self.captions.append("")
        for name in ("src", "href"):
            value = values.get(name) or ""
            if "://" in value or value.startswith("//"):
                self.fetching.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self._in_caption = False

    def handle_data(self, data: str) -> None:
        if self._in_caption:
            self.captions[-1] += data


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


@pytest.mark.parametrize("page", ["blacklist.html", "results.html", "changes.html"])
def test_chromium_renders_each_page_with_captions_scopes_and_nothing_from_elsewhere(
        folder: Path, tmp_path: Path, page: str) -> None:
    source = (folder / page).read_text(encoding="utf-8")
    for fetching in ("<script", "<link", "@import", "url(", "http://", "https://", "<img", "<iframe"):
        assert fetching not in source, f"{page} has {fetching}"
    dumped = browse(tmp_path, "--dump-dom", (folder / page).as_uri())
    assert dumped.returncode == 0, dumped.stderr
    outline = Outline()
    outline.feed(dumped.stdout)
    assert outline.lang == "zh-CN"
    assert "table" in outline.tags and "thead" in outline.tags and "main" in outline.tags
    assert outline.captions and all(caption.strip() for caption in outline.captions)
    assert outline.scopes and set(outline.scopes) <= {"col", "row"}
    assert "row" in outline.scopes or "没有" in dumped.stdout
    assert outline.fetching == []
    assert "script" not in outline.tags


def test_the_blacklist_page_shows_art_20s_fields_and_masks_the_legal_representative(
        folder: Path, tmp_path: Path) -> None:
    dumped = browse(tmp_path, "--dump-dom", (folder / "blacklist.html").as_uri())
    assert dumped.returncode == 0, dumped.stderr
    for label in ("主体名称", "统一社会信用代码", "失信事实", "决定机关", "披露期限"):
        assert f'<th scope="col">{label}</th>' in dumped.stdout
    assert "法定代表人王某（身份证号" in dumped.stdout and "王建国" not in dumped.stdout
    assert "150602198001010011" not in dumped.stdout
    assert "2023年6月9日至2028年6月9日" in dumped.stdout


def test_the_screenshot_is_a_real_image_of_the_size_asked_for(folder: Path, tmp_path: Path) -> None:
    numpy = pytest.importorskip("numpy")
    image = pytest.importorskip("matplotlib.image")
    shot = tmp_path / "blacklist.png"
    done = browse(tmp_path, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}",
                  (folder / "blacklist.html").as_uri())
    assert done.returncode == 0, done.stderr
    data = shot.read_bytes()
    assert png_size(data) == (WIDTH, HEIGHT)
    pixels = numpy.asarray(image.imread(str(shot)))[..., :3]
    assert pixels.std() > 0.05, "a blank page"
    # the masthead's dark red (#8f1d1d) at the top left, white paper further down: the style sheet applied
    top = pixels[10, 10] * 255
    assert abs(top[0] - 0x8F) < 8 and abs(top[1] - 0x1D) < 8 and abs(top[2] - 0x1D) < 8
    assert (pixels[HEIGHT - 20, WIDTH // 2] > 0.95).all()


def test_printing_the_page_gives_a_pdf(folder: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "blacklist.pdf"
    done = browse(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", (folder / "blacklist.html").as_uri())
    assert done.returncode == 0, done.stderr
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and b"/Type /Page" in data.replace(b"/Type/Page", b"/Type /Page")
