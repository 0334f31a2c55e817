"""Writing the backward yourself: the forward uses "crazy math", the derivative is simple.

Lambert's W function solves w * exp(w) = x. Computing it takes Newton's method in a loop until
the step is tiny; its derivative, by implicit differentiation of w exp(w) = x, is one line:

    dw/dx = 1 / (exp(w) (1 + w))

srcad can differentiate the Newton loop itself (the generated reverse mode records every
iteration on stacks and replays them backwards), but the rule you derive by hand is exact,
needs no stored iterations and costs one expression. This example does both, prints the two
generated gradients, checks the rule with srcad.testing.check_grads (first and second order),
and times them.

Run: python examples/custom_backward.py
"""

import argparse
import time

import numpy as np

import srcad
from srcad import d
from srcad.testing import check_grads


def lambert_w_by_newton(x):
    """w with w * exp(w) = x, for x > -1/e, by Newton's method (srcad differentiates this)."""
    w = np.log1p(x)
    step = np.ones_like(x)
    while np.max(np.abs(step)) > 1e-13:
        ew = np.exp(w)
        step = (w * ew - x) / (ew * (w + 1.0))
        w = w - step
    return w


def lambert_w(x):
    """The same computation; srcad uses the rules registered below instead of its code."""
    return lambert_w_by_newton(x)


@srcad.register_adjoint(lambert_w)
def lambert_w_adjoint(w, x):
    d[x] += d[w] / (np.exp(w) * (1.0 + w))


@srcad.register_tangent(lambert_w)
def lambert_w_tangent(w, x):
    d[w] = d[x] / (np.exp(w) * (1.0 + w))


def energy_by_newton(x):
    return np.sum(lambert_w_by_newton(x) ** 2)


def energy(x):
    return np.sum(lambert_w(x) ** 2)


def per_call(function, *args, repeat=200):
    function(*args)
    start = time.perf_counter()
    for _ in range(repeat):
        function(*args)
    return (time.perf_counter() - start) / repeat * 1e6


def main():
    x = np.linspace(0.1, 5.0, 50)
    w = lambert_w(x)
    print("W(x) * exp(W(x)) == x:", np.allclose(w * np.exp(w), x))

    through_loop = srcad.grad(energy_by_newton)
    by_rule = srcad.grad(energy)
    print("\nGradient through the Newton loop (srcad transformed the loop):\n")
    print(srcad.source(through_loop))
    print("Gradient with your rule (srcad filled in the template with your variables):\n")
    print(srcad.source(by_rule))

    exact = 2 * w / (np.exp(w) * (1 + w))
    for name, gradient in (("through the loop", through_loop), ("with the rule", by_rule)):
        error = np.max(np.abs(gradient(x) - exact))
        print(f"{name:17}: max error against the analytic gradient {error:.1e}, "
              f"{per_call(gradient, x):7.1f} us per call")
        assert error < 1e-8

    report = check_grads(energy, (x,))
    print(f"\ncheck_grads, first order (fwd and rev): max error {report.max_error:.1e}")
    report = check_grads(energy, (x,), order=2, modes="fwd")
    print(f"check_grads, second order (forward over reverse): max error "
          f"{report.max_error:.1e}")


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    main()
