"""Reverse mode keeps, per loop trip, the arrays its adjoint reads, not every intermediate.

The generated pullback of `vjp` receives the loop's stacks as default arguments; these tests
count the distinct array buffers on them after T trips (memory, not time: examples/scaling.py
measures the peak with tracemalloc)."""

import numpy as np
import pytest

import srcad
from srcad.testing import check_grads


def loop(h, W, T):
    """The adjoint reads W, h and a (matmul's and sin's adjoints) and tanh's output, the next
    trip's h; b, `b * 2.0` and c only for their shape."""
    for _ in range(T):
        a = W @ h
        b = np.sin(a)
        c = b * 2.0 + a
        h = np.tanh(c)
    return np.sum(h)


def stacked_bytes(pullback):
    """The bytes of the distinct buffers held by the lists among `pullback`'s defaults."""
    buffers = {}

    def visit(item):
        if isinstance(item, list):
            for element in item:
                visit(element)
        elif isinstance(item, np.ndarray):
            while item.base is not None:
                item = item.base
            buffers[id(item)] = item.nbytes
    for default in pullback.__defaults__ or ():
        if isinstance(default, list):
            visit(default)
    return sum(buffers.values())


@pytest.mark.parametrize("n", [1, 50, 400])
def test_loop_keeps_the_two_arrays_per_trip_its_adjoint_reads(n):
    rng = np.random.default_rng(n)
    h, W = rng.standard_normal(n), rng.standard_normal((n, n)) / np.sqrt(n)
    kept = {}
    for T in (10, 20, 40):
        _, pullback = srcad.vjp(loop, wrt=(0, 1)).generated.function(h, W, T)
        kept[T] = stacked_bytes(pullback)
    per_trip = h.nbytes * 2                         # a and h
    small = 64                                      # a one-element shape stand-in, per value
    for T, kept_bytes in kept.items():
        assert T * per_trip <= kept_bytes <= T * (per_trip + 3 * small)
    assert kept[40] - kept[20] == 2 * (kept[20] - kept[10])   # linear in T


def test_shape_stand_ins_give_the_same_gradients():
    rng = np.random.default_rng(0)
    h, W = rng.standard_normal(4), rng.standard_normal((4, 4)) * 0.5
    check_grads(loop, (h, W, 3), wrt=(0, 1))
    _, pullback = srcad.vjp(loop, wrt=(0, 1))(h, W, 3)
    first, second = pullback(1.0), pullback(1.0)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
