"""Code specialized to argument shapes (srcad/passes/shapes.py and the fast call path).

Properties: every shape the inference claims is the shape the value has at run time; the
specialized gradient equals the generic one, autograd's, and central finite differences, for
hypothesis-drawn broadcasting shapes; what the shapes make unnecessary is gone from the source;
wrong inputs are still rejected after the fast path has been taken.
"""

import pathlib
import subprocess
import sys

import autograd
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import srcad
from srcad import dispatch, generation
from srcad.errors import WrtError
from srcad.nn import Module, Parameter
from srcad.passes import shapes
from tests.support.autograd_twin import on_autograd

# ---- functions -------------------------------------------------------------------------------


def broadcasting(x, y, z):
    a = x * y + z
    b = np.tanh(a) - y
    c = np.sum(b * b, axis=0, keepdims=True)
    d = np.mean(a, axis=-1)
    return np.sum(c) + np.sum(np.exp(d) / 2.0)


def matmuls(W, x, b):
    h = np.tanh(W @ x + b)
    return np.sum(h * h) + np.sum(np.logaddexp(0.0, h))


def recurrent(W, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
    return np.sum(h * h)


def masked(x):
    y = x[x > 0]
    return np.sum(y * y)


def growing(x, n):
    y = x
    for _ in range(n):
        y = np.concatenate([y, x])
    return np.sum(y * y)


def tanh_sum(x):
    return np.sum(np.tanh(x * x))


def product(x, y):
    return np.sum(x * y)


def plain_sum(x, y):
    return np.sum(x + y)


def shape_by_branch(x, W, b):
    if np.sum(x) > 0:
        y = x * W
    else:
        y = x + 0.0
    return np.sum(np.tanh(y) * b)


def reduction_by_branch(x, b):
    s = np.sum(x * x, axis=0, keepdims=True)
    if np.sum(s) > 1.0:
        r = s * b
    else:
        r = s
    return np.sum(np.exp(r - b) * x)


# ---- helpers ---------------------------------------------------------------------------------


def inferred(func, args):
    """The static shapes srcad infers for `func`'s normal form, given `args`."""
    tree, job = generation._job(func, "grad", (), func.__name__)
    tree = generation._normal_form(tree, job)
    return shapes.infer(tree, dict(zip(generation.parameters(func), generation.signature(args))))


def run_time_shapes(function, args):
    """{name: [shapes]} of the values the generated `function`'s names held, captured at every
    line (so a name assigned in a loop is seen on each trip)."""
    seen = {}

    def trace(frame, event, arg):
        if frame.f_code is not function.__code__:
            return None
        for ident, value in frame.f_locals.items():
            if isinstance(value, (np.ndarray, float, int, np.floating)):
                seen.setdefault(ident, set()).add(np.shape(value))
        return trace

    sys.settrace(trace)
    try:
        function(*args)
    finally:
        sys.settrace(None)
    return seen


def check_gradients(func, args, wrt):
    """srcad's specialized gradient against its generic code, autograd and central finite
    differences along a random direction."""
    grads = srcad.grad(func, wrt=wrt)(*args)
    params = generation.parameters(func)
    generic = generation.cached(func, generation.GRAD, tuple(params[i] for i in wrt))
    expected_generic = generic.function(*args)
    if len(wrt) == 1:                       # one gradient, not a tuple of one
        expected_generic = (expected_generic,)
    rng = np.random.default_rng(0)
    for k, (i, g) in enumerate(zip(wrt, grads)):
        assert np.shape(g) == np.shape(args[i])
        np.testing.assert_allclose(g, expected_generic[k] + np.zeros(np.shape(args[i])),
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(
            g, autograd.grad(on_autograd(func), i)(*args), rtol=1e-9, atol=1e-12)
        v = rng.standard_normal(np.shape(args[i]))
        eps = 1e-6
        plus = list(args)
        minus = list(args)
        plus[i], minus[i] = args[i] + eps * v, args[i] - eps * v
        fd = (func(*plus) - func(*minus)) / (2 * eps)
        np.testing.assert_allclose(np.sum(g * v), fd, rtol=1e-5, atol=1e-6)


def arrays(shape, draw):
    values = draw(hnp.arrays(np.float64, shape, elements=st.floats(-2, 2, width=64)))
    return values if shape else float(values)


# ---- properties ------------------------------------------------------------------------------


@settings(deadline=None, max_examples=25)
@given(st.data())
def test_broadcasting_shapes(data):
    shapes_ = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=1,
                                                          max_dims=3, max_side=3))
    args = tuple(arrays(s, data.draw) for s in shapes_.input_shapes)
    static = inferred(broadcasting, args)
    assert static["a"] == shapes_.result_shape
    function = srcad.grad(broadcasting, wrt=(0, 1, 2)).specialized_function(*args)
    for ident, seen in run_time_shapes(function, args).items():
        if ident in static:
            assert seen == {static[ident]}, ident
    check_gradients(broadcasting, args, (0, 1, 2))


