"""One fitted transfer: featurizer + method, created by name, saved and served.

Examples
--------
>>> from transferkit.pipeline import create, names
>>> names("baseline")
['source_only', 'target_only']
"""

from __future__ import annotations

from transferkit.pipeline.factory import METHODS, MethodSpec, create, describe_methods, names
from transferkit.pipeline.featurizer import Featurizer
from transferkit.pipeline.persist import ModelFileError
from transferkit.pipeline.pipeline import TransferPipeline

__all__ = [
    "METHODS",
    "Featurizer",
    "MethodSpec",
    "ModelFileError",
    "TransferPipeline",
    "create",
    "describe_methods",
    "names",
]
