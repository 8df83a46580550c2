"""Fine-tuning strategies: which backbone layers train, at which learning rate, when.

A strategy is a small object with three jobs, all run through the shared ``Trainer``:
it sets ``requires_grad`` on the backbone's layers (``setup``), returns the optimizer's
parameter groups with their learning-rate multipliers, and may add epoch callbacks
(gradual unfreezing) and loss penalties (L2-SP). Layers are named as in
``backbone.module.get_submodule`` (``"layer4"``, ``"blocks.6"``, ``"encoder.layer.5"``);
``backbone.layer_names()`` lists the natural units.

Examples
--------
>>> from torch import nn
>>> from transferkit.backbones import ModuleBackbone
>>> from transferkit.finetune.model import TransferModel
>>> backbone = ModuleBackbone(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8)))
>>> model = TransferModel(backbone, nn.Linear(8, 2))
>>> strategy = PartialUnfreeze(["2"], lr_mult=0.1)
>>> strategy.setup(model, backbone)
>>> [(g["name"], g["lr_mult"]) for g in strategy.param_groups(model)]
[('2', 0.1), ('head', 1.0)]
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch
from torch import nn

from transferkit._validation import check_choice, check_param
from transferkit.backbones import TorchBackbone
from transferkit.finetune.model import BatchNormMode, TransferModel
from transferkit.training import Callback

if TYPE_CHECKING:
    from transferkit.training import Trainer

__all__ = [
    "L2SP",
    "LPFT",
    "GradualUnfreeze",
    "LinearProbe",
    "PartialUnfreeze",
    "Strategy",
    "resolve_layers",
]

Penalty = Callable[[nn.Module], torch.Tensor]
_BN_MODES = ("frozen", "train")


def resolve_layers(backbone: TorchBackbone, layers: Sequence[str]) -> list[str]:
    """Check that every name is a submodule of the backbone; unknown names list valid ones.

    Raises
    ------
    ValueError
        A name that is not a submodule, with the closest match and the natural units.
    """
    if isinstance(layers, str):
        layers = [layers]
    known = {name for name, _ in backbone.module.named_modules() if name}
    for layer in layers:
        if layer not in known:
            close = difflib.get_close_matches(layer, sorted(known), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"Backbone {backbone.name!r} has no layer {layer!r}.{hint} Its layers are "
                f"{backbone.layer_names()} (any dotted submodule name also works)."
            )
    return list(layers)


def _positive(owner: str, name: str, value: Any) -> None:
    check_param(owner, name, value, "a float > 0",
                lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v > 0)


def _positive_int(owner: str, name: str, value: Any) -> None:
    check_param(owner, name, value, "an int >= 1",
                lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1)


def _layer_groups(model: TransferModel, layers: Sequence[str], lr_mult: float) -> list[dict]:
    """One parameter group per layer ("" = the whole backbone, named "backbone")."""
    return [{"name": layer or "backbone", "lr_mult": lr_mult,
             "params": list(model.backbone.get_submodule(layer).parameters())}
            for layer in layers]


class Strategy:
    """Base class: everything frozen except the head; subclasses unfreeze layers.

    Parameters
    ----------
    bn : {"frozen", "train"}, default="frozen"
        ``"frozen"`` keeps every BatchNorm layer in eval mode (running statistics fixed);
        ``"train"`` lets the BatchNorm layers of unfrozen blocks update their statistics.
        Frozen blocks always keep theirs.
    """

    #: True when the backbone never trains, so its features can be computed once.
    frozen_backbone: bool = False

    def __init__(self, *, bn: BatchNormMode = "frozen") -> None:
        self.bn = bn

    def _check(self) -> None:
        check_choice(type(self).__name__, "bn", self.bn, _BN_MODES)

    def setup(self, model: TransferModel, backbone: TorchBackbone) -> None:
        """Validate the strategy against the backbone and set ``requires_grad``."""
        self._check()
        model.bn = self.bn
        model.backbone.requires_grad_(False)
        model.head.requires_grad_(True)
        if model.source_head is not None:
            model.source_head.requires_grad_(True)

    def param_groups(self, model: TransferModel) -> list[dict[str, Any]]:
        """Optimizer parameter groups (``name``, ``params``, ``lr_mult``)."""
        return self._head_groups(model)

    def trained_layers(self) -> list[str]:
        """Backbone layers that train at some point of the run ("" = the whole backbone)."""
        return []

    def callbacks(self, model: TransferModel) -> list[Callback]:
        """Callbacks for the shared Trainer (epoch-boundary changes)."""
        return []

    def penalties(self, model: TransferModel) -> list[Penalty]:
        """Extra loss terms added at every step."""
        return []

    @staticmethod
    def _head_groups(model: TransferModel) -> list[dict[str, Any]]:
        params = list(model.head.parameters())
        if model.source_head is not None:
            params += list(model.source_head.parameters())
        return [{"name": "head", "params": params, "lr_mult": 1.0}]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class LinearProbe(Strategy):
    """Freeze the whole backbone and train a new linear head on its (cached) features.

    Features are computed once with ``transferkit.backbones.encode`` (and cached on disk
    when the ``FineTuner`` has a ``cache_dir``); then only the head trains: by default
    with the shared ``Trainer`` (``TrainConfig`` epochs, lr, weight decay), or, given
    ``C``, as an L2-regularised logistic regression solved exactly with L-BFGS (the usual
    linear-probe protocol), whose weights become the head.

    Parameters
    ----------
    C : float or "cv", optional
        Inverse L2 strength of the logistic-regression head; ``"cv"`` picks it by
        stratified cross-validation on the training rows only. None trains the head with
        the Trainer.
    bn : {"frozen", "train"}, default="frozen"

    Examples
    --------
    >>> LinearProbe(C="cv")
    LinearProbe(bn='frozen', C='cv')
    """

    frozen_backbone = True

    def __init__(self, *, C: float | Literal["cv"] | None = None,
                 bn: BatchNormMode = "frozen") -> None:
        super().__init__(bn=bn)
        self.C = C

    def _check(self) -> None:
        super()._check()
        check_param("LinearProbe", "C", self.C, "None, 'cv' or a float > 0",
                    lambda v: v is None or v == "cv" or (
                        isinstance(v, int | float) and not isinstance(v, bool) and v > 0))

    def fit_head(self, features: np.ndarray, codes: np.ndarray, n_classes: int,
                 seed: int) -> nn.Linear:
        """The head as an exact L-BFGS logistic regression (requires ``C``)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GridSearchCV, StratifiedKFold

        self._check()
        model = LogisticRegression(C=1.0 if self.C == "cv" else float(self.C), max_iter=3000)
        if self.C == "cv":
            folds = int(min(5, np.bincount(codes).min()))
            if folds < 2:
                raise ValueError(
                    "LinearProbe(C='cv') needs at least 2 labelled rows per class for "
                    "cross-validation; pass a number for C instead."
                )
            search = GridSearchCV(
                model, {"C": np.logspace(-3, 3, 7).tolist()}, scoring="neg_log_loss",
                cv=StratifiedKFold(folds, shuffle=True, random_state=seed))
            model = search.fit(features, codes).best_estimator_
        else:
            model.fit(features, codes)
        self.C_ = float(model.C)
        coef, intercept = model.coef_, model.intercept_
        if n_classes == 2:
            # sklearn keeps one logit for two classes; split it so softmax gives the same.
            coef = np.vstack([-coef / 2, coef / 2])
            intercept = np.r_[-intercept / 2, intercept / 2]
        head = nn.Linear(features.shape[1], n_classes)
        with torch.no_grad():
            head.weight.copy_(torch.as_tensor(coef, dtype=torch.float32))
            head.bias.copy_(torch.as_tensor(intercept, dtype=torch.float32))
        return head


