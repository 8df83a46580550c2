"""``FineTuner``: adapt a pretrained backbone to a market with a chosen strategy.

Examples
--------
>>> import numpy as np
>>> from torch import nn
>>> from transferkit import Domain
>>> from transferkit.training import TrainConfig
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(60, 4)); y = (X[:, 0] > 0).astype(int)
>>> shop = Domain.from_arrays(X, y, name="jp")
>>> backbone = nn.Sequential(nn.Linear(4, 16), nn.ReLU())
>>> tuner = FineTuner(backbone, LinearProbe(),
...                   config=TrainConfig(epochs=30, lr=0.05, progress=False)).fit(shop)
>>> float((tuner.predict(shop) == y).mean()) > 0.8
True
>>> tuner.parameter_report_.trainable
34
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.utils.data import ConcatDataset, Dataset, TensorDataset

from transferkit.backbones import Backbone, TorchBackbone, as_backbone, encode
from transferkit.backbones.encode import raw_rows
from transferkit.domain import Domain
from transferkit.exceptions import DomainMismatchError
from transferkit.finetune.model import TransferModel
from transferkit.finetune.relation import CategoryRelationship
from transferkit.finetune.report import LayerParameters, ParameterReport, parameter_report
from transferkit.finetune.strategies import LPFT, GradualUnfreeze, LinearProbe, Strategy
from transferkit.training import Batch, StepContext, StepOutput, TrainConfig, Trainer

__all__ = ["FineTuner"]


class _WithLabels(Dataset):
    """Input tensors of a backbone dataset followed by the class index."""

    def __init__(self, inputs: Dataset, codes: torch.Tensor) -> None:
        self.inputs = inputs
        self.codes = codes

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        return (*self.inputs[index], self.codes[index])


def _soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return -(targets * torch.log_softmax(logits.float(), dim=1)).sum(1).mean()


class FineTuner(BaseEstimator):
    """Fine-tune a pretrained backbone with a new head on a labelled market.

    The backbone is any ``transferkit.backbones`` backbone, a registered name, an
    ``nn.Module`` or a fitted transferkit model (see ``as_backbone``). The strategy picks
    what trains (``LinearProbe``, ``PartialUnfreeze``, ``GradualUnfreeze``, ``LPFT``,
    ``L2SP``); training runs on the shared ``transferkit.training.Trainer``. With a frozen
    backbone (linear probe, LP-FT's first phase) features are computed once through
    ``encode`` (cached on disk with ``cache_dir``) and the epochs train the head only.

    Parameters
    ----------
    backbone : Backbone, str, nn.Module or fitted model
    strategy : Strategy, default=LinearProbe()
    config : TrainConfig, optional
        Training settings; ``lr`` is the head's learning rate (strategies scale it for
        backbone blocks).
    cache_dir : path, optional
        Feature cache for frozen-backbone phases.
    source_head : nn.Module, optional
        The source model's classifier on the backbone's features (for an ImageNet model,
        its 1000-class layer). Enables Co-Tuning: the relationship between source and
        target categories is estimated from its predictions on the training rows, and it
        keeps training toward that relationship beside the new head.
    relation_weight : float, default=1.0
        Weight of the Co-Tuning term.
    relationship : CategoryRelationship, optional
        How the relationship is estimated (smoothing, a name-based prior).
    reuse_frozen_blocks : bool, default=True
        When the backbone is a chain of blocks (EfficientNet, ResNet) and the strategy
        trains only its top, run the frozen blocks below once and cache their outputs
        (with ``cache_dir``, on disk), so every epoch runs only the trained blocks.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    strategy_ : Strategy
        A fitted copy of the strategy (``schedule_`` of gradual unfreezing, ``C_`` of a
        cross-validated probe).
    backbone_ : Backbone
        The (fine-tuned) backbone, a copy: the one passed in is never modified.
    model_ : TransferModel or nn.Module
        The trained network (the head alone for a linear probe).
    trainer_ : Trainer or None
        The last training run (``history_`` per epoch); None for an L-BFGS linear probe.
    probe_trainer_ : Trainer or None
        LP-FT's probe run.
    relationship_ : CategoryRelationship or None
        The Co-Tuning relationship when ``source_head`` is given.
    prefix_blocks_ : int
        Frozen blocks whose outputs were computed once and reused (0: none).
    frozen_forward_batches_ : int
        Batches the frozen lower blocks ran (once per row, not once per epoch).
    parameter_report_ : ParameterReport
        Trainable vs frozen parameters per layer at the end of training.
    """

    def __init__(
        self,
        backbone: Backbone | str | nn.Module | Any,
        strategy: Strategy | None = None,
        *,
        config: TrainConfig | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        source_head: nn.Module | None = None,
        relation_weight: float = 1.0,
        relationship: CategoryRelationship | None = None,
        reuse_frozen_blocks: bool = True,
    ) -> None:
        self.backbone = backbone
        self.strategy = strategy
        self.config = config
        self.cache_dir = cache_dir
        self.source_head = source_head
        self.relation_weight = relation_weight
        self.relationship = relationship
        self.reuse_frozen_blocks = reuse_frozen_blocks

    # ------------------------------------------------------------------ fit
    def fit(
        self, source: Domain, target: Domain | None = None, *, validation: Domain | None = None
    ) -> FineTuner:
        """Train on the labelled rows of ``source`` (and of ``target``, pooled, when given).

        To adapt a model to the target market pass that market's labelled Domain as
        ``source``; to fine-tune on source labels plus a few target labels pass both.

        Parameters
        ----------
        source : Domain
            Labelled rows to train on (unlabelled rows are ignored).
        target : Domain, optional
            More labelled rows, pooled with ``source``; must share its modality.
        validation : Domain, optional
            Labelled rows scored after every epoch (``val_loss``, ``val_accuracy``).
        """
        strategy = self.strategy if self.strategy is not None else LinearProbe()
        if not isinstance(strategy, Strategy):
            raise TypeError(
                f"FineTuner(strategy=...) must be a Strategy such as LinearProbe() or "
                f"PartialUnfreeze(['layer4']); got {type(strategy).__name__}."
            )
        strategy = copy.deepcopy(strategy)
        self.strategy_ = strategy
        config = self.config if self.config is not None else TrainConfig()
        backbone = copy.deepcopy(as_backbone(self.backbone))
        parts = [d for d in (source, target) if d is not None]
        for domain in parts:
            if domain.n_labeled == 0:
                raise ValueError(
                    f"Domain {domain.name!r} has no labelled rows; fine-tuning needs labels "
                    "of the market it adapts to."
                )
            if not domain.is_classification:
                raise ValueError(
                    f"Domain {domain.name!r} is a {domain.task} task; FineTuner trains "
                    "classification heads."
                )
        labelled = [d.labeled() for d in parts]
        y = np.concatenate([d.y for d in labelled])
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"The labelled rows hold a single class {self.classes_.tolist()}; a classifier "
                "needs at least two."
            )
        codes = torch.as_tensor(np.searchsorted(self.classes_, y), dtype=torch.int64)
        self.backbone_ = backbone
        self.prefix_blocks_ = 0
        self.frozen_forward_batches_ = 0
        self.probe_trainer_ = None
        self.relationship_ = None
        if self.source_head is not None and strategy.frozen_backbone:
            raise ValueError(
                "FineTuner(source_head=...) (Co-Tuning) shapes the backbone's features, so it "
                "needs a strategy that trains backbone layers, e.g. PartialUnfreeze([...]) or "
                "L2SP(); with LinearProbe() it would change nothing."
            )
        needs_backbone = not strategy.frozen_backbone
        if needs_backbone and not isinstance(backbone, TorchBackbone):
            raise ValueError(
                f"{type(strategy).__name__} trains backbone layers, but {backbone.name!r} is "
                "not a torch backbone (it cannot be fine-tuned); use LinearProbe()."
            )
        torch.manual_seed(config.seed)
        head = nn.Linear(self._n_features(backbone, parts), len(self.classes_))
        validation_data = None
        if isinstance(strategy, LinearProbe) and self.source_head is None:
            features = self._features(parts)
            if validation is not None:
                validation_data = TensorDataset(self._features([validation]),
                                                self._codes(validation))
            if strategy.C is not None:
                head = strategy.fit_head(features.numpy(), codes.numpy(), len(self.classes_),
                                         config.seed)
                self.trainer_ = None
            else:
                self.trainer_ = Trainer(head, _head_step, config=config, eval_step=_head_eval)
                self.trainer_.fit(TensorDataset(features, codes), validation=validation_data)
            self.model_ = head
            self.parameter_report_ = self._probe_report(backbone, head)
            return self
        if isinstance(strategy, LPFT):
            head = self._probe(strategy, head, parts, codes, config)
        source_head = copy.deepcopy(self.source_head) if self.source_head is not None else None
        model = TransferModel(backbone, head, source_head=source_head)
        strategy.setup(model, backbone)
        self.prefix_blocks_ = self._split_point(backbone, strategy)
        if self.prefix_blocks_:
            model = TransferModel(backbone, head, source_head=source_head,
                                  start=self.prefix_blocks_)
            strategy.setup(model, backbone)
        relation = None
        if source_head is not None:
            relation = self._relationship(model, parts, codes)
        inputs = self._inputs(parts)
        if validation is not None:
            validation_data = _WithLabels(self._inputs([validation]),
                                          self._codes(validation))
        self.trainer_ = Trainer(
            model, _model_step(relation, float(self.relation_weight)), config=config,
            eval_step=_model_eval, param_groups=strategy.param_groups(model),
            callbacks=strategy.callbacks(model), penalties=strategy.penalties(model),
        )
        self.trainer_.fit(_WithLabels(inputs, codes), validation=validation_data)
        self.model_ = model
        self.parameter_report_ = self._model_report(model, backbone, strategy)
        return self

    # ------------------------------------------------------------------ inference
    def predict_proba(self, domain: Domain) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)`` in ``classes_`` order."""
        check_is_fitted(self)
        if isinstance(self.model_, TransferModel):
            data = _WithLabels(self._inputs([domain], labelled=False),
                               torch.zeros(domain.n_samples, dtype=torch.int64))
            logits = self.trainer_.predict(data, _model_logits)
        else:
            features = self._features([domain], labelled=False)
            with torch.no_grad():
                logits = self.model_.cpu()(features)
        return torch.softmax(logits, dim=1).numpy()

    def predict(self, domain: Domain) -> np.ndarray:
        """Predicted labels (values of ``classes_``)."""
        return self.classes_[self.predict_proba(domain).argmax(axis=1)]

    def score(self, domain: Domain) -> float:
        """Accuracy on the labelled rows of ``domain``."""
        labelled = domain.labeled()
        return float((self.predict(labelled) == labelled.y).mean())

    def transform(self, domain: Domain) -> Domain:
        """The fine-tuned backbone's features of ``domain``, as a feature Domain."""
        check_is_fitted(self)
        return encode(domain, self.backbone_, batch_size=self._config.batch_size,
                      device=self._config.device, cache_dir=self.cache_dir)

    def as_backbone(self) -> Backbone:
        """The fine-tuned backbone (a copy), to encode other markets or fine-tune again."""
        check_is_fitted(self)
        return copy.deepcopy(self.backbone_)

    # ------------------------------------------------------------------ helpers
    @property
    def _config(self) -> TrainConfig:
        return self.config if self.config is not None else TrainConfig()

    def _codes(self, domain: Domain) -> torch.Tensor:
        y = domain.labeled().y
        unknown = sorted(set(np.asarray(y).tolist()) - set(self.classes_.tolist()))
        if unknown:
            raise DomainMismatchError(
                f"Domain {domain.name!r} has labels {unknown[:5]} that the training rows do "
                f"not have (classes {self.classes_.tolist()}); a validation set must share "
                "the label set."
            )
        return torch.as_tensor(np.searchsorted(self.classes_, y), dtype=torch.int64)

    def _split_point(self, backbone: TorchBackbone, strategy: Strategy) -> int:
        """Blocks below every trained layer: they run once, their outputs are cached."""
        units = backbone.sequential_units() if self.reuse_frozen_blocks else None
        trained = strategy.trained_layers()
        if not units or not trained or "" in trained:
            return 0
        for index, (name, _) in enumerate(units):
            if any(t == name or t.startswith(name + ".") or name.startswith(t + ".")
                   for t in trained):
                return index
        return 0

    def _inputs(self, domains: Sequence[Domain], *, labelled: bool = True) -> Dataset:
        """Model inputs of the (labelled) rows: raw rows, or cached frozen-block outputs."""
        backbone = self.backbone_
        if not self.prefix_blocks_:
            chosen = [d.labeled() if labelled else d for d in domains]
            return ConcatDataset([backbone.dataset(raw_rows(d, backbone)) for d in chosen])
        lower = backbone.prefix(self.prefix_blocks_)
        config = self._config
        flat = []
        for domain in domains:
            X = encode(domain, lower, batch_size=config.batch_size, device=config.device,
                       cache_dir=self.cache_dir).X
            flat.append(X[domain.labeled_mask] if labelled else X)
        flat = np.concatenate(flat)
        with torch.no_grad():
            lower.module.eval()
            probe = lower.module(lower.preprocess(raw_rows(domains[0], lower)[:1]).to(
                next(lower.module.parameters()).device))
        self.frozen_forward_batches_ += lower.n_forward_batches
        return TensorDataset(torch.as_tensor(flat).reshape(len(flat), *probe.shape[1:]))

    def _features(self, domains: Sequence[Domain], *, labelled: bool = True) -> torch.Tensor:
        """Frozen-backbone features of the (labelled) rows, read from the cache when there.

        Every row of each Domain is encoded, and the labelled ones selected afterwards, so
        the cache key does not depend on which rows carry labels: the same market with
        50 or 1000 labels (``hide_labels``) reuses one cache file.
        """
        config = self._config
        arrays = []
        for domain in domains:
            X = encode(domain, self.backbone_, batch_size=config.batch_size,
                       device=config.device, cache_dir=self.cache_dir).X
            arrays.append(X[domain.labeled_mask] if labelled else X)
        return torch.as_tensor(np.concatenate(arrays), dtype=torch.float32)

    def _n_features(self, backbone: Backbone, labelled: Sequence[Domain]) -> int:
        width = getattr(backbone, "n_features", None)
        if isinstance(width, int):
            return width
        return int(self._features(labelled[:1], labelled=False).shape[1])

    def _probe_report(self, backbone: Backbone, head: nn.Module) -> ParameterReport:
        frozen = sum(p.numel() for p in backbone.module.parameters()) if isinstance(
            backbone, TorchBackbone) else 0
        trainable = sum(p.numel() for p in head.parameters())
        return ParameterReport((LayerParameters("backbone", 0, frozen),
                                LayerParameters("head", trainable, 0, 1.0)))

    @staticmethod
    def _model_report(model: TransferModel, backbone: TorchBackbone,
                      strategy: Strategy) -> ParameterReport:
        mults = {g["name"]: g["lr_mult"] for g in strategy.param_groups(model)}
        rows = [f"backbone.{name}" for name in backbone.layer_names()]
        # A group named "backbone" (LP-FT, L2-SP over the whole network) covers every block.
        lr_mults = {row: mults.get(row.removeprefix("backbone."), mults.get("backbone"))
                    for row in rows}
        lr_mults["head"] = mults["head"]
        heads = ["head"] + (["source_head"] if model.source_head is not None else [])
        schedule = strategy.schedule_ if isinstance(strategy, GradualUnfreeze) else ()
        return parameter_report(model, layers=rows + heads, lr_mults=lr_mults,
                                schedule=schedule)

    def _probe(self, strategy: LPFT, head: nn.Linear, domains: Sequence[Domain],
               codes: torch.Tensor, config: TrainConfig) -> nn.Linear:
        features = self._features(domains)
        if strategy.probe_C is not None:
            probe = LinearProbe(C=strategy.probe_C)
            return probe.fit_head(features.numpy(), codes.numpy(), len(self.classes_),
                                  config.seed)
        probe_config = config.replace(
            epochs=strategy.probe_epochs,
            lr=strategy.probe_lr if strategy.probe_lr is not None else 10 * config.lr,
            checkpoint_dir=None, resume=False, patience=None)
        self.probe_trainer_ = Trainer(head, _head_step, config=probe_config)
        self.probe_trainer_.fit(TensorDataset(features, codes))
        return head.cpu()

    def _relationship(self, model: TransferModel, domains: Sequence[Domain],
                      codes: torch.Tensor) -> torch.Tensor:
        features = self._features(domains)
        with torch.no_grad():
            proba = torch.softmax(model.source_head(features).float(), dim=1).numpy()
        relationship = copy.deepcopy(self.relationship) if self.relationship is not None \
            else CategoryRelationship()
        relationship.fit(proba, codes.numpy(), n_classes=len(self.classes_))
        self.relationship_ = relationship
        return torch.as_tensor(relationship.relation_, dtype=torch.float32)


