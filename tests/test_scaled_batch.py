"""Batches with a pending factor (srcad/scaled_batch.py): the steps that only scale a batch
folded into one factor of one direction's size, applied to the k directions once.

Hypothesis draws expressions of negations, products and quotients with primal floats and
arrays of broadcastable shapes, sums and differences of branches of one batch, and checks
each against the same steps on the stacked NumPy array in the original order (NumPy, and Dask
chunk by chunk): the same dtype, the numbers to rounding, and, for factors at the ends of the
float range, NumPy's numbers step by step, or the exact product's where the original order
overflowed or underflowed (long double as the independent result). Writes, `numpy.errstate`
and what does not fold. The GLMs' Hessians: one pass over the k directions (against 2 to 6
without folding), equal to the analytic Hessians and to finite differences.
"""

import warnings

import dask.array as da
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import srcad
from srcad import batching, scaled_batch
from srcad.batching import Batch
from srcad.scaled_batch import ScaledBatch
from srcad.unit_batch import UnitBatch
from tests.support import glm
from tests.support.batched import folding_every_batch  # noqa: F401  (an autouse fixture)
from tests.support.lazy_double import computed, refusing, to_dask

MODERATE = st.floats(-3.0, 3.0, allow_nan=False).map(lambda v: 0.0 if abs(v) < 0.1 else v)
EXTREME = st.sampled_from([1e200, -1e200, 1e-200, 1e300, 1e-300, 5e-324, 1e-310, 0.0, 2.0,
                           -0.5, np.inf, np.nan, 1.7e308])


@st.composite
def factors(draw, shape, values, dtypes=(np.float64,)):
    """A primal float that broadcasts against one direction of `shape`: a Python float or int,
    a NumPy scalar, or an array of a suffix of `shape` with some axes of length 1."""
    kind = draw(st.sampled_from(["float", "int", "scalar", "array"]))
    if kind == "float":
        return draw(values)
    if kind == "int":
        return draw(st.integers(-3, 3))
    dtype = draw(st.sampled_from(dtypes))
    if kind == "scalar":
        return dtype(draw(values))
    suffix = shape[len(shape) - draw(st.integers(0, len(shape))):]
    own = tuple(n if draw(st.booleans()) else 1 for n in suffix)
    return np.array(draw(st.lists(values, min_size=int(np.prod(own, dtype=int)),
                                  max_size=int(np.prod(own, dtype=int)))),
                    dtype=dtype).reshape(own)


@st.composite
def expressions(draw, shape, values, depth=3, dtypes=(np.float64,)):
    """A nested tuple of steps on a batch `("base",)`: ("neg", e), ("mul", e, f),
    ("rmul", e, f), ("div", e, f), ("add", e, e'), ("sub", e, e')."""
    if depth == 0:
        return ("base",)
    step = draw(st.sampled_from(["base", "neg", "mul", "rmul", "div", "add", "sub"]))
    if step == "base":
        return ("base",)
    inner = draw(expressions(shape, values, depth - 1, dtypes))
    if step == "neg":
        return ("neg", inner)
    if step in ("add", "sub"):
        return (step, inner, draw(expressions(shape, values, depth - 1, dtypes)))
    return (step, inner, draw(factors(shape, values, dtypes)))


def evaluate(expr, base):
    """`expr` on `base` (a batch, or a stacked array with the factors applied as NumPy's
    broadcasting does against one direction: right-aligned)."""
    step = expr[0]
    if step == "base":
        return base
    if step == "neg":
        return -evaluate(expr[1], base)
    if step in ("add", "sub"):
        a, b = evaluate(expr[1], base), evaluate(expr[2], base)
        return a + b if step == "add" else a - b
    inner, f = evaluate(expr[1], base), expr[2]
    return {"mul": lambda: inner * f, "rmul": lambda: f * inner,
            "div": lambda: inner / f}[step]()


def bound(expr, base):
    """The magnitude the steps of `expr` add up to (for an absolute tolerance)."""
    step = expr[0]
    if step == "base":
        return np.abs(base)
    if step == "neg":
        return bound(expr[1], base)
    if step in ("add", "sub"):
        return bound(expr[1], base) + bound(expr[2], base)
    inner, f = bound(expr[1], base), np.abs(expr[2])
    return inner / f if step == "div" else inner * f


def _stacked(value):
    return value.stacked if isinstance(value, Batch) else value


@settings(max_examples=150, deadline=None)
@given(data=st.data(), k=st.integers(1, 4),
       shape=st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple),
       base_dtype=st.sampled_from([np.float64, np.float32]))
