"""Atomic writes replace whole files, keep modes, and leave nothing behind on failure."""

from __future__ import annotations

import os
import stat

import pytest

from transferkit._io import atomic_write_bytes, atomic_write_text


def test_new_files_get_the_usual_mode_and_existing_modes_are_kept(tmp_path):
    path = tmp_path / "report.html"
    atomic_write_text(path, "one")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    path.chmod(0o640)
    atomic_write_text(path, "two")
    assert path.read_text() == "two" and stat.S_IMODE(path.stat().st_mode) == 0o640


def test_failed_write_keeps_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "result.json"
    atomic_write_text(path, "old")

    with pytest.raises(TypeError):
        atomic_write_bytes(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]
