"""Compiled mode (`jit=True`, srcad/compiled.py and srcad/fusion.py): the same numbers as the
NumPy mode (to 1e-12) across shapes, for every entry point and nn training; the source that
runs, marking what numba compiled; the NumPy fallback naming the user's line; the compile cost
apart from the calls; the fused chains as CuPy elementwise kernels. numba compiles slowly, so
the derivatives are made once per module and shared by the tests (numba compiles once per
ndim, not per shape)."""

import re
import sys
import warnings

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import srcad
from srcad import backend, compiled, fusion, nn, optim
from srcad.errors import JitFallbackWarning
from tests.support import leaky


def chain(x, y):
    z = x * y + 1.0
    w = z * z - np.sqrt(y * y + 1.0)
    return np.sum(np.tanh(w) * x)


def chain_autograd(x, y):
    z = x * y + 1.0
    w = z * z - anp.sqrt(y * y + 1.0)
    return anp.sum(anp.tanh(w) * x)


def recurrence(w, xs):
    h = np.zeros(xs.shape[1])
    for t in range(xs.shape[0]):
        h = np.tanh(h * w + xs[t])
    return np.sum(h * h)


def recurrence_autograd(w, xs):
    h = anp.zeros(xs.shape[1])
    for t in range(xs.shape[0]):
        h = anp.tanh(h * w + xs[t])
    return anp.sum(h * h)


def doubled(x):
    return x * 2.0


def calls_in_loop(x):
    s = 0.0
    for _ in range(3):
        s = s + np.sum(doubled(x) * x)
    return s


CRITERION = nn.CrossEntropyLoss()


def classification_loss(model, X, y):
    return CRITERION(model(X), y)


GRAD_CHAIN = srcad.grad(chain, wrt=(0, 1), jit=True)
GRAD_LOOP = srcad.grad(recurrence, wrt=(0, 1), jit=True)
FAST = settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
shapes = st.sampled_from([(1,), (3,), (50,), (1000,), (2, 3), (7, 5)])


def _close(got, want):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


