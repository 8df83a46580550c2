"""Office-Caltech10: SURF features and images share one documented class order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA, shared_path

from transferkit import DataNotFoundError
from transferkit.datasets import (
    OFFICE_CALTECH_CLASSES,
    OFFICE_CALTECH_DOMAINS,
    load_office_caltech_images,
    load_office_caltech_surf,
)

SIZES = {"amazon": 958, "webcam": 295, "dslr": 157, "caltech10": 1123}  # SOURCES.md


def test_surf_shapes_and_labels() -> None:
    shared_path("office_caltech10_surf")
    markets = load_office_caltech_surf(root=SHARED_DATA)
    assert list(markets) == list(OFFICE_CALTECH_DOMAINS)
    for name, domain in markets.items():
        assert domain.X.shape == (SIZES[name], 800)
        assert domain.task == "multiclass"
        assert domain.classes.tolist() == list(OFFICE_CALTECH_CLASSES)
        X = domain.X
        assert X.min() >= 0 and np.array_equal(X, np.round(X))  # visual-word counts
        assert (X.sum(axis=1) > 0).all()


def test_images_exist_and_follow_their_folders() -> None:
    shared_path("office_caltech10_images")
    markets = load_office_caltech_images(root=SHARED_DATA)
    for name, domain in markets.items():
        assert domain.n_samples == SIZES[name]
        assert domain.modality == "image"
        for path, label in zip(domain.image_paths, domain.y, strict=True):
            assert path.endswith(".jpg") and f"/{name}/{label}/" in path


def test_surf_class_codes_match_the_image_folders() -> None:
    # The SURF files code classes 1..10 without names; the image folders name them. The
    # documented order is right only if every class has the same count in both.
    shared_path("office_caltech10_surf")
    shared_path("office_caltech10_images")
    surf = load_office_caltech_surf(root=SHARED_DATA)
    images = load_office_caltech_images(root=SHARED_DATA)
    for name in OFFICE_CALTECH_DOMAINS:
        surf_counts = pd.Series(surf[name].y).value_counts().sort_index()
        image_counts = pd.Series(images[name].y).value_counts().sort_index()
        pd.testing.assert_series_equal(surf_counts, image_counts)
    # the counts are distinct enough to pin the order: dslr's two largest classes
    dslr = pd.Series(surf["dslr"].y).value_counts()
    assert dslr.index[:2].tolist() == ["laptop", "projector"]


def _image_tree(root, domain: str, classes) -> None:
    for name in classes:
        folder = root / "office_caltech10_images" / domain / name
        folder.mkdir(parents=True)
        (folder / "frame_0001.jpg").write_bytes(b"\xff\xd8\xff")


def test_image_folder_problems_are_named(tmp_path) -> None:
    _image_tree(tmp_path, "webcam", [*OFFICE_CALTECH_CLASSES, "phone"])
    with pytest.raises(ValueError, match=r"folders \['phone'\] that are not among"):
        load_office_caltech_images("webcam", root=tmp_path)
    _image_tree(tmp_path, "dslr", OFFICE_CALTECH_CLASSES[:-1])
    with pytest.raises(DataNotFoundError, match=r"lacks the class folders \['projector'\]"):
        load_office_caltech_images("dslr", root=tmp_path)
    _image_tree(tmp_path, "amazon", OFFICE_CALTECH_CLASSES)
    amazon = load_office_caltech_images("amazon", root=tmp_path)["amazon"]
    assert amazon.y.tolist() == list(OFFICE_CALTECH_CLASSES)


def test_missing_paths(tmp_path) -> None:
    with pytest.raises(DataNotFoundError, match="office_caltech10_surf/Caltech10_SURF_L10.mat"):
        load_office_caltech_surf("caltech10", root=tmp_path)
    with pytest.raises(DataNotFoundError, match="office_caltech10_images/webcam"):
        load_office_caltech_images("webcam", root=tmp_path)


def test_surf_labels_outside_one_to_ten(tmp_path) -> None:
    from scipy.io import savemat

    (tmp_path / "office_caltech10_surf").mkdir()
    savemat(tmp_path / "office_caltech10_surf" / "dslr_SURF_L10.mat",
            {"fts": np.ones((2, 800)), "labels": np.array([[1], [11]])})
    with pytest.raises(ValueError, match=r"labels \[11\]; expected 1..10"):
        load_office_caltech_surf("dslr", root=tmp_path)


def test_one_nearest_neighbour_reproduces_the_published_baseline() -> None:
    # Long et al. (ICCV 2013, JDA) report 1-NN accuracies on these files after the usual
    # preprocessing (each image L1-normalised, then z-scored per domain). Matching them to
    # the hundredth of a percent checks features, labels and their order at once.
    from sklearn.neighbors import KNeighborsClassifier

    shared_path("office_caltech10_surf")
    surf = load_office_caltech_surf(root=SHARED_DATA)

    def prepare(X: np.ndarray) -> np.ndarray:
        X = X / X.sum(axis=1, keepdims=True)
        std = X.std(axis=0)
        return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)

    published = {("amazon", "webcam"): 29.83, ("webcam", "dslr"): 59.24,
                 ("dslr", "webcam"): 63.39, ("caltech10", "amazon"): 23.70}
    for (source, target), accuracy in published.items():
        model = KNeighborsClassifier(n_neighbors=1).fit(prepare(surf[source].X), surf[source].y)
        score = model.score(prepare(surf[target].X), surf[target].y)
        assert round(100 * score, 2) == accuracy, (source, target)
