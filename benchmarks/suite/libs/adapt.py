"""ADAPT (adapt 0.4.5, TensorFlow/Keras 2.15) behind the suite's adapter contract.

Library name ``adapt``; runs in ``benchmarks/.peers/adapt``. The library is imported
lazily inside functions with absolute imports, so this module (``benchmarks.suite.libs.adapt``)
never shadows the real ``adapt`` package.

* Shallow reweighters (``kmm``, ``kliep``, ``ulsif``) and ``coral``: ADAPT's estimator API
  ``Method(LogisticRegression(max_iter=1000), random_state=seed).fit(X_s, y_s, Xt=X_t)``,
  then ``predict(X_t)``; every other parameter is ADAPT's default. Features are cast to
  float64 first (split files hold float32, which KMM's cvxopt solver rejects).
* Deep methods (``dann``, ``cdan``, ``deep_coral``): the suite's network in Keras, encoder
  ``Dense(hidden, relu) -> Dropout(dropout)`` and task ``Dense(n_classes, softmax)``,
  ``AdamW(lr, weight_decay)`` (Keras 2.15 has it, so no deviation), batch 64, ``epochs``
  epochs, seeded with ``tf.keras.utils.set_random_seed`` (Python, numpy, TF) and ADAPT's
  ``random_state``. ADAPT's default discriminator (Dense(10, relu) x 2, sigmoid output) and
  default ``lambda_`` (DANN 0.1, CDAN 1.0 with entropy weighting, DeepCORAL 1.0); optimizer
  and loss go to the constructor, as in ADAPT's examples. Labels are one-hot with
  categorical cross-entropy, because ADAPT reshapes the task output to the label's shape.
  TensorFlow runs on the CPU (tensorflow-cpu), so ``params["device"]`` is not used.
  Kept as the library ships it: ADAPT's DeepCORAL updates the encoder with the CORAL loss
  alone (``_deepcoral.py``: ``enc_tape.gradient(disc_loss, ...)``), so the label never
  reaches the encoder and its accuracy stays near chance; DANN/CDAN use task - lambda * disc.
* Few-label methods use only the visible target rows (``split.labeled``):
  ``RegularTransferLC``/``LR`` on a LogisticRegression/Ridge fitted on the source,
  ``FA``, ``TrAdaBoost`` (classification) and ``TrAdaBoostR2``/``TwoStageTrAdaBoostR2``
  (regression) with LogisticRegression/Ridge, library defaults otherwise (``n_estimators=10``,
  ``lambda_=1``). Labels are not rescaled (ADAPT's docstrings do not ask for it).
* Weights: ``Method(random_state=seed).fit_weights(X_s, X_t)``, one per source row.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import numpy as np

from benchmarks.suite.contract import Split

REWEIGHTERS = ("kmm", "kliep", "ulsif")
DEEP = ("dann", "cdan", "deep_coral")
FEWLABEL_CLASSIFICATION = ("regular_transfer", "feature_augmentation", "tradaboost")
FEWLABEL_REGRESSION = ("regular_transfer", "feature_augmentation", "tradaboost_r2",
                       "two_stage_tradaboost_r2")
METHODS = {
    "uda": (*REWEIGHTERS, "coral", *DEEP),
    "fewlabel": tuple(dict.fromkeys(FEWLABEL_CLASSIFICATION + FEWLABEL_REGRESSION)),
    "weights": REWEIGHTERS,
}
CAVEATS = {"deep_coral": "ADAPT 0.4.5's DeepCORAL trains the encoder on the CORAL loss "
                         "alone (the task loss never reaches it), hence near-chance accuracy"}
TASKS = {"tradaboost": ("classification",), "tradaboost_r2": ("regression",),
         "two_stage_tradaboost_r2": ("regression",)}
_REWEIGHTER_CLASSES = {"kmm": "KMM", "kliep": "KLIEP", "ulsif": "ULSIF"}
_DEEP_CLASSES = {"dann": "DANN", "cdan": "CDAN", "deep_coral": "DeepCORAL"}


def versions() -> dict[str, str]:
    return {name: metadata.version(name)
            for name in ("adapt", "tensorflow-cpu", "keras", "scikit-learn")}


def set_threads(n: int) -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(n)
    tf.config.threading.set_inter_op_parallelism_threads(n)


def _logistic() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


def _float64(X: np.ndarray) -> np.ndarray:
    """Split files hold float32; KMM's cvxopt solver takes float64 only."""
    return np.asarray(X, dtype=np.float64)