def _accuracy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (logits.argmax(1) == y).float().mean()


def _head_step(model: nn.Module, batch: Batch, context: StepContext) -> StepOutput:
    X, y = batch.source
    logits = model(X)
    return StepOutput(nn.functional.cross_entropy(logits, y), {"accuracy": _accuracy(logits, y)})


def _head_eval(model: nn.Module, tensors: tuple[torch.Tensor, ...],
               context: StepContext) -> StepOutput:
    return _head_step(model, Batch(tensors), context)


def _model_logits(model: nn.Module, tensors: tuple[torch.Tensor, ...]) -> torch.Tensor:
    output = model(*tensors[:-1])
    return output[0] if isinstance(output, tuple) else output


def _model_eval(model: nn.Module, tensors: tuple[torch.Tensor, ...],
                context: StepContext) -> StepOutput:
    logits = _model_logits(model, tensors)
    y = tensors[-1]
    return StepOutput(nn.functional.cross_entropy(logits, y), {"accuracy": _accuracy(logits, y)})


def _model_step(relation: torch.Tensor | None, weight: float):  # noqa: ANN202
    def step(model: nn.Module, batch: Batch, context: StepContext) -> StepOutput:
        *inputs, y = batch.source
        output = model(*inputs)
        if isinstance(output, tuple):
            logits, source_logits = output
            # Co-Tuning: the kept source head must predict p(source class | target label).
            soft = relation.to(source_logits.device)[y]
            related = _soft_cross_entropy(source_logits, soft)
            loss = nn.functional.cross_entropy(logits, y) + weight * related
            metrics = {"accuracy": _accuracy(logits, y), "relation_loss": related.detach()}
        else:
            logits = output
            loss = nn.functional.cross_entropy(logits, y)
            metrics = {"accuracy": _accuracy(logits, y)}
        return StepOutput(loss, metrics)

    return step