@settings(deadline=None, max_examples=20)
@given(st.data())
def test_matmul_shapes(data):
    m, n, k = (data.draw(st.integers(1, 4)) for _ in range(3))
    x_shape = data.draw(st.sampled_from([(n,), (n, k)]))
    out = (m,) + x_shape[1:]
    b_shape = data.draw(st.sampled_from([out, out[-1:], ()]))
    args = (arrays((m, n), data.draw), arrays(x_shape, data.draw), arrays(b_shape, data.draw))
    assert inferred(matmuls, args)["h"] == out
    function = srcad.grad(matmuls, wrt=(0, 1, 2)).specialized_function(*args)
    static = inferred(matmuls, args)
    for ident, seen in run_time_shapes(function, args).items():
        if ident in static:
            assert seen == {static[ident]}, ident
    check_gradients(matmuls, args, (0, 1, 2))


def test_loop_carried_shapes_and_stacks():
    rng = np.random.default_rng(1)
    args = (rng.standard_normal((4, 4)) / 2, rng.standard_normal((5, 4)), np.zeros(4))
    static = inferred(recurrent, args)
    assert static["h"] == (4,)
    source = srcad.source(srcad.grad(recurrent, wrt=(0, 2)), *args)
    assert "unbroadcast" not in source and "matmul_adjoint" not in source
    assert source.count("_stack.append") == 1          # only h: the adjoint reads nothing else
    check_gradients(recurrent, args, (0, 2))


@pytest.mark.filterwarnings("ignore:Output seems independent")     # autograd, W unused
@settings(deadline=None, max_examples=20)
@given(st.data())
def test_branches_that_give_different_shapes(data):
    """`y` is (3, 3) on one path and (3,) on the other: no shape is claimed for it, and the
    gradient is right on both paths."""
    x = data.draw(hnp.arrays(np.float64, (3,), elements=st.floats(-2, 2, width=64)))
    W = data.draw(hnp.arrays(np.float64, (3, 3), elements=st.floats(-2, 2, width=64)))
    b = data.draw(hnp.arrays(np.float64, (3,), elements=st.floats(-2, 2, width=64)))
    assume(abs(np.sum(x)) > 1e-3)                 # finite differences on one side only
    assert "y" not in inferred(shape_by_branch, (x, W, b))
    check_gradients(shape_by_branch, (x, W, b), (0, 1, 2))


@settings(deadline=None, max_examples=20)
@given(st.data())
def test_reduction_adjoints_across_branches(data):
    x = data.draw(hnp.arrays(np.float64, (4, 2), elements=st.floats(-1.5, 1.5, width=64)))
    b = data.draw(hnp.arrays(np.float64, (1, 2), elements=st.floats(-1, 1, width=64)))
    assume(abs(np.sum(x * x) - 1.0) > 1e-3)
    assert inferred(reduction_by_branch, (x, b))["r"] == (1, 2)
    check_gradients(reduction_by_branch, (x, b), (0, 1))


