"""Domain: constructors, validation errors, views and splits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from transferkit import Domain, DomainMismatchError, stack


@pytest.fixture
def shop() -> pd.DataFrame:
    return pd.DataFrame({
        "price": [9.5, 12.0, 7.25, 30.0, 15.0, 11.0],
        "colour": ["red", "green", "red", "blue", "blue", "green"],
        "customer": [1, 2, 3, 4, 5, 6],
        "bought": [1, 0, 1, 0, 1, 0],
    })


def test_from_frame_infers_roles_and_task(shop):
    domain = Domain.from_frame(shop, label="bought", id="customer", name="us", currency="USD")
    assert domain.schema.numeric == ("price",)
    assert domain.schema.categorical == ("colour",)
    assert domain.task == "binary"
    assert domain.n_labeled == 6
    assert list(domain.X.columns) == ["price", "colour"]
    assert domain.y.tolist() == [1, 0, 1, 0, 1, 0]
    assert "currency='USD'" in repr(domain)


def test_from_frame_does_not_modify_callers_frame(shop):
    before = shop.copy()
    Domain.from_frame(shop, label="bought").hide_labels(2)
    pd.testing.assert_frame_equal(shop, before)


def test_task_inference_and_override():
    frame = pd.DataFrame({"x": range(100), "y": np.linspace(0, 1, 100)})
    assert Domain.from_frame(frame, label="y").task == "regression"
    frame["stars"] = np.arange(100) % 5 + 1
    assert Domain.from_frame(frame, label="stars", exclude=["y"]).task == "multiclass"
    forced = Domain.from_frame(frame, label="stars", exclude=["y"], task="regression")
    assert forced.task == "regression"


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (pd.DataFrame({"a": [1.0]}), {"label": "y"}, "no label column 'y'"),
        (pd.DataFrame({"a": [1.0, 2.0], "y": [1, None]}), {"label": "y"},
         r"missing in 1 row \(1\)"),
        (pd.DataFrame({"a": [], "y": []}), {"label": "y"}, "empty"),
        (pd.DataFrame({"a": ["1.5", "abc"], "y": [0, 1]}), {"label": "y", "numeric": ["a"]},
         "1 cell is not a number: 'abc' x1"),
        (pd.DataFrame({"a": [1.0, np.inf], "y": [0, 1]}), {"label": "y"}, "infinite"),
        (pd.DataFrame({"a": [1.0, 2.0], "y": [0, 1]}), {"label": "y", "categorical": ["zz"]},
         "categorical= names a column that does not exist: 'zz'"),
        (pd.DataFrame({"a": [1.0, 2.0], "w": [1.0, -1.0], "y": [0, 1]}),
         {"label": "y", "weight": "w"}, "weights must be finite and >= 0"),
    ],
)
def test_from_frame_rejects_bad_input(frame, kwargs, message):
    with pytest.raises(ValueError, match=message):
        Domain.from_frame(frame, **kwargs)


def test_duplicated_columns_are_named():
    frame = pd.DataFrame([[1, 2, 0]], columns=["a", "a", "y"])
    with pytest.raises(ValueError, match=r"duplicated column names \['a'\]"):
        Domain.from_frame(frame, label="y")


def test_numeric_strings_are_converted():
    frame = pd.DataFrame({"a": ["1.5", "2"], "y": [0, 1]})
    domain = Domain.from_frame(frame, label="y", numeric=["a"])
    assert domain.X.tolist() == [[1.5], [2.0]]


def test_allow_unlabeled_splits_labelled_and_unlabelled():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "y": [0, None, 1]})
    domain = Domain.from_frame(frame, label="y", allow_unlabeled=True)
    assert domain.n_labeled == 2
    assert domain.labeled().y.tolist() == [0, 1]
    assert len(domain.unlabeled()) == 1
    with pytest.raises(ValueError, match="1 unlabelled rows"):
        _ = domain.y


def test_from_arrays_accepts_tensors_and_checks_shapes():
    domain = Domain.from_arrays(torch.ones(4, 3), torch.tensor([0, 1, 0, 1]), name="t")
    assert domain.X.shape == (4, 3) and domain.y.tolist() == [0, 1, 0, 1]
    with pytest.raises(ValueError, match="y has shape"):
        Domain.from_arrays(np.zeros((4, 3)), [0, 1])
    with pytest.raises(ValueError, match="NaN or infinite values in 1 row"):
        Domain.from_arrays(np.array([[0.0], [np.nan]]))
    with pytest.raises(ValueError, match="reshape"):
        Domain.from_arrays(np.zeros(3))


def test_tensor_domains_keep_their_shape():
    domain = Domain.from_arrays(np.zeros((5, 1, 4, 4)), [0, 1, 0, 1, 0])
    assert domain.modality == "tensor"
    assert domain.X.shape == (5, 1, 4, 4)
    assert domain.subset([0, 2]).X.shape == (2, 1, 4, 4)


def test_text_and_image_domains(tmp_path):
    texts = Domain.from_texts(["good", "bad", "fine"], ["pos", "neg", "pos"], language="en")
    assert texts.modality == "text" and texts.task == "binary"
    with pytest.raises(TypeError, match="encode them"):
        _ = texts.X
    image = tmp_path / "a.jpg"
    image.write_bytes(b"\xff\xd8")
    images = Domain.from_images([image], [1])
    assert images.image_paths == [str(image)]
    with pytest.raises(FileNotFoundError, match="do not exist"):
        Domain.from_images([tmp_path / "missing.jpg"], [1])


def test_split_is_stratified_and_reproducible():
    y = np.array([0] * 80 + [1] * 20)
    domain = Domain.from_arrays(np.arange(100.0)[:, None], y)
    train, test = domain.split(0.25, seed=3)
    again, _ = domain.split(0.25, seed=3)
    assert len(train) == 75 and len(test) == 25
    assert test.y.mean() == pytest.approx(0.2)
    np.testing.assert_array_equal(train.X, again.X)
    assert set(train.X[:, 0]).isdisjoint(test.X[:, 0])


def test_hide_labels_removes_labels_stratified():
    y = np.array(["a"] * 50 + ["b"] * 50)
    domain = Domain.from_arrays(np.zeros((100, 1)), y)
    few = domain.hide_labels(10, seed=1)
    assert few.n_labeled == 10
    assert sorted(few.labeled().y.tolist()) == ["a"] * 5 + ["b"] * 5
    assert domain.n_labeled == 100  # the original is untouched


def test_sample_and_subset_errors():
    domain = Domain.from_arrays(np.zeros((5, 1)))
    assert len(domain.sample(3, seed=0)) == 3
    with pytest.raises(ValueError, match="without replacement"):
        domain.sample(6)
    with pytest.raises(ValueError, match="empty"):
        domain.subset(np.zeros(5, dtype=bool))


def test_with_features_keeps_labels_and_metadata():
    domain = Domain.from_texts(["a", "b"], [0, 1], name="ja", language="ja")
    features = domain.with_features(np.ones((2, 4)))
    assert features.metadata.language == "ja" and features.y.tolist() == [0, 1]
    with pytest.raises(ValueError, match="must have shape"):
        domain.with_features(np.ones((3, 4)))


def test_describe_lists_every_column(shop):
    table = Domain.from_frame(shop, label="bought").describe()
    assert list(table.index) == ["price", "customer", "colour", "bought"]
    assert table.loc["colour", "role"] == "categorical"
    assert table.loc["price", "mean"] == pytest.approx(shop["price"].mean())


def test_stack_requires_numeric_matching_features(shop):
    source = Domain.from_arrays(np.zeros((3, 2)))
    X, is_target = stack(source, Domain.from_arrays(np.ones((2, 2))))
    assert X.shape == (5, 2) and is_target.sum() == 2
    with pytest.raises(DomainMismatchError, match="harmonize"):
        stack(source, Domain.from_arrays(np.ones((2, 3))))
    with pytest.raises(TypeError, match="categorical"):
        stack(Domain.from_frame(shop, label="bought"), source)
