"""`wasync preview`: every template of a spec folder as a chat bubble on a static page,
offline; loaded in headless Chromium to check what a reviewer sees.

Chromium is Debian's ``chromium`` package. Without it the browser test is skipped, unless
``WASYNC_TEST_REQUIRE_CHROMIUM=1`` (set by .ci/run, which installs it): then its absence
fails the test, so CI cannot pass by skipping it.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from cli_runner import wasync
from newcomer.support import copy_specs

HOSTILE = '</div></article><script>document.title="owned"</script><!-- x & <b>y</b>'
WINDOW = (1200, 1600)


def hostile_spec(specs: Path) -> None:
    """A template whose every text tries to break out of the page."""
    body = json.dumps(f"Dear {{{{1}}}}, {HOSTILE}")
    (specs / "templates" / "hostile.yaml").write_text(
        f"""\
templates:
  - account: shop-cams
    name: hostile_note
    language: en
    category: UTILITY
    components:
      - type: HEADER
        format: TEXT
        text: {json.dumps("<img src=x onerror=alert(1)>")}
      - type: BODY
        text: {body}
        example: {{body_text: [[{json.dumps("<i>Ana</i>")}]]}}
      - type: FOOTER
        text: {json.dumps("--></style><style>body{display:none}</style>")}
      - type: BUTTONS
        buttons:
          - type: QUICK_REPLY
            text: {json.dumps("<a href=x>go</a>")}
""",
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("preview")
    specs = copy_specs(root / "specs")
    hostile_spec(specs)
    run = wasync("preview", specs, "--out", root / "out")
    assert run.exit_code == 0, run
    assert run.stdout == f"Wrote 12 templates to {root / 'out' / 'index.html'}\n"
    return root / "out" / "index.html"


class Text(HTMLParser):
    """The page's visible text and the elements it holds."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: set[str] = set()
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag in ("style", "title", "script"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)

    @property
    def joined(self) -> str:
        return " ".join("".join(self.text).split())


def parsed(html: str) -> Text:
    p = Text()
    p.feed(html)
    return p


def test_the_page_shows_every_template_with_its_text_escaped(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    seen = parsed(html)
    # No element came from spec text: the page's own tags only.
    assert not seen.tags & {"script", "img", "a", "i", "b"}
    assert "<script>" not in html and "&lt;script&gt;" in html
    text = seen.joined
    for name in ("autumn_sale", "welcome_offer", "autumn_collection", "login_code"):
        assert name in text
    assert "Hi Ana, our autumn sale starts today: 20% off everything until Sunday." in text
    assert "123456 is your verification code. For your security, do not share this code." in text
    assert "Hi Ana, your order A-1024 is out for delivery." in text  # named variables
    assert "This code expires in 10 minutes." in text
    # the hostile template, shown as the text it is
    assert f"Dear <i>Ana</i>, {HOSTILE}" in text
    assert "<img src=x onerror=alert(1)>" in text and "<a href=x>go</a>" in text


def test_preview_needs_no_credentials_and_names_a_bad_spec(tmp_path: Path) -> None:
    specs = copy_specs(tmp_path / "specs")
    (specs / "templates" / "broken.yaml").write_text("templates: [{name: x}]\n", encoding="utf-8")
    run = wasync("preview", specs, "--out", tmp_path / "out")
    assert run.exit_code == 1, run
    assert "broken.yaml" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()


# --- in a browser ----------------------------------------------------------------------------


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("WASYNC_TEST_REQUIRE_CHROMIUM") == "1":
        pytest.fail("chromium is required here (WASYNC_TEST_REQUIRE_CHROMIUM=1) but not installed")
    pytest.skip("chromium is not installed (apt-get install chromium)")


def browse(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on the page: no sandbox (root), no GPU, no network of its own."""
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        *args,
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def png_facts(path: Path) -> tuple[int, int, int]:
    """(width, height, distinct byte values of the decoded pixels) of a PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


def test_chromium_renders_the_page_as_chat_bubbles(page: Path, tmp_path: Path) -> None:
    dom = browse(page, tmp_path / "dom", "--dump-dom").stdout
    seen = parsed(dom)
    # What the browser built: the page's elements, no script or injected element, the title
    # untouched by the hostile template.
    assert not seen.tags & {"script", "img", "a", "i", "b"}
    assert "<title>wasync preview: specs</title>" in dom
    text = seen.joined
    assert "Hi Ana, our autumn sale starts today: 20% off everything until Sunday." in text
    assert "Welcome, Ana! Here is 10% off your first order." in text
    assert "Wool coat, now $89." in text and "Leather boots, now $120." in text
    assert f"Dear <i>Ana</i>, {HOSTILE}" in text
    # WhatsApp's *bold* is bold: the passcode of an authentication template.
    assert "<strong>123456</strong> is your verification code." in dom
    assert dom.count('class="bubble"') == 12

    shot = tmp_path / "page.png"
    browse(page, tmp_path / "shot", f"--screenshot={shot}")
    width, height, shades = png_facts(shot)
    assert (width, height) == WINDOW
    assert shot.stat().st_size > 20_000  # a page of text, not a blank one
    assert shades > 100
