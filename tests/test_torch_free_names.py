"""The torch-free name lists match the registries, and reading them imports no torch."""

from __future__ import annotations

import subprocess
import sys

from transferkit._catalog import METHOD_NAMES, VALIDATOR_NAMES


def test_method_names_match_the_factory():
    from transferkit.pipeline import names

    assert sorted(METHOD_NAMES) == names()


def test_validator_names_match_the_registry():
    from transferkit.detect import VALIDATORS

    assert sorted(VALIDATOR_NAMES) == VALIDATORS.names()


def test_help_and_recipe_reading_import_no_torch():
    code = ("import sys; from transferkit.cli.main import build_parser; build_parser(); "
            "from transferkit.recipes import find_recipe, load_recipe; "
            "load_recipe(find_recipe('stackoverflow_us_to_canada')); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False", out.stderr
