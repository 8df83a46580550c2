"""Office-Caltech10: the same ten object classes photographed in four visual domains.

``amazon`` are product catalogue photos from an online shop, ``webcam`` and ``dslr``
photos of real objects in an office taken with a low- and a high-resolution camera, and
``caltech10`` images from Caltech-256: a "catalogue photos → customer photos" shift.
Available as 800-bin SURF bag-of-visual-words counts (the classic shallow-DA benchmark)
and as the raw JPEGs for frozen-backbone transfer.

Classes (``OFFICE_CALTECH_CLASSES``, alphabetical, so ``Domain.classes`` has this order):
backpack, bike, calculator, headphones, keyboard, laptop, monitor, mouse, mug, projector.
The SURF files code them 1..10 in that order; ``tests/datasets`` checks that the
per-class counts of every SURF file equal those of the image folders.

Files: ``../shared/data/office_caltech10_surf/{amazon,webcam,dslr,Caltech10}_SURF_L10.mat``
and ``../shared/data/office_caltech10_images/{domain}/{class}/*.jpg``. Research use;
cite Saenko et al. (ECCV 2010), Griffin et al. (2007) and Gong et al. (CVPR 2012).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from transferkit.datasets._common import choose_domains, read_mat
from transferkit.datasets._paths import data_dir, require_path
from transferkit.domain import Domain
from transferkit.exceptions import DataNotFoundError

__all__ = [
    "OFFICE_CALTECH_CLASSES",
    "OFFICE_CALTECH_DOMAINS",
    "load_office_caltech_images",
    "load_office_caltech_surf",
]

OFFICE_CALTECH_DOMAINS: tuple[str, ...] = ("amazon", "webcam", "dslr", "caltech10")
OFFICE_CALTECH_CLASSES: tuple[str, ...] = (
    "backpack", "bike", "calculator", "headphones", "keyboard", "laptop", "monitor", "mouse",
    "mug", "projector",
)
_SURF_FILES = {"amazon": "amazon_SURF_L10.mat", "webcam": "webcam_SURF_L10.mat",
               "dslr": "dslr_SURF_L10.mat", "caltech10": "Caltech10_SURF_L10.mat"}
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def load_office_caltech_surf(
    domains: str | Sequence[str] | None = OFFICE_CALTECH_DOMAINS,
    *,
    root: str | os.PathLike[str] | None = None,
) -> dict[str, Domain]:
    """Office-Caltech10 SURF features, one array Domain per visual domain.

    Parameters
    ----------
    domains : str or sequence of str, default=("amazon", "webcam", "dslr", "caltech10")
        Visual domains to load; None loads all four.
    root : path, optional
        Folder holding the shared data sets (default: ``transferkit.datasets.data_dir()``).

    Returns
    -------
    dict of str to Domain
        ``{domain: Domain}``; features ``surf000`` ... ``surf799``: counts of each of 800
        SURF visual words in the image (raw counts as floats; the usual protocols
        L1-normalise or z-score them), label ``label``: the class name (one of
        ``OFFICE_CALTECH_CLASSES``). Sizes: amazon 958, webcam 295, dslr 157, caltech10
        1,123; classes are roughly balanced except in dslr (8 to 24 images per class).
        ``extra["source_file"]``.

    Raises
    ------
    DataNotFoundError
        A SURF file is not under ``root/office_caltech10_surf``.
    ValueError
        A file holds labels outside 1..10.

    Examples
    --------
    >>> surf = load_office_caltech_surf(["amazon", "webcam"])  # doctest: +SKIP
    >>> surf["webcam"].X.shape, surf["webcam"].classes[:2].tolist()  # doctest: +SKIP
    ((295, 800), ['backpack', 'bike'])
    """
    chosen = choose_domains("load_office_caltech_surf", OFFICE_CALTECH_DOMAINS, domains)
    folder = data_dir(root) / "office_caltech10_surf"
    names = [f"surf{i:03d}" for i in range(800)]
    result = {}
    for domain in chosen:
        path = require_path(folder / _SURF_FILES[domain], "Office-Caltech10 SURF features",
                            f"the SURF features of '{domain}'")
        content = read_mat(path, ("fts", "labels"), "Office-Caltech10 SURF features")
        codes = content["labels"].ravel().astype(np.int64)
        if not np.isin(codes, np.arange(1, 11)).all():
            raise ValueError(
                f"Office-Caltech10 SURF features: {path.name} has labels "
                f"{sorted(set(codes.tolist()) - set(range(1, 11)))}; expected 1..10."
            )
        features = content["fts"].astype(float)
        if features.shape[1] != len(names):
            raise ValueError(
                f"Office-Caltech10 SURF features: {path.name} has {features.shape[1]} "
                "features per image; expected 800 SURF bins."
            )
        labels = np.asarray(OFFICE_CALTECH_CLASSES, dtype=object)[codes - 1]
        result[domain] = Domain.from_arrays(
            features, labels, feature_names=names, name=domain, task="multiclass",
            extra={"source_file": path.name},
        )
    return result


def load_office_caltech_images(
    domains: str | Sequence[str] | None = OFFICE_CALTECH_DOMAINS,
    *,
    root: str | os.PathLike[str] | None = None,
) -> dict[str, Domain]:
    """Office-Caltech10 images, one image-path Domain per visual domain.

    Parameters
    ----------
    domains : str or sequence of str, default=("amazon", "webcam", "dslr", "caltech10")
        Visual domains to load; None loads all four.
    root : path, optional
        Folder holding the shared data sets.

    Returns
    -------
    dict of str to Domain
        ``{domain: Domain}`` with image column ``image`` (absolute JPEG paths, sorted by
        class then file name; images downscaled upstream to at most 256 px on the longer
        side) and label ``label``: the class, read from the image's folder name, one of
        ``OFFICE_CALTECH_CLASSES``. Same sizes and class counts as the SURF features.
        Encode them with an image backbone to get features.

    Raises
    ------
    DataNotFoundError
        The domain folder, or one of its ten class folders, is missing.
    ValueError
        A domain folder holds a sub-folder that is not one of the ten classes, or a
        class folder holds no images.

    Examples
    --------
    >>> dslr = load_office_caltech_images("dslr")["dslr"]  # doctest: +SKIP
    >>> dslr.n_samples, dslr.modality  # doctest: +SKIP
    (157, 'image')
    """
    chosen = choose_domains("load_office_caltech_images", OFFICE_CALTECH_DOMAINS, domains)
    folder = data_dir(root) / "office_caltech10_images"
    result = {}
    for domain in chosen:
        domain_folder = require_path(folder / domain, "Office-Caltech10 images",
                                     f"a folder of class sub-folders for '{domain}'")
        found = sorted(p.name for p in domain_folder.iterdir() if p.is_dir())
        unknown = [name for name in found if name not in OFFICE_CALTECH_CLASSES]
        if unknown:
            raise ValueError(
                f"Office-Caltech10 images: {domain_folder} has folders {unknown} that are not "
                f"among the ten classes {list(OFFICE_CALTECH_CLASSES)}; remove or rename them."
            )
        missing = [name for name in OFFICE_CALTECH_CLASSES if name not in found]
        if missing:
            raise DataNotFoundError(
                f"Office-Caltech10 images: {domain_folder.resolve()} lacks the class folders "
                f"{missing}; every domain has all ten classes."
            )
        paths, labels = [], []
        for name in OFFICE_CALTECH_CLASSES:
            files = sorted(p for p in (domain_folder / name).iterdir()
                           if p.is_file() and p.suffix.lower() in _IMAGE_SUFFIXES)
            if not files:
                raise ValueError(
                    f"Office-Caltech10 images: {domain_folder / name} holds no "
                    f"{'/'.join(_IMAGE_SUFFIXES)} images."
                )
            paths.extend(str(p.resolve()) for p in files)
            labels.extend([name] * len(files))
        result[domain] = Domain.from_images(
            paths, np.asarray(labels, dtype=object), name=domain, task="multiclass",
        )
    return result
