"""Atomic file writes: a user's existing file is replaced whole or left untouched.

Examples
--------
>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "report.json")
>>> atomic_write_text(path, "{}")
>>> open(path).read()
'{}'
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["atomic_directory", "atomic_write_bytes", "atomic_write_text", "read_table"]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix="-" + os.path.basename(path))
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would, or
        # keep the mode of the file being replaced.
        os.chmod(tmp, _mode_for(path))
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _mode_for(path: str | os.PathLike[str]) -> int:
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        return 0o666 & ~_umask()


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """``atomic_write_bytes`` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


TABLE_FORMATS: dict[str, str] = {
    ".csv": "CSV", ".txt": "CSV", ".tsv": "TSV", ".parquet": "Parquet", ".pq": "Parquet",
    ".xlsx": "Excel", ".xlsm": "Excel", ".xls": "Excel",
}
# First bytes of the binary formats: a table file of another kind is named as such.
_MAGIC = {b"PK\x03\x04": "an Excel/zip file", b"PAR1": "a Parquet file",
          b"\xd0\xcf\x11\xe0": "an old Excel (.xls) file", b"\x89PNG": "a PNG image",
          b"\xff\xd8\xff": "a JPEG image", b"%PDF": "a PDF"}


def read_table(path: str | os.PathLike[str], **kwargs: Any) -> pd.DataFrame:
    """Read a CSV, TSV, Parquet or Excel file into a DataFrame, refusing what is not a table.

    The one loader behind ``transferkit gap``, recipes and ``predict``. Every error names
    the file: missing, a folder, empty, binary data in a text table, a corrupt or truncated
    Excel/Parquet file, no data rows, and duplicated column names (which pandas would
    silently rename ``price.1``; the header row is read raw to catch them). The checks
    read only the first bytes and the header line, so they cost nothing next to parsing.

    Parameters
    ----------
    path : path
        ``.csv``/``.txt`` (comma), ``.tsv`` (tab), ``.parquet``/``.pq`` or
        ``.xlsx``/``.xlsm``/``.xls``.
    **kwargs
        Passed to ``pandas.read_csv``, ``read_parquet`` or ``read_excel``.

    Returns
    -------
    DataFrame

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Anything else that keeps the file from being one clean table.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "us.csv")
    >>> atomic_write_text(path, "price,colour\\n9.5,red\\n")
    >>> read_table(path).shape
    (1, 2)
    >>> atomic_write_text(path, "price,price\\n9.5,9.0\\n")
    >>> read_table(path)
    Traceback (most recent call last):
    ...
    ValueError: '...us.csv' has duplicated column names ['price']; rename them in the header row.
    """
    import pandas as pd

    file = Path(path)
    shown = str(file)
    kind = TABLE_FORMATS.get(file.suffix.lower())
    if kind is None:
        raise ValueError(
            f"{shown!r} is not a table file this loader knows (suffix {file.suffix!r}); use "
            f"one of {', '.join(sorted(TABLE_FORMATS))}."
        )
    if not file.exists():
        raise FileNotFoundError(f"No such file {shown!r}.")
    if file.is_dir():
        raise ValueError(f"{shown!r} is a folder; expected a {kind} file.")
    with open(file, "rb") as handle:
        head = handle.read(8192)
    if not head.strip():
        raise ValueError(f"{shown!r} is empty; expected a {kind} table with a header row.")
    magic = next((what for sig, what in _MAGIC.items() if head.startswith(sig)), None)
    if kind in ("CSV", "TSV"):
        if magic is not None or (b"\x00" in head and not head.startswith((b"\xff\xfe",
                                                                        b"\xfe\xff"))):
            raise ValueError(
                f"{shown!r} is not a text table: it holds binary data"
                f"{f' (it looks like {magic})' if magic else ''}. Give a {kind} file, or the "
                "file with its real suffix."
            )
        kwargs.setdefault("sep", "\t" if kind == "TSV" else ",")
        header = _raw_csv_header(file, kwargs)
        reader = pd.read_csv
    else:
        expected = {"Parquet": (b"PAR1",), "Excel": (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")}[kind]
        if not head.startswith(expected):
            looks = f"it looks like {magic}" if magic else "it does not start like one"
            raise ValueError(f"{shown!r} is not a valid {kind} file ({looks}); is it "
                             "truncated, or another format with the wrong suffix?")
        header = None
        reader = pd.read_parquet if kind == "Parquet" else pd.read_excel
    try:
        frame = reader(file, **kwargs)
    except ImportError as exc:
        raise ValueError(f"Cannot read {shown!r}: {str(exc).splitlines()[0]} Install a "
                         "reader (pyarrow for Parquet, openpyxl for Excel) or convert the file "
                         "to CSV.") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{shown!r} is not UTF-8 text ({exc.reason}); "
                         "pass encoding='latin-1' (or its real encoding).") from exc
    except pd.errors.EmptyDataError as exc:
        raise ValueError(f"{shown!r} holds no table: {exc}.") from exc
    except Exception as exc:  # each reader has its own errors for a corrupt file
        raise ValueError(f"Cannot read {shown!r} as {kind}: {str(exc).strip()}. Is it corrupt or "
                         "truncated? Export it again.") from exc
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"Reading {shown!r} gave a {type(frame).__name__}, not one table; "
                         "pick one sheet (sheet_name='...').")
    if kind == "Excel" and not any(k in kwargs for k in ("header", "names", "skiprows")):
        header = list(reader(file, header=None, nrows=1,
                             sheet_name=kwargs.get("sheet_name", 0)).iloc[0])
    names = header if header is not None else list(frame.columns)
    counts = Counter(names)
    duplicated = sorted(str(n) for n, count in counts.items() if count > 1)
    if duplicated:
        raise ValueError(
            f"{shown!r} has duplicated column names {duplicated}; rename them in the header row."
        )
    if len(frame) == 0:
        raise ValueError(f"{shown!r} has a header row but no data rows.")
    return frame


def _raw_csv_header(file: Path, kwargs: dict[str, Any]) -> list[str] | None:
    """The header line as written (pandas renames a repeated ``price`` to ``price.1``)."""
    import csv

    if any(k in kwargs for k in ("header", "names", "skiprows", "comment")) \
            or len(str(kwargs["sep"])) != 1:
        return None
    encoding = kwargs.get("encoding") or "utf-8-sig"
    with open(file, encoding=encoding, errors="replace", newline="") as handle:
        row = next(csv.reader(handle, delimiter=str(kwargs["sep"])), None)
    return row


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Build a folder in a temporary sibling and move it into place only when complete.

    An interrupted write leaves ``path`` as it was (the previous good folder stays
    intact); with ``overwrite=True`` the old folder is swapped out and removed only after
    the new one is in place. Without it an existing ``path`` is refused before anything
    is written.

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is False.

    Examples
    --------
    >>> import tempfile, os
    >>> target = os.path.join(tempfile.mkdtemp(), "run")
    >>> with atomic_directory(target) as tmp:
    ...     atomic_write_text(tmp / "a.txt", "done")
    >>> sorted(os.listdir(target))
    ['a.txt']
    """
    final = Path(path)
    if final.exists() and not overwrite:
        raise FileExistsError(
            f"{str(final)!r} already exists; pass overwrite=True (CLI: --overwrite) to "
            "replace it, or choose another folder."
        )
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.tmp-"))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        if final.exists():
            old = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.old-"))
            os.replace(final, old / final.name)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask
