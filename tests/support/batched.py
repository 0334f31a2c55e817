"""Batched tangents for the tests: random batches shaped like a function's arguments, a
batched jvp compared direction by direction with separate jvps (tests/test_batching.py), and
`folding_every_batch`, the autouse fixture a test module imports to fold batches of any size."""

import numpy
import pytest

import srcad
from srcad import backend, batching, scaled_batch


@pytest.fixture(autouse=True, scope="module")
def folding_every_batch():
    """Steps that only scale a batch fold however small it is (srcad/scaled_batch.py), so
    that the comparisons of a test module that imports this fixture cover folded batches."""
    before, scaled_batch.MIN_ELEMENTS = scaled_batch.MIN_ELEMENTS, 0
    yield
    scaled_batch.MIN_ELEMENTS = before


def tangents_like(x, k, rng):
    """(a tangent of `x` holding batches of k random directions, the k tangents one by one);
    None for an argument that has no float tangent (an integer array, a string)."""
    if isinstance(x, (list, tuple)):
        parts = [tangents_like(item, k, rng) for item in x]
        if any(p is None for p in parts):
            return None
        return (type(x)(p[0] for p in parts),
                [type(x)(p[1][i] for p in parts) for i in range(k)])
    if isinstance(x, dict):
        parts = {key: tangents_like(item, k, rng) for key, item in x.items()}
        if any(p is None for p in parts.values()):
            return None
        return ({key: p[0] for key, p in parts.items()},
                [{key: p[1][i] for key, p in parts.items()} for i in range(k)])
    if isinstance(x, float) or (isinstance(x, numpy.ndarray) and x.dtype.kind == "f"):
        stacked = rng.standard_normal((k,) + numpy.shape(x))
        one = [float(s) if isinstance(x, float) else s for s in stacked]
        return batching.Batch(stacked), one
    return None


def direction(value, i):
    """Direction i of a batched jvp's output (a batch, a primal value, or a structure)."""
    if isinstance(value, (list, tuple)):
        return type(value)(direction(v, i) for v in value)
    if isinstance(value, dict):
        return {key: direction(v, i) for key, v in value.items()}
    if isinstance(value, batching.Batch):
        return value.stacked[i]
    return value


def check_batched_jvp(func, args, wrt, k=3, seed=0):
    """The jvp of `func` at `args` with k directions batched equals k separate jvps to 1e-12,
    or the batched call raises `BatchUnsupported` (directly or as the cause of srcad's error
    at the user's line). Returns "batched" or the reason it was not; None when an argument
    has no float tangent."""
    wrt = tuple(range(len(args))) if wrt is None else (wrt,) if isinstance(wrt, int) else wrt
    rng = numpy.random.default_rng(seed)
    pairs = [tangents_like(args[p], k, rng) for p in wrt]
    if any(p is None for p in pairs):
        return None
    jvp = srcad.jvp(func, wrt=wrt)
    try:
        with backend.lazy():
            _, batched = jvp(*args, *[p[0] for p in pairs])
    except Exception as exc:
        reason = unsupported(exc)
        assert reason is not None, f"a batched jvp failed with something else: {exc!r}"
        return reason
    for i in range(k):
        _, want = jvp(*args, *[p[1][i] for p in pairs])
        _assert_close(direction(batched, i), want)
    return "batched"


def unsupported(exc):
    """The `BatchUnsupported` behind `exc` (itself, its cause or context), or None."""
    while exc is not None:
        if isinstance(exc, batching.BatchUnsupported):
            return str(exc)
        exc = exc.__cause__ or exc.__context__
    return None


def _assert_close(got, want):
    if isinstance(want, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(want)
        for g, w in zip(got, want):
            _assert_close(g, w)
    elif isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want)
        for key in want:
            _assert_close(got[key], want[key])
    else:
        assert numpy.shape(got) == numpy.shape(want)
        numpy.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def check_unit_jvp(func, args, wrt, rows=4, start=0):
    """For each float array argument of `wrt` in turn: the jvp of `func` at `args` with the
    unit vectors numbered `start` to `start + rows` of that argument as one batch of unit
    vectors (`srcad.unit_batch`), the other tangents zero, equals the separate jvps with each
    unit vector to 1e-12, or the batched call raises `BatchUnsupported`. Returns the reasons
    of the arguments not batched ("batched" for the others); None when no argument has an
    array of floats."""
    from srcad.unit_batch import UnitBatch
    wrt = tuple(range(len(args))) if wrt is None else (wrt,) if isinstance(wrt, int) else wrt
    floats = [p for p in wrt if isinstance(args[p], numpy.ndarray) and args[p].dtype.kind == "f"
              and args[p].size]
    if not floats or len(floats) != len(wrt):
        return None
    jvp = srcad.jvp(func, wrt=wrt)
    reasons = []
    for p in floats:
        x = args[p]
        first = min(start, x.size - 1)
        units = UnitBatch(min(rows, x.size - first), x.size, first, x.shape)
        zeros = [numpy.zeros_like(args[q]) for q in wrt]
        try:
            with backend.lazy():
                _, batched = jvp(*args, *[units if q == p else z for q, z in zip(wrt, zeros)])
        except Exception as exc:
            reason = unsupported(exc)
            assert reason is not None, f"a unit batch's jvp failed with something else: {exc!r}"
            reasons.append(reason)
            continue
        for i, e in enumerate(units.stacked):
            _, want = jvp(*args, *[e if q == p else z for q, z in zip(wrt, zeros)])
            _assert_close(direction(batched, i), want)
        reasons.append("batched")
    return reasons
