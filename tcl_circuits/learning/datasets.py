"""Datasets for classification tasks: iris and digits (bundled with scikit-learn) and MNIST (IDX files).

Features come back scaled to [0, 1] (iris: each feature by its training range; digits: /16; MNIST: /255)
with integer labels; splits are seeded and stratified (iris, digits: 80/20) or fixed (MNIST: the first
``train`` images of the file train, the last ``test`` images are held out). The standard MNIST IDX files
(``*-images-idx3-ubyte[.gz]``, ``*-labels-idx1-ubyte[.gz]``) are read directly; a folder holding the 60k
training set and the 10k test set uses both, a folder with only the 10k split is cut in two. Nothing is
guessed: a file both raw and gzipped, images without their labels (or labels without images), an empty file
or training and test images of different sizes are errors naming the files.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tcl_circuits.errors import DataError

DEFAULT_MNIST_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist"
"""The shared 10,000-image MNIST split next to a source checkout (``TCL_MNIST_DIR`` overrides)."""


@dataclass(frozen=True)
class Dataset:
    """Features in [0, 1] (samples, features) and integer labels (samples,) of a train and a test split."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]


def _stratified(name: str, x: np.ndarray, y: np.ndarray, classes: tuple[str, ...], seed: int) -> Dataset:
    from sklearn.model_selection import train_test_split

    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, random_state=seed)
    return Dataset(name, x_train, y_train.astype(int), x_test, y_test.astype(int), classes)


def iris(seed: int = 0) -> Dataset:
    """Fisher's iris: 150 flowers, 4 features, 3 classes; features scaled by the training split's range."""
    from sklearn.datasets import load_iris

    data = load_iris()
    split = _stratified("iris", data.data.astype(float), data.target, tuple(data.target_names), seed)
    lo, hi = split.x_train.min(axis=0), split.x_train.max(axis=0)
    scale = np.where(hi > lo, hi - lo, 1.0)
    return Dataset(
        "iris",
        (split.x_train - lo) / scale,
        split.y_train,
        np.clip((split.x_test - lo) / scale, 0.0, 1.0),
        split.y_test,
        split.classes,
    )


def digits(seed: int = 0) -> Dataset:
    """scikit-learn's 8x8 digits: 1,797 images, 64 features (0..16 -> 0..1), 10 classes."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return _stratified("digits", data.data / 16.0, data.target, tuple(str(k) for k in range(10)), seed)


def read_idx(path: str | os.PathLike[str], ndim: int | None = None) -> np.ndarray:
    """An IDX file (optionally gzipped) as a uint8 array of its stated shape (``ndim`` dimensions when given,
    none of them 0); DataError naming the file."""
    file = Path(path)
    try:
        raw = file.read_bytes()
        data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise DataError(f"cannot read IDX file {file}: {error}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataError(f"{file} is not an IDX file of unsigned bytes (magic {data[:4].hex() or 'missing'})")
    dims = data[3]
    if dims != (ndim or dims) or dims > 8:
        raise DataError(f"{file}: the IDX header gives {dims} dimensions, expected {ndim or 'at most 8'}")
    header = 4 + 4 * dims
    if dims == 0 or len(data) < header:
        raise DataError(f"{file}: truncated IDX header")
    shape = struct.unpack(f">{dims}I", data[4:header])
    if ndim is not None and 0 in shape:
        raise DataError(f"{file}: the IDX header gives an empty shape {shape}")
    size = math.prod(shape)
    if len(data) - header != size:
        raise DataError(
            f"{file}: IDX header announces {size:,} bytes of data, the file holds {len(data) - header:,}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _find(folder: Path, stem: str) -> Path | None:
    """The file ``stem`` or ``stem.gz`` in ``folder`` (None when neither is there; DataError when both are)."""
    found = [folder / name for name in (stem, stem + ".gz") if (folder / name).is_file()]
    if len(found) > 1:
        raise DataError(f"--data {folder} holds both {stem} and {stem}.gz: keep one of them")
    return found[0] if found else None


def mnist(data_dir: str | os.PathLike[str] | None = None, *, train: int = 8000, test: int = 2000) -> Dataset:
    """MNIST from IDX files: the 60k/10k standard split when the folder holds both, else the 10k file cut
    into its first ``train`` images (training) and its last ``test`` images (held out)."""
    folder = Path(data_dir or os.environ.get("TCL_MNIST_DIR", "") or DEFAULT_MNIST_DIR)
    if not folder.is_dir():
        raise DataError(
            f"--data {folder}: no such folder (it must hold the MNIST IDX files, e.g. t10k-images-idx3-ubyte.gz)"
        )

    def pair(prefix: str) -> tuple[Path, np.ndarray, np.ndarray] | None:
        stems = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
        images, labels = (_find(folder, stem) for stem in stems)
        if images is None and labels is None:
            return None
        if images is None or labels is None:
            there = (images or labels).name  # type: ignore[union-attr]
            missing = stems[1] if labels is None else stems[0]
            raise DataError(
                f"--data {folder}: {missing}[.gz] is missing beside {there}: add it, or remove {there}"
            )
        x, y = read_idx(images, ndim=3), read_idx(labels, ndim=1)
        if x.shape[0] != y.shape[0]:
            raise DataError(f"{images.name} ({x.shape}) and {labels.name} ({y.shape}) do not match")
        if y.max(initial=0) > 9:
            raise DataError(f"{labels.name}: labels must be digits 0..9")
        return images, x.reshape(x.shape[0], -1) / 255.0, y.astype(int)

    full, t10k = pair("train"), pair("t10k")
    if t10k is None:
        raise DataError(
            f"--data {folder}: t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] are missing"
        )
    if full is not None:
        if full[1].shape[1] != t10k[1].shape[1]:
            raise DataError(
                f"{full[0].name} holds images of {full[1].shape[1]} pixels, {t10k[0].name} of "
                f"{t10k[1].shape[1]}: the training and test images must have one size"
            )
        for (file, x, _), wanted in ((full, train), (t10k, test)):
            if wanted > x.shape[0]:
                raise DataError(
                    f"{file.name} holds {x.shape[0]:,} images, fewer than the {wanted:,} asked for"
                )
        x_train, y_train, x_test, y_test = full[1][:train], full[2][:train], t10k[1][:test], t10k[2][:test]
    else:
        _, x, y = t10k
        if train + test > x.shape[0]:
            raise DataError(f"{folder} holds {x.shape[0]:,} images, fewer than {train:,} + {test:,}")
        x_train, y_train, x_test, y_test = x[:train], y[:train], x[-test:], y[-test:]
    return Dataset("mnist", x_train, y_train, x_test, y_test, tuple(str(k) for k in range(10)))
