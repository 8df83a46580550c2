"""A starter recipe for two market files: ``transferkit init``.

Columns that identify rows (unique per row, ``*_id`` names) and dates are kept out of the
features, columns whose names differ only slightly between the files are proposed as
renames, and amount-like columns are proposed as money columns — as comments to confirm.

Examples
--------
>>> import pandas as pd, tempfile, os
>>> folder = tempfile.mkdtemp()
>>> pd.DataFrame({"customer_id": [1, 2, 3], "signup": ["2024-01-02", "2024-02-03",
...               "2024-03-04"], "price": [9.5, 3.0, 4.0], "y": [1, 0, 1]}).to_csv(
...     os.path.join(folder, "us.csv"), index=False)
>>> pd.DataFrame({"customer_id": [7, 8], "signup": ["2024-05-06", "2024-06-07"],
...               "prices": [1.0, 2.0], "y": [0, 1]}).to_csv(
...     os.path.join(folder, "jp.csv"), index=False)
>>> text = starter_recipe(os.path.join(folder, "us.csv"), os.path.join(folder, "jp.csv"), "y")
>>> "id: customer_id" in text and "time: signup" in text and "prices: price" in text
True
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pandas as pd

from transferkit._columns import date_like_columns, id_like_columns
from transferkit._io import read_table

__all__ = ["date_like_columns", "id_like_columns", "starter_recipe"]

_MONEY = re.compile(r"price|amount|salary|revenue|spend|cost|income|fee|total|value", re.I)


def starter_recipe(source: str | os.PathLike[str], target: str | os.PathLike[str],
                   label: str, *, name: str | None = None) -> str:
    """YAML text of a recipe for two files; a user confirms the commented proposals."""
    paths = {"source": Path(source), "target": Path(target)}
    frames = {side: read_table(path) for side, path in paths.items()}
    for side, frame in frames.items():
        if label not in frame.columns:
            raise ValueError(f"The {side} file {str(paths[side])!r} has no label column "
                             f"{label!r}; its columns are {list(map(str, frame.columns))}.")
    name = name or re.sub(r"[^A-Za-z0-9_-]+", "_",
                          f"{paths['source'].stem}_to_{paths['target'].stem}")
    lines = ["# Starter recipe written by 'transferkit init'. Check it, then run:",
             "#   transferkit validate <this file> && transferkit run <this file>",
             f"name: {name}"]
    for side, frame in frames.items():
        dates = date_like_columns(frame, exclude=(label,))
        ids = id_like_columns(frame, exclude=(label, *dates))
        schema: dict[str, object] = {}
        if ids:
            schema["id"] = ids[0]
        if dates:
            schema["time"] = dates[0]
        extra = ids[1:] + dates[1:]
        if extra:
            schema["exclude"] = extra
        lines += [f"{side}:", f"  path: {os.path.abspath(paths[side])}", f"  label: {label}"]
        if schema:
            body = ", ".join(f"{k}: {v}" if not isinstance(v, list) else f"{k}: [{', '.join(v)}]"
                             for k, v in schema.items())
            lines.append(f"  schema: {{{body}}}   # row ids and dates are not features")
    source_cols = [str(c) for c in frames["source"].columns if c != label]
    target_cols = [str(c) for c in frames["target"].columns if c != label]
    renames = {}
    for column in target_cols:
        if column in source_cols:
            continue
        close = difflib.get_close_matches(column, [c for c in source_cols
                                                   if c not in target_cols], n=1, cutoff=0.6)
        if close:
            renames[column] = close[0]
    money = [c for c in source_cols if _MONEY.search(c)
             and pd.api.types.is_numeric_dtype(frames["source"][c])]
    lines.append("harmonize:")
    lines.append("  missing_columns: drop   # columns in one file only; or impute / error")
    if renames:
        lines.append("  # proposed renames (target column: source column); uncomment to use")
        lines.append("  # target_columns: {" + ", ".join(f"{k}: {v}" for k, v in
                                                     renames.items()) + "}")
    if money:
        lines.append("  # amounts: give both files' currencies (source.schema.currency) and")
        lines.append(f"  # money_columns: [{', '.join(money)}]")
        lines.append("  # exchange_rates: {USD: 1.0, EUR: 1.08}")
    lines += ["split:", "  test_size: 0.3", "  target_labels: 50   # labelled target rows "
              "methods may learn from", "seed: 0", ""]
    return "\n".join(lines)
