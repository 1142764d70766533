"""PyTorch (CPU, 2 threads) training step time on Fashion-MNIST, batch 32, plain loop.

Same models and optimizers as keras_step.py (RMSprop with Keras's defaults: lr 0.001, rho 0.9,
eps 1e-7; Adam with eps 1e-7). The softmax + sparse categorical crossentropy pair is written
the torch way: logits into F.cross_entropy. Prints `torch <model> <us> us/step`.

    python bench/torch_step.py [lesson] [mlp] [cnn]
"""
import os
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

from fashion_mnist import load_train

BATCH = 32
STEPS = {"lesson": 1500, "mlp": 1500, "cnn": int(os.environ.get("CNN_STEPS", "300"))}
WARMUP_STEPS = 50


def build(name):
    if name == "lesson":
        model = nn.Linear(784, 10)
    elif name == "mlp":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
    elif name == "cnn":
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 100), nn.ReLU(), nn.Dropout(0.4),
            nn.Linear(100, 10),
        )
    else:
        raise SystemExit(f"unknown model {name!r}: expected lesson, mlp or cnn")
    if name == "cnn":
        opt = torch.optim.Adam(model.parameters(), lr=0.001, eps=1e-7)
    else:
        opt = torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
    return model, opt


def run(model, opt, x, y, steps, gen):
    order = torch.randperm(x.shape[0], generator=gen)
    for i in range(steps):
        idx = order[(i * BATCH) % (x.shape[0] - BATCH):][:BATCH]
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()
    return loss.item()


def main(names):
    # 2 = this machine's cores. OpenMP's barrier spins badly when another process holds a core:
    # on a busy machine TORCH_THREADS=1 may be faster.
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
    xn, yn = load_train()
    x_all, y = torch.from_numpy(xn), torch.from_numpy(yn)
    gen = torch.Generator().manual_seed(0)
    for name in names:
        x = {"lesson": x_all.reshape(-1, 784), "mlp": x_all, "cnn": x_all[:, None]}[name]
        x, yy = x[:48000].contiguous(), y[:48000]
        model, opt = build(name)
        model.train()
        run(model, opt, x, yy, WARMUP_STEPS, gen)
        start = time.perf_counter()
        run(model, opt, x, yy, STEPS[name], gen)
        elapsed = time.perf_counter() - start
        print(f"torch {name} {elapsed / STEPS[name] * 1e6:.1f} us/step", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["lesson", "mlp", "cnn"])
