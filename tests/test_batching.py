"""Batched tangents (srcad/batching.py): k directions through forward-mode code in one pass.

Every rule case of tests/support/cases: the jvp with a batch of 3 directions equals 3 separate
jvps to 1e-12, or raises `BatchUnsupported` (never another error, never other numbers); the
rules of common models are batched. Hypothesis draws shapes for the batch's own operations
(broadcasting, reductions, matmul, indexing) against NumPy direction by direction. `hessian`,
forward `jacobian` and `hvp(f).batched` against analytic formulas, finite differences and
the one-direction-at-a-time path, which they fall back to (tested) where batching stops; on
Dask data the Hessian is one lazy graph.
"""

import dask.array as da
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import srcad
from srcad import higher_order
from srcad.batching import Batch, BatchUnsupported
from tests.support import cases, glm
from tests.support.batched import (
    check_batched_jvp,
    folding_every_batch,  # noqa: F401  (an autouse fixture)
)

CASES = cases.load()
K = 3

# rule cases that must go batched (a fallback here is a regression, not a limit)
MUST_BATCH = ["elementwise.tanh", "elementwise.exp", "elementwise.logaddexp", "linalg.outer",
              "linalg.einsum_matmul", "linalg.tensordot_pairs", "linalg.solve_vector",
              "linalg.cholesky", "reductions.mean_tuple_keepdims", "reductions.mean_all",
              "arithmetic.matmul_matrix_vector", "arithmetic.matmul_batched",
              "shape.transpose_axes", "shape.reshape", "indexing.basic_slice",
              "indexing.repeated_integer_indices", "indexing.boolean_mask",
              "shape.concatenate", "generated_code.matmul_adjoint_right_vector"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@settings(max_examples=3)
@given(data=st.data())
def test_batched_jvp_of_every_rule_equals_separate_jvps(case, data):
    args = data.draw(case.args, label="args")
    check_batched_jvp(case.function, args, case.wrt, k=K)


@pytest.mark.parametrize("name", MUST_BATCH)
def test_the_common_rules_are_batched(name):
    found = [c for c in CASES if c.name == name]
    assert found, f"no rule case {name}"

    @settings(max_examples=3)
    @given(data=st.data())
    def batched(data):
        args = data.draw(found[0].args, label="args")
        assert check_batched_jvp(found[0].function, args, found[0].wrt, k=K) in (
            "batched", None)
    batched()


# ---- the batch's own operations, direction by direction against NumPy ----------------------
def _batch(rng, shape, k=K):
    return Batch(rng.standard_normal((k,) + tuple(shape)))


def _same(got, want_per_direction):
    assert isinstance(got, Batch)
    for i, want in enumerate(want_per_direction):
        np.testing.assert_allclose(got.stacked[i], want, rtol=1e-13, atol=1e-13)


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       batched_left=st.booleans(), seed=st.integers(0, 99))
def test_elementwise_with_a_primal_of_any_broadcastable_shape(shapes, batched_left, seed):
    rng = np.random.default_rng(seed)
    left, right = shapes.input_shapes
    t = _batch(rng, left if batched_left else right)
    p = rng.standard_normal(right if batched_left else left)
    got = t * p + np.sin(t) if batched_left else p - t / (2.0 + p * p)
    want = [s * p + np.sin(s) if batched_left else p - s / (2.0 + p * p) for s in t.stacked]
    assert got.shape == shapes.result_shape
    _same(got, want)


@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3), keepdims=st.booleans(),
       seed=st.integers(0, 99), data=st.data())
def test_reductions_over_one_directions_axes(shape, keepdims, seed, data):
    rng = np.random.default_rng(seed)
    t = _batch(rng, shape)
    axis = data.draw(st.none() | (st.integers(-len(shape), len(shape) - 1) if shape
                                  else st.none()))
    for reduce in (np.sum, np.mean, np.max):
        _same(reduce(t, axis=axis, keepdims=keepdims),
              [reduce(s, axis=axis, keepdims=keepdims) for s in t.stacked])
    _same(t.sum(axis=axis), [s.sum(axis=axis) for s in t.stacked])


@given(m=st.integers(1, 3), n=st.integers(1, 3), q=st.integers(1, 3),
       stack=st.sampled_from([(), (2,)]), left=st.sampled_from(["vector", "matrix"]),
       right=st.sampled_from(["vector", "matrix"]), batched_left=st.booleans(),
       seed=st.integers(0, 99))
def test_matmul_of_vectors_matrices_and_stacks(m, n, q, stack, left, right, batched_left,
                                               seed):
    rng = np.random.default_rng(seed)
    a_shape = (n,) if left == "vector" else stack + (m, n)
    b_shape = (n,) if right == "vector" else stack + (n, q)
    if batched_left:
        t, p = _batch(rng, a_shape), rng.standard_normal(b_shape)
        got, want = t @ p, [s @ p for s in t.stacked]
    else:
        t, p = _batch(rng, b_shape), rng.standard_normal(a_shape)
        got, want = p @ t, [p @ s for s in t.stacked]
    assert got.shape == np.shape(want[0])
    _same(got, want)


