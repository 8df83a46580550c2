"""``transferkit predict MODEL rows.csv --out predictions.csv``: apply a saved model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_parser", "predict"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "predict",
        help="apply a saved model to new target-market rows",
        description="Featurize raw target-market rows exactly as at fit time and write one "
        "row per input row: the prediction and, for classifiers, a probability per class. "
        "Missing columns and junk values are errors naming the column; new categories and "
        "extra columns are handled with a warning.",
    )
    parser.add_argument("model", help="a run folder (runs/<name>) or its model/ folder")
    parser.add_argument("rows", help="CSV, TSV, Parquet or Excel file of raw target rows")
    parser.add_argument("--out", required=True, help="where to write the predictions (CSV)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing --out file")
    parser.add_argument("--keep", nargs="*", default=(), metavar="COLUMN",
                        help="input columns to copy beside the predictions (e.g. an id)")
    parser.set_defaults(handler=predict)
    return parser


def predict(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise FileExistsError(f"{str(out)!r} already exists; pass --overwrite to replace it.")
    if out.is_dir():
        raise IsADirectoryError(f"--out {str(out)!r} is a folder; give a file name.")
    from transferkit._io import atomic_write_text, read_table
    from transferkit.pipeline import TransferPipeline

    folder = Path(args.model)
    if (folder / "model" / "pipeline.json").is_file():
        folder = folder / "model"
    pipeline = TransferPipeline.load(folder)
    rows = read_table(Path(args.rows))
    missing = [c for c in args.keep if c not in rows.columns]
    if missing:
        raise ValueError(f"--keep names columns {missing} that {args.rows!r} does not have.")
    table = pipeline.predict_frame(rows)
    for position, column in enumerate(args.keep):
        table.insert(position, column, rows[column].to_numpy())
    atomic_write_text(out, table.to_csv(index=False))
    print(f"wrote {len(table)} predictions to {out}", file=sys.stderr)
    return 0
