"""Screenshots of a run folder's reports for the README: ``docs/run_report.png`` and
``docs/gap_report.png``.

    .venv/bin/transferkit run stackoverflow_us_to_canada --out /tmp/readme_run
    .venv/bin/python docs/make_screenshots.py /tmp/readme_run

Needs headless Chromium (``apt-get install -y chromium``) and Pillow. The pages are shot
1100 px wide and the white margin below the content is trimmed.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]


def shoot(page: Path, target: Path, *, width: int = 1100, height: int = 7000) -> None:
    """Screenshot ``page`` into ``target`` (PNG), cropped below the last non-white row."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}",
                        f"--window-size={width},{height}", f"--screenshot={target}",
                        page.resolve().as_uri()], check=True, capture_output=True, timeout=120)
    image = Image.open(target).convert("RGB")
    box = ImageChops.difference(image, Image.new("RGB", image.size, "white")).getbbox()
    bottom = image.size[1] if box is None else min(image.size[1], box[3] + 30)
    image.crop((0, 0, image.size[0], bottom)).save(target, optimize=True)


def main() -> None:
    folder = Path(sys.argv[1])
    out = Path(__file__).resolve().parent
    for page, png in (("report.html", "run_report.png"), ("gap.html", "gap_report.png")):
        shoot(folder / page, out / png)
        print(out / png)


if __name__ == "__main__":
    main()
