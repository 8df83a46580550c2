"""MNIST/USPS from a MATLAB v7.3 (HDF5) file: layout, orientation and label mapping."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SHARED_DATA, shared_path

from transferkit import DataNotFoundError
from transferkit.datasets import load_mnist_usps

# SOURCES.md: MNIST 2000 x 256, USPS 1800 x 256, values in [0, 1]; class counts of the file.
COUNTS = {"mnist": [196, 227, 207, 202, 196, 179, 191, 206, 195, 201],
          "usps": [352, 241, 165, 166, 166, 126, 139, 172, 129, 144]}


@pytest.fixture(scope="module")
def digits():
    shared_path("mnist_usps_256", "MNIST_vs_USPS.mat")
    return load_mnist_usps(root=SHARED_DATA)


def test_shapes_values_and_labels(digits) -> None:
    assert list(digits) == ["mnist", "usps"]
    for name, domain in digits.items():
        assert domain.X.shape == (sum(COUNTS[name]), 256)
        assert 0 <= domain.X.min() and domain.X.max() <= 1
        assert domain.classes.tolist() == list(range(10))
        assert np.bincount(domain.y).tolist() == COUNTS[name]
        assert domain.metadata.extra["image_shape"] == (16, 16)


def test_images_are_upright_digits(digits) -> None:
    for name, domain in digits.items():
        images = domain.X.reshape(-1, 16, 16)
        one = images[domain.y == 1].mean(axis=0)
        # a "1" is a vertical stroke: ink spread over the rows, concentrated in few columns
        assert one.mean(axis=0).std() > 1.5 * one.mean(axis=1).std(), name
        zero = images[domain.y == 0].mean(axis=0)
        # a "0" is a ring: its centre is emptier than the ring around it
        centre, ring = zero[7:9, 7:9].mean(), zero[3:13, 3:13].mean()
        assert centre < ring, name
        # a "7" has its bar on top: the row with most ink is in the upper half (an
        # upside-down or rotated image fails here; a transposed one fails the "1" check)
        seven = images[domain.y == 7].mean(axis=0)
        assert np.argmax(seven.sum(axis=1)) < 6, name


def test_reads_matlab_layout(tmp_path) -> None:
    # MATLAB writes a 256 x n matrix column-major; h5py shows it as n x 256, one row per
    # image. A file written that way must give back each image and its 0-based digit.
    import h5py

    folder = tmp_path / "mnist_usps_256"
    folder.mkdir()
    rng = np.random.default_rng(0)
    Xs, Xt = rng.random((5, 256)), rng.random((3, 256))
    with h5py.File(folder / "MNIST_vs_USPS.mat", "w") as f:
        f["Xs"], f["Ys"] = Xs, np.array([[1, 2, 3, 10, 5]], dtype=float)
        f["Xt"], f["Yt"] = Xt, np.array([[10, 1, 4]], dtype=float)
    digits = load_mnist_usps(root=tmp_path)
    np.testing.assert_array_equal(digits["mnist"].X, Xs)
    assert digits["mnist"].y.tolist() == [0, 1, 2, 9, 4]
    assert digits["usps"].y.tolist() == [9, 0, 3]


def test_bad_files(tmp_path) -> None:
    import h5py

    with pytest.raises(DataNotFoundError, match="mnist_usps_256/MNIST_vs_USPS.mat"):
        load_mnist_usps(root=tmp_path)
    folder = tmp_path / "mnist_usps_256"
    folder.mkdir()
    path = folder / "MNIST_vs_USPS.mat"
    with h5py.File(path, "w") as f:
        f["Xs"], f["Ys"] = np.zeros((2, 256)), np.ones((1, 2))
    with pytest.raises(ValueError, match=r"lacks \['Xt', 'Yt'\]"):
        load_mnist_usps(root=tmp_path)
    path.write_bytes(b"MATLAB 5.0 MAT-file, not HDF5")
    with pytest.raises(ValueError, match="cannot open .* as HDF5"):
        load_mnist_usps(root=tmp_path)


def test_one_nearest_neighbour_reproduces_the_published_baseline(digits) -> None:
    # Long et al. (ICCV 2013, JDA) report 1-NN accuracies of 65.94 % (MNIST -> USPS) and
    # 44.70 % (USPS -> MNIST) on L2-normalised images; a wrong layout or label map would
    # not reproduce them.
    from sklearn.neighbors import KNeighborsClassifier

    def prepare(X: np.ndarray) -> np.ndarray:
        return X / np.linalg.norm(X, axis=1, keepdims=True)

    mnist, usps = digits["mnist"], digits["usps"]
    for source, target, accuracy in ((mnist, usps, 65.94), (usps, mnist, 44.70)):
        model = KNeighborsClassifier(n_neighbors=1).fit(prepare(source.X), source.y)
        assert round(100 * model.score(prepare(target.X), target.y), 2) == accuracy
