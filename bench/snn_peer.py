"""Peers for Frugal's spiking benchmark (bench/snn.ts): the same converted network, weights and inputs.

Usage: /usr/bin/python3 bench/snn_peer.py torch NET.json --batch B [--budget S] [--mode step|fold] [--threads N]
       /usr/bin/python3 bench/snn_peer.py brian NET.json [--images N]
NET.json (written by bench/snn.ts): {"input": [...], "timesteps": T, "layers": [...], "images": b64 float32,
"count": N}; layers are linear/conv2d (weight, bias as base64 float32), avgpool2d, flatten and if (threshold,
reset 'subtract'|'zero', leak). Input is a constant current (the pixel), so the first synaptic layer's current
is the same at every step and both peers compute it once, as Frugal does. Prints one JSON object.

torch, mode step: a batched time-stepped simulation as snnTorch computes it (every layer once per step).
torch, mode fold: SpikingJelly's multi-step mode (stateless layers on the time-folded [T*B, ...] batch, the
neurons stepping through T), which is also what Frugal does.
brian: Brian 2 (numpy target) on the MLP, one image at a time: IF NeuronGroups, Synapses with on_pre v += w.
Its synapses act one step after the spike (Brian's schedule), so counts can differ from the others by a step.
"""
import base64, json, sys, time
import numpy as np


def arr(s):
    return np.frombuffer(base64.b64decode(s), dtype=np.float32)


def load(path):
    with open(path) as f:
        net = json.load(f)
    x = arr(net["images"]).reshape([net["count"], *net["input"]])
    return net, x


