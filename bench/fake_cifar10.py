"""Writes a full-size stand-in for Keras's extracted CIFAR-10 (`cifar-10-batches-py`: five
training batches and a test batch of 10,000 32x32x3 pictures each, pickled as Keras reads them),
with pseudo-random pixels, for measuring kiln's memory on CIFAR-10's sizes where the real file
cannot be downloaded. Standard library only.

    python3 bench/fake_cifar10.py HOME_DIR
    HOME=HOME_DIR /usr/bin/time -v target/release/kiln train --dataset cifar10 --epochs 1 --verbose 0
"""
import os
import random
import struct
import sys

BATCHES = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]


def batch_pickle(data: bytes, labels: list) -> bytes:
    """A dict {"data": uint8 (n, 3072) ndarray, "labels": [int]} as cPickle protocol 2 wrote it."""
    n = len(labels)
    p = bytearray(b"\x80\x02}q\x01(U\x04dataq\x02cnumpy.core.multiarray\n_reconstruct\nq\x03cnumpy\nndarray\nq\x04K\x00\x85U\x01b\x87Rq\x05(K\x01")
    p += b"M" + struct.pack("<H", n)
    p += b"M\x00\x0c\x86cnumpy\ndtype\nq\x06U\x02u1K\x00K\x01\x87Rq\x07(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89T"
    p += struct.pack("<I", len(data)) + data
    p += b"tbU\x06labelsq\x08]q\t("
    for label in labels:
        p += bytes([ord("K"), label])
    p += b"eu."
    return bytes(p)


def main() -> None:
    home = sys.argv[1]
    folder = os.path.join(home, ".keras", "datasets", "cifar-10-batches-py")
    os.makedirs(folder, exist_ok=True)
    rng = random.Random(0)
    for name in BATCHES:
        data = rng.randbytes(10000 * 3072)
        labels = [rng.randrange(10) for _ in range(10000)]
        with open(os.path.join(folder, name), "wb") as f:
            f.write(batch_pickle(data, labels))
    print(folder)


if __name__ == "__main__":
    main()