def test_shapes_that_depend_on_data_are_not_claimed():
    x = np.array([1.0, -2.0, 3.0])
    assert "y" not in inferred(masked, (x,))
    assert "y" not in inferred(growing, (x, 2))
    np.testing.assert_allclose(srcad.grad(masked)(x), [2.0, 0.0, 6.0])
    np.testing.assert_allclose(srcad.grad(growing)(x, 2), 6 * x)


def test_what_shapes_make_unnecessary_is_gone():
    x = np.linspace(-1, 1, 7)
    specialized = srcad.source(srcad.grad(tanh_sum), x)
    assert "unreduce" not in specialized and "1.0 - _tanh * _tanh" in specialized
    assert "unreduce" in srcad.source(srcad.grad(tanh_sum))     # generic code needs it


def test_new_shapes_new_code_and_a_bound_on_how_many():
    df = srcad.grad(tanh_sum)
    for n in range(1, 13):
        x = np.linspace(-1, 1, n)
        t = np.tanh(x * x)
        np.testing.assert_allclose(df(x), 2 * x * (1 - t * t))
    assert len(df._path.routes) <= dispatch.SPECIALIZATIONS
    assert df(0.5) == pytest.approx(2 * 0.5 * (1 - np.tanh(0.25) ** 2))


def test_wrong_inputs_rejected_after_the_fast_path():
    df = srcad.grad(tanh_sum)
    df(np.ones(3))
    with pytest.raises(WrtError, match="int"):
        df(np.ones(3, dtype=int))
    np.testing.assert_allclose(df(np.ones(3, dtype=np.float32)), srcad.grad(tanh_sum)(
        np.ones(3)), rtol=1e-6)
    assert df(np.ones(3, dtype=np.float32)).dtype == np.float32


@pytest.mark.parametrize("call", ["positional", "keyword", "value_and_grad"])
def test_gradients_own_their_memory(call):
    """Generated code may return an input itself (`dx = y`) or one array for two gradients;
    what the caller gets are arrays of their own, on the fast path and the general one."""
    x, y = np.ones(3), np.arange(3.0)
    if call == "value_and_grad":
        _, gx = srcad.value_and_grad(product)(x, y)
        _, (gx2, gy2) = srcad.value_and_grad(plain_sum, wrt=(0, 1))(x, y)
    else:
        kwargs = {"y": y} if call == "keyword" else {}
        args = (x,) if kwargs else (x, y)
        gx = srcad.grad(product)(*args, **kwargs)
        gx2, gy2 = srcad.grad(plain_sum, wrt=(0, 1))(*args, **kwargs)
    np.testing.assert_array_equal(gx, y)
    assert gx is not y and not np.shares_memory(gx, y)
    assert gx2 is not gy2 and not np.shares_memory(gx2, gy2)
    gx += 1.0
    np.testing.assert_array_equal(y, np.arange(3.0))


def test_value_and_grad_specialized():
    x = np.linspace(-1, 1, 5)
    value, g = srcad.value_and_grad(tanh_sum)(x)
    assert value == pytest.approx(tanh_sum(x))
    np.testing.assert_allclose(g, srcad.grad(tanh_sum)(x))