def test_folded_steps_equal_the_steps_in_order(data, k, shape, base_dtype):
    stacked = np.asarray(data.draw(st.lists(MODERATE, min_size=k * int(np.prod(shape)),
                                            max_size=k * int(np.prod(shape)))),
                         dtype=base_dtype).reshape((k,) + shape)
    expr = data.draw(expressions(shape, MODERATE, dtypes=(np.float64, np.float32)))
    with np.errstate(divide="ignore", invalid="ignore"):
        want = evaluate(expr, stacked)
        got = evaluate(expr, Batch(stacked))
        got_stacked = _stacked(got)
        tolerance = 1e-5 if base_dtype == np.float32 or "float32" in repr(expr) else 1e-12
        atol = tolerance * bound(expr, stacked.astype(float))
    if k >= 2 and folded_base(expr) == "base":
        assert isinstance(got, ScaledBatch)
    assert got_stacked.dtype == np.asarray(want).dtype
    assert np.all(np.isclose(got_stacked, want, rtol=tolerance, atol=np.nan_to_num(atol),
                             equal_nan=True)), (got_stacked, want)


def folded_base(expr):
    """"base" where `expr` folds into steps on the batch it starts from, None where it does
    not (it is the batch itself, or a sum meets a batch computed); a new object where it
    folds into steps on a batch computed on the way."""
    step = expr[0]
    if step == "base":
        return None
    if step in ("add", "sub"):
        a, b = folded_base(expr[1]), folded_base(expr[2])
        return a if a is not None and a == b else None
    inner = folded_base(expr[1])
    return "base" if expr[1] == ("base",) else (inner if inner is not None else object())


def _in_range(got, want, exact):
    """Each entry of `got` is NumPy's step-by-step number `want` (to rounding, inf and nan
    alike), or, where those steps left the range of normal floats, the exact number `exact`
    (long double steps rounded)."""
    close = np.isclose(got, want, rtol=1e-12, atol=0, equal_nan=True)
    better = np.isclose(got, exact, rtol=1e-12, atol=0, equal_nan=True)
    assert np.all(close | better), (got, want, exact)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), k=st.integers(2, 3), n=st.integers(1, 4))
def test_factors_at_the_ends_of_the_range(data, k, n):
    stacked = np.array(data.draw(st.lists(EXTREME, min_size=k * n, max_size=k * n)),
                       dtype=float).reshape(k, n)
    expr = data.draw(expressions((n,), EXTREME, depth=4))
    with np.errstate(all="ignore"):
        want = _stacked(evaluate(expr, stacked))
        got = _stacked(evaluate(expr, Batch(stacked)))
        exact = _stacked(evaluate(_as_long(expr), stacked.astype(np.longdouble)))
        exact = exact.astype(float)
        lazy = _stacked(evaluate(expr, Batch(da.from_array(stacked, chunks=(k, 1)))))
        _in_range(got, want, exact)
        _in_range(computed(lazy), want, exact)


def _as_long(expr):
    """`expr` with its factors as long doubles (a wider exponent: no overflow where float64's
    steps overflow)."""
    if expr[0] == "base":
        return expr
    if expr[0] in ("mul", "rmul", "div"):
        f = expr[2]
        return (expr[0], _as_long(expr[1]), np.asarray(f, dtype=np.longdouble))
    return (expr[0],) + tuple(_as_long(e) for e in expr[1:])


def test_a_factor_that_overflows_or_underflows_gives_the_steps_numbers():
    cases = [(1e-300, [1e200, 1e200]), (1e300, [1e-200, 1e-200]), (1e300, [1e-300, 5e-324]),
             (1.0, [1e-310, 1e10])]
    for value, steps in cases:
        b = Batch(np.full((3, 4), value))
        t = b
        for f in steps:
            t = t * np.full(4, f)
        want = np.full((3, 4), value)
        for f in steps:
            want = want * f
        assert isinstance(t, ScaledBatch)
        np.testing.assert_array_equal(t.stacked, want)
    b = Batch(np.ones((2, 3)))
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal((2.0 * b / np.array([1.0, 0.0, -0.0])).stacked,
                                      [[2.0, np.inf, -np.inf]] * 2)
    inf = Batch(np.array([[np.inf, 1.0], [1.0, 2.0]]))
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal((inf * 2.0 - inf).stacked, [[np.nan, 1.0], [1.0, 2.0]])


def test_dask_chunks_decide_each_for_itself():
    stacked = np.ones((3, 6))
    big = np.array([1e200, 1e200, 1.0, 1.0, 2.0, 3.0])
    lazy = Batch(da.from_array(stacked * 1e-300, chunks=(3, 2)))
    with refusing(), np.errstate(all="ignore"):
        t = lazy * big * big
    assert isinstance(t, ScaledBatch)
    want = stacked * 1e-300 * big * big
    np.testing.assert_array_equal(computed(t.stacked), want)


