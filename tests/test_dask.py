"""srcad on Dask arrays, on the synchronous scheduler (tests/test_dask_cluster.py runs a real
cluster): generated code and runtime helpers build task graphs and never compute inside
(`tests.support.lazy_double` fails any computation); results come back computed in the
parameters' type, or lazily inside `srcad.lazy()`; the DataLoader takes chunk-aligned
mini-batches one chunk ahead; `fit`, every optimizer and LBFGS with a full-batch closure train
on Dask data to the NumPy numbers. Each derivative is checked against srcad on NumPy, and the
GLMs' against their gradients and Hessians written by hand and central differences."""

import subprocess
import sys
import warnings

import dask
import dask.array as da
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import srcad
from srcad import nn, optim
from srcad.data import DataLoader
from tests.support import cases, compare, glm
from tests.support.crosscheck_functions import (
    broadcasting,
    elementwise_soup,
    reductions,
    softmax_cross_entropy,
)
from tests.support.lazy_double import Materialized, computed, refusing, to_dask


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def all_modes(f, args, wrt, rng):
    """vjp (and its pullback), jvp, and for a scalar output grad and value_and_grad, of `f` on
    NumPy arguments and, lazily under the double, on the same arguments as Dask arrays."""
    y = f(*args)
    directions = [rng.standard_normal(np.shape(args[i])) for i in wrt]
    cotangent = None if isinstance(y, (tuple, list)) else rng.standard_normal(np.shape(y))

    def run(args, directions, cotangent):
        value, pullback = srcad.vjp(f, wrt=wrt)(*args)
        out = [value, srcad.jvp(f, wrt=wrt)(*args, *directions)]
        if cotangent is not None:
            out.append(pullback(cotangent))
        if np.size(y) == 1 and not isinstance(y, (tuple, list)):
            out += [srcad.grad(f, wrt=wrt)(*args), srcad.value_and_grad(f, wrt=wrt)(*args)]
        return out
    expected = run(args, directions, cotangent)
    with srcad.lazy(), refusing():
        got = run(to_dask(args), to_dask(directions), to_dask(cotangent))
    assert_same(computed(got), expected)


def assert_same(got, expected):
    """Equal to 1e-10 in every entry (`tests.support.compare`)."""
    compare.assert_same(got, expected, rtol=1e-10, atol=1e-12)


# ---- every rule case of the data-parallel families, lazily --------------------------------
LAZY_FAMILIES = ("arithmetic", "elementwise", "reductions", "indexing", "generated_code",
                 "python_functions")
# what does not run lazily, and why: the case's own code computes (numpy.asarray, float,
# .item(), a NumPy array made from a Dask one), Dask lacks the primal (clip's keywords), or
# srcad's helper writes with an index Dask cannot assign (diagonals)
NOT_LAZY = {
    "elementwise.asarray": "numpy.asarray(x)", "elementwise.asarray_list": "numpy.asarray",
    "elementwise.array": "numpy.array(x)", "elementwise.array_nested": "numpy.array",
    "elementwise.array_ndmin": "numpy.array(x)", "elementwise.clip_method": "numpy.asarray",
    "elementwise.float64_array": "float64(x)", "elementwise.float_": "float(x)",
    "elementwise.float_item": "x.item()", "elementwise.item": "x.item()",
    "elementwise.item_and_float_of_0d": "x.item()",
    "elementwise.clip_keywords": "Dask's clip takes no min=/max= keywords",
    "elementwise.nan_to_num": "Dask's nan_to_num takes no posinf=/neginf= keywords",
    "python_functions.log_of_0d_array": "math.log of an array",
    "reductions.cumsum_flat": "Dask's cumsum of a flattened array",
    "reductions.norm_matrix_2_axes": "Dask has no SVD of stacks",
    "reductions.norm": "Dask's norm of an array of three dimensions (the case draws one)",
}
CASES = [c for c in cases.load() if c.name.split(".")[0] in LAZY_FAMILIES]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck),
          database=None, derandomize=True)