def arg(name, default):
    return type(default)(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def torch_layers(net):
    import torch
    import torch.nn.functional as F
    out = []
    for l in net["layers"]:
        t = l["type"]
        if t == "linear":
            w = torch.from_numpy(arr(l["weight"]).reshape(l["out"], l["in"]).copy())
            b = torch.from_numpy(arr(l["bias"]).copy()) if l.get("bias") else None
            out.append(("syn", lambda s, w=w, b=b: F.linear(s, w, b)))
        elif t == "conv2d":
            w = torch.from_numpy(arr(l["weight"]).reshape(l["out"], l["in"], l["kernel"], l["kernel"]).copy())
            b = torch.from_numpy(arr(l["bias"]).copy()) if l.get("bias") else None
            out.append(("syn", lambda s, w=w, b=b, l=l: F.conv2d(s, w, b, stride=l["stride"], padding=l["padding"])))
        elif t == "avgpool2d":
            out.append(("pool", lambda s, l=l: F.avg_pool2d(s, l["kernel"], l["stride"])))
        elif t == "flatten":
            out.append(("flat", lambda s: s.flatten(1)))
        elif t == "if":
            out.append(("if", l))
        else:
            raise SystemExit(f"unknown layer {t}")
    return out


def if_step(v, i, l):
    v = v * (1 - l["leak"]) + i if l["leak"] else v + i
    s = (v >= l["threshold"]).to(v.dtype)
    v = v - s * l["threshold"] if l["reset"] == "subtract" else v * (1 - s)
    return v, s


def torch_sim(layers, x, T, mode):
    import torch
    with torch.no_grad():
        first = layers[0][1](x)  # constant input: the first layer's current, once
        rest = layers[1:]
        if mode == "step":
            vs = [None] * len(rest)
            acc = None
            for _ in range(T):
                s = first
                for k, (kind, f) in enumerate(rest):
                    if kind == "if":
                        if vs[k] is None:
                            vs[k] = torch.zeros_like(s)
                        vs[k], s = if_step(vs[k], s, f)
                    else:
                        s = f(s)
                acc = s if acc is None else acc + s
            return acc
        B = x.shape[0]
        s = first.unsqueeze(0).expand(T, *first.shape).reshape(T * B, *first.shape[1:])
        for kind, f in rest:
            if kind == "if":
                s = s.reshape(T, B, *s.shape[1:])
                v = torch.zeros_like(s[0])
                out = torch.empty_like(s)
                for t in range(T):
                    v, out[t] = if_step(v, s[t], f)
                s = out.reshape(T * B, *s.shape[2:])
            else:
                s = f(s)
        return s.reshape(T, B, *s.shape[1:]).sum(0)


def run_torch(net, x):
    import torch
    torch.set_grad_enabled(False)
    torch.set_num_threads(arg("--threads", torch.get_num_threads()))  # as many as Frugal uses
    B, budget, mode = arg("--batch", 1), arg("--budget", 2.0), arg("--mode", "step")
    layers = torch_layers(net)
    X = torch.from_numpy(x.copy())
    T = net["timesteps"]
    counts = torch_sim(layers, X[: min(64, len(X))], T, mode).numpy()
    batches = [X[i : i + B] for i in range(0, len(X) - B + 1, B)]
    torch_sim(layers, batches[0], T, mode)  # warm-up
    t0, n, k = time.perf_counter(), 0, 0
    while n < 3 or time.perf_counter() - t0 < budget:
        torch_sim(layers, batches[k % len(batches)], T, mode)
        n += 1
        k += 1
    sec = (time.perf_counter() - t0) / n
    return {"peer": f"torch-{mode}", "torch": torch.__version__, "threads": torch.get_num_threads(), "batch": B,
            "imagesPerSecond": B / sec, "counts": counts.reshape(-1).tolist()}


def run_brian(net, x):
    import brian2 as b2
    b2.prefs.codegen.target = "numpy"
    b2.BrianLogger.suppress_name("resolution_conflict")
    syn = [l for l in net["layers"] if l["type"] == "linear"]
    ifs = [l for l in net["layers"] if l["type"] == "if"]
    if any(l["type"] not in ("linear", "if", "flatten") for l in net["layers"]) or len(syn) != len(ifs):
        raise SystemExit("brian: only the MLP (linear, if) is modelled")
    if any(l["reset"] != "subtract" or l["leak"] for l in ifs):
        raise SystemExit("brian: only reset by subtraction without leak is modelled")
    n, T = arg("--images", 2), net["timesteps"]
    W = [arr(l["weight"]).reshape(l["out"], l["in"]) for l in syn]
    bias = [arr(l["bias"]) if l.get("bias") else np.zeros(l["out"], np.float32) for l in syn]
    counts, secs = [], []
    for i in range(min(n, len(x))):
        b2.start_scope()
        b2.defaultclock.dt = 1 * b2.ms
        groups = []
        for k, l in enumerate(syn):
            g = b2.NeuronGroup(l["out"], "v : 1\nI : 1", threshold="v >= 1", reset="v -= 1", method="exact")
            # constant drive: the first layer's current W·x + b; later layers their bias, every step
            g.I = (W[0] @ x[i].reshape(-1) + bias[0]) if k == 0 else bias[k]
            g.run_regularly("v += I", when="start")
            groups.append(g)
        synapses = []
        for k in range(1, len(syn)):
            src, dst = np.nonzero(W[k].T)
            s = b2.Synapses(groups[k - 1], groups[k], "w : 1", on_pre="v_post += w")
            s.connect(i=src, j=dst)
            s.w = W[k].T[src, dst]
            synapses.append(s)
        mon = b2.SpikeMonitor(groups[-1])
        model = b2.Network(*groups, *synapses, mon)
        t0 = time.perf_counter()
        model.run(T * b2.ms)
        secs.append(time.perf_counter() - t0)
        counts.extend(np.bincount(np.asarray(mon.i), minlength=syn[-1]["out"]).tolist())
    return {"peer": "brian2", "brian2": b2.__version__, "images": len(secs), "secondsPerImage": float(np.median(secs)),
            "imagesPerSecond": 1 / float(np.median(secs)), "counts": counts}


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("torch", "brian"):
        raise SystemExit(__doc__)
    net, x = load(sys.argv[2])
    print(json.dumps(run_torch(net, x) if sys.argv[1] == "torch" else run_brian(net, x)))
