"""Python as people write it (issue 13, part 4), and derivatives of callables (part 6).

Each function of tests/support/construct_functions.py is differentiated in reverse mode,
forward mode and to second order (`hessian`: forward over reverse), against autograd (the same
source run with `np` = `autograd.numpy`) and central finite differences (`check_grads`).
"""

import functools
import linecache

import autograd  # (the test extra installs it: a missing one fails, never skips)
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import srcad
from srcad.testing import check_grads
from tests.support import construct_functions as ours
from tests.support.autograd_twin import autograd_twin

THEIRS = autograd_twin(ours)
IDS = [f.__name__ for f in ours.FUNCTIONS]
values = st.floats(-1.3, 1.3, allow_nan=False, width=64).filter(lambda v: abs(v) > 0.05)
vectors = hnp.arrays(np.float64, (4,), elements=values).filter(
    lambda x: len(set(np.round(x, 3))) == 4 and abs(x[0] * 2 - x[2] - 1) > 1e-2
    and abs(x[0] * 2 - x[1]) > 1e-2 and abs(x[1] - x[2] - 1) > 1e-2)


@pytest.mark.filterwarnings("ignore:Output seems independent of input")  # max_min_sum
@pytest.mark.parametrize("index", range(len(ours.FUNCTIONS)), ids=IDS)
@settings(max_examples=8, deadline=None)
@given(vectors)
def test_both_modes_and_hessian_match_autograd(index, x):
    func, reference = ours.FUNCTIONS[index], THEIRS.FUNCTIONS[index]
    want = autograd.grad(reference)(x)
    np.testing.assert_allclose(srcad.grad(func)(x), want, rtol=1e-9, atol=1e-12)
    v = np.linspace(-1.0, 1.0, 4)
    _, directional = srcad.jvp(func)(x, v)
    np.testing.assert_allclose(directional, want @ v, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(srcad.hessian(func)(x), autograd.hessian(reference)(x),
                               rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("func", ours.FUNCTIONS, ids=IDS)
def test_against_finite_differences(func):
    x = np.array([0.3, -0.7, 0.45, 1.1])
    check_grads(func, (x,))
    check_grads(func, (x,), order=2)


def test_unchanged_function_is_not_desugared():
    def plain(x):
        return np.sum(x * x)
    assert "items" not in srcad.grad(plain).source()


def test_comprehension_variable_does_not_leak():
    def leak(x):
        i = 2
        ys = [x[i] for i in range(2)]
        return ys[0] * ys[1] * x[i]
    x = np.array([0.5, 2.0, 3.0])
    np.testing.assert_allclose(srcad.grad(leak)(x), [6.0, 1.5, 1.0])


@pytest.mark.parametrize("body, what", [
    ("    f = lambda t: t\n    return np.sum(sorted(x, key=f))\n", "used other than by calling"),
    ("    return np.sum(sorted(x, key=lambda t: -t))\n", "a lambda"),
    ("    def g(t):\n        if t[0] > 0:\n            return t\n        return -t\n"
     "    return np.sum(g(x))\n", "exactly one `return"),
    ("    f = lambda t: f(t)\n    return np.sum(f(x))\n", "recursive lambda"),
    ("    s = 0.0\n    while sum([v for v in x]) > s:\n        s = s + 1.0\n    return s\n",
     "comprehension"),
])
def test_what_stays_unsupported_is_an_error_at_the_line(tmp_path, body, what):
    name = f"<construct-{abs(hash(body))}>"
    src = "import numpy as np\ndef f_bad(x):\n" + body
    linecache.cache[name] = (len(src), None, src.splitlines(True), name)
    namespace = {}
    exec(compile(src, name, "exec"), namespace)
    with pytest.raises(srcad.UnsupportedSyntaxError, match=what) as error:
        srcad.grad(namespace["f_bad"])(np.array([0.5, 1.0]))
    assert error.value.location.filename == name and error.value.location.lineno >= 3


def sum_over_items(params, x):
    s = 0.0
    for k, v in params.items():
        s = s + np.sum(v ** 2 * x) * (2.0 if k == "b" else 1.0)
    return s


def test_items_of_a_dict_argument_in_both_modes():
    params = {"a": np.array([1.0, 2.0]), "b": np.array([3.0, -1.0])}
    x = np.array([0.5, 2.0])
    grads = srcad.grad(sum_over_items)(params, x)
    np.testing.assert_allclose(grads["a"], 2 * params["a"] * x)
    np.testing.assert_allclose(grads["b"], 4 * params["b"] * x)
    _, directional = srcad.jvp(sum_over_items)(params, x, {"a": np.ones(2), "b": np.ones(2)})
    assert directional == pytest.approx(np.sum(grads["a"]) + np.sum(grads["b"]))
    np.testing.assert_allclose(srcad.grad(sum_over_items, wrt=1)(params, x),
                               params["a"] ** 2 + 2 * params["b"] ** 2)


def with_rest(x, *rest):
    s = np.sum(x ** 2)
    for r in rest:
        s = s + np.sum(r * np.sin(x))
    return s


def test_star_args_in_both_modes_and_second_order():
    x, a, b = np.array([1.0, 2.0]), np.array([0.5, 0.5]), np.array([1.0, -1.0])
    np.testing.assert_allclose(srcad.grad(with_rest)(x, a, b), 2 * x + (a + b) * np.cos(x))
    np.testing.assert_allclose(srcad.grad(with_rest)(x), 2 * x)
    rest = srcad.grad(with_rest, wrt="rest")(x, a, b)        # the *rest parameter: a tuple
    assert isinstance(rest, tuple) and len(rest) == 2
    np.testing.assert_allclose(rest[1], np.sin(x))
    _, directional = srcad.jvp(with_rest)(x, a, b, np.ones(2))
    assert directional == pytest.approx(np.sum(2 * x + (a + b) * np.cos(x)))
    np.testing.assert_allclose(srcad.hessian(with_rest)(x, a, b),
                               np.diag(2 - (a + b) * np.sin(x)))
    check_grads(with_rest, (x, a, b), wrt=0, order=2)


def calls_with_rest(x):
    return with_rest(x, x)


def test_a_call_of_a_star_args_function_from_transformed_code_is_an_error():
    with pytest.raises(srcad.UnsupportedSyntaxError, match=r"\*args"):
        srcad.grad(calls_with_rest)(np.ones(2))


# ---- callables (part 6) -----------------------------------------------------------------------
class Scaled:
    def __init__(self, c):
        self.c = c

    @srcad.grad(wrt="w")
    def loss(self, w, x):
        return np.sum((w * x) ** 2) * self.c

    def __call__(self, w):
        return np.sum(w ** 3) * self.c


def weighted(a, w, k=1.0):
    return np.sum(a * w ** 2) * k


W = np.array([1.0, -2.0, 0.5])
X = np.array([0.5, 1.5, -1.0])


def test_decorated_method_through_an_instance():
    for c in (3.0, 0.5):
        model = Scaled(c)
        np.testing.assert_allclose(model.loss(W, X), 2 * W * X ** 2 * c)
        assert model.loss is model.loss                 # made once per instance
    assert isinstance(Scaled.loss, srcad.api.Derivative)


def test_callable_object_in_both_modes_and_second_order():
    model = Scaled(2.0)
    np.testing.assert_allclose(srcad.grad(model)(W), 6 * W ** 2)
    _, directional = srcad.jvp(model)(W, X)
    np.testing.assert_allclose(directional, 6 * W ** 2 @ X)
    np.testing.assert_allclose(srcad.hessian(model)(W), np.diag(12 * W))


def test_partial_in_both_modes_and_second_order():
    a = np.array([1.0, 2.0, 3.0])
    p = functools.partial(weighted, a, k=2.0)
    np.testing.assert_allclose(srcad.grad(p)(W), 4 * a * W)
    np.testing.assert_allclose(srcad.grad(p, wrt="w")(W), 4 * a * W)
    _, directional = srcad.jvp(p)(W, X)
    np.testing.assert_allclose(directional, 4 * a * W @ X)
    np.testing.assert_allclose(srcad.hessian(p)(W), np.diag(4 * a))
    np.testing.assert_allclose(srcad.grad(p)(W, k=1.0), 2 * a * W)   # keywords override


def test_list_of_floats_gets_a_list():
    def f(v):
        return v[0] * v[1] ** 2
    assert srcad.grad(f)([0.5, 2.0]) == pytest.approx([4.0, 2.0])
    assert isinstance(srcad.grad(f)([0.5, 2.0]), list)


def test_function_from_an_ipython_cell():
    name = "<ipython-input-7-0123456789ab>"
    src = "import numpy as np\ndef cell_f(x):\n    return np.sum(np.sin(x) * x)\n"
    linecache.cache[name] = (len(src), None, src.splitlines(True), name)
    namespace = {}
    exec(compile(src, name, "exec"), namespace)
    np.testing.assert_allclose(srcad.grad(namespace["cell_f"])(X), np.cos(X) * X + np.sin(X))


def test_plain_repl_says_what_to_do():
    namespace = {}
    exec(compile("def typed(x):\n    return x * x\n", "<stdin>", "exec"), namespace)
    with pytest.raises(srcad.SrcadError, match="Put the function in a .py file"):
        srcad.grad(namespace["typed"])(1.0)


# ---- forward mode with respect to a model's parameters (part 5) -------------------------------
class TwoLayer(srcad.nn.Module):
    def __init__(self):
        super().__init__()
        self.V = srcad.nn.Linear(3, 4)
        self.W = srcad.nn.Linear(4, 1)

    def forward(self, x):
        return self.W(np.tanh(self.V(x))) + np.sum(self.V.bias)


def model_loss(model, X, y):
    return np.mean((model(X) - y) ** 2)


@pytest.mark.parametrize("make", [
    TwoLayer,
    lambda: srcad.nn.Sequential(srcad.nn.Linear(3, 4), srcad.nn.Tanh(), srcad.nn.Linear(4, 1)),
], ids=["submodule-calls", "sequential"])
def test_jvp_with_respect_to_a_models_parameters(make):
    rng = np.random.default_rng(0)
    model = make()
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    grads = srcad.grad(model_loss, wrt="model")(model, X, y)
    tangents = {k: rng.normal(size=np.shape(g)) for k, g in grads.items()}
    value, directional = srcad.jvp(model_loss, wrt="model")(model, X, y, tangents)
    assert value == pytest.approx(model_loss(model, X, y))
    assert directional == pytest.approx(sum(np.sum(grads[k] * tangents[k]) for k in grads))
    eps, params = 1e-6, dict(model.named_parameters())

    def shifted(sign):
        for k, p in params.items():
            p.data += sign * eps * tangents[k]
        out = model_loss(model, X, y)
        for k, p in params.items():
            p.data -= sign * eps * tangents[k]
        return out
    assert directional == pytest.approx((shifted(1) - shifted(-1)) / (2 * eps), rel=1e-6)


def test_a_models_tangent_must_match_its_parameters():
    rng = np.random.default_rng(1)
    model = TwoLayer()
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    with pytest.raises(srcad.ShapeMismatchError, match="named_parameters"):
        srcad.jvp(model_loss, wrt="model")(model, X, y, {"V.weight": np.ones((4, 3))})


def w13(x, owned, parameters_under, pow, prefix_grads, print, prod_others):
    return np.sum(np.tanh(x) * owned * parameters_under * pow * prefix_grads * print
                  * prod_others)


def test_compiled_entry_of_a_wrapped_signature():
    """astor may wrap a long `def` line with its `):` alone on the next line; the compiled
    entry (from the second call on) keeps the body without it."""
    from srcad.dispatch import _header_lines
    assert _header_lines("def g(x, a\n    ):\n    return x\n") == 2
    x = np.array([0.3, -0.2, 0.4])
    df = srcad.grad(w13)
    assert df.specialized_function(x, *[1.0] * 6).__srcad_source__.splitlines()[1] == "    ):"
    for _ in range(3):
        np.testing.assert_allclose(df(x, 1.0, 2.0, 1.0, 1.0, 0.5, 1.0), 1 - np.tanh(x) ** 2)