@given(data=st.data())
def test_every_rule_case_builds_a_graph(case, data):
    args = data.draw(case.args, label="args")
    wrt = case.wrt if case.wrt is not None else tuple(
        i for i, a in enumerate(args) if isinstance(a, float) or getattr(a, "dtype", None)
        is not None and a.dtype.kind == "f")
    wrt = (wrt,) if isinstance(wrt, int) else tuple(wrt)
    if not any(isinstance(a, (np.ndarray, list, tuple, dict)) for a in args):
        return                                  # numbers only: no Dask array to pass
    rng = np.random.default_rng(0)
    if case.name in NOT_LAZY:
        with pytest.raises((Materialized, FutureWarning, AttributeError, TypeError,
                            NotImplementedError, ValueError, IndexError)):
            all_modes(case.function, args, wrt, rng)
    else:
        all_modes(case.function, args, wrt, rng)


@pytest.mark.parametrize("f", [elementwise_soup, broadcasting, reductions,
                               softmax_cross_entropy], ids=lambda f: f.__name__)
def test_composite_functions_build_a_graph(f):
    rng = np.random.default_rng(1)
    all_modes(f, (rng.uniform(0.1, 1.0, 4), rng.standard_normal((3, 4))), (0, 1), rng)


def test_the_double_catches_a_computation():
    def reads(x):
        return np.sum(x) * float(np.max(x))
    with srcad.lazy(), refusing(), pytest.raises(Materialized):
        srcad.grad(reads)(to_dask(np.ones(4)))
    with refusing(), pytest.raises(Materialized):
        np.asarray(to_dask(np.ones(4)))


def test_rows_gathered_from_a_parameter_scatter_back_lazily():
    def embed(W, rows, x):
        return np.sum(W[rows] * x)
    rng = np.random.default_rng(2)
    W, rows, x = rng.standard_normal((5, 3)), np.array([4, 0, 4, 1, 4, 2]), \
        rng.standard_normal((6, 3))
    expected = srcad.grad(embed)(W, rows, x)
    with srcad.lazy(), refusing():                     # repeated rows: numpy.add.at, lazily
        got = srcad.grad(embed)(W, rows, to_dask(x, 3))
    assert isinstance(got, da.Array)
    np.testing.assert_allclose(computed(got), expected, rtol=1e-12)
    manual = np.zeros_like(W)
    np.add.at(manual, rows, x)
    np.testing.assert_allclose(expected, manual, rtol=1e-12)


# ---- GLMs: NumPy parameters, Dask data -------------------------------------------------------
@pytest.mark.parametrize("model", sorted(glm.MODELS))
def test_glm_gradient_and_hvp_reduced_by_dask(model):
    loss, gradient, hessian = glm.MODELS[model]
    X, y = glm.data(model)
    Xd, yd = to_dask(X, 4), to_dask(y, 4)
    b, v = np.linspace(-0.3, 0.3, 5), np.linspace(1.0, -1.0, 5)
    with srcad.lazy(), refusing():
        lazy_grad = srcad.grad(loss)(b, Xd, yd)
        lazy_hvp = srcad.hvp(loss)(b, Xd, yd, v)
    assert isinstance(lazy_grad, da.Array) and isinstance(lazy_hvp, da.Array)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = srcad.grad(loss)(b, Xd, yd)
        value, g2 = srcad.value_and_grad(loss)(b, Xd, yd)
        hv = srcad.hvp(loss)(b, Xd, yd, v)
    assert type(g) is np.ndarray and type(hv) is np.ndarray and g.dtype == b.dtype
    for got in (computed(lazy_grad), g, g2):
        np.testing.assert_allclose(got, gradient(b, X, y), rtol=1e-10)
    for got in (computed(lazy_hvp), hv):
        np.testing.assert_allclose(got, hessian(b, X) @ v, rtol=1e-10)
    np.testing.assert_allclose(value, loss(b, X, y), rtol=1e-12)
    step = 1e-6 * v
    central = (loss(b + step, X, y) - loss(b - step, X, y)) / 2e-6
    np.testing.assert_allclose(g @ v, central, rtol=1e-6)


def test_gradient_of_a_float_comes_back_a_float_and_of_a_dask_input_lazy():
    def scaled(s, X):
        return np.sum(np.tanh(s * X))
    X = np.linspace(-1.0, 1.0, 12).reshape(6, 2)
    g = srcad.grad(scaled)(0.5, to_dask(X))
    assert type(g) is float and g == pytest.approx(srcad.grad(scaled)(0.5, X), rel=1e-12)
    gx = srcad.grad(scaled, wrt=1)(0.5, to_dask(X))
    assert isinstance(gx, da.Array)
    np.testing.assert_allclose(gx.compute(), srcad.grad(scaled, wrt=1)(0.5, X), rtol=1e-12)