def test_benchmark_runs_quick():
    """The benchmark (examples/benchmark.py) in its quick mode: every contender installed is
    checked against the hand-written gradient and timed; no timing is asserted."""
    root = pathlib.Path(__file__).parent.parent
    result = subprocess.run([sys.executable, "examples/benchmark.py", "--quick"], cwd=root,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    for label in ("tanh n=10", "mlp batch=8", "mlp nn batch=8", "rnn 4 steps", "logreg 50x100",
                  "geomean", "bandwidth (tanh n=1000", "(main memory)"):
        assert label in result.stdout
    assert "MISSED" not in result.stdout and "targets: not judged in a --quick run" in \
        result.stdout


def test_benchmark_runs_the_cases_asked_for():
    """`--cases` times only the cases whose label contains one of the strings given."""
    root = pathlib.Path(__file__).parent.parent
    result = subprocess.run([sys.executable, "examples/benchmark.py", "--quick", "--cases",
                             "mlp nn"], cwd=root, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr      # (peers without a row here: "-")
    assert "mlp nn batch=8" in result.stdout and "geomean" in result.stdout
    for label in ("tanh n=10 ", "mlp batch=8", "rnn", "logreg"):
        assert label not in result.stdout


def test_shape_signatures_per_function_are_bounded():
    """New derivatives of one function, called with ever new shapes, share a bounded number of
    specializations (then the generic code), and stay right."""
    for n in range(1, 3 * dispatch.SPECIALIZATIONS):
        x = np.linspace(-1, 1, n)
        t = np.tanh(x * x)
        np.testing.assert_allclose(srcad.grad(tanh_sum)(x), 2 * x * (1 - t * t))
    keys = [k for k in generation._cache[tanh_sum] if k[0] == generation.GRAD and k[4] is not None]
    assert len(keys) <= dispatch.SPECIALIZATIONS


def transposed_product(w, X):
    return np.sum(w.T * X)


class TransposedProduct(Module):
    def __init__(self):
        super().__init__()
        self.w = Parameter(np.ones((3, 4)))

    def forward(self, X):
        return np.sum(self.w.T * X)


def model_product(model, X):
    return model(X)


@pytest.mark.parametrize("call", ["positional", "keyword", "model"])
def test_gradients_do_not_view_inputs(call):
    """Specialized code can return a view of an input (`dw = X.T`): the caller gets a copy."""
    X = np.arange(12.0).reshape(4, 3)
    df = (srcad.grad(model_product, wrt="model") if call == "model"
          else srcad.grad(transposed_product))
    for _ in range(2):                          # the first call and the fast path after it
        if call == "model":
            g = df(TransposedProduct(), X)["w"]
        elif call == "keyword":
            g = df(np.ones((3, 4)), X=X)
        else:
            g = df(np.ones((3, 4)), X)
        np.testing.assert_array_equal(g, X.T)
        assert not np.shares_memory(g, X)


def rank_branch(x, w):
    dim = 1 if np.ndim(x) > 1 else 0
    if x.shape[dim] > 2 and len(x) >= 1:
        return np.sum(np.max(x * w, axis=dim) ** 2)
    return np.sum(np.tanh(x * w))


@pytest.mark.parametrize("shape", [(3,), (2,), (2, 4), (4, 2)])
def test_branches_that_shapes_decide_are_taken(shape):
    """With the shapes known, `np.ndim(x)`, `x.shape[dim]` and `len(x)` are numbers: the
    specialized code has no branch left and reads the axis as a literal; its gradient agrees
    with the generic code, autograd and finite differences."""
    rng = np.random.default_rng(3)
    args = (rng.standard_normal(shape), 1.5)
    text = srcad.source(srcad.grad(rank_branch, wrt=(0, 1)), *args)
    code = [line for line in text.splitlines() if not line.strip().startswith("#")]
    assert not any("if " in line or "dim" in line for line in code), text
    if len(shape) == 2 and shape[1] > 2:
        assert "axis=1" in text
    check_gradients(rank_branch, args, (0, 1))


def tanh_exp_sum(x):
    return np.sum(np.tanh(x) * np.exp(x))


def doubled_input(x):
    return tanh_exp_sum(x * 2.0)


def test_a_value_the_caller_does_not_read_is_not_computed():
    """The gradient needs the called function's pullback, not its value (a scalar seed): the
    callee's variant that returns only the pullback skips the product and the sum."""
    x = np.linspace(-1.0, 1.0, 5)
    df = srcad.grad(doubled_input)
    text = df.source(x)
    assert "pullback_tanh_exp_sum(x * 2.0)" in text
    callee = text[text.index("def pullback_tanh_exp_sum"):]
    primal = [line for line in callee[:callee.index("def pullback(")].splitlines()
              if not line.strip().startswith("#")]
    assert not any("np.sum" in line or "*" in line for line in primal), callee
    t, e = np.tanh(2 * x), np.exp(2 * x)
    np.testing.assert_allclose(df(x), 2 * ((1 - t * t) * e + t * e), rtol=1e-12)
    eps, v = 1e-6, np.cos(np.arange(5.0))
    numeric = (doubled_input(x + eps * v) - doubled_input(x - eps * v)) / (2 * eps)
    np.testing.assert_allclose(df(x) @ v, numeric, rtol=1e-7)


def scaled_tanh(x, scale, *, offset=0.5):
    return np.sum(np.tanh(x * scale + offset))


def test_calls_of_one_derivative_with_changing_arguments():
    """The fast path runs the code of the latest arguments' kind behind a guard: calls that
    alternate shapes, dtypes, floats and arrays, or return an input itself (`dx = y`), get
    right gradients in the form of their inputs and in memory of their own; a function with a
    keyword-only parameter keeps to the general path."""
    rng = np.random.default_rng(4)
    df, dscaled = srcad.grad(product), srcad.grad(scaled_tanh)
    dboth, dsum = srcad.grad(product, wrt=(0, 1)), srcad.grad(plain_sum, wrt=(0, 1))
    calls = [(rng.standard_normal(3), rng.standard_normal(3)),
             (rng.standard_normal((2, 3)), rng.standard_normal(3)),
             (1.5, 2.0), (rng.standard_normal(3).astype(np.float32), np.ones(3, np.float32)),
             (rng.standard_normal(3), 2.0)]
    for x, y in [pair for pair in calls for _ in range(2)] * 2:     # each twice in a row
        g = df(x, y)
        np.testing.assert_allclose(g, np.broadcast_to(y, np.shape(x)), rtol=1e-6)
        assert type(g) is type(x) and np.shape(g) == np.shape(x)
        if isinstance(x, np.ndarray):
            assert g.dtype == x.dtype and not np.shares_memory(g, y) and g is not y
        t = np.tanh(x * 2.0 + 0.5)
        np.testing.assert_allclose(dscaled(x, 2.0), (1 - t * t) * 2.0, rtol=1e-6)
        if np.shape(x) == np.shape(y):          # dx = y, dy = x; and one array for both
            gx, gy = dboth(x, y)
            g1, g2 = dsum(x, y)
            np.testing.assert_allclose(gx, y, rtol=1e-6)
            np.testing.assert_allclose(gy, x, rtol=1e-6)
            np.testing.assert_allclose(g1, np.ones(np.shape(x)))
            np.testing.assert_allclose(g2, np.ones(np.shape(y)))
            arrays = [a for a in (x, y, gx, gy) if isinstance(a, np.ndarray)]
            assert all(not np.shares_memory(a, b) for i, a in enumerate(arrays)
                       for b in arrays[i + 1:])
            assert type(g1) is type(x) and (not isinstance(x, np.ndarray)
                                            or not np.shares_memory(g1, g2))


def transposed_layer(W, x):
    return np.sum(np.tanh(x @ W.T))


@pytest.mark.parametrize("x_shape", [(5, 4), (4,)])
def test_the_transpose_of_a_product_adjoint_is_a_product(x_shape):
    """`y = x @ W.T`: W's adjoint is the transpose of `x.T @ g`, written `g.T @ x`: a fresh
    C-ordered array (not a view), equal to the generic code's, autograd's and finite
    differences'."""
    rng = np.random.default_rng(5)
    args = (rng.standard_normal((3, 4)), rng.standard_normal(x_shape))
    text = srcad.source(srcad.grad(transposed_layer), *args)
    assert not any(line.strip().endswith(".T") for line in text.splitlines()
                   if "=" in line and not line.strip().startswith("#")), text
    g = srcad.grad(transposed_layer)(*args)
    assert g.base is None and g.flags.c_contiguous
    check_gradients(transposed_layer, args, (0, 1))


# ---- readable specialized code: sizes as shape expressions, settings decided -------------------


def per_item(x, w):
    n = x.shape[0]
    return np.sum(np.tanh(x @ w)) / n + np.mean(x, axis=1).sum() + np.var(x, ddof=1)


def resized(x):
    n = len(x)
    for _ in range(2):
        x = x * 2.0
    return np.sum(x) / n + np.mean(np.tanh(x) * x)


def square_means(x):
    return np.sum(np.mean(x, axis=1) ** 2)


def batched_rows(x, w):
    if np.ndim(x) == 1:
        x = x[None]
    return np.sum(np.tanh(x @ w))


def code_lines(text):
    return [line for line in text.splitlines() if not line.strip().startswith("#")]


def test_sizes_are_written_as_the_shape_expressions_they_are():
    """A number that comes from the arguments' shapes is the expression it is, and the code
    computes the same gradient as the generic code, autograd and finite differences."""
    args = (np.random.default_rng(1).standard_normal((5, 3)), np.linspace(-1.0, 1.0, 3))
    text = "\n".join(code_lines(srcad.source(srcad.grad(per_item, wrt=(0, 1)), *args)))
    assert "/ x.shape[0]" in text and "1.0 / x.shape[1]" in text and "x.size - 1" in text
    assert "0.2" not in text and "0.33" not in text and "0.07" not in text, text
    check_gradients(per_item, args, (0, 1))


def test_sizes_that_cannot_be_read_stay_numbers():
    """`x` reassigned in a loop (at the read it may not be the `x` whose size `n` holds),
    a value computed only
    for its size (reading it would keep it computed), or a reduction whose axis the shapes do
    not tell ((4, 4) to (4,)): the number, and the right gradient."""
    x = np.random.default_rng(2).standard_normal((4, 4))
    text = "\n".join(code_lines(srcad.source(srcad.grad(resized), x)))
    assert "len(x)" not in text and ".size" not in text and "0.25" in text, text
    assert "0.0625" in text, text
    check_gradients(resized, (x,), (0,))
    text = "\n".join(code_lines(srcad.source(srcad.grad(square_means), x)))
    assert "0.25" in text and ".shape[" not in text, text
    check_gradients(square_means, (x,), (0,))


@pytest.mark.parametrize("shape", [(3, 2), (2,)])
def test_a_decided_setting_leaves_nothing_behind(shape):
    """`if np.ndim(x) == 1: x = x[None]` decided for a matrix leaves no comparison and no copy
    `x_1 = x`; for a vector the reshaping line stays; both give the right gradient."""
    args = (np.random.default_rng(4).standard_normal(shape), np.ones((2, 3)))
    text = srcad.source(srcad.grad(batched_rows, wrt=(0, 1)), *args)
    code = "\n".join(code_lines(text))
    assert "_eq" not in code and "ndim" not in code and "if " not in code, text
    assert ("x_1" in code) == (len(shape) == 1), text
    assert "if np.ndim" not in text, text          # not even its comment
    check_gradients(batched_rows, args, (0, 1))


@settings(deadline=None, max_examples=60)
@given(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4), st.data())
def test_a_ratio_of_sizes_is_the_size_of_the_reduced_axes(dims, data):
    """`np.size(y) / np.size(x)` for y = a reduction of x over some axes (keepdims or not), as
    simplify writes it: `1.0 / <the sizes of the reduced axes>` read from x, the same float as
    the division of the sizes; no expression when the shapes do not tell the axes apart."""
    import ast
    import itertools

    from srcad.passes import simplify
    axes = data.draw(st.sets(st.integers(0, len(dims) - 1), min_size=1), label="axes")
    keepdims = data.draw(st.booleans(), label="keepdims")
    x = np.zeros(dims)
    y = np.mean(x, axis=tuple(axes), keepdims=keepdims)
    factor = simplify._reduced(ast.Name(id="x", ctx=ast.Load()), dims, y.shape)
    if factor is None:                          # another reduction fits these shapes
        assert not keepdims
        kept = [d for i, d in enumerate(dims) if i not in axes]
        fits = {frozenset(i for i in other if dims[i] != 1)
                for other in itertools.combinations(range(len(dims)), len(axes))
                if [d for i, d in enumerate(dims) if i not in other] == kept}
        assert len(fits) > 1, (dims, axes)
        return
    expression = ast.fix_missing_locations(ast.Expression(body=factor))
    value = eval(compile(expression, "<size>", "eval"), {"x": x})
    assert type(value) is int
    assert 1.0 / value == np.size(y) / np.size(x)
    reduced = [i for i in axes if dims[i] != 1]
    text = ast.unparse(factor)
    if not reduced:
        assert text == "1"
    elif np.size(y) == 1:
        assert text == "x.size"
    else:
        assert text == " * ".join(f"x.shape[{i}]" for i in sorted(reduced))


def test_the_entry_trusts_only_an_operators_new_array():
    """The compiled entry returns without the identity checks only gradients that the last
    top-level binding gives the value of an operator (a new array); a name, a binding inside a
    loop after it, or a name returned twice keep every check."""
    text = ("def f(x, y):\n    a = x * y\n    b = y\n    c = -x\n    d = x + 1.0\n"
            "    for i in range(2):\n        d = y\n    e = x.T @ y\n    e = e[0]\n"
            "    return a, b, c, d, e\n")
    assert dispatch._new_arrays(text, ["a", "b", "c", "d", "e"]) == {"a", "c"}
    assert dispatch._new_arrays("def f(x):\n    a = x * 2.0\n    return a, a\n",
                                ["a", "a"]) == set()


def negated_product(x, y):
    return -np.sum(x * y)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 6))
