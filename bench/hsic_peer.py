"""PyTorch peer of bench/hsic.ts: the HSIC bottleneck of Ma, Lewis & Kleijn written by us from spec 03's
description (not the authors' code), the same job as Frugal's hsicStep, timed per epoch.

Usage: /usr/bin/python3 bench/hsic_peer.py DATA_DIR ROWS BATCH THREADS ROUNDS W1,W2,...,WL
Prints one JSON object: seconds of one HSIC epoch and of one backprop epoch of the same network (medians).

Per batch: X = flattened pixels in [0, 1], Y = one-hot labels; for each block i (Linear -> BatchNorm1d
(affine=False) -> ReLU) with its input detached: loss_i = nHSIC(Z_i, X) - beta * nHSIC(Z_i, Y) with
K_ab = exp(-|z_a - z_b|^2 / (2 sigma^2 d)), Kbar = K H, R = Kbar (Kbar + eps m I)^-1 (a linear solve),
nHSIC = sum(R_X * R_Y^T); backward; one SGD step (lr 1e-3, weight decay 1e-3) of block i only; then
the block's output recomputed with the new weights as the next block's input.
"""
import gzip, json, statistics, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SIGMA, BETA, EPS = 6.0, 1000.0, 1e-5


def load(data_dir, rows):
    with gzip.open(f"{data_dir}/train-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)[:rows]
    with gzip.open(f"{data_dir}/train-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)[:rows]
    return torch.from_numpy(x.astype(np.float32) / 255), torch.from_numpy(y.astype(np.int64))


def kernel(z, sigma):
    d = z[0].numel()
    z = z.reshape(z.shape[0], -1)
    sq = (z * z).sum(1)
    dist = (sq[:, None] + sq[None, :] - 2 * z @ z.T).clamp_min(0)
    return torch.exp(-dist / (2 * sigma * sigma * d))


def r_factor(z, sigma):
    m = z.shape[0]
    k = kernel(z, sigma)
    kbar = k - k.mean(1, keepdim=True)  # K H (right centring only, as the authors)
    a = kbar + EPS * m * torch.eye(m)
    # R = Kbar A^-1  <=>  A^T R^T = Kbar^T
    return torch.linalg.solve(a.T, kbar.T).T


def nhsic(rx, ry):
    return (rx * ry.T).sum()


def blocks_of(widths):
    return [nn.Sequential(nn.Linear(a, b), nn.BatchNorm1d(b, affine=False), nn.ReLU())
            for a, b in zip(widths[:-1], widths[1:])]


def hsic_epoch(blocks, opts, x, y, batch):
    t0 = time.perf_counter()
    for s in range(0, x.shape[0], batch):
        xb, yb = x[s:s + batch], y[s:s + batch]
        if xb.shape[0] < 2:
            continue
        with torch.no_grad():
            rx = r_factor(xb, SIGMA)
            ry = r_factor(F.one_hot(yb, 10).float(), SIGMA)
        h = xb
        for i, (blk, opt) in enumerate(zip(blocks, opts)):
            z = blk(h)
            rz = r_factor(z, SIGMA)
            loss = nhsic(rz, rx) - BETA * nhsic(rz, ry)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if i + 1 < len(blocks):
                with torch.no_grad():
                    h = blk(h)
    return time.perf_counter() - t0


def backprop_epoch(model, opt, x, y, batch):
    t0 = time.perf_counter()
    for s in range(0, x.shape[0], batch):
        opt.zero_grad()
        F.cross_entropy(model(x[s:s + batch]), y[s:s + batch]).backward()
        opt.step()
    return time.perf_counter() - t0


def main():
    data_dir = sys.argv[1]
    rows, batch, threads, rounds = (int(a) for a in sys.argv[2:6])
    widths = [int(w) for w in sys.argv[6].split(",")]
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    x, y = load(data_dir, rows)
    blocks = blocks_of(widths)
    opts = [torch.optim.SGD(b.parameters(), lr=1e-3, weight_decay=1e-3) for b in blocks]
    net = nn.Sequential(*blocks_of(widths))
    bopt = torch.optim.SGD(net.parameters(), lr=1e-3, weight_decay=1e-3)
    hsic_epoch(blocks, opts, x[: 2 * batch], y[: 2 * batch], batch)  # warm-up
    backprop_epoch(net, bopt, x[: 2 * batch], y[: 2 * batch], batch)
    th, tb = [], []
    for _ in range(rounds):
        th.append(hsic_epoch(blocks, opts, x, y, batch))
        tb.append(backprop_epoch(net, bopt, x, y, batch))
    print(json.dumps({"peer": f"pytorch {torch.__version__}", "threads": torch.get_num_threads(), "rows": x.shape[0],
                      "hsicSecondsPerEpoch": statistics.median(th), "backpropSecondsPerEpoch": statistics.median(tb)}))


if __name__ == "__main__":
    main()