def test_srcad_imports_and_runs_without_dask():
    code = ("import sys\nclass Block:\n    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in ('dask', 'distributed'):\n"
            "            raise ImportError(name)\nsys.meta_path.insert(0, Block())\n"
            "import numpy as np, srcad\nfrom srcad.data import DataLoader\n"
            "print(srcad.grad(lambda_free := None) if False else 'ok', "
            "len(DataLoader(np.ones((4, 2)), batch_size=3)), 'dask' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ok", "2", "False"]


# ---- the DataLoader on Dask arrays -----------------------------------------------------------
def test_loader_batches_are_chunk_aligned_numpy_and_in_order():
    X, y = np.arange(40.0).reshape(20, 2), np.arange(20)
    Xd = da.from_array(X, chunks=((8, 7, 5), 2))
    loader = DataLoader(Xd, y, batch_size=3)
    batches = list(loader)
    assert len(loader) == len(batches) == 3 + 3 + 2
    assert all(type(b) is np.ndarray for batch in batches for b in batch)
    assert [len(yb) for _, yb in batches] == [3, 3, 2, 3, 3, 1, 3, 2]
    np.testing.assert_array_equal(np.concatenate([xb for xb, _ in batches]), X)
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in batches]), y)
    assert len(DataLoader(Xd, y, batch_size=3, drop_last=True)) == 2 + 2 + 1


def test_shuffled_loader_draws_chunks_then_samples_and_is_seeded():
    X = np.arange(24.0).reshape(12, 2)
    Xd = da.from_array(X, chunks=(4, 2))
    runs = [[xb for (xb,) in DataLoader(Xd, batch_size=2, shuffle=True,
                                         generator=np.random.default_rng(5))]
            for _ in range(2)]
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    rows = np.concatenate(runs[0])[:, 0] // 2
    assert sorted(rows) == list(range(12))
    for k in range(3):                         # each chunk's four samples come together
        assert len({int(r) // 4 for r in rows[4 * k:4 * k + 4]}) == 1
    assert list(rows) != list(range(12))


def test_loader_computes_the_next_chunk_one_step_ahead():
    loads = []

    def record(block, block_info=None):
        loads.append(block_info[0]["chunk-location"][0])
        return block
    Xd = da.from_array(np.ones((9, 2)), chunks=(3, 2)).map_blocks(record, dtype=float)
    seen = []
    for _ in DataLoader(Xd, batch_size=3):
        seen.append(sorted(set(loads)))
    assert seen[0] in ([0], [0, 1])          # the second chunk is loading meanwhile
    assert seen[1] == [0, 1, 2] or seen[1] == [0, 1]
    assert sorted(set(loads)) == [0, 1, 2]


# ---- training on Dask data ---------------------------------------------------------------------
OPTIMIZERS = [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: optim.Adam(ps, lr=0.01),
    lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.1),
    lambda ps: optim.Adagrad(ps, lr=0.1),
    lambda ps: optim.Adadelta(ps, lr=1.0),
    lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5),
]


@pytest.mark.parametrize("make", OPTIMIZERS, ids=lambda m: m([nn.Parameter(np.ones(1))])
                         .__class__.__name__)
def test_every_optimizer_on_full_batch_dask_gradients(make):
    X, y = glm.data("logistic", n=60)
    results = []
    for data, lazy in (((X, y), False), ((to_dask(X, 3), to_dask(y, 3)), True),
                       ((to_dask(X, 3), to_dask(y, 3)), False)):
        b = nn.Parameter(np.zeros(5))
        opt = make([b])
        for _ in range(3):
            opt.zero_grad()
            if lazy:
                with srcad.lazy():
                    b.grad = srcad.grad(glm.logistic)(b.data, *data)
                assert isinstance(b.grad, da.Array)
            else:
                b.grad = srcad.grad(glm.logistic)(b.data, *data)
            opt.step()
            assert type(b.data) is np.ndarray and type(b.grad) is np.ndarray
        results.append(b.data)
    for got in results[1:]:
        np.testing.assert_allclose(got, results[0], rtol=1e-10)