def test_entry_results_are_new_arrays_with_the_operator_rule(n):
    x, y = np.linspace(-1.0, 1.0, n), np.linspace(0.5, 2.0, n)
    df = srcad.grad(negated_product, wrt=(0, 1))
    for _ in range(2):                          # the first call, then the compiled entry
        gx, gy = df(x, y)
        np.testing.assert_array_equal(gx, -y)
        np.testing.assert_array_equal(gy, -x)
        assert not np.shares_memory(gx, y) and not np.shares_memory(gy, x)
        assert not np.shares_memory(gx, gy)


def reductions_of_arrays(W, X):
    z = np.tanh(X @ W)
    m = np.max(z, axis=1, keepdims=True)
    s = np.sum(np.exp(z - m), axis=0)
    p = np.prod(1.0 + 0.1 * z, axis=1)
    q = np.min(z * z, axis=0, keepdims=True)
    return np.mean(s) + np.sum(p) + np.sum(q * np.mean(z, axis=0)) + np.sum(m)


def reductions_of_a_parameter_and_a_list(x):
    pair = [x, 2.0 * x]
    return np.sum(np.sum(x, axis=0) ** 2) + np.sum(np.sum(pair, axis=0))


@settings(deadline=None, max_examples=15)
@given(st.data())
def test_reductions_of_arrays_read_as_methods_and_give_the_same_gradients(data):
    """In code specialized to shapes, `np.max(z, axis=1)` of a name holding an array reads
    `z.max(axis=1)` (NumPy's function only checks the type first); a parameter and a list
    keep the function. Gradients as autograd's, finite differences and the generic code's."""
    for func in (reductions_of_arrays, reductions_of_a_parameter_and_a_list):
        generation._cache.pop(func, None)      # (each example's shapes specialized afresh)
    n, k, m = (data.draw(st.integers(1, 4)) for _ in range(3))
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))   # (no ties for max, min)
    W, X = rng.uniform(-2, 2, (k, m)), rng.uniform(-2, 2, (n, k))
    check_gradients(reductions_of_arrays, (W, X), (0, 1))
    text = srcad.source(srcad.value_and_grad(reductions_of_arrays, wrt=(0, 1)), W, X)
    for method in ("z.max(axis=1, keepdims=True)", ".prod(axis=1)", ".min(axis=0, keepdims=True)",
                   "z.mean(axis=0)", ".sum(axis=0)"):
        assert method in text
    code = [line for line in text.splitlines() if not line.strip().startswith("#")]
    assert not any(f"np.{f}(" in line for line in code for f in ("max", "min", "prod", "mean"))
    x = rng.uniform(-2, 2, (n, k))
    check_gradients(reductions_of_a_parameter_and_a_list, (x,), (0,))
    text = srcad.source(srcad.value_and_grad(reductions_of_a_parameter_and_a_list), x)
    assert "np.sum(x, axis=0)" in text and "pair.sum" not in text and ".sum(axis=0)" not in text