@pytest.mark.parametrize("index", [
    (slice(None), 1), (Ellipsis, 0), (None, 0), (slice(1, None), [0, 2, 2]),
    (np.array([1, 0]), slice(None)), ([0, 1], [2, 0]), (slice(None), np.array([True, False,
                                                                                True]))],
    ids=str)
def test_indexing_keeps_the_batch_axis_in_front(index):
    t = _batch(np.random.default_rng(0), (2, 3))
    _same(t[index], [s[index] for s in t.stacked])


def test_indices_that_would_move_the_batch_axis_are_refused():
    t = _batch(np.random.default_rng(0), (2, 3, 2))
    with pytest.raises(BatchUnsupported, match="apart"):
        t[[0, 1], :, [1, 0]]


@given(seed=st.integers(0, 99))
def test_shape_operations_per_direction(seed):
    rng = np.random.default_rng(seed)
    t = _batch(rng, (2, 3, 4))
    checks = [(t.T, lambda s: s.T), (np.transpose(t, (1, 0, 2)), lambda s: s.transpose(1, 0, 2)),
              (t.reshape(6, -1), lambda s: s.reshape(6, -1)), (np.swapaxes(t, 0, -1),
                                                                lambda s: s.swapaxes(0, -1)),
              (np.expand_dims(t, -1), lambda s: s[..., None]), (np.moveaxis(t, 0, 2),
                                                                lambda s: np.moveaxis(s, 0, 2)),
              (np.broadcast_to(t[:, :1], (5, 2, 1, 4)), lambda s: np.broadcast_to(
                  s[:, :1], (5, 2, 1, 4))),
              (np.einsum("ijk,jk->i", t, np.ones((3, 4))), lambda s: np.einsum(
                  "ijk,jk->i", s, np.ones((3, 4)))),
              (np.tensordot(np.ones((5, 2)), t, ([1], [0])), lambda s: np.tensordot(
                  np.ones((5, 2)), s, ([1], [0]))),
              (np.concatenate([t, np.ones((2, 3, 4))], axis=-1), lambda s: np.concatenate(
                  [s, np.ones((2, 3, 4))], axis=-1))]
    for got, per_direction in checks:
        _same(got, [per_direction(s) for s in t.stacked])
    assert np.shape(t) == (2, 3, 4) and t.ndim == 3 and t.size == 24 and len(t) == 2


def test_in_place_arithmetic_writes_into_the_batch():
    t = _batch(np.random.default_rng(0), (2,))
    alias, before = t, t.stacked.copy()
    t += np.array([1.0, 2.0])
    assert alias is t
    _same(alias, [s + [1.0, 2.0] for s in before])
    whole = Batch(np.zeros((K, 2), dtype=np.int64))
    with pytest.raises(BatchUnsupported):
        whole += t


def test_nothing_converts_a_batch_silently():
    t = _batch(np.random.default_rng(0), ())
    for convert in (np.asarray, float, bool, lambda x: x.item(), lambda x: np.roll(x, 1),
                    lambda x: np.add.at(np.zeros(3), [0], x)):
        with pytest.raises(BatchUnsupported):
            convert(t)
    assert not hasattr(t, "apply_to")           # (a missing attribute is an AttributeError)


# ---- hessian, jacobian, hvp -----------------------------------------------------------------
def _quartic(x, A):
    return np.sum((A @ x) ** 4) + np.sum(np.tanh(x[1:] * x[:-1]))


def _quartic_hessian(x, A):
    z = A @ x
    h = 12.0 * (A.T * z ** 2) @ A
    u = x[1:] * x[:-1]
    s = 1.0 - np.tanh(u) ** 2
    second = -2.0 * np.tanh(u) * s
    n = len(x)
    for i in range(n - 1):                       # d2/dx dx of tanh(x_i x_{i+1})
        j = i + 1
        h[i, i] += second[i] * x[j] ** 2
        h[j, j] += second[i] * x[i] ** 2
        h[i, j] += second[i] * x[i] * x[j] + s[i]
        h[j, i] += second[i] * x[i] * x[j] + s[i]
    return h


def test_hessian_of_fifty_parameters_in_one_pass():
    rng = np.random.default_rng(3)
    x, A = rng.standard_normal(50) * 0.3, rng.standard_normal((20, 50)) * 0.2
    hessian = srcad.hessian(_quartic)
    H = hessian(x, A)
    assert hessian.unbatched_reason is None
    np.testing.assert_allclose(H, _quartic_hessian(x, A), rtol=1e-10, atol=1e-12)
    g = srcad.grad(_quartic)
    e = np.eye(50)[7] * 1e-6
    np.testing.assert_allclose(H[:, 7], (g(x + e, A) - g(x - e, A)) / 2e-6, rtol=1e-5,
                               atol=1e-7)


