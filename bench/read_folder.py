"""Keras's side of bench/read_folder.sh: image_dataset_from_directory on a folder of class
folders, read whole into memory (grayscale, 28x28, no shuffle, Keras's default batches of 32
concatenated), timed.
Usage: python read_folder.py DIR"""
import sys
import time

import numpy as np
import keras

directory = sys.argv[1]
start = time.perf_counter()
ds = keras.utils.image_dataset_from_directory(
    directory, image_size=(28, 28), color_mode="grayscale", batch_size=32, shuffle=False)
images = np.concatenate([x.numpy() for x, _ in ds])
seconds = time.perf_counter() - start
print(f"keras image_dataset_from_directory: {images.shape[0]} pictures, images {images.shape} "
      f"{images.dtype} in {seconds:.3f} s ({images.shape[0] / seconds:.0f} pictures/s)")
