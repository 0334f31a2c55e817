"""Batches of unit vectors (srcad/unit_batch.py): the directions of `hessian` and forward
`jacobian`, picked from the other operand of a product instead of multiplied.

Every rule case: the jvp with a batch of unit vectors equals the separate jvps with each unit
vector, or raises `BatchUnsupported`. Hypothesis draws batches (shape, which unit vectors,
those outside the array, scale) and checks each operation that keeps them unit vectors or picks
against the same operation on the plain batch of the same numbers, with the identity refused
(so nothing computed it); the operations that do not apply compute it and agree too; writes
are refused. The Hessians of the GLMs: equal to the analytic ones and to finite differences,
on NumPy and Dask (hypothesis for shapes and chunks), without the identity; on Dask their
graph has as many products per chunk as dask-glm's formulas (one product of the data with
itself) and as many tasks, after Dask's optimization, within two.
"""

import contextlib

import dask
import dask.array as da
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import srcad
from srcad.batching import Batch, BatchUnsupported
from srcad.unit_batch import UnitBatch
from tests.support import cases, glm
from tests.support.batched import (
    check_unit_jvp,
    folding_every_batch,  # noqa: F401  (an autouse fixture)
)
from tests.support.lazy_double import computed, refusing, to_dask

CASES = cases.load()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@settings(max_examples=2)
@given(data=st.data())
def test_every_rule_case_with_unit_directions(case, data):
    args = data.draw(case.args, label="args")
    start = data.draw(st.integers(0, 3), label="start")
    check_unit_jvp(case.function, args, case.wrt, rows=3, start=start)


# ---- the batch's own operations against the plain batch of its numbers --------------------
class IdentityComputed(AssertionError):
    """The stacked unit vectors were computed where a pick or a renumbering should do."""


@contextlib.contextmanager
def identity_refused():
    """While on, computing the stacked array of a batch of unit vectors raises."""
    original = UnitBatch.stacked

    def refuse(self):
        raise IdentityComputed(repr(self))
    UnitBatch.stacked = property(refuse)
    try:
        yield
    finally:
        UnitBatch.stacked = original


@st.composite
def unit_batches(draw, shape=None):
    """A batch of unit vectors: its shape, which of them (some may lie outside), a scale."""
    if shape is None:
        shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    length = int(np.prod(shape))
    rows = draw(st.integers(1, length + 1))
    offset = draw(st.integers(-1, length - 1))
    scale = np.float64(draw(st.sampled_from([1.0, -1.0, 2.5, -0.75])))
    return UnitBatch(rows, length, offset, shape, scale=scale)


def _equal(got, want):
    assert isinstance(got, Batch) and isinstance(want, Batch)
    assert got.shape == want.shape and got.directions == want.directions
    np.testing.assert_allclose(got.stacked, want.stacked, rtol=1e-14, atol=0)
    assert got.stacked.dtype == want.stacked.dtype


def _products(u, rng):
    """(name, operation) pairs of products that pick, for a batch of unit vectors `u`."""
    p, shape = u.size, u.shape
    A = rng.standard_normal((4,) + shape)
    out = [("tensordot all axes", lambda t: np.tensordot(A, t, axes=len(shape))),
           ("tensordot on the left", lambda t: np.tensordot(
               t, np.moveaxis(A, 0, -1), axes=len(shape)))]
    if len(shape) >= 2:
        swapped = np.swapaxes(A, 1, 2)
        out.append(("tensordot, axes swapped", lambda t: np.tensordot(
            swapped, t, axes=([2, 1] + list(range(3, swapped.ndim)),
                              [0, 1] + list(range(2, len(shape)))))))
    if len(shape) == 1:
        M, S, v, w = A, rng.standard_normal((2, 3, p)), rng.standard_normal(p), \
            rng.standard_normal(4)
        out += [("M @ u", lambda t: M @ t), ("u @ M.T", lambda t: t @ M.T),
                ("stack @ u", lambda t: S @ t), ("u @ stack", lambda t: t @ np.swapaxes(S, 1, 2)),
                ("v @ u", lambda t: v @ t), ("dot", lambda t: np.dot(M, t)),
                ("u.dot", lambda t: t.dot(M.T)), ("inner", lambda t: np.inner(M, t)),
                ("einsum", lambda t: np.einsum("ij,j->i", M, t)),
                ("einsum implicit", lambda t: np.einsum("j,ij", t, M)),
                ("einsum of three", lambda t: np.einsum("ij,j,i->i", M, t, w)),
                ("einsum moved", lambda t: np.einsum("sij,j->is", S, t)),
                ("int matrix", lambda t: np.arange(4 * p).reshape(4, p) @ t),
                ("float32 matrix", lambda t: M.astype(np.float32) @ t)]
    return out


