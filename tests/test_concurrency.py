"""Several threads and several processes using srcad at once.

srcad caches generated code in memory only (srcad.generation.cached, under one lock): concurrent
first calls from threads build each derivative once and every thread gets the finished
entry; separate processes (spawned or forked) each build their own and agree."""

import multiprocessing
import threading
import time

import numpy as np
import pytest

import srcad
from srcad import generation
from tests.support import helper_module

THREADS = 8


def loss(x, W):
    h = np.tanh(W @ x)
    for _ in range(3):
        h = np.sin(h) * x[0]
    return np.sum(h * h)


def loss_gradient_by_srcad(seed):
    """Run in a worker process: the gradient at a point drawn from `seed`."""
    rng = np.random.default_rng(seed)
    x, W = rng.standard_normal(3), rng.standard_normal((3, 3))
    gx, gW = srcad.grad(loss, wrt=(0, 1))(x, W)
    _, dy = srcad.jvp(helper_module.scaled_tanh)(x, np.ones(3))
    return seed, gx, gW, dy, srcad.source(srcad.grad(loss, wrt=(0, 1)))


@pytest.fixture
def counted_generation(monkeypatch):
    """Count calls of generation.generate per (function, kind, wrt), slowed down so that threads
    arrive while the first is still generating."""
    calls, lock = {}, threading.Lock()
    generate = generation.generate

    def slow_generate(func, kind, wrt, *rest, **options):
        signature = options.get("signature", rest[2] if len(rest) > 2 else None)
        with lock:
            key = (func.__name__, kind, wrt, signature)   # generic code, or for these shapes
            calls[key] = calls.get(key, 0) + 1
        time.sleep(0.05)
        return generate(func, kind, wrt, *rest, **options)
    monkeypatch.setattr(generation, "generate", slow_generate)
    generation._cache.pop(loss, None)                     # start cold
    return calls


def test_threads_build_each_derivative_once_and_see_only_finished_ones(counted_generation):
    barrier = threading.Barrier(THREADS)
    shared = srcad.grad(loss, wrt=(0, 1))
    x, W = np.array([0.3, -0.2, 0.5]), np.eye(3) * 0.7
    results, errors = [None] * THREADS, []

    def work(i):
        try:
            own = srcad.grad(loss, wrt=(0, 1)) if i % 2 else shared
            barrier.wait()
            results[i] = (own(x, W), own.generated, srcad.vjp(loss, wrt=1)(x, W)[1](1.0))
        except Exception as exc:                       # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert set(counted_generation.values()) == {1}             # each built once
    assert {key[:3] for key in counted_generation} == {("loss", "grad", ("x", "W")),
                                                       ("loss", "vjp", ("W",))}
    first_gradient, generated, vjp_W = results[0]
    assert all(r[1] is generated for r in results)          # one finished entry for all
    for gradient, _, other_vjp_W in results:
        for a, b in zip(gradient, first_gradient):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(other_vjp_W, vjp_W)
    np.testing.assert_array_equal(vjp_W, first_gradient[1])


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_processes_at_once_each_build_and_agree(method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} here")
    expected = {seed: loss_gradient_by_srcad(seed) for seed in range(4)}
    context = multiprocessing.get_context(method)
    with context.Pool(2) as pool:
        for seed, gx, gW, dy, text in pool.map(loss_gradient_by_srcad, range(4)):
            _, ex, eW, edy, etext = expected[seed]
            np.testing.assert_array_equal(gx, ex)
            np.testing.assert_array_equal(gW, eW)
            np.testing.assert_array_equal(dy, edy)
            assert text == etext