class PartialUnfreeze(Strategy):
    """Freeze all but the named blocks; each unfrozen block gets its own learning rate.

    Parameters
    ----------
    layers : sequence of str
        Submodules to train (``["layer4"]`` for a ResNet, ``["blocks.6", "conv_head"]``
        for EfficientNet-Lite0).
    lr_mult : float or mapping of str to float, default=0.1
        Learning-rate multiplier of the unfrozen blocks relative to ``TrainConfig.lr``
        (which the head uses); a mapping gives one per layer name.
    bn : {"frozen", "train"}, default="frozen"

    Raises
    ------
    ValueError
        Empty ``layers``, unknown layer names, or a multiplier for a layer not listed.
    """

    def __init__(
        self,
        layers: Sequence[str],
        *,
        lr_mult: float | Mapping[str, float] = 0.1,
        bn: BatchNormMode = "frozen",
    ) -> None:
        super().__init__(bn=bn)
        self.layers = layers
        self.lr_mult = lr_mult

    def _check(self) -> None:
        super()._check()
        check_param("PartialUnfreeze", "layers", self.layers, "a non-empty list of layer names",
                    lambda v: not isinstance(v, str) and len(v) > 0)
        if isinstance(self.lr_mult, Mapping):
            extra = sorted(set(self.lr_mult) - set(self.layers))
            if extra:
                raise ValueError(
                    f"PartialUnfreeze(lr_mult=...) names layers {extra} that are not in "
                    f"layers={list(self.layers)}; add them to layers or drop them."
                )
            for name, value in self.lr_mult.items():
                _positive("PartialUnfreeze", f"lr_mult[{name!r}]", value)
        else:
            _positive("PartialUnfreeze", "lr_mult", self.lr_mult)

    def trained_layers(self) -> list[str]:
        return list(self.layers)

    def _mult(self, layer: str) -> float:
        if isinstance(self.lr_mult, Mapping):
            return float(self.lr_mult.get(layer, 0.1))
        return float(self.lr_mult)

    def setup(self, model: TransferModel, backbone: TorchBackbone) -> None:
        super().setup(model, backbone)
        for layer in resolve_layers(backbone, self.layers):
            model.backbone.get_submodule(layer).requires_grad_(True)

    def param_groups(self, model: TransferModel) -> list[dict[str, Any]]:
        groups = [g for layer in self.layers
                  for g in _layer_groups(model, [layer], self._mult(layer))]
        return groups + self._head_groups(model)


