"""Inlining the forwards of static models (`srcad/passes/inline.py`): one generated function per
model, whose gradients equal those of the callee path (each forward's derivative generated
apart, `inline.ENABLED = False`) and central finite differences."""

import linecache
import re
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import srcad
from srcad import nn
from srcad.passes import inline


def numeric_model(loss, model, *args, eps=1e-6):
    """{path: central finite differences of `loss(model, *args)` in each parameter entry}."""
    out = {}
    for path, param in model.named_parameters():
        grad = np.zeros_like(param.data)
        for i in range(param.data.size):
            keep = param.data.flat[i]
            param.data.flat[i] = keep + eps
            up = loss(model, *args)
            param.data.flat[i] = keep - eps
            down = loss(model, *args)
            param.data.flat[i] = keep
            grad.flat[i] = (up - down) / (2 * eps)
        out[path] = grad
    return out


def make_loss():
    """A new loss function each call (its own cache of generated code)."""
    def loss(model, x):
        return np.sum(np.tanh(model(x)) ** 2)
    return loss


def callee_path(derivative_of, *args):
    """What the same derivative gives with inlining off (a fresh function, so fresh code)."""
    inline.ENABLED = False
    try:
        return derivative_of(make_loss())(*args)
    finally:
        inline.ENABLED = True


class Block(nn.Module):
    """A residual block holding its own submodels: nested forwards."""

    def __init__(self, width, act):
        super().__init__()
        self.lin = nn.Linear(width, width)
        self.act = act

    def forward(self, x):
        h = self.act(self.lin(x))
        return x + h


class Stack(nn.Module):
    """A ModuleList walked in the forward, then a head."""

    def __init__(self, width, depth):
        super().__init__()
        self.blocks = nn.ModuleList([Block(width, nn.Tanh()) for _ in range(depth)])
        self.head = nn.Linear(width, 2)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


class Scaled(nn.Module):
    """Settings: a string that picks a branch, a number read at run time, bias=False."""

    def __init__(self, mode):
        super().__init__()
        self.mode = mode
        self.slope = 0.3
        self.lin = nn.Linear(3, 3, bias=False)
        self.leaky = nn.LeakyReLU(0.2)

    def forward(self, x):
        if self.mode == "square":
            y = self.lin(x) ** 2
        else:
            y = self.slope * self.lin(x)
        return self.leaky(y)


class Tied(nn.Module):
    """One Parameter in two modules, and one module used twice."""

    def __init__(self):
        super().__init__()
        self.encode = nn.Linear(3, 3)
        self.decode = nn.Linear(3, 3)
        self.decode.weight = self.encode.weight

    def forward(self, x):
        return self.decode(np.tanh(self.encode(self.encode(x))))


class WithLoss(nn.Module):
    """A loss as a submodel: its forward reads names (`stop_gradient`) this module lacks."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3))
        self.criterion = nn.CrossEntropyLoss()

    def forward(self, x):
        return self.criterion(self.net(x), np.eye(3)[[0, 2, 1, 1]])


class Affine(nn.Module):
    """A forward with a keyword-only parameter and a default, a docstring, and a local."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)

    def forward(self, x, *, scale=2.0):
        """Scaled."""
        h = self.lin(x)
        return scale * h + x


class Keywords(nn.Module):
    def __init__(self):
        super().__init__()
        self.aff = Affine()

    def forward(self, x):
        return self.aff(self.aff(x), scale=0.5) + self.aff(x=x)


def models():
    srcad.manual_seed(0)
    return {
        "sequential": nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)),
        "module list, nested": Stack(3, 2),
        "settings square": Scaled("square"),
        "settings linear": Scaled("linear"),
        "tied": Tied(),
        "one module twice": nn.Sequential(*[nn.Linear(3, 3)] * 2),
        "loss inside": WithLoss(),
        "keywords and defaults": Keywords(),
    }


