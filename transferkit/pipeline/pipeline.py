"""``TransferPipeline``: one fitted transfer — featurizer + method — that a user ships.

Examples
--------
>>> import tempfile
>>> from transferkit.datasets import load_stackoverflow
>>> markets = load_stackoverflow(["United States", "Canada"])
>>> us, canada = markets["United States"], markets["Canada"]
>>> pipeline = TransferPipeline("kmm").fit(us.sample(400, seed=0), canada.hide_labels(0))
>>> folder = pipeline.save(tempfile.mkdtemp() + "/model")
>>> raw_rows = canada.frame.drop(columns=["Remote"]).head(5)
>>> loaded = TransferPipeline.load(folder)
>>> bool((loaded.predict(raw_rows) == pipeline.predict(raw_rows)).all())
True
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from transferkit._io import atomic_directory
from transferkit._json import to_jsonable
from transferkit.domain import Domain
from transferkit.pipeline import card as model_card
from transferkit.pipeline._rows import feature_rows
from transferkit.pipeline.factory import create
from transferkit.pipeline.featurizer import Featurizer, Rows
from transferkit.pipeline.persist import (
    FORMAT_VERSION,
    ModelFileError,
    check_files,
    load_object,
    read_json,
    save_object,
    write_json,
)

__all__ = ["TransferPipeline"]

_MANIFEST = "pipeline.json"


class TransferPipeline(BaseEstimator):
    """Featurize two markets, fit one transfer method, and serve it on raw target rows.

    Parameters
    ----------
    method : str or estimator, default="source_only"
        A name in ``transferkit.pipeline.names()`` or an unfitted method object with
        ``fit(source, target)`` on featurized Domains.
    method_params : mapping, optional
        Parameters of a named method (``{"reg": 0.0}``; neural ones take ``train={...}``).
    model : {"logistic", "gbm"} or scikit-learn estimator, default="logistic"
        The scikit-learn model of baseline, reweighting and few-label methods.
    encoder : str, optional
        Backbone that encodes text or image markets.
    harmonize : mapping or False, optional
        ``Harmonizer`` options for tables; False uses numeric features as they are.
    cache_dir : path, optional
        Feature cache of the encoder.
    random_state : int, optional
        Seed of the method.

    Attributes
    ----------
    featurizer_ : Featurizer
    method_ : estimator
        The fitted transfer method, on featurized rows.
    task_ : str
    classes_ : ndarray (classification)
    fit_info_ : dict
        Market names and row counts, seconds, seed.
    """

    def __init__(
        self,
        method: str | BaseEstimator = "source_only",
        *,
        method_params: Mapping[str, Any] | None = None,
        model: str | BaseEstimator = "logistic",
        encoder: str | None = None,
        harmonize: Mapping[str, Any] | Literal[False] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        random_state: int | None = None,
    ) -> None:
        self.method = method
        self.method_params = method_params
        self.model = model
        self.encoder = encoder
        self.harmonize = harmonize
        self.cache_dir = cache_dir
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(self, source: Domain, target: Domain) -> TransferPipeline:
        """Fit the featurizer on both markets, then the method on their features.

        Parameters
        ----------
        source : Domain
            The labelled source market (raw rows).
        target : Domain
            The target market: unlabelled rows, and labelled ones when there are any.
        """
        started = time.perf_counter()
        for side, domain in (("source", source), ("target", target)):
            if not isinstance(domain, Domain):
                raise TypeError(f"TransferPipeline.fit expects Domains; the {side} is "
                                f"{type(domain).__name__}. Build it with Domain.from_frame.")
        if source.schema.label is None or source.n_labeled == 0:
            raise ValueError(f"The source market {source.name!r} has no labelled rows; a "
                             "transfer starts from a labelled source.")
        featurizer = Featurizer(encoder=self.encoder, harmonize=self.harmonize,
                                cache_dir=self.cache_dir).fit(source, target)
        source_x = featurizer.transform(source, side="source")
        target_x = featurizer.transform(target, side="target")
        method = self._new_method(source_x.task)
        method.fit(source_x, target_x)
        self.featurizer_, self.method_ = featurizer, method
        self.task_ = source_x.task
        if hasattr(method, "classes_"):
            self.classes_ = np.asarray(method.classes_)
        self.fit_info_ = _fit_facts(source, target, seconds=time.perf_counter() - started,
                                    random_state=self.random_state, method=self.method_name)
        return self

    @classmethod
    def from_fitted(cls, model: Any, source: Domain, target: Domain | None = None, *,
                    name: str | None = None,
                    harmonize: Mapping[str, Any] | Literal[False] | None = False
                    ) -> TransferPipeline:
        """Wrap a model fitted elsewhere (an adapted meta-learner, say) to save and serve it.

        ``source`` (and ``target``) are the raw Domains whose columns the model reads; with
        the default ``harmonize=False`` numeric features reach the model as they are.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from transferkit import Domain
        >>> X = np.random.default_rng(0).normal(size=(30, 2))
        >>> user = Domain.from_arrays(X, (X[:, 0] > 0).astype(int), name="user_7")
        >>> model = LogisticRegression().fit(user.X, user.y)
        >>> served = TransferPipeline.from_fitted(model, user, name="per_user_logistic")
        >>> served.predict(user.frame.drop(columns=["label"]))[:3].tolist()
        [1, 1, 0]
        """
        for side, domain in (("source", source), ("target", target)):
            if domain is not None and not isinstance(domain, Domain):
                raise TypeError(f"from_fitted: the {side} must be a Domain; got "
                                f"{type(domain).__name__}.")
        if not callable(getattr(model, "predict", None)):
            raise TypeError(f"from_fitted needs a fitted model with predict; got "
                            f"{type(model).__name__}.")
        target = source if target is None else target
        pipeline = cls(model, harmonize=harmonize)
        pipeline.featurizer_ = Featurizer(harmonize=harmonize).fit(source, target)
        pipeline.method_ = model
        pipeline.task_ = source.task
        if hasattr(model, "classes_"):
            pipeline.classes_ = np.asarray(model.classes_)
        pipeline.fit_info_ = _fit_facts(source, target, seconds=0.0, random_state=None,
                                        method=name or type(model).__name__)
        return pipeline

    def _new_method(self, task: str) -> BaseEstimator:
        if isinstance(self.method, str):
            return create(self.method, task=task, model=self.model,
                          random_state=self.random_state, **dict(self.method_params or {}))
        if self.method_params:
            raise ValueError("method_params apply to a method given by name; set the "
                             "parameters on the method object instead.")
        if not callable(getattr(self.method, "fit", None)):
            raise TypeError(f"method must be a registered name or an estimator with "
                            f"fit(source, target); got {type(self.method).__name__}.")
        return clone(self.method)

    @property
    def method_name(self) -> str:
        """The registered name of the method, the name given to ``from_fitted``, or the
        method's class name."""
        info = getattr(self, "fit_info_", None)
        if info and info.get("method"):
            return str(info["method"])
        return self.method if isinstance(self.method, str) else type(self.method).__name__

    # ------------------------------------------------------------------ serving
    def featurize(self, rows: Rows) -> Domain:
        """The featurized Domain of raw target ``rows`` (Domain, DataFrame or file path)."""
        check_is_fitted(self, "method_")
        return self.featurizer_.transform(self.featurizer_.rows_to_domain(rows))

    def predict(self, rows: Rows) -> np.ndarray:
        """Predicted labels (or values) for raw target-market rows."""
        return np.asarray(self.method_.predict(feature_rows(self.featurize(rows))))

    def predict_proba(self, rows: Rows) -> np.ndarray:
        """Class probabilities for raw target-market rows, columns in ``classes_`` order."""
        check_is_fitted(self, "method_")
        if not hasattr(self.method_, "predict_proba"):
            raise AttributeError(f"The {self.method_name!r} method gives no probabilities "
                                 f"(task {self.task_!r}); use predict.")
        return np.asarray(self.method_.predict_proba(feature_rows(self.featurize(rows))))

    def transform(self, rows: Rows) -> np.ndarray:
        """Features of raw rows: the method's learned representation, else the featurizer's."""
        X = feature_rows(self.featurize(rows))
        if hasattr(self.method_, "transform"):
            return np.asarray(self.method_.transform(X))
        return X

    def predict_frame(self, rows: Rows) -> pd.DataFrame:
        """One row per input row: ``prediction`` and, for classifiers, ``proba_<class>``."""
        domain = self.featurize(rows)
        X = feature_rows(domain)
        frame = pd.DataFrame({"prediction": np.asarray(self.method_.predict(X))})
        if self.task_ != "regression" and hasattr(self.method_, "predict_proba"):
            proba = np.asarray(self.method_.predict_proba(X))
            for i, label in enumerate(self.classes_):
                frame[f"proba_{label}"] = proba[:, i]
        return frame

    # ------------------------------------------------------------------ persistence
    def save(self, folder: str | os.PathLike[str], *, overwrite: bool = False,
             card: Mapping[str, Any] | None = None) -> Path:
        """Write the fitted pipeline to ``folder`` (created whole, atomically).

        Settings and facts go to JSON, scikit-learn parts to skops, torch weights to
        safetensors; ``MODEL_CARD.md`` and ``model_card.json`` describe the model, with
        the run's verdict and gap summary when ``card`` gives them.

        Raises
        ------
        FileExistsError
            ``folder`` exists and ``overwrite`` is False.
        """
        check_is_fitted(self, "method_")
        folder = Path(folder)
        with atomic_directory(folder, overwrite=overwrite) as tmp:
            files = {**save_object(tmp, "featurizer", self.featurizer_),
                     **save_object(tmp, "method", self.method_)}
            facts = model_card.build(self, extra=card)
            model_card.write(tmp, facts)
            write_json(tmp / _MANIFEST, {
                "format_version": FORMAT_VERSION,
                "kind": "transferkit.TransferPipeline",
                "params": self._saved_params(),
                "fitted": {"task": self.task_,
                           "classes": getattr(self, "classes_", None),
                           "fit_info": self.fit_info_},
                "files": files,
            })
        return folder

    def _saved_params(self) -> dict[str, Any]:
        params = self.get_params(deep=False)
        if not isinstance(self.method, str):
            params["method"] = None
        if not isinstance(self.model, str):
            params["model"] = type(self.model).__name__
        params["cache_dir"] = None if self.cache_dir is None else str(self.cache_dir)
        return to_jsonable(params)

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> TransferPipeline:
        """Read a folder written by ``save``; refuses damaged, untrusted or newer ones.

        Raises
        ------
        ModelFileError
            Missing or truncated files, a file changed since saving, types transferkit
            does not trust, or a format newer than this version reads.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise ModelFileError(f"{str(folder)!r} is not a model folder (it does not exist "
                                 "or is a file); pass the folder TransferPipeline.save wrote.")
        manifest = read_json(folder / _MANIFEST)
        if not isinstance(manifest, dict) or manifest.get("kind") != "transferkit.TransferPipeline":
            raise ModelFileError(f"{str(folder / _MANIFEST)!r} does not describe a "
                                 "transferkit pipeline.")
        version = manifest.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ModelFileError(
                f"{str(folder)!r} was saved in model format {version!r}; this transferkit "
                f"reads formats up to {FORMAT_VERSION}. Upgrade transferkit to load it."
            )
        files = manifest["files"]
        check_files(folder, files)
        params = dict(manifest["params"])
        featurizer = load_object(folder, "featurizer", files)
        method = load_object(folder, "method", files)
        if params.get("method") is None:
            params["method"] = method
        if not isinstance(params.get("model"), str) or params["model"] not in ("logistic",
                                                                               "gbm"):
            params["model"] = "logistic"
        pipeline = cls(**params)
        fitted = manifest["fitted"]
        pipeline.featurizer_, pipeline.method_ = featurizer, method
        pipeline.task_ = fitted["task"]
        if hasattr(method, "classes_"):
            pipeline.classes_ = np.asarray(method.classes_)
        pipeline.fit_info_ = fitted["fit_info"]
        return pipeline


def _fit_facts(source: Domain, target: Domain, *, seconds: float, random_state: int | None,
               method: str) -> dict[str, Any]:
    """What a pipeline was fitted on, for its manifest and model card."""
    return {
        "source": {"name": source.name, "rows": source.n_samples, "labelled": source.n_labeled},
        "target": {"name": target.name, "rows": target.n_samples, "labelled": target.n_labeled},
        "seconds": seconds, "random_state": random_state, "method": method,
    }
