"""Per-call time of srcad's generated gradient next to a hand-written NumPy gradient, and
codegen time. (A first version: the full comparison with autograd, PyTorch and JAX is the
performance issue's benchmark.)

Run: python examples/benchmark.py
"""

import os
import time
import timeit

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import srcad  # noqa: E402
from srcad import api  # noqa: E402


def f(x):
    return np.sum(np.tanh(x * x))


def hand_grad(x):
    t = np.tanh(x * x)
    return 2 * x * (1 - t * t)


def ten_lines(x, W, b):
    h = W @ x + b
    h = np.tanh(h)
    s = h * h
    t = s / (1.0 + s)
    u = t * x[:2]
    v = u - b
    w = v ** 2
    z = np.sum(w, axis=0)
    q = z * 2.0 + 1.0
    return np.sum(q)


def median_time(fn, number, repeat=7):
    runs = timeit.repeat(fn, number=number, repeat=repeat)
    return sorted(runs)[repeat // 2] / number


def codegen_ms(func, kind, wrt, repeat=15):
    api.generate(func, kind, wrt)                 # warm: templates parsed, imports done
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        api.generate(func, kind, wrt)
        times.append(time.perf_counter() - start)
    return sorted(times)[repeat // 2] * 1e3


def main():
    print("codegen, warm (median ms):")
    for func, wrt in ((f, ("x",)), (ten_lines, ("x", "W", "b"))):
        for kind in ("grad", "jvp", "vjp"):
            print(f"  {func.__name__:10s} {kind:5s} {codegen_ms(func, kind, wrt):6.2f}")
    df = srcad.grad(f)
    print("\nper call, sum(tanh(x * x)) (median):")
    print(f"  {'n':>7s} {'srcad':>10s} {'hand':>10s} {'srcad/hand':>11s}")
    rng = np.random.default_rng(0)
    for n in (10, 1000, 100_000):
        x = rng.standard_normal(n)
        assert np.allclose(df(x), hand_grad(x))
        number = 20 if n >= 100_000 else 2000
        ours = median_time(lambda x=x: df(x), number)
        hand = median_time(lambda x=x: hand_grad(x), number)
        print(f"  {n:7d} {ours * 1e6:8.1f}us {hand * 1e6:8.1f}us {ours / hand:11.2f}")


if __name__ == "__main__":
    main()