def fit_glm_lbfgs(loss, X, y, max_iter=30):
    """Coefficients of the GLM `loss` by LBFGS (strong Wolfe) with a full-batch closure."""
    b = nn.Parameter(np.zeros(X.shape[1]))
    opt = optim.LBFGS([b], max_iter=max_iter, line_search_fn="strong_wolfe",
                      tolerance_grad=1e-10, tolerance_change=1e-14)
    step = srcad.value_and_grad(loss)

    def closure():
        value, b.grad = step(b.data, X, y)
        return value
    opt.step(closure)
    return b.data


@pytest.mark.parametrize("model", sorted(glm.MODELS))
def test_lbfgs_fits_a_glm_over_dask_data(model):
    loss, gradient, _ = glm.MODELS[model]
    X, y = glm.data(model)
    expected = fit_glm_lbfgs(loss, X, y)
    got = fit_glm_lbfgs(loss, to_dask(X, 4), to_dask(y, 4))
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    assert np.abs(gradient(got, X, y)).max() < 1e-6


def test_mlp_full_batch_gradient_and_fit_on_dask_data():
    rng = np.random.default_rng(3)
    X, labels = rng.standard_normal((48, 5)), rng.integers(0, 3, 48)
    onehot = np.eye(3)[labels]
    srcad.manual_seed(0)
    model = glm.MLP()
    expected = srcad.grad(glm.mlp_loss)(model, X, onehot)
    with srcad.lazy(), refusing():
        lazy = srcad.grad(glm.mlp_loss)(model, to_dask(X, 4), to_dask(onehot, 4))
    assert_same(computed(lazy), expected)
    assert_same(srcad.grad(glm.mlp_loss)(model, to_dask(X, 4), to_dask(onehot, 4)), expected)

    histories, states = [], []
    for train in ((X, labels), (da.from_array(X, chunks=(12, 5)), da.from_array(labels, 12))):
        srcad.manual_seed(0)
        model = glm.MLP()
        opt = optim.Adam(model.parameters(), lr=0.01)
        if isinstance(train[0], da.Array):
            histories.append(nn.fit(model, glm.mlp_loss, opt, train, epochs=2,
                                    batch_size=4, progress=False, log=None, generator=None))
        else:                                   # the same batches, in order, from NumPy
            histories.append(_numpy_epochs(model, opt, X, labels))
        states.append(model.state_dict())
    assert_same(states[1], states[0])
    np.testing.assert_allclose(histories[1]["train_loss"], histories[0]["train_loss"],
                               rtol=1e-10)


def _numpy_epochs(model, opt, X, labels):
    """Two epochs of Adam over batches of 4 in the order `fit`'s loader draws them with
    `srcad.manual_seed(0)`: the chunks of 12 shuffled, then the samples inside each."""
    history = {"train_loss": []}
    for _ in range(2):
        gen = srcad.seeding.generator()
        losses = []
        for chunk in gen.permutation(4):
            inside = 12 * chunk + gen.permutation(12)
            for start in range(0, 12, 4):
                rows = inside[start:start + 4]
                opt.zero_grad()
                losses.append(nn.backward(glm.mlp_loss, model, X[rows], labels[rows]))
                opt.step()
        history["train_loss"].append(float(np.mean(losses)))
    return history


# ---- derivatives of sums over rows, chunk by chunk ---------------------------------------------
@pytest.mark.parametrize("model", sorted(glm.MODELS))
def test_over_chunks_adds_the_derivatives_of_the_chunks(model):
    loss, gradient, hessian = glm.MODELS[model]
    X, y = glm.data(model, n=90)
    Xd, yd = da.from_array(X, chunks=((40, 30, 20), (3, 2))), da.from_array(y, chunks=45)
    b = np.linspace(-0.3, 0.3, 5)
    g = srcad.over_chunks(srcad.grad, loss)(b, Xd, yd)
    np.testing.assert_allclose(g, gradient(b, X, y), rtol=1e-10)
    np.testing.assert_allclose(g, srcad.grad(loss)(b, X, y), rtol=1e-10)
    H = srcad.over_chunks(srcad.hessian, loss)(b, Xd, yd)
    np.testing.assert_allclose(H, hessian(b, X), rtol=1e-10)
    value, g2 = srcad.over_chunks(srcad.value_and_grad, loss)(b, Xd, yd)
    np.testing.assert_allclose(value, loss(b, X, y), rtol=1e-12)
    np.testing.assert_allclose(g2, g, rtol=1e-12)
    with srcad.lazy():
        delayed = srcad.over_chunks(srcad.grad, loss)(b, Xd, yd)
    np.testing.assert_allclose(delayed.compute(), g, rtol=1e-12)
    np.testing.assert_allclose(srcad.over_chunks(srcad.grad, loss)(b, X, y), g, rtol=1e-10)