def _rolled(x):
    return np.sum(np.roll(x, 1) * x ** 3)


def test_hessian_falls_back_one_direction_at_a_time():
    x = np.linspace(-1.0, 1.0, 6)
    hessian = srcad.hessian(_rolled)
    H = hessian(x)
    assert "numpy.roll" in hessian.unbatched_reason
    hvp = srcad.hvp(_rolled)
    np.testing.assert_allclose(H, np.stack([hvp(x, e) for e in np.eye(6)], axis=1),
                               rtol=1e-13)
    np.testing.assert_allclose(hvp.batched(x, np.eye(6)), H.T, rtol=1e-13)
    assert "numpy.roll" in hvp.unbatched_reason


def _raises_on_negative(x):
    if x[0] < 0:
        raise ValueError("negative first entry")
    return np.sum(x ** 3)


def test_an_error_of_the_function_itself_is_raised_as_it_is():
    with pytest.raises(ValueError, match="negative first entry"):
        srcad.hessian(_raises_on_negative)(np.array([-1.0, 2.0]))


def _vector_function(x, W):
    return np.tanh(W @ x) * x[0]


def test_forward_jacobian_batched_equals_reverse_mode():
    rng = np.random.default_rng(4)
    x, W = rng.standard_normal(4), rng.standard_normal((6, 4))
    forward = srcad.jacobian(_vector_function, wrt=(0, 1), mode="forward")
    Jx, JW = forward(x, W)
    assert forward.unbatched_reason is None and JW.shape == (6, 6, 4)
    Rx, RW = srcad.jacobian(_vector_function, wrt=(0, 1), mode="reverse")(x, W)
    np.testing.assert_allclose(Jx, Rx, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(JW, RW, rtol=1e-12, atol=1e-14)
    e = np.eye(4)[2] * 1e-6
    np.testing.assert_allclose(Jx[:, 2], (_vector_function(x + e, W)
                                          - _vector_function(x - e, W)) / 2e-6, rtol=1e-6)


@pytest.mark.parametrize("limit", ["MAX_DIRECTIONS", "MAX_ELEMENTS"])
def test_directions_beyond_one_batch_go_in_groups(monkeypatch, limit):
    monkeypatch.setattr(higher_order, limit, 7 if limit == "MAX_DIRECTIONS" else 7 * 80)
    rng = np.random.default_rng(5)
    x, A = rng.standard_normal(16) * 0.3, rng.standard_normal((5, 16)) * 0.2
    assert higher_order.directions_per_pass((x, A)) == 7
    np.testing.assert_allclose(srcad.hessian(_quartic)(x, A), _quartic_hessian(x, A),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("model", sorted(glm.MODELS))
def test_batched_hvp_of_the_glms(model):
    loss, _, hessian = glm.MODELS[model]
    X, y = glm.data(model, n=60)
    b = np.linspace(-0.3, 0.3, 5)
    V = np.random.default_rng(6).standard_normal((4, 5))
    hvp = srcad.hvp(loss)
    got = hvp.batched(b, X, y, V)
    assert hvp.unbatched_reason is None and got.shape == (4, 5)
    np.testing.assert_allclose(got, V @ hessian(b, X), rtol=1e-12)
    np.testing.assert_allclose(srcad.hessian(loss)(b, X, y), hessian(b, X), rtol=1e-12)


# ---- Dask ------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", sorted(glm.MODELS))
def test_hessian_over_dask_data_is_one_lazy_graph(model):
    from tests.support.lazy_double import computed, refusing, to_dask
    loss, _, hessian = glm.MODELS[model]
    X, y = glm.data(model)
    Xd, yd = to_dask(X, 4), to_dask(y, 4)
    b = np.linspace(-0.3, 0.3, 5)
    lazy_hessian = srcad.hessian(loss)
    with srcad.lazy(), refusing():
        H = lazy_hessian(b, Xd, yd)
        HV = srcad.hvp(loss).batched(b, Xd, yd, np.eye(5)[:3])
    assert lazy_hessian.unbatched_reason is None
    assert isinstance(H, da.Array) and isinstance(HV, da.Array)
    np.testing.assert_allclose(computed(H), hessian(b, X), rtol=1e-10)
    np.testing.assert_allclose(computed(HV), hessian(b, X)[:3], rtol=1e-10)
    computed_hessian = srcad.hessian(loss)(b, Xd, yd)
    assert type(computed_hessian) is np.ndarray
    np.testing.assert_allclose(computed_hessian, hessian(b, X), rtol=1e-10)
