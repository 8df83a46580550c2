"""MNIST → USPS handwritten digits on a common 16 x 16 grid (the JDA protocol).

2,000 MNIST and 1,800 USPS digits, both resized to 16 x 16 grey images with values in
[0, 1]: the same ten digits written by different people and scanned differently.

File: ``../shared/data/mnist_usps_256/MNIST_vs_USPS.mat``, a MATLAB v7.3 file (HDF5),
read with h5py. Research use; cite LeCun et al. (MNIST), Hull (1994, USPS) and Long et
al. (ICCV 2013).
"""

from __future__ import annotations

import os

import numpy as np

from transferkit.datasets._paths import data_dir, require_path
from transferkit.domain import Domain

__all__ = ["load_mnist_usps"]

_FILE = "mnist_usps_256/MNIST_vs_USPS.mat"


def load_mnist_usps(*, root: str | os.PathLike[str] | None = None) -> dict[str, Domain]:
    """MNIST and USPS digits as two array Domains with 256 pixel features.

    Parameters
    ----------
    root : path, optional
        Folder holding the shared data sets (default: ``transferkit.datasets.data_dir()``).

    Returns
    -------
    dict of str to Domain
        ``{"mnist": Domain, "usps": Domain}`` with 2,000 and 1,800 rows. Features
        ``px000`` ... ``px255``: grey levels in [0, 1] of the 16 x 16 image in row-major
        order (``X[i].reshape(16, 16)`` shows digit ``i`` upright), label ``label``: the
        digit 0..9. MNIST classes hold 179-227 images each; USPS is skewed (352 zeros,
        126 fives). ``extra["image_shape"] == (16, 16)``.

    Raises
    ------
    DataNotFoundError
        The file is not at ``root/mnist_usps_256/MNIST_vs_USPS.mat``.
    ValueError
        The file lacks ``Xs``/``Ys``/``Xt``/``Yt`` or their shapes disagree.

    Notes
    -----
    MATLAB stores arrays column-major and h5py shows them transposed: the 256 x 2000
    MATLAB matrix ``Xs`` (one digit per column) reads as a 2000 x 256 array, one digit per
    row, whose 256 values are the image's rows one after another. The file codes the
    digits 1..10 (MATLAB's one-based classes): code ``k`` is digit ``k - 1``, so 1 is a
    zero and 10 a nine. ``tests/datasets`` checks both facts on the images: the mean
    "1" is a vertical stroke and the mean "0" has an empty centre.

    Examples
    --------
    >>> digits = load_mnist_usps()  # doctest: +SKIP
    >>> digits["usps"].X.shape, digits["usps"].classes.tolist()  # doctest: +SKIP
    ((1800, 256), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    """
    import h5py

    path = require_path(data_dir(root) / _FILE, "MNIST/USPS digits",
                        "the MATLAB v7.3 file MNIST_vs_USPS.mat")
    names = [f"px{i:03d}" for i in range(256)]
    result = {}
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise ValueError(f"MNIST/USPS digits: cannot open {path} as HDF5 ({exc}).") from exc
    with handle:
        for name, (x_key, y_key) in (("mnist", ("Xs", "Ys")), ("usps", ("Xt", "Yt"))):
            missing = [k for k in (x_key, y_key) if k not in handle]
            if missing:
                raise ValueError(
                    f"MNIST/USPS digits: {path.name} lacks {missing}; it holds {sorted(handle)}."
                )
            pixels = np.asarray(handle[x_key][()], dtype=float)
            codes = np.asarray(handle[y_key][()]).ravel()
            if pixels.ndim != 2 or pixels.shape[1] != 256 or pixels.shape[0] != codes.size:
                raise ValueError(
                    f"MNIST/USPS digits: {x_key} has shape {pixels.shape} and {y_key} "
                    f"{codes.size} labels; expected (n, 256) and n labels."
                )
            if not np.isin(codes, np.arange(1, 11)).all():
                raise ValueError(f"MNIST/USPS digits: {y_key} holds codes outside 1..10.")
            result[name] = Domain.from_arrays(
                pixels, codes.astype(np.int64) - 1, feature_names=names, name=name,
                task="multiclass", extra={"image_shape": (16, 16)},
            )
    return result
