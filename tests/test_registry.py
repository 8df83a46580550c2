"""Registry lookups and their errors."""

from __future__ import annotations

import pytest

from transferkit._registry import Registry


def test_register_get_and_did_you_mean():
    registry = Registry("reweighter")

    @registry.register("kmm")
    class KMM:
        pass

    assert registry.get("kmm") is KMM and "kmm" in registry and registry.names() == ["kmm"]
    with pytest.raises(KeyError, match="Did you mean 'kmm'"):
        registry.get("kmn")
    with pytest.raises(ValueError, match="already registered"):
        registry.register("kmm")(object)
    with pytest.raises(ValueError, match="lower-case"):
        registry.register("KMM")