@FAST
@given(shapes, st.integers(0, 2**31 - 1))
def test_fused_chain_gives_the_numpy_modes_numbers(shape, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal(shape), rng.standard_normal(shape)
    want = srcad.grad(chain, wrt=(0, 1))(x, y)
    for _ in range(2):                  # the traced first call, then the compiled code
        _close(GRAD_CHAIN(x, y), want)
    _close(GRAD_CHAIN(x, y), autograd.grad(chain_autograd, (0, 1))(x, y))


def test_the_source_that_runs_shows_the_fused_loop_and_what_numba_compiled():
    x, y = np.linspace(-1, 1, 6), np.linspace(0.5, 2, 6)
    GRAD_CHAIN(x, y)
    GRAD_CHAIN(x, y)
    text = srcad.source(GRAD_CHAIN)
    assert text.startswith("# srcad compiled mode (numba): compiled fused_")
    loop = re.search(r"= (fused_\w+)\(", text).group(1)
    assert f"def {loop}(" in text and "for i in range(" in text
    assert "np.tanh" in text                    # NumPy's vectorized tanh stays between loops
    assert GRAD_CHAIN.compile_seconds > 0
    assert "fused_" not in srcad.source(GRAD_CHAIN, generic=True)


@FAST
@given(st.sampled_from([(1, 1), (4, 3), (9, 2)]), st.integers(0, 2**31 - 1))
def test_loops_become_a_compiled_function_with_the_numpy_modes_numbers(shape, seed):
    rng = np.random.default_rng(seed)
    w, xs = rng.standard_normal(shape[1]) / 2, rng.standard_normal(shape)
    want = srcad.grad(recurrence, wrt=(0, 1))(w, xs)
    for _ in range(2):
        _close(GRAD_LOOP(w, xs), want)
    _close(GRAD_LOOP(w, xs), autograd.grad(recurrence_autograd, (0, 1))(w, xs))
    assert srcad.source(GRAD_LOOP).startswith(
        "# srcad compiled mode (numba): compiled grad_recurrence_wrt_w_xs")


def test_what_numba_cannot_compile_runs_with_numpy_and_the_message_names_the_line():
    g = srcad.grad(calls_in_loop, jit=True)
    x = np.linspace(-1.0, 1.0, 4)
    with pytest.warns(JitFallbackWarning) as caught:
        got = g(x)
    message = str(caught[0].message)
    assert "runs with NumPy" in message and "test_compiled.py" in message
    assert "s = s + np.sum(doubled(x) * x)" in message
    np.testing.assert_allclose(g(x), got, rtol=1e-12)
    np.testing.assert_allclose(got, 3 * 4.0 * x, rtol=1e-12)
    assert "runs with NumPy" in srcad.source(g)


def product(x, y):
    return np.sum(np.sin(x * y * y))


def test_every_entry_point_takes_jit():
    rng = np.random.default_rng(1)
    x, y, v = rng.standard_normal(5), rng.standard_normal(5), rng.standard_normal(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JitFallbackWarning)   # a pullback is a closure
        made = [srcad.value_and_grad(product, wrt=(0, 1), jit=True),
                srcad.vjp(product, jit=True), srcad.jvp(product, jit=True)]
        for _ in range(2):              # traced, then compiled
            value, grads = made[0](x, y)
            assert value == pytest.approx(product(x, y), rel=1e-12)
            _close(grads, srcad.grad(product, wrt=(0, 1))(x, y))
            out, pullback = made[1](x, y)
            _close([pullback(1.0)], [srcad.grad(product)(x, y)])
            out, tangent = made[2](x, y, v)
            assert tangent == pytest.approx(srcad.jvp(product)(x, y, v)[1], rel=1e-12)
        for derivative in made:
            assert srcad.source(derivative).startswith(
                "# srcad compiled mode (numba): compiled fused_")
        for made in (srcad.hvp, srcad.hessian, srcad.jacobian):
            args = (x, y, v) if made is srcad.hvp else (x, y)
            _close([made(product, jit=True)(*args)], [made(product)(*args)])


def test_nn_training_takes_jit_and_gives_the_same_steps():
    results = []
    for jit in (False, True):
        np.random.seed(0)
        srcad.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        opt = optim.SGD(model.parameters(), lr=0.1)
        X, y = np.random.standard_normal((6, 3)), np.array([0, 1, 0, 1, 1, 0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", JitFallbackWarning)     # a model's code
            nn.fit(model, classification_loss, opt, (X, y), epochs=2, batch_size=3,
                   progress=False, log=None, generator=np.random.default_rng(0), jit=jit)
        results.append([p.data.copy() for p in model.parameters()])
    _close(results[1], results[0])


def test_the_fused_chain_as_a_cupy_elementwise_kernel_computes_the_same():
    x, y = np.linspace(-1, 1, 7), np.linspace(0.5, 2, 7)
    GRAD_CHAIN(x, y)
    GRAD_CHAIN(x, y)
    code = GRAD_CHAIN._path.ran.latest
    assert code.loops
    for loop in code.loops:
        inputs = [p.split()[1] for p in loop.in_params.split(", ")]
        assert all(p.startswith("T ") for p in loop.in_params.split(", "))
        samples = [np.random.default_rng(i).uniform(0.5, 2.0, 7) for i in range(len(inputs))]
        values = dict(zip(inputs, samples))
        want = compiled._LOOPS[loop.text].py_func(*samples)
        want = want if isinstance(want, tuple) else (want,)
        got = _run_c_body(loop.operation, values,
                          [p.split()[1] for p in loop.out_params.split(", ")])
        _close(got, want)


def _run_c_body(operation, values, outputs, xp=np):
    """What CuPy would compute from an `ElementwiseKernel` body, element by element: the C
    statements `T a = expr;` and `out = expr;` evaluated on the arrays of `xp`."""
    scope = dict(values, pow=xp.power, sqrt=xp.sqrt, fabs=xp.abs)
    for statement in operation.splitlines():
        assert statement.endswith(";")
        target, expr = statement[:-1].split(" = ", 1)
        scope[target.split()[-1]] = eval(expr, scope)
    return [scope[o] for o in outputs]


def test_fusion_leaves_chains_of_one_operation_and_broadcasts_alone():
    text = ("def f(x, b):\n    # line 1: y = x + b\n    y = x + b\n    z = y * 2.0\n"
            "    return z\n")
    seen = {"x": ("array", (3, 4), "float64"), "b": ("array", (4,), "float64"),
            "y": ("array", (3, 4), "float64"), "z": ("array", (3, 4), "float64")}
    assert fusion.fuse(text, seen, {}).kernels == []
    seen["b"] = ("array", (3, 4), "float64")
    fused = fusion.fuse(text, seen, {})
    assert [k.outputs for k in fused.kernels] == [["z"]]
    assert "    # line 1: y = x + b\n    z = fused_z(x, b)\n" in fused.text


def test_a_negative_number_is_no_operation_of_a_chain():
    """`dz = y * -0.001` is one multiplication: a loop of its own would only add a call."""
    seen = {"y": ("array", (5,), "float64"), "dz": ("array", (5,), "float64")}
    text = "def f(y):\n    dz = y * -0.001\n    return dz\n"
    assert fusion.fuse(text, seen, {}).kernels == []
    text = "def f(y):\n    dz = -y * -0.001\n    return dz\n"
    assert [k.outputs for k in fusion.fuse(text, seen, {}).kernels] == [["dz"]]


def test_a_loop_on_other_shapes_and_strided_arrays_computes_what_its_statements_do():
    x, y = np.linspace(-1, 1, 5), np.linspace(0.5, 2, 5)
    GRAD_CHAIN(x, y)
    GRAD_CHAIN(x, y)
    for loop in GRAD_CHAIN._path.ran.latest.loops:
        dispatcher = compiled._LOOPS[loop.text]
        n = len(loop.inputs)
        strided = [np.linspace(0.5, 1.5 + i, 10)[::2] for i in range(n)]
        broadcast = [np.array([0.7])] + strided[1:]        # the statements' broadcasting
        for args in (strided, broadcast):
            got, want = dispatcher(*args), dispatcher.py_func(*args)
            got, want = (got, want) if isinstance(got, tuple) else ((got,), (want,))
            _close(got, want)


def test_a_name_a_later_statement_adds_to_is_a_result_of_the_loop():
    text = "def f(x, g):\n    y = x * 2.0\n    y = y * x\n    y += g\n    return y\n"
    array = ("array", (5,), "float64")
    fused = fusion.fuse(text, {"x": array, "g": array, "y": array}, {})
    assert [k.outputs for k in fused.kernels] == [["y"]]
    assert "    y = fused_y(x)\n    y += g\n" in fused.text


def test_srcad_imports_and_differentiates_without_numba(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)
    assert srcad.grad(chain)(np.ones(2), np.ones(2)).shape == (2,)
    with pytest.raises(srcad.SrcadError, match=r'pip install "srcad\[jit\]"'):
        srcad.grad(chain, jit=True)(np.ones(2), np.ones(2))


class _FakeKernel:
    """`cupy.ElementwiseKernel` on the host-leak double: the C body evaluated on the device
    arrays, one statement at a time (`_run_c_body`)."""

    made = []
    xp = np

    def __init__(self, in_params, out_params, operation, name):
        self.inputs = [p.split()[1] for p in in_params.split(", ")]
        self.outputs = [p.split()[1] for p in out_params.split(", ")]
        self.operation, self.name = operation, name
        self.made.append(name)

    def __call__(self, *args):
        out = _run_c_body(self.operation, dict(zip(self.inputs, args)), self.outputs, self.xp)
        return out[0] if len(out) == 1 else tuple(out)


def test_on_a_device_each_fused_chain_runs_as_one_elementwise_kernel(monkeypatch):
    x, y = np.linspace(-1, 1, 7), np.linspace(0.5, 2, 7)
    want = srcad.grad(chain, wrt=(0, 1))(x, y)
    with leaky.installed() as xp:
        fake = type(sys)("cupy")
        fake.ndarray, fake.ElementwiseKernel = leaky.LeakyArray, _FakeKernel
        monkeypatch.setattr(backend, "cupy", fake)
        monkeypatch.setattr(_FakeKernel, "xp", xp)
        g = srcad.grad(chain, wrt=(0, 1), jit=True)
        for _ in range(2):              # traced, then the kernels
            got = g(leaky.to_leaky(x), leaky.to_leaky(y))
            assert all(isinstance(a, leaky.LeakyArray) for a in got)
            _close(leaky.to_numpy(got), want)
    assert _FakeKernel.made and all(name.startswith("srcad_fused_") for name in _FakeKernel.made)
    text = srcad.source(g)
    assert text.startswith("# srcad compiled mode (CuPy): compiled fused_")
    assert "= cupy.ElementwiseKernel(" in text


def test_an_array_numba_made_is_fresh_unless_it_shares_memory():
    compiled._numba()
    import numba
    pair = numba.njit(lambda x: (x * 2.0, x[1:], x * 3.0))
    x = np.ones(4)
    made, view, other = pair(x)
    assert compiled.fresh(made, (x,)) and compiled.fresh(other, (x, made))
    assert not compiled.fresh(view, (x,))               # a view of an input
    assert not compiled.fresh(made, (x, made[1:]))      # an earlier result's memory
    assert not compiled.fresh(np.ones(2), ())           # NumPy's own arrays: base None
