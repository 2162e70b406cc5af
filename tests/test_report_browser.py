"""The report of a real (tiny) run, opened in headless Chromium as a reader would open it.

Needs the Debian package ``chromium`` (``.ci/run`` installs it); skipped with the reason where
it is missing. The screenshot is kept beside the report: ``RUN/report-screenshot.png``.
"""

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (/usr/bin/chromium missing); "
                             "`apt-get install chromium` to render the report in a browser")

# Added to a copy of the page: after every image has loaded (or failed), write what was seen
# into the DOM, where --dump-dom shows it. The report itself carries no script.
CHECK = """<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const broken = images.filter(image => !(image.complete && image.naturalWidth > 0)).length;
  const marker = document.createElement("div");
  marker.id = "lstmstate-check";
  marker.textContent = `images=${images.length} broken=${broken} text=${document.body.innerText.trim().length}`;
  document.body.appendChild(marker);
});
</script>"""


def _chromium(profile, *args, timeout=120):
    # The network is closed and nothing may be fetched: no sandbox (CI runs as root), no GPU, no
    # background services, and a fresh profile every time.
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser") / "run"
    command = [sys.executable, "-c", "from lstmstate.cli import main; main()",
               "run", "stateful", "--seeds", "2", "--epochs", "3", "--units", "4", "--out", str(folder)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "report written to" in result.stdout
    return folder


def test_every_image_loads_and_the_page_has_text(run_folder, tmp_path):
    page = (run_folder / "report.html").read_text()
    checked = tmp_path / "checked.html"
    checked.write_text(page.replace("</body>", CHECK + "</body>"))
    result = _chromium(tmp_path / "profile", "--virtual-time-budget=10000", "--dump-dom", checked.as_uri())
    found = re.search(r"images=(\d+) broken=(\d+) text=(\d+)", result.stdout)
    assert found, f"the check did not run; chromium said:\n{result.stderr[-2000:]}"
    images, broken, text = map(int, found.groups())
    # accuracy, accuracy curves, loss curves, the state heatmaps and the generation
    assert images == 5 and broken == 0
    assert text > 1000


def test_screenshot_is_not_blank(run_folder, tmp_path):
    import matplotlib.image

    screenshot = run_folder / "report-screenshot.png"
    result = _chromium(tmp_path / "profile", "--window-size=1200,3000", f"--screenshot={screenshot}",
                       (run_folder / "report.html").as_uri())
    assert screenshot.is_file(), f"no screenshot; chromium said:\n{result.stderr[-2000:]}"
    print(f"screenshot saved to {screenshot}")
    pixels = matplotlib.image.imread(screenshot)[..., :3]  # (height, width, rgb) in [0, 1]
    background = np.median(pixels.reshape(-1, 3), axis=0)
    drawn = np.abs(pixels - background).max(axis=-1) > 0.1  # (height, width)
    assert drawn.mean() > 0.02, "the page looks blank"
    rows_with_ink = drawn.any(axis=1).mean()
    assert rows_with_ink > 0.5, "most of the page is empty"
