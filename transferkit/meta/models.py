"""Models adapted to one new task: what ``adapt`` returns, ready to predict, save and serve.

Every adapted model predicts on numpy arrays or Domains and round-trips through
``export_state`` (a JSON-able config and a flat dict of tensors, for safetensors) and
``from_state`` without pickle and without training.

Examples
--------
>>> import numpy as np, torch
>>> from transferkit.meta._nets import MetaNet
>>> net = MetaNet(2, (4,), 2)
>>> model = AdaptedNet(kind="classification", hidden=[4], n_outputs=2, classes=["a", "b"],
...                    x_mean=[0.0, 0.0], x_scale=[1.0, 1.0],
...                    params=dict(net.state_dict()), learner="maml")
>>> config, tensors = model.export_state()
>>> clone = AdaptedNet.from_state(config, tensors)
>>> bool((clone.predict_proba(np.ones((3, 2))) == model.predict_proba(np.ones((3, 2)))).all())
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import torch
from numpy.typing import ArrayLike

from transferkit._validation import check_array_2d
from transferkit.domain import Domain
from transferkit.meta._nets import MetaNet

__all__ = ["AdaptedNet", "EmbeddingClassifier"]

Kind = Literal["classification", "regression"]


def _json_list(values: ArrayLike) -> list[Any]:
    return np.asarray(values).tolist()


class _TaskModel:
    """Shared input handling: arrays or Domains, standardised like the meta-training data."""

    kind: Kind
    x_mean: np.ndarray
    x_scale: np.ndarray
    classes_: np.ndarray

    def _features(self, X: ArrayLike | Domain) -> torch.Tensor:
        if isinstance(X, Domain):
            X = X.X
            if not isinstance(X, np.ndarray):
                raise TypeError("The Domain has categorical features; harmonize it first.")
        array = check_array_2d(X, "X")
        if array.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {array.shape[1]} features but this model was adapted on "
                f"{self.n_features_in_}; pass rows with the meta-training feature schema."
            )
        return torch.as_tensor((array - self.x_mean) / self.x_scale, dtype=torch.float32)

    @property
    def n_features_in_(self) -> int:
        return len(self.x_mean)

    def _check_classifier(self, what: str) -> None:
        if self.kind != "classification":
            raise AttributeError(f"{what} is only defined for classification; this model "
                                 "predicts a number.")

    def _logits(self, X: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def predict_proba(self, X: ArrayLike | Domain) -> np.ndarray:
        """Class probabilities, columns in ``classes_`` order."""
        self._check_classifier("predict_proba")
        with torch.no_grad():
            logits = self._logits(self._features(X))[:, :len(self.classes_)]
            return torch.softmax(logits, dim=1).double().numpy()

    def predict(self, X: ArrayLike | Domain) -> np.ndarray:
        """Predicted class labels, or numbers for regression."""
        if self.kind == "classification":
            return self.classes_[self.predict_proba(X).argmax(axis=1)]
        with torch.no_grad():
            out = self._logits(self._features(X)).squeeze(-1).double().numpy()
        return out * self.y_scale + self.y_mean


class AdaptedNet(_TaskModel):
    """A :class:`~transferkit.meta._nets.MetaNet` adapted to one task (MAML, Reptile,
    ANIL, Meta-SGD, the hypernetwork and every pooled baseline return one).

    Parameters
    ----------
    kind : {"classification", "regression"}
    hidden : sequence of int
        Widths of the network's hidden layers.
    n_outputs : int
        Output units (at least ``len(classes)``; extra units are ignored).
    classes : sequence, optional
        Class labels in output order (classification).
    x_mean, x_scale : sequence of float
        Feature standardisation learned in meta-training.
    y_mean, y_scale : float
        Regression label standardisation.
    params : mapping of str to Tensor
        The adapted weights (``MetaNet`` state-dict names).
    learner : str
        Registry name of the learner that produced the model.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    network_ : MetaNet
    """

    def __init__(self, *, kind: Kind, hidden: Sequence[int], n_outputs: int,
                 x_mean: Sequence[float], x_scale: Sequence[float],
                 params: Mapping[str, torch.Tensor], learner: str,
                 classes: Sequence[Any] | None = None, y_mean: float = 0.0,
                 y_scale: float = 1.0) -> None:
        self.kind = kind
        self.hidden = [int(h) for h in hidden]
        self.n_outputs = int(n_outputs)
        self.x_mean = np.asarray(x_mean, dtype=float)
        self.x_scale = np.asarray(x_scale, dtype=float)
        self.y_mean = float(y_mean)
        self.y_scale = float(y_scale)
        self.learner = learner
        self.classes_ = np.asarray(classes if classes is not None else [])
        self.network_ = MetaNet(len(self.x_mean), self.hidden, self.n_outputs)
        self.network_.load_state_dict({k: v.detach().cpu().float() for k, v in params.items()})
        self.network_.eval()

    def _logits(self, X: torch.Tensor) -> torch.Tensor:
        return self.network_(X)

    def export_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """``(config, tensors)``: JSON-able settings and the weights, for saving."""
        config = {"type": "AdaptedNet", "kind": self.kind, "hidden": self.hidden,
                  "n_outputs": self.n_outputs, "classes": _json_list(self.classes_),
                  "x_mean": _json_list(self.x_mean), "x_scale": _json_list(self.x_scale),
                  "y_mean": self.y_mean, "y_scale": self.y_scale, "learner": self.learner}
        tensors = {k: v.detach().clone().contiguous()
                   for k, v in self.network_.state_dict().items()}
        return config, tensors

    @classmethod
    def from_state(cls, config: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
                   ) -> AdaptedNet:
        """Rebuild a model saved with ``export_state``; it predicts identically."""
        settings = {k: v for k, v in config.items() if k != "type"}
        return cls(params=tensors, **settings)

    def __repr__(self) -> str:
        return (f"AdaptedNet({self.learner}, {self.kind}, hidden={self.hidden}, "
                f"classes={self.classes_.tolist()[:6]})")


class EmbeddingClassifier(_TaskModel):
    """A classifier that compares embeddings of new rows with a task's support set.

    ``mode="prototype"`` (prototypical networks) scores each class by minus the squared
    distance to the mean embedding of its support rows; ``mode="attention"`` (matching
    networks) averages the support labels weighted by a softmax of cosine similarities.

    Parameters
    ----------
    hidden : sequence of int
        Widths of the embedding network.
    classes : sequence
        Class labels in output order.
    x_mean, x_scale : sequence of float
    params : mapping of str to Tensor
        Embedding weights (``MetaNet`` with no head).
    support : Tensor
        ``(n_classes, dim)`` prototypes, or ``(n_support, dim)`` support embeddings.
    support_labels : Tensor, optional
        Class positions of the support rows (attention mode).
    mode : {"prototype", "attention"}
    temperature : float
        Scale of the cosine similarities in attention mode.
    learner : str
    """

    kind: Kind = "classification"

    def __init__(self, *, hidden: Sequence[int], classes: Sequence[Any],
                 x_mean: Sequence[float], x_scale: Sequence[float],
                 params: Mapping[str, torch.Tensor], support: torch.Tensor,
                 learner: str, mode: Literal["prototype", "attention"] = "prototype",
                 support_labels: torch.Tensor | None = None, temperature: float = 10.0) -> None:
        self.hidden = [int(h) for h in hidden]
        self.classes_ = np.asarray(classes)
        self.x_mean = np.asarray(x_mean, dtype=float)
        self.x_scale = np.asarray(x_scale, dtype=float)
        self.mode = mode
        self.temperature = float(temperature)
        self.learner = learner
        self.network_ = MetaNet(len(self.x_mean), self.hidden, 0)
        self.network_.load_state_dict({k: v.detach().cpu().float() for k, v in params.items()})
        self.network_.eval()
        self.support_ = support.detach().cpu().float()
        self.support_labels_ = (None if support_labels is None
                                else support_labels.detach().cpu().long())

    def _logits(self, X: torch.Tensor) -> torch.Tensor:
        return embedding_logits(self.network_.embed(X), self.support_, self.support_labels_,
                                len(self.classes_), self.mode, self.temperature)

    def export_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """``(config, tensors)``: JSON-able settings and the weights, for saving."""
        config = {"type": "EmbeddingClassifier", "hidden": self.hidden,
                  "classes": _json_list(self.classes_), "x_mean": _json_list(self.x_mean),
                  "x_scale": _json_list(self.x_scale), "mode": self.mode,
                  "temperature": self.temperature, "learner": self.learner}
        tensors = {k: v.detach().clone().contiguous()
                   for k, v in self.network_.state_dict().items()}
        tensors["support"] = self.support_.clone()
        if self.support_labels_ is not None:
            tensors["support_labels"] = self.support_labels_.clone()
        return config, tensors

    @classmethod
    def from_state(cls, config: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
                   ) -> EmbeddingClassifier:
        """Rebuild a model saved with ``export_state``; it predicts identically."""
        settings = {k: v for k, v in config.items() if k != "type"}
        params = {k: v for k, v in tensors.items() if k not in ("support", "support_labels")}
        return cls(params=params, support=tensors["support"],
                   support_labels=tensors.get("support_labels"), **settings)

    def __repr__(self) -> str:
        return (f"EmbeddingClassifier({self.learner}, {self.mode}, "
                f"classes={self.classes_.tolist()[:6]})")


def embedding_logits(embedded: torch.Tensor, support: torch.Tensor,
                     support_labels: torch.Tensor | None, n_classes: int, mode: str,
                     temperature: float) -> torch.Tensor:
    """Class scores of embedded rows against prototypes or labelled support embeddings."""
    if mode == "prototype":
        return -torch.cdist(embedded, support).pow(2)
    similarity = torch.nn.functional.normalize(embedded, dim=1) @ \
        torch.nn.functional.normalize(support, dim=1).T
    attention = torch.softmax(temperature * similarity, dim=1)
    onehot = torch.nn.functional.one_hot(support_labels, n_classes).to(attention.dtype)
    return torch.log(attention @ onehot + 1e-8)