@given(u=unit_batches(), seed=st.integers(0, 99))
def test_products_pick_without_the_identity(u, seed):
    plain = Batch(u.stacked)
    for _, product in _products(u, np.random.default_rng(seed)):
        want = product(plain)
        if u.offset >= u.size or u.offset + u.rows <= 0:
            continue                    # (no unit vector inside: computed, tested below)
        with identity_refused():
            got = product(u)
        _equal(got, want)


@given(u=unit_batches())
def test_reshapes_scales_and_slices_keep_unit_vectors(u):
    plain = Batch(u.stacked)
    operations = [lambda t: t.reshape(-1), np.ravel, lambda t: t.reshape((1,) + t.shape),
                  lambda t: np.expand_dims(t, 0), lambda t: np.squeeze(t),
                  lambda t: -t, lambda t: 2.0 * t, lambda t: t * np.float64(-3.0),
                  lambda t: t / 4, lambda t: -(t * 0.5) / 3, lambda t: t[...],
                  lambda t: +t]
    if u.ndim == 1:
        operations += [lambda t: t.T, lambda t: t[1:], lambda t: t[:2], lambda t: t[-2:]]
    for operation in operations:
        want = operation(plain)
        with identity_refused():
            got = operation(u)
        assert isinstance(got, UnitBatch)
        _equal(got, want)
    with identity_refused():
        assert np.shape(u) == u.shape and np.ndim(u) == u.ndim and np.size(u) == u.size \
            and np.size(u, -1) == u.shape[-1]


