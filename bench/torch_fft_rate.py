"""PyTorch peer for bench/fft-rate.ts: how fast a mature CPU library runs real FFTs against its own
GEMM on this machine (Debian's python3-torch under /usr/bin/python3).

Usage: /usr/bin/python3 bench/torch_fft_rate.py [THREADS]
Prints one JSON object: torch.mm of 64 x 1024 by 1024 x 1024 and torch.fft.rfft / irfft of
131,072 values per call (N = 32 ... 2048), in GFLOP/s (2 per multiply-add; 2.5 N log2 N per
real transform, FFTW's convention), medians of interleaved rounds.
"""
import json, math, sys, time
import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
g = torch.Generator().manual_seed(1)


def timed(fns, rounds=7, budget=0.06):
    """Seconds per call of each function: calibrated repetitions, interleaved rounds, medians."""
    reps = []
    for f in fns:
        t0, n = time.perf_counter(), 0
        while time.perf_counter() - t0 < budget / 4:
            f(); n += 1
        reps.append(max(1, n))
    out = [[] for _ in fns]
    for _ in range(rounds):
        for i, f in enumerate(fns):
            t0 = time.perf_counter()
            for _ in range(reps[i] * 4): f()
            out[i].append((time.perf_counter() - t0) / (reps[i] * 4))
    return [sorted(o)[len(o) // 2] for o in out]


with torch.no_grad():
    a, b = torch.randn(64, 1024, generator=g), torch.randn(1024, 1024, generator=g)
    (mm,) = timed([lambda: torch.mm(a, b)])
    gemm = 2 * 64 * 1024 * 1024 / mm / 1e9
    rows = []
    for n in (32, 128, 512, 2048):
        x = torch.randn(131072 // n, n, generator=g)
        X = torch.fft.rfft(x)
        fwd, inv = timed([lambda: torch.fft.rfft(x), lambda: torch.fft.irfft(X, n=n)])
        flops = (131072 // n) * 2.5 * n * math.log2(n)
        rows.append({'N': n, 'forwardGflops': flops / fwd / 1e9, 'inverseGflops': flops / inv / 1e9,
                     'forwardOfGemm': flops / fwd / 1e9 / gemm})
print(json.dumps({'bench': 'torch-fft-rate', 'torch': torch.__version__, 'threads': threads,
                  'gemm': {'ms': mm * 1e3, 'gflops': gemm}, 'rows': rows}))