@pytest.mark.parametrize("name", sorted(models()))
def test_inlined_gradients_equal_the_callee_path_and_finite_differences(name):
    model = models()[name]
    x = np.random.default_rng(1).standard_normal((4, 3))
    loss = make_loss()
    derivative = srcad.grad(loss, wrt="model")
    got = derivative(model, x)
    text = srcad.source(derivative)
    # every model's forward inlined (a plain helper, the loss's `_pick`, keeps its call)
    assert not re.search(r"def \w+_[A-Z]\w*_forward", text) and "prefix_grads" not in text
    want = callee_path(lambda f: srcad.grad(f, wrt="model"), model, x)
    numeric = numeric_model(loss, model, x)
    assert set(got) == set(want) == set(numeric)
    for path in got:
        np.testing.assert_allclose(got[path], want[path], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(got[path], numeric[path], rtol=1e-6, atol=1e-8)


def test_the_callee_path_is_really_another_path():
    model = models()["sequential"]
    inline.ENABLED = False
    try:
        derivative = srcad.grad(make_loss(), wrt="model")
        text = srcad.source(derivative, model, np.ones((2, 3)))
    finally:
        inline.ENABLED = True
    assert "def vjp_Sequential_forward_wrt_self" in text


def test_the_mlp_reads_its_parameters_where_they_are():
    model = models()["sequential"]
    text = srcad.source(srcad.grad(make_loss(), wrt="model"), model, np.ones((2, 3)))
    # (the pre-activation is read once: it goes into its reader, freed at once, as by hand)
    assert "_tanh = np.tanh(x_1 @ model[0].weight.data.T + model[0].bias.data)" in text
    assert "# grad of line 56 of Linear.forward: return x @ self.weight.T + self.bias" in text
    # (the gradient dict keyed in named_parameters() order, as the call returns it)
    assert "dmodel = {'0.weight': d_weight, '0.bias': d_bias, '2.weight': d_weight_1," in text


def peak_bytes(call):
    """What NumPy allocates at most in one call of `call` (after a first, warm call)."""
    call()
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_inlined_code_keeps_no_more_memory_than_the_callee_path():
    srcad.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.Tanh(), nn.Linear(128, 10))
    x = np.random.default_rng(0).standard_normal((256, 64))
    inlined = srcad.grad(make_loss(), wrt="model")
    inline.ENABLED = False
    try:
        callee = srcad.grad(make_loss(), wrt="model")
        callee(model, x)
    finally:
        inline.ENABLED = True
    assert peak_bytes(lambda: inlined(model, x)) <= peak_bytes(lambda: callee(model, x))


@settings(max_examples=10, deadline=None)
@given(batch=st.integers(1, 5), width=st.integers(1, 4), depth=st.integers(1, 3),
       seed=st.integers(0, 2**16))
def test_inlined_stacks_of_any_shape(batch, width, depth, seed):
    srcad.manual_seed(seed)
    model = Stack(width, depth)
    x = np.random.default_rng(seed).uniform(-2, 2, (batch, width))
    loss = make_loss()
    got = srcad.grad(loss, wrt="model")(model, x)
    numeric = numeric_model(loss, model, x)
    for path in numeric:
        np.testing.assert_allclose(got[path], numeric[path], rtol=1e-5, atol=1e-7)


def test_forward_mode_through_an_inlined_model():
    model = models()["module list, nested"]
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3))
    tangent = {path: rng.standard_normal(p.data.shape) for path, p in model.named_parameters()}
    derivative = srcad.jvp(make_loss(), wrt="model")
    value, got = derivative(model, x, tangent)
    assert "\ndef " not in srcad.source(derivative, model, x)
    want = callee_path(lambda f: srcad.jvp(f, wrt="model"), model, x, tangent)[1]
    numeric = sum(np.sum(g * tangent[path])
                  for path, g in numeric_model(make_loss(), model, x).items())
    assert np.isclose(value, make_loss()(model, x), rtol=1e-12)
    assert np.isclose(got, want, rtol=1e-12) and np.isclose(got, numeric, rtol=1e-6)


