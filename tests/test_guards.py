"""Every fact generated code relies on is checked on entry: a changed global, closure value,
helper, rule or model setting regenerates the code (never the stale derivative); shared
parameters get the sum of every use; names a user may choose never collide with srcad's."""

import linecache
import sys
import types

import numpy as np
import pytest

import srcad
from srcad import nn
from tests.support.compare import central_gradient

act = np.tanh


def helper(x):
    return act(x)


def uses_helper(x):
    return np.sum(helper(x) * 2.0)




X = np.array([0.3, -0.5, 0.9])


@pytest.mark.parametrize("kind", ["grad", "value_and_grad", "vjp", "jvp"])
def test_rebinding_a_global_regenerates(kind):
    global act
    act = np.tanh
    try:
        derivative = getattr(srcad, kind)(uses_helper)
        for new, exact in ((np.tanh, 2 * (1 - np.tanh(X) ** 2)), (np.sin, 2 * np.cos(X)),
                           (np.exp, 2 * np.exp(X))):
            act = new
            for _ in range(2):                  # the first call and the fast path after it
                if kind == "grad":
                    got = derivative(X)
                elif kind == "value_and_grad":
                    got = derivative(X)[1]
                elif kind == "vjp":
                    got = derivative(X)[1](1.0)
                else:
                    got = np.array([derivative(X, np.eye(3)[i])[1] for i in range(3)])
                np.testing.assert_allclose(got, exact, rtol=1e-9)
                np.testing.assert_allclose(got, central_gradient(uses_helper, X), rtol=1e-6)
    finally:
        act = np.tanh


def _define(module, source, name, cell):
    """Define `name` in `module` from `source`, as a notebook cell does (source in
    linecache under the cell's own file name)."""
    filename = f"<cell-{cell}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), module.__dict__)
    return module.__dict__[name]


@pytest.fixture
def notebook():
    module = types.ModuleType("notebook_module")
    sys.modules[module.__name__] = module
    exec("import numpy as np", module.__dict__)
    yield module
    del sys.modules[module.__name__]


def test_redefining_a_helper_in_a_notebook_regenerates(notebook):
    _define(notebook, "def h(x):\n    return np.sin(x)\n", "h", 1)
    f = _define(notebook, "def f(x):\n    return np.sum(h(x) * x)\n", "f", 2)
    df = srcad.grad(f)
    np.testing.assert_allclose(df(X), np.sin(X) + X * np.cos(X))
    _define(notebook, "def h(x):\n    return x * x * x\n", "h", 3)
    np.testing.assert_allclose(df(X), 4 * X ** 3)
    np.testing.assert_allclose(df(X), central_gradient(f, X), rtol=1e-6)


def test_rebinding_a_closure_value_regenerates():
    def make():
        scale = np.tanh

        def f(x):
            return np.sum(scale(x))

        def rebind(new):
            nonlocal scale
            scale = new
        return f, rebind
    f, rebind = make()
    df = srcad.grad(f)
    np.testing.assert_allclose(df(X), 1 - np.tanh(X) ** 2)
    rebind(np.sin)
    np.testing.assert_allclose(df(X), np.cos(X))
    np.testing.assert_allclose(df(X), central_gradient(f, X), rtol=1e-6)


def my_square(x):
    return x * x


def uses_rule(x):
    return np.sum(my_square(x))


def test_a_rule_registered_after_first_use_is_used():
    df, pullback = srcad.grad(uses_rule), srcad.vjp(uses_rule)
    np.testing.assert_allclose(df(X), 2 * X)

    @srcad.register_adjoint(my_square)
    def my_square_adjoint(y, x):
        srcad.d[x] += srcad.d[y] * 3.0 * x     # deliberately not 2x: the rule must be used
    np.testing.assert_allclose(df(X), 3 * X)
    np.testing.assert_allclose(pullback(X)[1](1.0), 3 * X)


class Flagged(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.lin = nn.Linear(3, 2)
        self.square = True
        self.cfg = cfg

    def forward(self, x):
        h = self.lin(x)
        if self.square:
            h = h * h
        if self.cfg.double:
            h = 2.0 * h
        return h


def flagged_loss(model, x):
    return np.sum(model(x))


def _model_numeric(loss, model, x):
    """Central differences of `loss(model, x)` in each parameter, keyed like the gradients."""
    out = {}
    for name, param in model.named_parameters():
        def at(value, param=param):
            saved = param.data
            param.data = value
            try:
                return loss(model, x)
            finally:
                param.data = saved
        out[name] = central_gradient(at, param.data.copy())
    return out


def _assert_model_gradients(grads, loss, model, x):
    expected = _model_numeric(loss, model, x)
    assert set(grads) == set(expected)
    for name in expected:
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-6, atol=1e-8)


