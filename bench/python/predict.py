"""Prediction baselines for `npm run bench`: the tutorial's dense Nadaraya-Watson formula.

    python predict.py numpy|torch

For keys x (n), values y (n) and queries q (m), in float32:

    d = x[:, None] - q[None, :]          # [n, m]
    k = exp(-(d / sigma)**2 / 2)         # Gaussian kernel
    w = k / k.sum(axis=0)                # each query's column sums to 1
    y_hat = y @ w                        # [m]

the tutorial's formula as a reader would type it (its Gaussian has sigma = 1, where the division
is skipped). Requests (one JSON object per line): {"op": "info"}, {"op": "load", "keys": csv,
"queries": csv, "sigma": s, "out": file}, {"op": "run"}. `load` runs the formula once as a
warm-up and writes its predictions to `out` as little-endian float32; `run` times one call.
"""

from __future__ import annotations

import sys

from common import blas_info, clock, environment, read_csv, serve


def make_numpy():
    import numpy as np

    def prepare(x, y, q):
        return (np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32), np.asarray(q, dtype=np.float32))

    def predict(x, y, q, sigma):
        d = x.reshape(-1, 1) - q.reshape(1, -1)
        if sigma != 1.0:
            d = d / np.float32(sigma)
        k = np.exp(-(d**2) / 2)
        w = k / k.sum(axis=0)
        return y @ w

    def to_bytes(p):
        return np.asarray(p, dtype="<f4").tobytes()

    versions = {"numpy": np.__version__}
    return prepare, predict, to_bytes, versions, {}


def make_torch():
    import torch

    torch.set_grad_enabled(False)

    def prepare(x, y, q):
        f = torch.float32
        return torch.tensor(x, dtype=f), torch.tensor(y, dtype=f), torch.tensor(q, dtype=f)

    def predict(x, y, q, sigma):
        d = x.reshape(-1, 1) - q.reshape(1, -1)
        if sigma != 1.0:
            d = d / sigma
        k = torch.exp(-(d**2) / 2)
        w = k / k.sum(dim=0)
        return y @ w

    def to_bytes(p):
        import struct

        return struct.pack(f"<{p.numel()}f", *p.tolist())

    versions = {"torch": torch.__version__.split("+")[0], "torch_build": torch.__version__}
    extra = {"threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads()}
    return prepare, predict, to_bytes, versions, extra


def main(impl: str) -> None:
    try:
        prepare, predict, to_bytes, versions, extra = {"numpy": make_numpy, "torch": make_torch}[impl]()
    except ImportError as exc:
        # Answer every request with the reason, so the harness reports the baseline as absent.
        serve({"info": lambda _r: {"absent": f"{impl} is not installed ({exc})"}})
        return
    state: dict = {}

    def info(_request):
        return {"impl": impl, "versions": versions, "blas": blas_info(), **environment(), **extra}

    def load(request):
        keys = read_csv(request["keys"])
        queries = read_csv(request["queries"])
        state["args"] = prepare(keys["x"], keys["y"], queries["q"])
        state["sigma"] = float(request.get("sigma", 1.0))
        started = clock()
        result = predict(*state["args"], state["sigma"])
        seconds = clock() - started
        with open(request["out"], "wb") as handle:
            handle.write(to_bytes(result))
        return {"warmup": seconds}

    def run(_request):
        started = clock()
        predict(*state["args"], state["sigma"])
        return {"seconds": clock() - started}

    serve({"info": info, "load": load, "run": run})


if __name__ == "__main__":
    main(sys.argv[1])