def _shallow(method: str, split: Split, seed: int) -> np.ndarray:
    import adapt.feature_based
    import adapt.instance_based

    if method == "coral":
        cls = adapt.feature_based.CORAL
    else:
        cls = getattr(adapt.instance_based, _REWEIGHTER_CLASSES[method])
    X_source, X_target = _float64(split.X_source), _float64(split.X_target)
    model = cls(_logistic(), random_state=seed, verbose=0)
    model.fit(X_source, split.y_source, Xt=X_target)
    return np.asarray(model.predict(X_target))


def _deep(method: str, split: Split, seed: int, params: dict) -> np.ndarray:
    import adapt.feature_based
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)  # Python's random too: Keras 2 draws init seeds there
    n_features, n_classes = split.X_source.shape[1], split.n_classes
    encoder = tf.keras.Sequential([
        tf.keras.Input(shape=(n_features,)),
        tf.keras.layers.Dense(int(params.get("hidden", 256)), activation="relu"),
        tf.keras.layers.Dropout(float(params.get("dropout", 0.2)))], name="encoder")
    task = tf.keras.Sequential([
        tf.keras.Input(shape=(int(params.get("hidden", 256)),)),
        tf.keras.layers.Dense(n_classes, activation="softmax")], name="task")
    optimizer = tf.keras.optimizers.AdamW(learning_rate=float(params.get("lr", 1e-3)),
                                          weight_decay=float(params.get("weight_decay", 1e-4)))
    cls = getattr(adapt.feature_based, _DEEP_CLASSES[method])
    model = cls(encoder=encoder, task=task, optimizer=optimizer,
                loss="categorical_crossentropy", random_state=seed, verbose=0)
    y_onehot = np.eye(n_classes, dtype=np.float32)[split.y_source.astype(np.int64)]
    model.fit(split.X_source, y_onehot, Xt=split.X_target,
              epochs=int(params.get("epochs", 20)), batch_size=int(params.get("batch_size", 64)),
              verbose=0)
    probabilities = model.predict(split.X_target, batch_size=1024, verbose=0)
    return np.asarray(probabilities).argmax(axis=1)


def _fewlabel(method: str, split: Split, seed: int) -> np.ndarray:
    regression = split.task == "regression"
    offered = FEWLABEL_REGRESSION if regression else FEWLABEL_CLASSIFICATION
    if method not in offered:
        raise ValueError(f"adapt has no few-label method {method!r} for {split.task}; "
                         f"expected one of {offered}")
    if not split.labeled.any():
        raise ValueError("few-label methods need labelled target rows, but split.labeled "
                         "is all False; use a split with a labelled target subset")
    import adapt.feature_based
    import adapt.instance_based
    import adapt.parameter_based
    from sklearn.linear_model import Ridge

    X_source, X_target = _float64(split.X_source), _float64(split.X_target)
    X_labeled = X_target[split.labeled]
    y_labeled = split.y_target_train[split.labeled].astype(float if regression else np.int64)
    base = Ridge if regression else _logistic
    if method == "regular_transfer":
        source_model = base().fit(X_source, split.y_source)
        cls = (adapt.parameter_based.RegularTransferLR if regression
               else adapt.parameter_based.RegularTransferLC)
        model = cls(source_model, random_state=seed, verbose=0)
        model.fit(X_labeled, y_labeled)
        return np.asarray(model.predict(X_target)).ravel()
    if method == "feature_augmentation":
        model = adapt.feature_based.FA(base(), random_state=seed, verbose=0)
    else:
        name = {"tradaboost": "TrAdaBoost", "tradaboost_r2": "TrAdaBoostR2",
                "two_stage_tradaboost_r2": "TwoStageTrAdaBoostR2"}[method]
        model = getattr(adapt.instance_based, name)(base(), random_state=seed, verbose=0)
    model.fit(X_source, split.y_source, Xt=X_labeled, yt=y_labeled)
    return np.asarray(model.predict(X_target)).ravel()


def predict(method: str, split: Split, seed: int, params: dict) -> np.ndarray:
    if method in METHODS["fewlabel"]:
        return _fewlabel(method, split, seed)
    if method in DEEP:
        return _deep(method, split, seed, params)
    if method in (*REWEIGHTERS, "coral"):
        return _shallow(method, split, seed)
    raise ValueError(f"adapt has no label-free method {method!r}; expected one of "
                     f"{METHODS['uda']}")


def weights(method: str, X_source: np.ndarray, X_target: np.ndarray, seed: int) -> np.ndarray:
    import adapt.instance_based

    if method not in _REWEIGHTER_CLASSES:
        raise ValueError(f"adapt has no reweighter {method!r}; expected one of {REWEIGHTERS}")
    cls = getattr(adapt.instance_based, _REWEIGHTER_CLASSES[method])
    weighter = cls(random_state=seed, verbose=0)
    return np.asarray(weighter.fit_weights(_float64(X_source), _float64(X_target))).ravel()