@given(u=unit_batches(), seed=st.integers(0, 99))
def test_other_operations_compute_the_unit_vectors_and_agree(u, seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(u.shape)
    plain = Batch(u.stacked)
    operations = [np.sin, lambda t: t + 1.0, lambda t: t * w, lambda t: t.sum(),
                  lambda t: np.sum(t, axis=0), lambda t: t[0], lambda t: t * np.inf,
                  lambda t: np.moveaxis(t, 0, -1), lambda t: np.concatenate([t, t], axis=0),
                  lambda t: np.zeros_like(t), lambda t: np.swapaxes(t[..., None], 0, -1),
                  lambda t: np.einsum("...->...", t), lambda t: np.multiply(t, 2.0,
                                                                            dtype=complex),
                  lambda t: t.copy(), np.copy, lambda t: t.astype(float)]
    for operation in operations:
        with np.errstate(invalid="ignore"):              # (0 * inf)
            got, want = operation(u), operation(plain)
        assert isinstance(got, Batch) and not isinstance(got, UnitBatch)
        _equal(got, want)


def test_products_with_no_unit_vector_inside_are_zeros():
    u = UnitBatch(2, 3, 5, (3,))          # unit vectors 5 and 6 of 3: both zero
    M = np.ones((4, 3))
    np.testing.assert_array_equal((M @ u).stacked, np.zeros((2, 4)))
    np.testing.assert_array_equal(np.tensordot(M, u, 1).stacked, np.zeros((2, 4)))


def test_a_batch_of_unit_vectors_is_read_only():
    u = UnitBatch(3, 3, 0, (3,))
    for write in (lambda: u.__setitem__(0, 1.0), lambda: np.add(u, 1.0, out=u),
                  lambda: np.add.at(u, [0], 1.0), lambda: np.add(Batch(np.ones((3, 3))), 1.0,
                                                                   out=(u,))):
        with pytest.raises(BatchUnsupported, match="write"):
            write()
    stacked, copy = u.stacked, u.copy()
    stacked[0, 0] = 7.0                                  # (a copy: the batch stays the same)
    copy[1] = 5.0                       # (a plain batch, for writing into: entry 1 of each)
    np.testing.assert_array_equal(u.stacked, np.eye(3))
    np.testing.assert_array_equal(copy.stacked, [[1.0, 5, 0], [0, 5, 0], [0, 5, 1]])


def test_shape_errors_are_numpys():
    u = UnitBatch(3, 3, 0, (3,))
    with pytest.raises(ValueError):
        np.ones((2, 4)) @ u
    with pytest.raises(ValueError):
        u.reshape(2, 2)


# ---- the Hessians of the GLMs ---------------------------------------------------------------
def _with_intercept(b, X, y):
    z = X @ b[1:] + b[0]
    return np.sum(np.logaddexp(0.0, z) - y * z)


@pytest.mark.parametrize("model", sorted(glm.MODELS) + ["intercept"])
@settings(max_examples=6, deadline=None)
@given(n=st.integers(3, 40), p=st.integers(1, 6), parts=st.integers(1, 4),
       seed=st.integers(0, 99))
def test_glm_hessians_pick_and_equal_the_analytic_ones(model, n, p, parts, seed):
    intercept = model == "intercept"
    loss, _, hand = glm.MODELS["logistic" if intercept else model]
    loss = _with_intercept if intercept else loss
    X, y = glm.data("logistic" if intercept else model, n=n, p=p, seed=seed)
    b = np.random.default_rng(seed).uniform(-0.5, 0.5, p + intercept)
    want = hand(b, np.hstack([np.ones((n, 1)), X]) if intercept else X)
    hessian = srcad.hessian(loss)
    # (the intercept's b[0] computes its unit vectors: a vector of k numbers per direction)
    with contextlib.nullcontext() if intercept else identity_refused():
        H = hessian(b, X, y)
        assert hessian.unbatched_reason is None
        with srcad.lazy(), refusing():
            lazy = hessian(b, to_dask(X, parts), to_dask(y, parts))
        assert hessian.unbatched_reason is None
    np.testing.assert_allclose(H, want, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(computed(lazy), H, rtol=1e-10, atol=1e-10)
    gradient, e = srcad.grad(loss), np.eye(len(b))[seed % len(b)] * 1e-6
    np.testing.assert_allclose(H @ e, (gradient(b + e, X, y) - gradient(b - e, X, y)) / 2,
                               rtol=1e-5, atol=1e-9)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# dask-glm's Hessians (dask_glm.families), as it writes them for Dask arrays
DASK_GLM = {"logistic": lambda b, X: np.dot(_sigmoid(X.dot(b)) * (1 - _sigmoid(X.dot(b))) * X.T,
                                            X),
            "normal": lambda b, X: 2 * np.dot(X.T, X),
            "poisson": lambda b, X: np.dot(X.T, np.exp(X.dot(b))[:, None] * X)}


def graph_counts(value):
    """(tasks of products of arrays: matmul, tensordot, dot, einsum; all tasks; all tasks
    after Dask's optimization) of a Dask array's graph."""
    graph = dict(value.__dask_graph__())
    names = [key[0] if isinstance(key, tuple) else key for key in graph]
    products = sum(name.startswith(("matmul", "tensordot", "dot", "einsum")) for name in names)
    (optimized,) = dask.optimize(value)
    return products, len(graph), len(dict(optimized.__dask_graph__()))


@pytest.mark.parametrize("parts", [1, 4, 7])
@pytest.mark.parametrize("model", sorted(glm.MODELS))
def test_dask_hessian_is_one_product_of_the_data_like_dask_glms(model, parts):
    loss = glm.MODELS[model][0]
    X, y = glm.data(model, n=210, p=6)
    Xd, yd = to_dask(X, parts), to_dask(y, parts)
    b = np.linspace(-0.3, 0.3, 6)
    with srcad.lazy(), refusing(), identity_refused():
        H = srcad.hessian(loss)(b, Xd, yd)
    theirs = DASK_GLM[model](b, Xd)
    assert isinstance(H, da.Array) and isinstance(theirs, da.Array)
    products, tasks, optimized = graph_counts(H)
    their_products, their_tasks, their_optimized = graph_counts(theirs)
    chunks = Xd.numblocks[0]
    # one product of the data with itself per chunk, and the loss's own X @ b where it needs it
    assert products == their_products == chunks * (1 if model == "normal" else 2)
    assert optimized <= their_optimized + 2
    np.testing.assert_allclose(computed(H), computed(theirs), rtol=1e-10)


def test_dask_hessian_with_an_intercept_is_one_product_of_the_data():
    X, y = glm.data("logistic", n=90, p=4)
    Xd, yd = to_dask(X, 3), to_dask(y, 3)
    b = np.linspace(-0.3, 0.3, 5)
    hessian = srcad.hessian(_with_intercept)
    with srcad.lazy(), refusing():
        H = hessian(b, Xd, yd)
        g = srcad.grad(_with_intercept)(b, Xd, yd)      # (b[0]'s adjoint written lazily)
    assert hessian.unbatched_reason is None
    np.testing.assert_allclose(computed(g), srcad.grad(_with_intercept)(b, X, y), rtol=1e-12)
    assert graph_counts(H)[0] == 2 * 3           # X @ b[1:] and the product of the data
    np.testing.assert_allclose(computed(H), glm.MODELS["logistic"][2](
        b, np.hstack([np.ones((90, 1)), X])), rtol=1e-10)


@pytest.mark.parametrize("model", sorted(glm.MODELS) + ["intercept"])
def test_glm_hessians_on_a_device_library_pick_in_it(model):
    """On a device array (the host-leak double, as CuPy): the picks and the mask of the
    directions outside (the intercept's b[1:]) stay in the device's library."""
    from tests.support.leaky import LeakyArray, installed, to_leaky, to_numpy
    intercept = model == "intercept"
    loss = _with_intercept if intercept else glm.MODELS[model][0]
    X, y = glm.data("logistic" if intercept else model, n=30, p=3)
    b = np.linspace(-0.3, 0.3, 3 + intercept)
    want = srcad.hessian(loss)(b, X, y)
    hessian = srcad.hessian(loss)
    with installed(), contextlib.nullcontext() if intercept else identity_refused():
        H = hessian(*to_leaky((b, X, y)))
    assert hessian.unbatched_reason is None and isinstance(H, LeakyArray)
    np.testing.assert_allclose(to_numpy(H), want, rtol=1e-12)