class Custom(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        return np.tanh(self.lin(x))


def test_a_redefined_layer_forward_regenerates():
    model, x = Custom(), np.random.default_rng(3).standard_normal((2, 3))
    loss = make_loss()
    derivative = srcad.grad(loss, wrt="model")
    original = Custom.forward
    for forward in (original, _sin_forward, original):
        Custom.forward = forward
        try:
            for _ in range(2):                   # the first call and the fast path after it
                got = derivative(model, x)
                numeric = numeric_model(loss, model, x)
                for path in numeric:
                    np.testing.assert_allclose(got[path], numeric[path], rtol=1e-6, atol=1e-8)
        finally:
            Custom.forward = original
    assert "np.tanh" in srcad.source(derivative, model, x)


def _sin_forward(self, x):
    return np.sin(self.lin(x))


class Noisy(nn.Module):
    """Two draws in one expression: inlining keeps the order of the random draws."""

    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.5)
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        return self.drop(self.lin(x)) * 2.0 + self.drop(x)


@pytest.mark.parametrize("model", [
    Noisy(), nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5), nn.Tanh())],
    ids=["two draws", "dropout in a Sequential"])   # (a setting read through `self[1]`)
def test_inlining_keeps_the_order_of_random_draws(model):
    x = np.random.default_rng(4).standard_normal((6, 3))
    srcad.manual_seed(5)
    got = srcad.grad(make_loss(), wrt="model")(model, x)
    srcad.manual_seed(5)
    want = callee_path(lambda f: srcad.grad(f, wrt="model"), model, x)
    for path in want:
        np.testing.assert_allclose(got[path], want[path], rtol=1e-12, atol=1e-14)


class Node(nn.Module):
    """A recursive model: each node's forward calls its child's (the same code)."""

    def __init__(self, depth):
        super().__init__()
        self.lin = nn.Linear(3, 3)
        self.child = Node(depth - 1) if depth else None

    def forward(self, x):
        y = np.tanh(self.lin(x))
        if self.child is None:
            return y
        return self.child(y)


class Looping(nn.Module):
    """A forward with a loop of its own: not straight-line code, so it keeps its call."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        for _ in range(2):
            x = self.lin(x)
        return x


@pytest.mark.parametrize("model", [Node(2), Looping()], ids=["recursive", "loop"])
def test_what_inlining_leaves_keeps_the_callee_path(model):
    x = np.random.default_rng(6).standard_normal((2, 3))
    loss = make_loss()
    derivative = srcad.grad(loss, wrt="model")
    got = derivative(model, x)
    assert f"def vjp_{type(model).__name__}_forward" in srcad.source(derivative)
    numeric = numeric_model(loss, model, x)
    for path in numeric:
        np.testing.assert_allclose(got[path], numeric[path], rtol=1e-6, atol=1e-8)


class Rounded(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        return np.real_if_close(self.lin(x))    # no rule: the line an error names


def test_an_error_in_inlined_code_names_the_layers_own_line():
    derivative = srcad.grad(make_loss(), wrt="model")
    with pytest.raises(srcad.MissingRuleError) as info:
        derivative(Rounded(), np.ones((2, 3)))
    line = Rounded.forward.__code__.co_firstlineno + 1
    assert f'"{__file__}", line {line}, in Rounded.forward' in str(info.value)
    assert "np.real_if_close(self.lin(x))" in str(info.value)
    assert "numpy.real_if_close" in str(info.value)


def test_a_line_of_inlined_code_is_traced_back_to_the_layer():
    """Errors raised by generated code name the user's line from the comment above it
    (`dispatch._origin_comment`): `# grad of line 56 of Linear.forward` is Linear's line."""
    from srcad import codegen, dispatch
    model = models()["sequential"]
    derivative = srcad.grad(make_loss(), wrt="model")
    derivative(model, np.ones((2, 3)))
    function = next(iter(derivative._path.routes.values())).generated.function
    filename = function.__code__.co_filename
    lines = linecache.getlines(filename)
    below = next(i for i, line in enumerate(lines) if "# grad of line 56 of Linear.forward"
                 in line) + 2
    label, lineno = dispatch._origin_comment(filename, below)
    location = codegen.ORIGINS[filename].location(lineno)
    assert label == "grad of" and location.lineno == 56 and location.function == "Linear.forward"
    assert location.filename == nn.Linear.forward.__code__.co_filename
    assert "return x @ self.weight.T + self.bias" in location.text
