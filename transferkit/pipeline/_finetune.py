"""Neural few-label transfer: train a network on the source market, then fine-tune it on
the labelled target rows with a fine-tuning strategy (L2-SP, LP-FT or a linear probe).

It composes two method families — the alignment module's source-only network and the
fine-tuning module's ``FineTuner`` and strategies (their L2-SP, not a second one) — so it
lives in the pipeline layer, which may use both.

Examples
--------
>>> import numpy as np
>>> from transferkit import Domain
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(120, 3)); y = (X[:, 0] > 0).astype(int)
>>> us = Domain.from_arrays(X[:80], y[:80], name="us")
>>> ca = Domain.from_arrays(X[80:] + 0.5, y[80:], name="ca")
>>> model = SourceNetworkFineTune("l2sp", hidden_sizes=(8,), random_state=0,
...                               train={"epochs": 2, "progress": False}).fit(us, ca)
>>> model.predict_proba(X[:4]).shape
(4, 2)
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from torch import nn

from transferkit._validation import check_choice
from transferkit.align import SourceOnly
from transferkit.align.estimators import default_config
from transferkit.align.network import mlp_extractor
from transferkit.backbones import ModuleBackbone
from transferkit.domain import Domain
from transferkit.finetune import L2SP, LPFT, FineTuner, LinearProbe, TransferModel
from transferkit.pipeline._rows import feature_rows
from transferkit.training import TrainConfig, Trainer

__all__ = ["FINETUNE_EPOCHS", "SourceNetworkFineTune"]

Strategy = Literal["l2sp", "lp_ft", "linear_probe"]
_STRATEGIES: tuple[str, ...] = ("l2sp", "lp_ft", "linear_probe")
# The fine-tuning stage sees only the few labelled target rows (often one batch per
# epoch), so it takes more epochs than the source stage's default budget.
FINETUNE_EPOCHS = 50


class _Standardize(nn.Module):
    """The source network's input scaling, carried inside the fine-tuned backbone."""

    def __init__(self, mean: torch.Tensor, scale: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mean", mean.clone())
        self.register_buffer("scale", scale.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.scale


class SourceNetworkFineTune(BaseEstimator):
    """Fine-tune the source market's network on the labelled target rows.

    Stage 1 trains the alignment module's ``SourceOnly`` network on the source rows (the
    one default budget, ``align.default_config()``). Stage 2 hands its feature extractor
    to ``FineTuner`` as a backbone and trains a new head on the labelled target rows with
    the chosen strategy: ``"l2sp"`` (every layer, pulled back towards its source weights),
    ``"lp_ft"`` (probe, then fine-tune) or ``"linear_probe"`` (backbone frozen).

    Parameters
    ----------
    strategy : {"l2sp", "lp_ft", "linear_probe"}, default="l2sp"
    hidden_sizes : sequence of int, default=(256,)
    dropout : float, default=0.2
    alpha, beta : float, default=0.01
        L2-SP strengths towards the source weights and on the new head.
    train : mapping, optional
        ``TrainConfig`` fields overriding the source stage's default budget.
    finetune : mapping, optional
        ``TrainConfig`` fields of the fine-tuning stage (default: the same budget with
        ``epochs=FINETUNE_EPOCHS``).
    random_state : int, optional

    Attributes
    ----------
    source_network_ : SourceOnly
    network_ : nn.Module
        Rows -> target logits.
    classes_ : ndarray
        The classes of the labelled target rows.

    References
    ----------
    Li, Grandvalet & Davoine, "Explicit Inductive Bias for Transfer Learning with
    Convolutional Networks", ICML 2018; Kumar et al., "Fine-Tuning can Distort Pretrained
    Features and Underperform Out-of-Distribution", ICLR 2022.
    """

    def __init__(self, strategy: Strategy = "l2sp", *, hidden_sizes: Sequence[int] = (256,),
                 dropout: float = 0.2, alpha: float = 0.01, beta: float = 0.01,
                 train: Mapping[str, Any] | None = None,
                 finetune: Mapping[str, Any] | None = None,
                 random_state: int | None = None) -> None:
        self.strategy = strategy
        self.hidden_sizes = hidden_sizes
        self.dropout = dropout
        self.alpha = alpha
        self.beta = beta
        self.train = train
        self.finetune = finetune
        self.random_state = random_state

    def _configs(self) -> tuple[TrainConfig, TrainConfig]:
        base = default_config().to_dict()
        seed = {} if self.random_state is None else {"seed": int(self.random_state)}
        source = TrainConfig.from_dict({**base, **dict(self.train or {}), **seed},
                                       source="train")
        tune = {**base, "epochs": FINETUNE_EPOCHS, "progress": source.progress}
        finetune = TrainConfig.from_dict({**tune, **dict(self.finetune or {}), **seed},
                                         source="finetune")
        return source, finetune

    def _strategy(self) -> Any:
        if self.strategy == "l2sp":
            return L2SP(alpha=self.alpha, beta=self.beta)
        if self.strategy == "lp_ft":
            return LPFT()
        return LinearProbe()

    def fit(self, source: Domain, target: Domain) -> SourceNetworkFineTune:
        """Train on the source rows, then fine-tune on the target's labelled rows."""
        check_choice(type(self).__name__, "strategy", self.strategy, _STRATEGIES)
        if not source.is_classification:
            raise ValueError(f"{type(self).__name__} fine-tunes classification heads; the "
                             f"source {source.name!r} is a {source.task} task.")
        if target.schema.label is None or target.n_labeled == 0:
            raise ValueError(
                f"{type(self).__name__} learns from labelled target rows; target "
                f"{target.name!r} has none. Label some rows or use a label-free method."
            )
        source_config, tune_config = self._configs()
        network = SourceOnly(hidden_sizes=self.hidden_sizes, dropout=self.dropout,
                             config=source_config).fit(source, target)
        module = nn.Sequential(
            _Standardize(torch.from_numpy(network.mean_), torch.from_numpy(network.scale_)),
            copy.deepcopy(network.network_.feature_extractor))
        tuner = FineTuner(ModuleBackbone(module, name="source_network"), self._strategy(),
                          config=tune_config).fit(target.labeled())
        self.source_network_ = network
        self.classes_ = tuner.classes_
        self.n_features_in_ = network.n_features_in_
        self.kind_ = "model" if isinstance(tuner.model_, TransferModel) else "probe"
        self.network_ = (tuner.model_ if self.kind_ == "model"
                         else nn.Sequential(tuner.backbone_.module, tuner.model_))
        self.history_ = [] if tuner.trainer_ is None else tuner.trainer_.history_
        self._ready()
        return self

    def _ready(self) -> None:
        self.network_ = self.network_.cpu().eval()
        self.trainer_ = Trainer(self.network_, step=None,
                                config=TrainConfig(device="cpu", progress=False)).ready()

    def predict_proba(self, X: Domain | ArrayLike) -> np.ndarray:
        """Class probabilities, columns in ``classes_`` order."""
        check_is_fitted(self, "network_")
        rows = np.asarray(feature_rows(X), dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != self.n_features_in_:
            raise ValueError(f"{type(self).__name__} was fitted on {self.n_features_in_} "
                             f"features; got rows of shape {rows.shape}.")
        logits = self.trainer_.predict(torch.from_numpy(rows))
        return torch.softmax(logits, dim=1).numpy()

    def predict(self, X: Domain | ArrayLike) -> np.ndarray:
        """Predicted labels (values of ``classes_``)."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def export_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """JSON-able settings and facts and the network's tensors (see ``from_state``)."""
        check_is_fitted(self, "network_")
        params = self.get_params(deep=False)
        params["hidden_sizes"] = [int(h) for h in self.hidden_sizes]
        state = {"params": params, "classes": self.classes_.tolist(), "kind": self.kind_,
                 "n_features": int(self.n_features_in_), "history": self.history_}
        return state, dict(self.network_.state_dict())

    @classmethod
    def from_state(cls, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
                   ) -> SourceNetworkFineTune:
        """A fitted model from ``export_state()``'s output, ready to predict."""
        model = cls(**state["params"])
        n_features, classes = int(state["n_features"]), np.asarray(state["classes"])
        module = nn.Sequential(_Standardize(torch.zeros(n_features), torch.ones(n_features)),
                               mlp_extractor(n_features, model.hidden_sizes, model.dropout))
        head = nn.Linear(int(model.hidden_sizes[-1]), len(classes))
        if state["kind"] == "model":
            network: nn.Module = TransferModel(ModuleBackbone(module, name="source_network"),
                                               head)
        else:
            network = nn.Sequential(module, head)
        network.load_state_dict(dict(tensors))
        model.network_, model.classes_, model.kind_ = network, classes, state["kind"]
        model.n_features_in_ = n_features
        model.history_ = list(state.get("history") or [])
        model._ready()
        return model
