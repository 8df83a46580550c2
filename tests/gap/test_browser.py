"""The HTML report renders in a real headless Chromium without console errors."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from transferkit import Domain
from transferkit.gap import gap_report

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs Chromium (apt-get install -y chromium)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_report_renders_in_headless_chromium(tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    frames = []
    for shift, share in ((0.0, 0.3), (1.0, 0.5)):
        y = (rng.random(n) < share).astype(int)
        frames.append(pd.DataFrame({
            "price": rng.normal(10 + 3 * shift, 2, n), "delivery_days": rng.normal(3, 1, n),
            "segment": rng.choice(["new", "loyal", "vip"], n, p=[0.5, 0.3 + 0.1 * shift,
                                                               0.2 - 0.1 * shift]),
            "bought": y,
        }))
    source = Domain.from_frame(frames[0], label="bought", name="US shop")
    target = Domain.from_frame(frames[1], label="bought", name="Japan shop")
    page = tmp_path / "report.html"
    gap_report(source, target, n_permutations=200, top_plots=3).to_html(page)

    result = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    text = re.sub(r"<[^>]+>", " ", dom)
    assert "Domain-gap report: US shop → Japan shop" in text
    assert "Whole-domain tests" in text and "Label shift" in text
    assert "price" in text and "differs" in text
    assert dom.count("<svg") >= 4  # three feature plots + PCA + priors
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console
    assert not re.search(r"net::ERR|Failed to load resource", result.stderr)
