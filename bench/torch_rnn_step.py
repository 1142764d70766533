"""PyTorch (CPU, 2 threads) training step time of the book's recurrent models, the shape of
keras_rnn_step.py: batch 64, sequences of 100 ids, nn.Embedding(500, 16) -> nn.RNN | nn.LSTM |
nn.GRU (8 units, batch_first) -> nn.Linear(8, 1), the last step's state into the head,
BCEWithLogits (the sigmoid + binary crossentropy pair written the torch way), RMSprop with
Keras's defaults (lr 0.001, rho 0.9, eps 1e-7), synthetic ids. Plain loop.

Prints `torch <model> <us> us/step`, the median over RUNS runs of STEPS steps each.

    python bench/torch_rnn_step.py [rnn] [lstm] [gru]
"""
import os
import statistics
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

BATCH, STEPS_PER_SEQ, VOCAB = 64, 100, 500
STEPS = int(os.environ.get("RNN_STEPS", "100"))
RUNS = int(os.environ.get("RNN_RUNS", "3"))
WARMUP_STEPS = 10


class Model(nn.Module):
    def __init__(self, name):
        super().__init__()
        cell = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}.get(name)
        if cell is None:
            raise SystemExit(f"unknown model {name!r}: expected rnn, lstm or gru")
        self.embedding = nn.Embedding(VOCAB, 16)
        self.rnn = cell(16, 8, batch_first=True)
        self.head = nn.Linear(8, 1)

    def forward(self, ids):
        out, _ = self.rnn(self.embedding(ids))
        return self.head(out[:, -1])


def data(n):
    i = torch.arange(n * STEPS_PER_SEQ, dtype=torch.int64)
    x = (1 + (i * 7919 + i // 13) % 499).reshape(n, STEPS_PER_SEQ)
    y = (torch.arange(n) % 2).float().reshape(n, 1)
    return x, y


def run(model, opt, x, y, steps):
    for i in range(steps):
        s = (i * BATCH) % (x.shape[0] - BATCH + 1)
        loss = F.binary_cross_entropy_with_logits(model(x[s:s + BATCH]), y[s:s + BATCH])
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()
    return loss.item()


def main(names):
    # 2 = this machine's cores. OpenMP's barrier spins badly when another process holds a core:
    # on a busy machine TORCH_THREADS=1 may be faster.
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
    torch.manual_seed(0)
    x, y = data(BATCH * 50)
    for name in names:
        model = Model(name)
        opt = torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
        model.train()
        run(model, opt, x, y, WARMUP_STEPS)
        runs = []
        for _ in range(RUNS):
            start = time.perf_counter()
            run(model, opt, x, y, STEPS)
            runs.append((time.perf_counter() - start) / STEPS * 1e6)
        print(f"torch {name} {statistics.median(runs):.1f} us/step", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["rnn", "lstm", "gru"])