class GradualUnfreeze(Strategy):
    """ULMFiT gradual unfreezing with discriminative learning rates.

    Epoch 0 trains the head only; every ``epochs_per_stage`` epochs the next block down
    is unfrozen. The block ``k`` levels below the head learns at ``lr / decay**(k+1)``.

    Parameters
    ----------
    layers : sequence of str, optional
        Blocks from bottom to top (input side first); default ``backbone.layer_names()``.
    epochs_per_stage : int, default=1
    decay : float, default=2.6
        ULMFiT's factor between consecutive blocks.
    bn : {"frozen", "train"}, default="frozen"

    Attributes
    ----------
    schedule_ : list of (int, list of str)
        After training: each epoch and the blocks trainable during it.

    References
    ----------
    Howard & Ruder, "Universal Language Model Fine-tuning for Text Classification", ACL 2018.
    """

    def __init__(
        self,
        layers: Sequence[str] | None = None,
        *,
        epochs_per_stage: int = 1,
        decay: float = 2.6,
        bn: BatchNormMode = "frozen",
    ) -> None:
        super().__init__(bn=bn)
        self.layers = layers
        self.epochs_per_stage = epochs_per_stage
        self.decay = decay

    def _check(self) -> None:
        super()._check()
        _positive_int("GradualUnfreeze", "epochs_per_stage", self.epochs_per_stage)
        check_param("GradualUnfreeze", "decay", self.decay, "a float >= 1",
                    lambda v: isinstance(v, int | float) and v >= 1)

    def setup(self, model: TransferModel, backbone: TorchBackbone) -> None:
        super().setup(model, backbone)
        names = backbone.layer_names() if self.layers is None else self.layers
        # Top block first: the order in which they are unfrozen.
        self._order = list(reversed(resolve_layers(backbone, names)))
        self.schedule_: list[tuple[int, list[str]]] = []

    def trained_layers(self) -> list[str]:
        return list(self._order)

    def trainable_at(self, epoch: int) -> list[str]:
        """Blocks (top first) that train during ``epoch``."""
        return self._order[:min(epoch // self.epochs_per_stage, len(self._order))]

    def param_groups(self, model: TransferModel) -> list[dict[str, Any]]:
        groups = [g for depth, layer in enumerate(self._order)
                  for g in _layer_groups(model, [layer], float(self.decay) ** -(depth + 1))]
        return groups + self._head_groups(model)

    def callbacks(self, model: TransferModel) -> list[Callback]:
        return [_Unfreeze(self, model)]


class _Unfreeze(Callback):
    def __init__(self, strategy: GradualUnfreeze, model: TransferModel) -> None:
        self.strategy = strategy
        self.model = model

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        # Derived from the epoch alone, so a resumed run unfreezes exactly the same blocks.
        active = self.strategy.trainable_at(epoch)
        for layer in self.strategy._order:
            self.model.backbone.get_submodule(layer).requires_grad_(layer in active)
        self.strategy.schedule_.append((epoch, list(active)))


class LPFT(Strategy):
    """Linear probe, then fine-tune everything from the probed head (LP-FT).

    Fine-tuning with a random head distorts the pretrained features; probing first and
    then fine-tuning the whole network at a small learning rate keeps them (Kumar et al.).
    The probe runs on cached features like ``LinearProbe``.

    Parameters
    ----------
    probe_epochs : int, default=20
        Epochs of the linear-probe phase (``TrainConfig.epochs`` is the fine-tuning phase).
    probe_lr : float, optional
        Learning rate of the probe; default ``10 * TrainConfig.lr``.
    probe_C : float or "cv", optional
        Solve the probe exactly as a logistic regression instead (see ``LinearProbe``);
        ``probe_epochs`` and ``probe_lr`` are then unused.
    lr_mult : float, default=1.0
        Backbone learning-rate multiplier during fine-tuning (head: 1.0).
    layers : sequence of str, optional
        Blocks trained in phase 2; default the whole backbone.
    bn : {"frozen", "train"}, default="frozen"

    References
    ----------
    Kumar et al., "Fine-Tuning can Distort Pretrained Features and Underperform
    Out-of-Distribution", ICLR 2022.
    """

    def __init__(
        self,
        *,
        probe_epochs: int = 20,
        probe_lr: float | None = None,
        probe_C: float | Literal["cv"] | None = None,
        lr_mult: float = 1.0,
        layers: Sequence[str] | None = None,
        bn: BatchNormMode = "frozen",
    ) -> None:
        super().__init__(bn=bn)
        self.probe_epochs = probe_epochs
        self.probe_lr = probe_lr
        self.probe_C = probe_C
        self.lr_mult = lr_mult
        self.layers = layers

    def _check(self) -> None:
        super()._check()
        _positive_int("LPFT", "probe_epochs", self.probe_epochs)
        if self.probe_lr is not None:
            _positive("LPFT", "probe_lr", self.probe_lr)
        _positive("LPFT", "lr_mult", self.lr_mult)

    def setup(self, model: TransferModel, backbone: TorchBackbone) -> None:
        super().setup(model, backbone)
        self._layers = [""] if self.layers is None else resolve_layers(backbone, self.layers)
        for layer in self._layers:
            model.backbone.get_submodule(layer).requires_grad_(True)

    def trained_layers(self) -> list[str]:
        return list(self._layers)

    def param_groups(self, model: TransferModel) -> list[dict[str, Any]]:
        return [*_layer_groups(model, self._layers, float(self.lr_mult)),
                *self._head_groups(model)]


class L2SP(Strategy):
    """Fine-tune with a penalty pulling the weights back to their pretrained values.

    Adds ``alpha/2 * ||w - w0||^2`` over the trained backbone weights and
    ``beta/2 * ||w_head||^2`` over the new head, instead of plain weight decay toward 0.
    The optimiser's ``weight_decay`` still applies on top: with ``weight_decay > 0`` in the
    ``TrainConfig`` the backbone is also pulled towards zero, not only towards ``w0``, so
    set ``weight_decay=0`` for the pure L2-SP penalty of the paper.

    Parameters
    ----------
    alpha : float, default=0.01
    beta : float, default=0.01
    layers : sequence of str, optional
        Blocks to train; default the whole backbone.
    lr_mult : float, default=0.1
        Backbone learning-rate multiplier.
    bn : {"frozen", "train"}, default="frozen"

    References
    ----------
    Li, Grandvalet & Davoine, "Explicit Inductive Bias for Transfer Learning with
    Convolutional Networks", ICML 2018.
    """

    def __init__(
        self,
        *,
        alpha: float = 0.01,
        beta: float = 0.01,
        layers: Sequence[str] | None = None,
        lr_mult: float = 0.1,
        bn: BatchNormMode = "frozen",
    ) -> None:
        super().__init__(bn=bn)
        self.alpha = alpha
        self.beta = beta
        self.layers = layers
        self.lr_mult = lr_mult

    def _check(self) -> None:
        super()._check()
        for name in ("alpha", "beta"):
            check_param("L2SP", name, getattr(self, name), "a float >= 0",
                        lambda v: isinstance(v, int | float) and v >= 0)
        _positive("L2SP", "lr_mult", self.lr_mult)

    def setup(self, model: TransferModel, backbone: TorchBackbone) -> None:
        super().setup(model, backbone)
        self._layers = [""] if self.layers is None else resolve_layers(backbone, self.layers)
        self._anchor: dict[str, torch.Tensor] = {}
        for layer in self._layers:
            module = model.backbone.get_submodule(layer)
            module.requires_grad_(True)
            prefix = f"{layer}." if layer else ""
            for name, param in module.named_parameters():
                self._anchor[prefix + name] = param.detach().clone()

    def trained_layers(self) -> list[str]:
        return list(self._layers)

    def param_groups(self, model: TransferModel) -> list[dict[str, Any]]:
        return [*_layer_groups(model, self._layers, float(self.lr_mult)),
                *self._head_groups(model)]

    def penalties(self, model: TransferModel) -> list[Penalty]:
        return [lambda _: self.penalty(model)]

    def penalty(self, model: TransferModel) -> torch.Tensor:
        """The L2-SP term for the model's current weights."""
        params = dict(model.backbone.named_parameters())
        total = model.head.weight.new_zeros(())
        for name, anchor in self._anchor.items():
            param = params[name]
            if anchor.device != param.device:
                anchor = self._anchor[name] = anchor.to(param.device)
            total = total + (param - anchor).pow(2).sum()
        head = model.head.weight.pow(2).sum()
        return 0.5 * self.alpha * total + 0.5 * self.beta * head
