"""Hygiene of generated code: no name a user can choose collides with srcad's own. Every kind of
generated code (grad through the compiled entry and the general path, value_and_grad, vjp, jvp,
hvp, hessian, with a helper call and a loop that reverse mode keeps stacks for) runs on
functions whose parameters and locals are named after every builtin and every run-time helper
srcad puts in generated code, and gives the derivative of finite differences."""

import builtins
import importlib.util
import keyword

import numpy as np
import pytest

import srcad
from srcad import runtime
from tests.support.compare import central_gradient

_USED = {"np", "range", "helper", "i", "x"}      # what the functions below read themselves


def _names():
    helpers = {name for module in (runtime,) for name in vars(module)
               if not name.startswith("_") and callable(getattr(module, name))}
    candidates = set(dir(builtins)) | helpers | {"args", "kwargs", "self", "d", "srcad",
                                                 "srcad_args", "srcad_ok", "srcad_type"}
    return sorted(n for n in candidates if n.isidentifier() and not keyword.iskeyword(n)
                  and not n.startswith("__") and n not in _USED)


NAMES = _names()
GROUP = 12
GROUPS = [NAMES[i:i + GROUP] for i in range(0, len(NAMES), GROUP)]
if len(GROUPS) > 1 and len(GROUPS[-1]) < 2:
    GROUPS[-2:] = [GROUPS[-2] + GROUPS[-1]]


def _source(index, names):
    params, locals_ = names[: len(names) // 2], names[len(names) // 2:]
    lines = [f"def f{index}(x, {', '.join(params)}):"]
    previous = "x"
    for k, local in enumerate(locals_):
        scale = params[k % len(params)]
        lines.append(f"    {local} = np.tanh({previous}) * {scale} + {previous}")
        previous = local
    lines += ["    for i in range(2):", f"        {previous} = {previous} * x + helper(x)",
              f"    return np.sum({previous} * {previous})"]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    path = tmp_path_factory.mktemp("hygiene") / "named_like_srcad.py"
    text = "import numpy as np\n\n\ndef helper(x):\n    return np.sin(x) * x\n\n\n"
    text += "\n\n\n".join(_source(i, names) for i, names in enumerate(GROUPS)) + "\n"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("named_like_srcad", path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded




def test_every_builtin_and_helper_name_is_covered():
    assert {"type", "len", "args", "grad_seed", "zeros_like", "unbroadcast", "set_item",
            "print", "sum", "float"} <= set(NAMES)


@pytest.mark.parametrize("index", range(len(GROUPS)))
def test_every_kind_of_code_with_names_users_may_choose(module, index):
    f = getattr(module, f"f{index}")
    constants = [0.5 + 0.1 * k for k in range(len(GROUPS[index]) // 2)]
    x = np.array([0.3, -0.2, 0.4])

    def of_x(x):
        return f(x, *constants)
    expected = central_gradient(of_x, x)
    df = srcad.grad(f)
    for _ in range(2):                          # the first call, then the compiled entry
        np.testing.assert_allclose(df(x, *constants), expected, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(df(list(x), *constants), expected, rtol=1e-6, atol=1e-9)
    value, g = srcad.value_and_grad(f)(x, *constants)
    assert value == pytest.approx(of_x(x))
    np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-9)
    _, pullback = srcad.vjp(f)(x, *constants)
    np.testing.assert_allclose(pullback(1.0), expected, rtol=1e-6, atol=1e-9)
    v = np.array([1.0, -2.0, 0.5])
    _, tangent = srcad.jvp(f)(x, *constants, v)
    assert tangent == pytest.approx(expected @ v, rel=1e-6)
    hessian = srcad.hessian(f)(x, *constants)
    numeric = np.array([central_gradient(lambda y, j=j: central_gradient(of_x, y, 1e-4)[j], x, 1e-4)
                        for j in range(3)])
    np.testing.assert_allclose(hessian, numeric, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(srcad.hvp(f)(x, *constants, v), hessian @ v, rtol=1e-8)


LOOP_FORMS = {      # loops srcad lowers to `range(len(...))`, whose bodies bind builtins' names
    "over_array": "    for r in x:\n        v, len = r * 2.0, np.sin(x)\n"
                  "        s = s + v * np.sum(len)\n",
    "reversed": "    for r in reversed(x):\n        range = np.cos(r)\n"
                "        s = s * 0.5 + range\n",
    "zip": "    for a, b in zip(x, x * x):\n        min, len = a * b, np.tanh(a)\n"
           "        s = s + min * len\n",
    "dict_literal": "    for r in x:\n        zip, dict = np.sin(r), r * 2.0\n"
                    "        d = {'a': dict, 'b': zip}\n        s = s + d['a'] * d['b']\n",
    "enumerate_zip": "    for i, (a, b) in enumerate(zip(x, x)):\n        len = a * b\n"
                     "        range = len + i\n        s = s + np.sin(range)\n",
}


@pytest.fixture(scope="module")
def loops(tmp_path_factory):
    """The functions of LOOP_FORMS, once over NumPy and once over autograd's NumPy."""
    text = "\n\n".join(f"def loop_{form}(x):\n    s = 0.0\n{body}    return s\n"
                       for form, body in LOOP_FORMS.items())
    loaded = []
    for numpy_module in ("numpy", "autograd.numpy"):
        path = tmp_path_factory.mktemp("loops") / f"loops_{numpy_module.replace('.', '_')}.py"
        path.write_text(f"import {numpy_module} as np\n\n\n{text}")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        loaded.append(module)
    return loaded


@pytest.mark.parametrize("form", sorted(LOOP_FORMS))
def test_loops_srcad_lowers_with_locals_named_after_the_builtins_it_calls(loops, form):
    """`len`, `range`, `min` or `zip` as a local of a loop srcad lowers to `range(len(x))`, or
    `zip` and `dict` beside a dict literal (whose tangent rule calls `dict(zip(...))`): every
    kind of derivative runs, against autograd and finite differences."""
    import autograd

    f, f_autograd = getattr(loops[0], f"loop_{form}"), getattr(loops[1], f"loop_{form}")
    x = np.array([0.3, -0.7, 1.1])
    expected = autograd.grad(f_autograd)(x)
    np.testing.assert_allclose(central_gradient(f, x), expected, rtol=1e-6, atol=1e-9)
    df = srcad.grad(f)
    for _ in range(2):
        np.testing.assert_allclose(df(x), expected, rtol=1e-10, atol=1e-12)
    _, pullback = srcad.vjp(f)(x)
    np.testing.assert_allclose(pullback(1.0), expected, rtol=1e-10, atol=1e-12)
    v = np.array([1.0, -2.0, 0.5])
    assert srcad.jvp(f)(x, v)[1] == pytest.approx(expected @ v, rel=1e-10)
    hessian = autograd.hessian(f_autograd)(x)
    np.testing.assert_allclose(srcad.hessian(f)(x), hessian, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(srcad.hvp(f)(x, v), hessian @ v, rtol=1e-8, atol=1e-10)
