"""Fashion-MNIST from the Debian package dataset-fashion-mnist (gzip IDX files), scaled /255.

Shared by keras_step.py and torch_step.py so both time the same data.
"""
import gzip
import os
import struct

import numpy as np

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {data[:4].hex()})")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_train(directory=None):
    """(x, y): x float32 (60000, 28, 28) in [0, 1], y int64 (60000,)."""
    directory = directory or os.environ.get("FASHION_MNIST_DIR", DEFAULT_DIR)
    x = _read_idx(os.path.join(directory, "train-images-idx3-ubyte.gz"))
    y = _read_idx(os.path.join(directory, "train-labels-idx1-ubyte.gz"))
    return x.astype(np.float32) / 255.0, y.astype(np.int64)