def test_the_batch_is_computed_once():
    b = Batch(np.arange(6.0).reshape(2, 3))
    t = -(b * np.array([1.0, 2.0, 3.0])) * 0.5
    first = t.stacked
    assert t.stacked is first
    np.testing.assert_array_equal(first, -(np.arange(6.0).reshape(2, 3) * [1, 2, 3]) * 0.5)


def test_writes_go_into_the_computed_batch():
    w = np.array([1.0, 2.0, 3.0])
    b = Batch(np.ones((2, 3)))
    t = b * w
    t[..., 0] = 7.0
    np.testing.assert_array_equal((t * 2.0).stacked, [[14.0, 4.0, 6.0]] * 2)
    np.testing.assert_array_equal(b.stacked, np.ones((2, 3)))
    u = b * w
    np.add(Batch(np.zeros((2, 3))), 1.0, out=u)
    np.testing.assert_array_equal((-u).stacked, -np.ones((2, 3)))
    v = b * w
    np.add.at(v, [0], 1.0)
    np.testing.assert_array_equal((v / 2.0).stacked, [[1.0, 1.0, 1.5]] * 2)


def test_numpys_errstate_of_the_steps_applies():
    b = Batch(np.full((2, 2), 1e200))
    with np.errstate(over="ignore"):
        t = b * 1e200 * 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(t.stacked, np.full((2, 2), np.inf))
    with np.errstate(over="raise"):
        t = b * 1e200
    with pytest.raises(FloatingPointError):
        print(t.stacked)
    with np.errstate(over="ignore"):
        t = b * 2.0
    assert type(t) is ScaledBatch and type(t * 3.0) is Batch     # (other settings: computed)
    np.testing.assert_array_equal((t * 3.0).stacked, np.full((2, 2), 6e200))


def test_what_does_not_fold():
    b = Batch(np.ones((2, 3)))
    for value in (b * np.array([1, 2, 3]), b * True, b * 2 ** 60, b * np.ones((2, 3)),
                  Batch(np.ones((1, 3))) * 2.0, Batch(np.ones((2, 3), dtype=complex)) * 2.0,
                  b + 1.0, (b * 2.0) + b, (b * 2.0) + Batch(np.ones((2, 3))) * 3.0,
                  2.0 / b, b * b):
        assert type(value) is Batch
    np.testing.assert_array_equal((b * np.array([1, 2, 3])).stacked, [[1.0, 2.0, 3.0]] * 2)
    assert type(UnitBatch(3, 3, 0, (3,)) * np.array([1.0, 2.0, 3.0])) is ScaledBatch


# ---- the GLMs' Hessians: one pass over the k directions -------------------------------------
def _passes(monkeypatch):
    """A list that counts the element-wise operations over a batch's stacked array (a batch's
    ufunc, `where`, `clip`, and each batch with a factor computed)."""
    count = []
    elementwise, materialize = batching._elementwise, scaled_batch.materialize

    def counting_elementwise(*args):
        count.append("elementwise")
        return elementwise(*args)

    def counting_materialize(*args):
        count.append("factor")
        return materialize(*args)
    monkeypatch.setattr(batching, "_elementwise", counting_elementwise)
    monkeypatch.setattr(scaled_batch, "materialize", counting_materialize)
    return count


def _penalized(b, X, y):
    z = X @ b
    return np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * np.sum(b * b)


def _weighted_squares(b, X, y):
    z = X @ b
    return np.sum(y * z * z)


HESSIANS = {"penalized": (_penalized, lambda b, X, y: glm.MODELS["logistic"][2](b, X)
                          + np.eye(len(b))),
            "weighted": (_weighted_squares, lambda b, X, y: 2 * X.T @ (y[:, None] * X))}


