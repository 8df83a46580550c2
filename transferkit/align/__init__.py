"""Feature alignment: learn features in which the source and target markets look alike.

``DANN``, ``CDAN`` / ``CDANE``, ``DeepCORAL``, ``MMD`` (DAN-style) and the ``SourceOnly``
baseline are scikit-learn-style estimators over Domains, all trained by the shared
:class:`~transferkit.training.Trainer`; the losses (``DANNLoss``, ``CDANLoss``,
``CORALLoss``, ``MMDLoss``, the gradient-reversal layer) and ``AlignmentNetwork`` are
plain ``nn.Module``s for users who write their own loop. ``ALIGNERS`` finds them by name.

Examples
--------
>>> import numpy as np
>>> from transferkit import Domain
>>> from transferkit.align import ALIGNERS
>>> from transferkit.training import TrainConfig
>>> rng = np.random.default_rng(0)
>>> X_us, X_jp = rng.normal(size=(80, 4)), rng.normal(0.5, 1.0, size=(50, 4))
>>> us = Domain.from_arrays(X_us, (X_us[:, 0] > 0).astype(int), name="us")
>>> jp = Domain.from_arrays(X_jp, name="jp")
>>> model = ALIGNERS.get("dann")(hidden_sizes=(16,),
...                              config=TrainConfig(epochs=2, progress=False))
>>> model.fit(us, jp).predict(jp).shape
(50,)
>>> ALIGNERS.names()
['cdan', 'cdan_e', 'dann', 'deep_coral', 'mmd', 'nn_source_only']
"""

from __future__ import annotations

from transferkit.align.estimators import (
    ALIGNERS,
    CDAN,
    CDANE,
    DANN,
    MMD,
    DeepCORAL,
    SourceOnly,
    default_config,
)
from transferkit.align.losses import (
    CDANLoss,
    CORALLoss,
    DANNLoss,
    DomainDiscriminator,
    GradientReversal,
    MMDLoss,
    RandomizedMultilinearMap,
    dann_lambda,
    gradient_reversal,
)
from transferkit.align.network import AlignmentNetwork, mlp_extractor

__all__ = [
    "ALIGNERS",
    "CDAN",
    "CDANE",
    "DANN",
    "MMD",
    "AlignmentNetwork",
    "CDANLoss",
    "CORALLoss",
    "DANNLoss",
    "DeepCORAL",
    "DomainDiscriminator",
    "GradientReversal",
    "MMDLoss",
    "RandomizedMultilinearMap",
    "SourceOnly",
    "dann_lambda",
    "default_config",
    "gradient_reversal",
    "mlp_extractor",
]
