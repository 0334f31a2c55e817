"""srcad in one minute: differentiate two NumPy functions and read the generated code.

Run: python examples/quickstart.py
"""

import argparse
import time

import numpy as np

import srcad
from srcad.testing import check_grads


def square(x):
    y = x * x
    return y


def network(x, W):
    h = np.tanh(W @ x)
    return np.sum(h * h)


def main():
    print("Forward mode of y = x * x:\n")
    print(srcad.source(srcad.jvp(square)))
    print("Reverse mode of a small network:\n")
    dnetwork = srcad.grad(network, wrt=(0, 1))
    print(srcad.source(dnetwork))

    rng = np.random.default_rng(0)
    x, W = rng.standard_normal(4), rng.standard_normal((3, 4))
    dx, dW = dnetwork(x, W)
    h = np.tanh(W @ x)
    by_hand = 2 * h * (1 - h * h)
    print("dx =", np.round(dx, 4))
    print("matches the hand-written gradient:", np.allclose(dx, W.T @ by_hand)
          and np.allclose(dW, np.outer(by_hand, x)))
    check_grads(network, (x, W))
    print("finite-difference check: passed")

    start = time.perf_counter()
    srcad.generation.generate(network, "grad", ("x", "W"))
    print(f"codegen time: {(time.perf_counter() - start) * 1e3:.1f} ms")


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    main()