@pytest.mark.parametrize("model", sorted(glm.MODELS))
@pytest.mark.parametrize("lazy", [False, True])
def test_glm_hessians_take_one_pass_over_the_directions(model, lazy, monkeypatch):
    loss = glm.fresh(glm.MODELS[model][0])
    X, y = glm.data(model, n=60, p=5)
    b = np.linspace(-0.3, 0.3, 5)
    args = (b, to_dask(X, 3), to_dask(y, 3)) if lazy else (b, X, y)
    passes = _passes(monkeypatch)
    with srcad.lazy(), refusing() if lazy else warnings.catch_warnings():
        H = srcad.hessian(loss)(*args)
    # (normal: the factor is the number 2, applied to the product: no pass over the batch)
    assert passes == ([] if model == "normal" else ["factor"])
    monkeypatch.setattr(scaled_batch, "MIN_DIRECTIONS", 10 ** 9)     # (nothing folds)
    passes.clear()
    with srcad.lazy():
        unfolded = srcad.hessian(loss)(*args)
    # (the steps on the tangents of the code specialized to the shapes: logistic `-t`,
    # `0.5 * t`, `t * (1.0 - tanh ** 2)`, `0.5 * t`, `-t`; normal `-t`, `2 * t`, `-t`;
    # poisson `t * exp(z)`)
    assert len(passes) == {"logistic": 5, "normal": 3, "poisson": 1}[model]
    if lazy:         # one task per chunk scales the batch; fewer tasks in all
        names = [key[0] if isinstance(key, tuple) else key for key in H.__dask_graph__()]
        assert sum(name.startswith("_on_chunk") for name in names) == \
            (0 if model == "normal" else 3)
        if len(passes) > 1:
            assert len(names) < len(unfolded.__dask_graph__())
    np.testing.assert_allclose(computed(H), glm.MODELS[model][2](b, X), rtol=1e-12)
    np.testing.assert_allclose(computed(H), computed(unfolded), rtol=1e-13)


@pytest.mark.parametrize("model", sorted(HESSIANS))
@settings(max_examples=5, deadline=None)
@given(n=st.integers(3, 30), p=st.integers(2, 5), parts=st.integers(1, 3),
       seed=st.integers(0, 99))
def test_hessians_with_sums_of_scaled_directions(model, n, p, parts, seed):
    loss, hand = HESSIANS[model]
    X, y = glm.data("logistic", n=n, p=p, seed=seed)
    b = np.random.default_rng(seed).uniform(-0.5, 0.5, p)
    hessian = srcad.hessian(loss)
    H = hessian(b, X, y)
    assert hessian.unbatched_reason is None
    with srcad.lazy(), refusing():
        lazy = hessian(b, to_dask(X, parts), to_dask(y, parts))
    np.testing.assert_allclose(H, hand(b, X, y), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(computed(lazy), H, rtol=1e-10, atol=1e-10)
    gradient, e = srcad.grad(loss), np.eye(p)[seed % p] * 1e-6
    np.testing.assert_allclose(H @ e, (gradient(b + e, X, y) - gradient(b - e, X, y)) / 2,
                               rtol=1e-5, atol=1e-8)


def test_small_batches_in_memory_step_as_they_are():
    default = 2 ** 14
    small, large = np.ones((2, default // 2 - 1)), np.ones((2, default // 2))
    before, scaled_batch.MIN_ELEMENTS = scaled_batch.MIN_ELEMENTS, default
    try:
        assert type(Batch(small) * 2.0) is Batch
        assert type(Batch(large) * 2.0) is ScaledBatch
        assert type(Batch(da.from_array(small, chunks=(2, 100))) * 2.0) is ScaledBatch
    finally:
        scaled_batch.MIN_ELEMENTS = before
    assert scaled_batch.MIN_ELEMENTS == 0        # (this module's fixture)


PRODUCTS = {"matmul": lambda A, t: A @ t, "dot": np.dot,
            "tensordot": lambda A, t: np.tensordot(A, t, axes=1), "inner": np.inner}


@pytest.mark.parametrize("product", sorted(PRODUCTS))
def test_a_product_takes_a_factor_of_one_number_after_it(product, monkeypatch):
    """`A @ t` (`dot`, `tensordot`, `inner`) of a batch that steps scaled by numbers only:
    the product of its base, times the number (k results scaled, not k directions); the
    numbers of the steps in order (equal for a power of two, to rounding for others). A
    factor that left the normal numbers, or an array, computes the batch first."""
    rng = np.random.default_rng(0)
    stacked, A = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    apply = PRODUCTS[product]
    computed_first = []
    materialize = scaled_batch.materialize
    monkeypatch.setattr(scaled_batch, "materialize",
                        lambda *a: computed_first.append(a) or materialize(*a))

    def in_order(steps):        # (the steps on the plain batch, then the same product)
        return apply(A, Batch(steps(stacked))).stacked
    b = Batch(stacked)
    got = apply(A, -(2.0 * b) * -1)
    np.testing.assert_array_equal(got.stacked, in_order(lambda s: -(2.0 * s) * -1))
    got = apply(A, b * 0.3 / 0.7)
    np.testing.assert_allclose(got.stacked, in_order(lambda s: s * 0.3 / 0.7), rtol=1e-14)
    assert computed_first == []
    w = np.array([1.0, 2.0, 3.0, 4.0])
    for steps in (lambda s: s * 1e-300 * 1e-10, lambda s: s * w * 2.0):
        np.testing.assert_array_equal(apply(A, steps(b)).stacked, in_order(steps))
    assert len(computed_first) == 2
