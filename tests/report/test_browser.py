"""Every report renders in headless Chromium: plots laid out and visible, no console errors."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs Chromium (apt-get install -y chromium)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Added to a copy of the page only: counts the figures the browser laid out at a visible size.
PROBE = ("<script>window.addEventListener('load',()=>{const s=[...document.querySelectorAll("
         "'figure svg')];document.body.dataset.visible=s.filter(e=>{const r=e."
         "getBoundingClientRect();return r.width>100&&r.height>60}).length;"
         "document.body.dataset.figures=s.length;});</script>")


def render(page: Path, tmp_path: Path) -> tuple[str, str]:
    probe = tmp_path / f"probe_{page.name}"
    probe.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    result = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--enable-logging=stderr", "--v=0", "--window-size=1200,900", "--dump-dom",
         probe.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, result.stderr


def check(dom: str, stderr: str, *, min_figures: int) -> None:
    figures = int(re.search(r'data-figures="(\d+)"', dom).group(1))
    visible = int(re.search(r'data-visible="(\d+)"', dom).group(1))
    assert figures >= min_figures and visible == figures, (figures, visible)
    # Only the probe script may run; the report itself has none.
    assert dom.count("<script") == 1
    console = [line for line in stderr.splitlines() if "CONSOLE" in line]
    assert not console, console
    assert not re.search(r"net::ERR|Failed to load resource", stderr)


def test_run_gap_and_verdict_reports_render(run_result, tmp_path):
    folder = run_result.folder
    dom, stderr = render(folder / "report.html", tmp_path)
    check(dom, stderr, min_figures=4)
    assert 'id="decision"' in dom and "Next:" in dom
    dom, stderr = render(folder / "gap.html", tmp_path)
    check(dom, stderr, min_figures=3)
    assert "Domain-gap report" in dom and "Main drivers" in dom
    verdict = tmp_path / "verdict.html"
    run_result.verdict.to_html(verdict)
    dom, stderr = render(verdict, tmp_path)
    check(dom, stderr, min_figures=0)
    assert "Negative-transfer check" in dom


def test_gap_report_with_ids_dates_binary_and_money_renders(tmp_path):
    import warnings

    import numpy as np
    import pandas as pd

    from transferkit import Domain, TransferWarning
    from transferkit.gap import gap_report

    rng = np.random.default_rng(3)
    markets = []
    for name, currency, rate, member, start in (("us", "USD", 1.0, 0.3, "2020-01-01"),
                                                ("de", "EUR", 1.08, 0.6, "2023-01-01")):
        frame = pd.DataFrame({
            "customer_id": np.arange(400) + (0 if name == "us" else 10_000),
            "signup_date": pd.date_range(start, periods=400, freq="D").strftime("%Y-%m-%d"),
            "is_member": (rng.random(400) < member).astype(int),
            "salary": rng.normal(60_000, 10_000, 400) / rate,
            "region": rng.choice(["north", "south"], 400),
        })
        markets.append(Domain.from_frame(frame, name=name, currency=currency))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TransferWarning)
        report = gap_report(*markets, harmonize={"money_columns": ["salary"],
                                                 "exchange_rates": {"USD": 1.0, "EUR": 1.08}},
                            n_permutations=100, top_plots=4)
    page = tmp_path / "gap.html"
    report.to_html(page)
    dom, stderr = render(page, tmp_path)
    check(dom, stderr, min_figures=4)
    assert "row ID: not tested" in dom and "date or time: not tested" in dom
    assert "is_member: share of rows per value" in dom and "converted to USD" in dom