def test_changing_a_model_setting_or_a_config_object_regenerates():
    srcad.manual_seed(0)
    cfg = types.SimpleNamespace(double=False)
    model, x = Flagged(cfg), np.random.default_rng(1).standard_normal((4, 3))
    df = srcad.grad(flagged_loss, wrt="model")
    for square, double in ((True, False), (False, False), (False, True), (True, True)):
        model.square, cfg.double = square, double
        for _ in range(2):
            _assert_model_gradients(df(model, x), flagged_loss, model, x)


def tied_loss(model, x):
    return np.sum(np.tanh(model(x)) ** 2)


def test_one_module_used_twice_sums_both_uses():
    lin = nn.Linear(3, 3)
    model = nn.Sequential(lin, nn.Tanh(), lin)
    x = np.random.default_rng(3).standard_normal((5, 3))
    grads = srcad.grad(tied_loss, wrt="model")(model, x)
    assert set(grads) == {"0.weight", "0.bias"}
    _assert_model_gradients(grads, tied_loss, model, x)


class Tied(nn.Module):
    def __init__(self):
        super().__init__()
        rng = np.random.default_rng(4)
        self.encode = nn.Linear(3, 4)
        self.decode = nn.Linear(4, 4)
        self.decode.weight = nn.Parameter(rng.standard_normal((4, 4)))
        self.head = nn.Linear(4, 4)
        self.head.weight = self.decode.weight          # one Parameter in two modules

    def forward(self, x):
        return self.head(np.tanh(self.decode(np.tanh(self.encode(x)))))


def test_one_parameter_in_two_modules_sums_both_uses():
    model = Tied()
    x = np.random.default_rng(5).standard_normal((2, 3))
    grads = srcad.grad(tied_loss, wrt="model")(model, x)
    names = [name for name, _ in model.named_parameters()]
    assert set(grads) == set(names) and "head.weight" not in names
    _assert_model_gradients(grads, tied_loss, model, x)


def named_like_builtins(args, type, len, srcad_args, x):
    sum = args * type + len
    return np.sum(sum * x * srcad_args)


def test_parameters_named_after_builtins_and_srcad_names():
    df = srcad.grad(named_like_builtins, wrt=(0, 4))
    for n in (3, 4, 3):
        a, t, ln, s, x = (np.linspace(0.1, 1, n) + k for k in range(5))
        ga, gx = df(a, t, ln, s, x)
        np.testing.assert_allclose(ga, t * x * s)
        np.testing.assert_allclose(gx, (a * t + ln) * s)


class Twice(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = nn.Linear(3, 3)
        self.again = self.first                         # tying through an attribute
        self.blocks = nn.ModuleList([self.first, nn.Tanh(), self.first])

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.again(np.tanh(x))


def test_tying_through_attributes_and_module_lists_sums_every_use():
    srcad.manual_seed(1)
    model, x = Twice(), np.random.default_rng(6).standard_normal((4, 3))
    grads = srcad.grad(tied_loss, wrt="model")(model, x)
    assert set(grads) == {"first.weight", "first.bias"}
    _assert_model_gradients(grads, tied_loss, model, x)


class PlainList(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = [nn.Tanh(), nn.Tanh()]        # a plain list: its length is no structure

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def test_a_plain_list_of_modules_is_an_error_not_a_stale_unrolling():
    model = PlainList()
    with pytest.raises(srcad.SrcadError, match="layer"):
        srcad.grad(tied_loss, wrt=1)(model, X)


def test_a_layer_class_given_a_new_forward_regenerates():
    srcad.manual_seed(2)
    model, x = nn.Sequential(nn.Linear(3, 2)), np.random.default_rng(7).standard_normal((4, 3))
    df = srcad.grad(tied_loss, wrt="model")
    _assert_model_gradients(df(model, x), tied_loss, model, x)
    original = nn.Linear.forward

    def doubled(self, x):
        return 2.0 * (x @ self.weight.T + self.bias)
    nn.Linear.forward = doubled
    try:
        _assert_model_gradients(df(model, x), tied_loss, model, x)
    finally:
        nn.Linear.forward = original
    _assert_model_gradients(df(model, x), tied_loss, model, x)
