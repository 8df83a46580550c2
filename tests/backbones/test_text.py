"""Text backbones: multilingual USE, pip-shipped MiniLM, any local Hugging Face folder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from transferkit import Domain
from transferkit.backbones import HFTextBackbone, MiniLMBackbone, MultilingualUSEBackbone, encode
from transferkit.exceptions import TransferWarning


@pytest.fixture(scope="module")
def minilm() -> MiniLMBackbone:
    return MiniLMBackbone()


def test_multilingual_use_puts_translations_together():
    texts = ["This kettle broke after a week.", "このケトルは一週間で壊れました。",
             "I love this novel's characters."]
    X = encode(Domain.from_texts(texts, name="mixed"), MultilingualUSEBackbone()).X
    similarity = X @ X.T
    assert X.shape == (3, 512)
    assert similarity[0, 1] > similarity[0, 2] + 0.1


def test_minilm_mean_pools_normalised_vectors(minilm):
    texts = ["Great value for money", "Terrible, it broke on day one", "Works as expected"]
    X = encode(Domain.from_texts(texts, name="en"), minilm, batch_size=2).X
    assert X.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-5)
    # Padding does not change a text's vector: alone or beside a longer text.
    alone = encode(Domain.from_texts(texts[:1], name="en"), minilm).X
    np.testing.assert_allclose(alone[0], X[0], atol=1e-5)


def test_long_texts_are_truncated_with_a_warning(minilm):
    short = MiniLMBackbone(max_length=8)
    domain = Domain.from_texts(["word " * 50, "short one"], name="en")
    with pytest.warns(TransferWarning, match="1 of 2 texts are longer than 8 tokens"):
        X = encode(domain, short).X
    assert X.shape == (2, 384)
    with pytest.raises(ValueError, match="'max_length' parameter of HFTextBackbone"):
        MiniLMBackbone(max_length=10_000)


def test_minilm_layers_are_transformer_blocks(minilm):
    names = minilm.layer_names()
    assert names[0] == "embeddings"
    assert [n for n in names if n.startswith("encoder.layer.")] == [
        f"encoder.layer.{i}" for i in range(6)]


def test_any_local_hugging_face_folder(tmp_path, minilm):
    from transformers import BertConfig, BertModel

    config = BertConfig(vocab_size=len(minilm.tokenizer), hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=32, max_position_embeddings=64)
    torch.manual_seed(0)
    BertModel(config).save_pretrained(tmp_path)
    minilm.tokenizer.save_pretrained(tmp_path)
    tiny = HFTextBackbone(tmp_path, pooling="cls")
    assert tiny.max_length == 64 and tiny.n_features == 16
    X = encode(Domain.from_texts(["hello", "world again"], name="en"), tiny).X
    assert X.shape == (2, 16)
    with pytest.raises(FileNotFoundError, match="not a local Hugging Face model folder"):
        HFTextBackbone(tmp_path / "missing")
    with pytest.raises(ValueError, match="'pooling' parameter of HFTextBackbone"):
        HFTextBackbone(tmp_path, pooling="max")
