"""Time one optimizer update step, side by side: `optimizer.step()` (the code generated from
each update rule: in place on NumPy, one fused kernel on CuPy) against the same rule evaluated
as plain array expressions (a temporary array per operation).

    python examples/optim_bench.py                 # NumPy, 1M float64 parameters
    python examples/optim_bench.py --size 4000000 --dtype float32
    python examples/optim_bench.py --device cuda   # CuPy arrays (needs a GPU)

Prints one row per optimizer: microseconds per step (median of --repeat runs) and the ratio.
`table()` returns the rows, for other benchmark scripts to print.
"""

import argparse
import math
import time

import numpy as np

from srcad import backend, optim
from srcad.nn import Parameter

SETTINGS = [
    ("SGD", optim.SGD, dict(lr=0.01)),
    ("SGD momentum", optim.SGD, dict(lr=0.01, momentum=0.9)),
    ("Adam", optim.Adam, dict(lr=1e-3)),
    ("AdamW amsgrad", optim.AdamW, dict(lr=1e-3, amsgrad=True)),
    ("Adagrad", optim.Adagrad, dict(lr=0.01)),
    ("Adadelta", optim.Adadelta, dict(lr=1.0)),
    ("RMSprop centered", optim.RMSprop, dict(lr=0.01, momentum=0.9, centered=True)),
]


def plain_step(name, p, state, kwargs):
    """The update as plain expressions of the rule (what one would write without srcad)."""
    g = p.grad
    if name.startswith("SGD"):
        if "momentum" in kwargs:
            buf = state.setdefault("buf", g.copy())
            buf[...] = buf * kwargs["momentum"] + g
            g = buf
        p.data[...] = p.data - g * kwargs["lr"]
    elif name.startswith("Adam"):
        t = state["t"] = state.get("t", 0) + 1
        m = state.setdefault("m", np.zeros_like(g))
        v = state.setdefault("v", np.zeros_like(g))
        if "amsgrad" in kwargs:
            p.data[...] = p.data * (1 - kwargs["lr"] * 1e-2)
        m[...] = m * 0.9 + g * 0.1
        v[...] = v * 0.999 + g * g * 0.001
        second = v
        if "amsgrad" in kwargs:
            vmax = state.setdefault("vmax", np.zeros_like(g))
            vmax[...] = np.maximum(vmax, v)
            second = vmax
        denom = np.sqrt(second) / math.sqrt(1 - 0.999 ** t) + 1e-8
        p.data[...] = p.data - m / denom * (kwargs["lr"] / (1 - 0.9 ** t))
    elif name == "Adagrad":
        s = state.setdefault("s", np.zeros_like(g))
        s[...] = s + g * g
        p.data[...] = p.data - g / (np.sqrt(s) + 1e-10) * kwargs["lr"]
    elif name == "Adadelta":
        v = state.setdefault("v", np.zeros_like(g))
        u = state.setdefault("u", np.zeros_like(g))
        v[...] = v * 0.9 + g * g * 0.1
        delta = np.sqrt(u + 1e-6) / np.sqrt(v + 1e-6) * g
        u[...] = u * 0.9 + delta * delta * 0.1
        p.data[...] = p.data - delta * kwargs["lr"]
    else:
        v = state.setdefault("v", np.zeros_like(g))
        a = state.setdefault("a", np.zeros_like(g))
        b = state.setdefault("b", np.zeros_like(g))
        v[...] = v * 0.99 + g * g * 0.01
        a[...] = a * 0.99 + g * 0.01
        avg = np.sqrt(v - a * a) + 1e-8
        b[...] = b * 0.9 + g / avg
        p.data[...] = p.data - b * kwargs["lr"]


def _median_ms(step, repeat, sync):
    step()                                    # warm up: state, generated code, kernels
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    return 1e6 * sorted(times)[len(times) // 2]


def table(size=1_000_000, dtype="float64", device="cpu", repeat=20):
    """[(optimizer, generated us, plain us)] for one parameter of `size` entries."""
    rng = np.random.default_rng(0)
    data = rng.standard_normal(size).astype(dtype)
    grad = backend.to_device(rng.standard_normal(size).astype(dtype), device)
    sync = _synchronize(device)
    rows = []
    for name, cls, kwargs in SETTINGS:
        p = Parameter(backend.to_device(data.copy(), device))
        p.grad = grad
        opt = cls([p], **kwargs)
        generated = _median_ms(opt.step, repeat, sync)
        q = Parameter(backend.to_device(data.copy(), device))
        q.grad = grad
        state = {}
        plain = _median_ms(lambda q=q, state=state, name=name, kwargs=kwargs:
                           plain_step(name, q, state, kwargs), repeat, sync)
        rows.append((name, generated, plain))
    return rows


def _synchronize(device):
    if device == "cpu":
        return lambda: None
    import cupy
    return cupy.cuda.Device().synchronize


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print(f"optimizer step on {args.size:,} {args.dtype} parameters ({args.device}), "
          f"median of {args.repeat}")
    print(f"{'optimizer':<18}{'srcad step us':>14}{'plain exprs us':>16}{'plain/srcad':>13}")
    for name, generated, plain in table(args.size, args.dtype, args.device, args.repeat):
        print(f"{name:<18}{generated:>14.1f}{plain:>16.1f}{plain / generated:>13.2f}")


if __name__ == "__main__":
    main()