def test_over_chunks_needs_rows_in_common():
    with pytest.raises(ValueError, match="share their first"):
        srcad.over_chunks(srcad.grad, glm.logistic)(np.zeros(2), to_dask(np.ones((6, 2))),
                                                    to_dask(np.ones(5)))


# ---- code specialized to Dask arrays' shapes -------------------------------------------------
def test_dask_arguments_get_code_specialized_to_their_shapes_kept_apart_from_numpy():
    loss = glm.fresh(glm.normal)
    X, y = glm.data("normal")
    b = np.linspace(-0.3, 0.3, 5)
    gradient = srcad.grad(loss)
    with srcad.lazy(), refusing():
        lazy = computed(gradient(b, to_dask(X, 4), to_dask(y, 4)))
    lazy_text = srcad.source(gradient)              # (the code the latest call ran)
    plain = gradient(b, X, y)
    plain_text = srcad.source(gradient)
    np.testing.assert_allclose(lazy, plain, rtol=1e-12)
    np.testing.assert_allclose(plain, glm.MODELS["normal"][1](b, X, y), rtol=1e-12)
    for text in (lazy_text, plain_text):            # shapes known: no spreading, no summing
        assert "unreduce" not in text and "unbroadcast" not in text
    # the adjoint of `X @ b`: Dask reduces over its chunks with the helper's one tensordot;
    # NumPy's is written out
    assert "matmul_adjoint_right(" in lazy_text and ".T @ " not in lazy_text
    assert ".T @ " in plain_text and "matmul_adjoint_right" not in plain_text
    assert srcad.source(gradient, b, to_dask(X, 4), to_dask(y, 4)) == lazy_text


def test_a_lazy_shape_is_never_a_plain_shape():
    from srcad.generation import LazyShape, signature
    shape = LazyShape((4, 5))
    assert shape != (4, 5) and (4, 5) != shape and shape == LazyShape((4, 5))
    assert len({shape, (4, 5)}) == 2 and tuple(shape) == (4, 5)
    X = np.ones((4, 5))
    assert signature((X, to_dask(X, 2))) == ((4, 5), LazyShape((4, 5)))
    masked = to_dask(np.arange(6.0), 2)
    assert signature((masked[masked > 2.0],)) == (None,)     # (unknown chunk sizes: generic)


@pytest.mark.parametrize("model", sorted(glm.MODELS))
def test_glm_hessians_on_dask_run_the_gradient_specialized_to_the_shapes(model):
    loss, _, hessian = glm.MODELS[model]
    X, y = glm.data(model)
    b = np.linspace(-0.3, 0.3, 5)
    H = srcad.hessian(glm.fresh(loss))
    with srcad.lazy(), refusing():
        lazy = H(b, to_dask(X, 4), to_dask(y, 4))
    text = srcad.source(H)
    assert "unreduce" not in text and "def tangent_grad_" in text
    np.testing.assert_allclose(computed(lazy), hessian(b, X), rtol=1e-10)
    np.testing.assert_allclose(H(b, X, y), hessian(b, X), rtol=1e-10)


def test_source_of_a_hessian_shows_the_code_for_example_arguments():
    loss = glm.fresh(glm.logistic)
    X, y = glm.data("logistic")
    b = np.linspace(-0.3, 0.3, 5)
    H, hvp = srcad.hessian(loss), srcad.hvp(loss)
    before = srcad.source(H)                        # (no call yet: the generic code)
    assert "unreduce" in before and srcad.source(H, generic=True) == before
    shaped = srcad.source(H, b, X, y)
    assert "unreduce" not in shaped and srcad.source(hvp, b, X, y, b) == shaped
    H(b, X, y)
    assert srcad.source(H) == shaped                # (what the latest call ran)
