"""PyTorch peer for Frugal's benchmarks (Debian's python3-torch under /usr/bin/python3).

Usage: /usr/bin/python3 bench/torch_peer.py speed [--budget S]
       /usr/bin/python3 bench/torch_peer.py train cnn|mlp DATA_DIR EPOCHS [LIMIT] [SEED] [raw]
Prints one JSON object. The models and recipes match Frugal's reference CNN and MLP. The CNN
standardises its input with the Fashion-MNIST training set's mean and std (0.2860, 0.3530), as
Frugal's reference CNN does; `raw` trains it on pixels in [0, 1] instead. The MLP takes pixels
in [0, 1] (standardising did not change its accuracy in Frugal: 87.02% against 86.99% over seeds 1-3).
"""
import gzip, json, resource, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def cnn():
    return nn.Sequential(nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(800, 128), nn.ReLU(), nn.Linear(128, 10))


def mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def timeit(fn, budget, min_iters=3):
    fn()
    t0 = time.perf_counter(); n = 0
    while n < min_iters or time.perf_counter() - t0 < budget:
        fn(); n += 1
    return (time.perf_counter() - t0) / n


def train_speed(model, x, y, budget):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    def step():
        opt.zero_grad(); F.cross_entropy(model(x), y).backward(); opt.step()
    return x.shape[0] / timeit(step, budget, 2)


def speed(budget):
    torch.manual_seed(0)
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    gemm = 2 * 1024 ** 3 / timeit(lambda: a @ b, budget) / 1e9
    out = {"threads": torch.get_num_threads(), "sgemm1024Gflops": gemm}
    out["mlpTrainSamplesPerSecond"] = train_speed(mlp(), torch.rand(128, 784), torch.randint(0, 10, (128,)), budget)
    out["cnnTrainSamplesPerSecond"] = train_speed(cnn(), torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,)), budget)
    m = cnn().eval()
    with torch.no_grad():
        for bs in (1, 256):
            x = torch.rand(bs, 1, 28, 28)
            out[f"cnnInferBatch{bs}SamplesPerSecond"] = bs / timeit(lambda: m(x), budget)
    return out


def idx(path):
    with gzip.open(path) if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load(d, prefix):
    import os
    f = lambda n: os.path.join(d, n + ".gz") if os.path.exists(os.path.join(d, n + ".gz")) else os.path.join(d, n)
    x = torch.tensor(idx(f(f"{prefix}-images-idx3-ubyte")), dtype=torch.float32).unsqueeze(1) / 255.0
    y = torch.tensor(idx(f(f"{prefix}-labels-idx1-ubyte")), dtype=torch.long)
    return x, y


MEAN, STD = 0.2860, 0.3530


def train(kind, d, epochs, limit, seed=1, normalize=True):
    normalize = normalize and kind == "cnn"
    torch.manual_seed(seed)
    xtr, ytr = load(d, "train"); xte, yte = load(d, "t10k")
    if normalize:  # in place, so peak memory is unchanged
        for t in (xtr, xte): t.sub_(MEAN).div_(STD)
    if limit: xtr, ytr = xtr[:limit], ytr[:limit]
    model = cnn() if kind == "cnn" else mlp()
    bs = 64 if kind == "cnn" else 128
    if kind == "mlp": xtr, xte = xtr.reshape(-1, 784), xte.reshape(-1, 784)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), bs):
            idx_ = perm[i:i + bs]
            opt.zero_grad(); F.cross_entropy(model(xtr[idx_]), ytr[idx_]).backward(); opt.step()
    secs = time.perf_counter() - t0
    with torch.no_grad():
        acc = (model.eval()(xte).argmax(1) == yte).float().mean().item()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"model": kind, "epochs": epochs, "seed": seed, "normalize": normalize, "testAccuracy": acc,
            "trainSeconds": secs, "samplesPerSecond": epochs * len(xtr) / secs, "peakRssBytes": rss}


if __name__ == "__main__":
    if sys.argv[1] == "speed":
        print(json.dumps(speed(float(sys.argv[3]) if len(sys.argv) > 3 else 1.0)))
    else:
        a = sys.argv
        limit = int(a[5]) if len(a) > 5 else 0
        seed = int(a[6]) if len(a) > 6 else 1
        normalize = not (len(a) > 7 and a[7] == "raw")
        print(json.dumps(train(a[2], a[3], int(a[4]), limit, seed, normalize)))
