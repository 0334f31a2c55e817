"""The compiled entry for model arguments (`srcad/model_entry.py`, `dispatch.entry`) and models
held by module-level names (`generation._global_models`, `guards.model_state`): every fact the
entry relies on is checked on every call, so a change between calls (a layer swapped, a weight
reshaped, weights tied, the global loss rebound or its settings changed, a forward patched)
gives the right gradient, never the previous code's. Gradients against an analytic formula
(the network's backward pass by hand) and central finite differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import srcad
from srcad import dispatch, nn

from .test_inline import numeric_model


class MLP(nn.Module):
    def __init__(self, n_in=4, hidden=5, n_out=3):
        super().__init__()
        self.V = nn.Linear(n_in, hidden)
        self.g = nn.Tanh()
        self.W = nn.Linear(hidden, n_out)

    def forward(self, x):
        return self.W(self.g(self.V(x)))


CRITERION = nn.CrossEntropyLoss()
OTHER = nn.MSELoss()


def global_loss(model, X, Y):
    return CRITERION(model(X), Y)


def hand(model, X, Y, reduction="mean"):
    """The gradient of `global_loss` (cross-entropy with probability targets) by hand."""
    V, b, W, c = (p.data for _, p in model.named_parameters())
    h = np.tanh(X @ V.T + b)
    z = h @ W.T + c
    e = np.exp(z - z.max(axis=1, keepdims=True))
    dz = e / e.sum(axis=1, keepdims=True) - Y
    dz = dz / X.shape[0] if reduction == "mean" else dz
    da = (dz @ W) * (1 - h * h)
    return {"V.weight": da.T @ X, "V.bias": da.sum(axis=0), "W.weight": dz.T @ h,
            "W.bias": dz.sum(axis=0)}


def data(rng, batch=6, n_in=4, n_out=3):
    X = rng.standard_normal((batch, n_in))
    Y = rng.dirichlet(np.ones(n_out), size=batch)
    return X, Y


def close(got, want, rtol=1e-9, atol=1e-12):
    assert list(got) == list(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=rtol, atol=atol, err_msg=key)


@pytest.fixture
def finishes(monkeypatch):
    """Counts the calls that took the general finish (`dispatch.gradients`)."""
    count = [0]
    original = dispatch.gradients

    def counted(*args, **kwargs):
        count[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(dispatch, "gradients", counted)
    return count


def warm(derivative, *args):
    """Two calls: the first makes the route and its entry, the second runs the entry."""
    derivative(*args)
    return derivative(*args)


def test_the_entry_returns_the_codes_dict_in_named_parameters_order(finishes):
    rng = np.random.default_rng(0)
    model, (X, Y) = MLP(), data(rng)
    d = srcad.grad(global_loss, wrt="model")
    first = d(model, X, Y)
    assert d._path.entry is not None and finishes[0] == 1
    grads = d(model, X, Y)
    assert finishes[0] == 1                     # fresh arrays: returned as the code built them
    assert list(grads) == [name for name, _ in model.named_parameters()]
    close(grads, hand(model, X, Y))
    close(grads, numeric_model(global_loss, model, X, Y), rtol=1e-6, atol=1e-8)
    assert all(grads[k] is not first[k] for k in grads)
    params = [p.data for p in model.parameters()]
    assert not any(g is p or np.shares_memory(g, p) for g in grads.values() for p in params)


def test_the_global_loss_is_inlined():
    rng = np.random.default_rng(1)
    model, (X, Y) = MLP(), data(rng)
    text = srcad.source(srcad.grad(global_loss, wrt="model"), model, X, Y)
    assert "\ndef " not in text.strip() and "CrossEntropyLoss.forward" in text
    assert "dmodel = {'V.weight': d_weight, 'V.bias': d_bias, 'W.weight': d_weight_1," in text


def test_a_swapped_layer_is_read_where_it_is():
    rng = np.random.default_rng(2)
    model, (X, Y) = MLP(), data(rng)
    d = srcad.grad(global_loss, wrt="model")
    warm(d, model, X, Y)
    model.W = nn.Linear(5, 3)                   # same structure, other numbers
    close(d(model, X, Y), hand(model, X, Y))


def test_a_reshaped_weight_takes_code_for_its_shape():
    rng = np.random.default_rng(3)
    model, (X, Y) = MLP(), data(rng)
    d = srcad.grad(global_loss, wrt="model")
    warm(d, model, X, Y)
    model.V.weight.data = rng.standard_normal((7, 4))       # hidden 5 -> 7 ...
    model.V.bias.data = rng.standard_normal(7)
    model.W.weight.data = rng.standard_normal((3, 7))       # (the Parameters stay: no
    grads = d(model, X, Y)                                  # module attribute changed)
    close(grads, hand(model, X, Y))
    assert grads["V.weight"].shape == (7, 4)
    close(warm(d, model, X, Y), hand(model, X, Y))


def test_a_parameter_of_another_dtype_or_kind_takes_the_call_path():
    rng = np.random.default_rng(4)
    model, (X, Y) = MLP(), data(rng)
    d = srcad.grad(global_loss, wrt="model")
    warm(d, model, X, Y)
    model.W.bias.data = model.W.bias.data.astype(np.float32)
    grads = d(model, X, Y)
    assert grads["W.bias"].dtype == np.float32
    np.testing.assert_allclose(grads["W.bias"], hand(model, X, Y)["W.bias"], rtol=1e-5)
    model.W.bias.data = np.asarray(model.W.bias.data, np.float64)[::1].view(np.ndarray)
    close(warm(d, model, X, Y), hand(model, X, Y))


class Tied(nn.Module):
    """Two square layers, whose weights a test ties."""

    def __init__(self):
        super().__init__()
        self.A = nn.Linear(3, 3)
        self.B = nn.Linear(3, 3)

    def forward(self, x):
        return self.B(np.tanh(self.A(x)))


def tied_loss(model, x):
    return np.sum(model(x) ** 2)


def tied_hand(model, x):
    """The gradient of `tied_loss` by hand, the paths to a shared weight summed."""
    A, a, B, b = (model.A.weight.data, model.A.bias.data, model.B.weight.data,
                  model.B.bias.data)
    h = np.tanh(x @ A.T + a)
    dy = 2 * (h @ B.T + b)
    dh = (dy @ B) * (1 - h * h)
    out = {"A.weight": dh.T @ x, "A.bias": dh.sum(axis=0), "B.weight": dy.T @ h,
           "B.bias": dy.sum(axis=0)}
    if model.B.weight is model.A.weight:
        out["A.weight"] = out["A.weight"] + out.pop("B.weight")
        out = {k: out[k] for k in ("A.weight", "A.bias", "B.bias")}
    return out


def test_tied_weights_sum_their_paths(finishes):
    rng = np.random.default_rng(5)
    model, x = Tied(), rng.standard_normal((4, 3))
    d = srcad.grad(tied_loss, wrt="model")
    close(warm(d, model, x), tied_hand(model, x))
    model.B.weight = model.A.weight             # tie: the structure changes
    grads = d(model, x)
    close(grads, tied_hand(model, x))
    close(grads, numeric_model(tied_loss, model, x), rtol=1e-6, atol=1e-8)
    before = finishes[0]
    close(d(model, x), tied_hand(model, x))     # (the entry of the tied structure: sums
    assert finishes[0] == before + 1            # its paths through the general finish)


def test_a_rebound_global_loss_regenerates(monkeypatch):
    rng = np.random.default_rng(6)
    model, (X, Y) = MLP(), data(rng)
    d = srcad.grad(global_loss, wrt="model")
    warm(d, model, X, Y)
    monkeypatch.setitem(globals(), "CRITERION", OTHER)         # another loss
    grads = d(model, X, Y)
    numeric = numeric_model(global_loss, model, X, Y)
    close(grads, numeric, rtol=1e-6, atol=1e-8)
    close(warm(d, model, X, Y), numeric, rtol=1e-6, atol=1e-8)
    monkeypatch.setitem(globals(), "CRITERION", nn.CrossEntropyLoss(reduction="sum"))
    close(d(model, X, Y), hand(model, X, Y, reduction="sum"))   # the same class, new settings


def test_a_changed_setting_of_the_global_loss_regenerates(monkeypatch):
    rng = np.random.default_rng(7)
    model, (X, Y) = MLP(), data(rng)
    d = srcad.grad(global_loss, wrt="model")
    warm(d, model, X, Y)
    monkeypatch.setattr(CRITERION, "reduction", "sum")
    close(d(model, X, Y), hand(model, X, Y, reduction="sum"))
    close(warm(d, model, X, Y), hand(model, X, Y, reduction="sum"))
    monkeypatch.setattr(CRITERION, "reduction", "mean")
    close(d(model, X, Y), hand(model, X, Y))


class Gated(nn.Module):
    """A setting (`square`) that picks a branch of the forward."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)
        self.square = False

    def forward(self, x):
        y = self.lin(x)
        if self.square:
            y = y * y
        return y


def gated_loss(model, x):
    return np.sum(np.sin(model(x)))


def gated_hand(model, x):
    y = x @ model.lin.weight.data.T + model.lin.bias.data
    dy = np.cos(y * y) * 2 * y if model.square else np.cos(y)
    return {"lin.weight": dy.T @ x, "lin.bias": dy.sum(axis=0)}


def test_a_changed_setting_of_the_model_regenerates():
    rng = np.random.default_rng(8)
    model, x = Gated(), rng.standard_normal((4, 3))
    d = srcad.grad(gated_loss, wrt="model")
    close(warm(d, model, x), gated_hand(model, x))
    model.square = True
    close(d(model, x), gated_hand(model, x))
    close(d(model, x), numeric_model(gated_loss, model, x), rtol=1e-6, atol=1e-8)


def test_a_patched_forward_regenerates(monkeypatch):
    rng = np.random.default_rng(9)
    model, x = Gated(), rng.standard_normal((4, 3))
    d = srcad.grad(gated_loss, wrt="model")
    warm(d, model, x)

    def doubled(self, x):
        return 2.0 * self.lin(x)

    monkeypatch.setattr(Gated, "forward", doubled)
    grads = d(model, x)
    y = x @ model.lin.weight.data.T + model.lin.bias.data
    dy = 2.0 * np.cos(2.0 * y)
    close(grads, {"lin.weight": dy.T @ x, "lin.bias": dy.sum(axis=0)})


class Pair(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(np.array([1.0, 2.0, 3.0]))
        self.b = nn.Parameter(np.array([0.5, -1.0, 4.0]))
        self.c = nn.Parameter(np.array([7.0, 8.0]))

    def forward(self):
        return np.sum(self.a * self.b)


def pair_loss(model):
    return model()


def test_a_gradient_that_is_a_parameter_is_copied_and_an_unreached_one_is_zeros(finishes):
    model = Pair()
    d = srcad.grad(pair_loss, wrt="model")
    grads = warm(d, model)
    assert list(grads) == ["a", "b", "c"]
    np.testing.assert_array_equal(grads["a"], model.b.data)
    np.testing.assert_array_equal(grads["b"], model.a.data)
    np.testing.assert_array_equal(grads["c"], np.zeros(2))
    for g in grads.values():
        assert not any(np.shares_memory(g, p.data) for p in model.parameters())
    grads["a"][:] = 0.0                          # the caller's to change
    np.testing.assert_array_equal(model.b.data, [0.5, -1.0, 4.0])


class Encoder(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.lin = nn.Linear(n_in, n_out)

    def forward(self, x):
        return np.tanh(self.lin(x))


ENCODER = Encoder(3, 4)


def encoded_loss(model, x):
    return np.sum(model(ENCODER(x)) ** 2)


def test_a_global_model_with_parameters_is_read_and_checked():
    rng = np.random.default_rng(10)
    model, x = nn.Linear(4, 2), rng.standard_normal((5, 3))
    d = srcad.grad(encoded_loss, wrt="model")

    def expected():
        h = np.tanh(x @ ENCODER.lin.weight.data.T + ENCODER.lin.bias.data)
        dy = 2 * (h @ model.weight.data.T + model.bias.data)
        return {"weight": dy.T @ h, "bias": dy.sum(axis=0)}

    close(warm(d, model, x), expected())
    ENCODER.lin.weight.data = ENCODER.lin.weight.data * 3.0        # new numbers: read
    close(d(model, x), expected())
    ENCODER.lin = nn.Linear(3, 6)                                  # a new shape of its
    model.weight.data = rng.standard_normal((2, 6))                # output: code for it
    close(d(model, x), expected())
    close(d(model, x), numeric_model(encoded_loss, model, x), rtol=1e-6, atol=1e-8)


def test_value_and_grad_and_jit_agree_with_the_hand_gradient():
    rng = np.random.default_rng(11)
    model, (X, Y) = MLP(), data(rng)
    value, grads = warm(srcad.value_and_grad(global_loss, wrt="model"), model, X, Y)
    assert value == pytest.approx(global_loss(model, X, Y), rel=1e-12)
    close(grads, hand(model, X, Y))
    jitted = srcad.grad(global_loss, wrt="model", jit=True)
    close(warm(jitted, model, X, Y), hand(model, X, Y))
    model.V.weight.data = rng.standard_normal((5, 4))
    close(jitted(model, X, Y), hand(model, X, Y))


def test_training_with_the_global_loss_follows_the_hand_gradient():
    rng = np.random.default_rng(12)
    model, (X, Y) = MLP(), data(rng)
    copy = MLP()
    copy.load_state_dict(model.state_dict())
    optimizer = nn_sgd(model)
    for _ in range(3):
        grads = hand(copy, X, Y)
        for name, param in copy.named_parameters():
            param.data = param.data - 0.1 * grads[name]
        optimizer.zero_grad()
        nn.backward(global_loss, model, X, Y)
        optimizer.step()
    for (name, p), (_, q) in zip(model.named_parameters(), copy.named_parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-10, err_msg=name)


def nn_sgd(model):
    return srcad.optim.SGD(model.parameters(), lr=0.1)


@settings(max_examples=20, deadline=None)
@given(batch=st.integers(1, 7), hidden=st.integers(1, 6), n_out=st.integers(2, 4),
       seed=st.integers(0, 2**16))
def test_the_entry_matches_the_hand_gradient_for_any_shapes(batch, hidden, n_out, seed):
    rng = np.random.default_rng(seed)
    model, (X, Y) = MLP(3, hidden, n_out), data(rng, batch, 3, n_out)
    d = srcad.grad(global_loss, wrt="model")
    close(warm(d, model, X, Y), hand(model, X, Y))
    other = MLP(3, hidden + 1, n_out)           # another shape through the same derivative
    close(warm(d, other, X, Y), hand(other, X, Y))
    close(d(model, X, Y), hand(model, X, Y))


def two_loss(model, X, Y):
    return CRITERION(model(X), Y) + 0.5 * np.sum(X * X)


def test_a_model_and_an_array_together_and_a_model_not_differentiated(finishes):
    rng = np.random.default_rng(13)
    model, (X, Y) = MLP(), data(rng)
    both = srcad.grad(two_loss, wrt=("model", "X"))
    warm(both, model, X, Y)
    count = finishes[0]
    grads, dX = both(model, X, Y)
    assert finishes[0] == count                 # both returned as the code built them
    close(grads, hand(model, X, Y))
    numeric = np.zeros_like(X)
    for i in np.ndindex(X.shape):
        keep = X[i]
        X[i] = keep + 1e-6
        up = two_loss(model, X, Y)
        X[i] = keep - 1e-6
        numeric[i] = (up - two_loss(model, X, Y)) / 2e-6
        X[i] = keep
    np.testing.assert_allclose(dX, numeric, rtol=1e-6, atol=1e-8)
    only_x = srcad.grad(two_loss, wrt="X")
    np.testing.assert_allclose(warm(only_x, model, X, Y), dX, rtol=1e-12)
    model.V = nn.Linear(4, 5)                   # the model's numbers change: read anew
    np.testing.assert_allclose(only_x(model, X, Y), both(model, X, Y)[1], rtol=1e-12)


ACT = np.tanh


class Activated(nn.Module):
    """A forward that reads a global of its module (`ACT`), inlined with it."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)

    def forward(self, x):
        return ACT(self.lin(x))


def activated_loss(model, x):
    return np.sum(model(x))


def test_a_rebound_global_of_an_inlined_forward_regenerates(monkeypatch):
    rng = np.random.default_rng(14)
    model, x = Activated(), rng.standard_normal((4, 3))
    d = srcad.grad(activated_loss, wrt="model")
    close(warm(d, model, x), numeric_model(activated_loss, model, x), rtol=1e-6, atol=1e-8)
    monkeypatch.setitem(globals(), "ACT", np.sin)
    y = x @ model.lin.weight.data.T + model.lin.bias.data
    dy = np.cos(y)
    close(d(model, x), {"lin.weight": dy.T @ x, "lin.bias": dy.sum(axis=0)})
    close(d(model, x), numeric_model(activated_loss, model, x), rtol=1e-6, atol=1e-8)


def test_a_forward_set_on_an_instance_is_a_clear_error():
    """Python runs an instance's own `forward`; srcad transforms the class's, so it refuses,
    at the line of the call, rather than give the class's gradient (it did)."""
    rng = np.random.default_rng(15)
    model, x = Gated(), rng.standard_normal((4, 3))
    d = srcad.grad(gated_loss, wrt="model")
    warm(d, model, x)
    model.lin.forward = lambda x: np.zeros((4, 2))
    with pytest.raises(srcad.errors.UnsupportedSyntaxError, match="forward` of its own") as info:
        d(model, x)
    assert "y = self.lin(x)" in str(info.value)
    del model.lin.forward                       # the class's again: the gradient as before
    close(d(model, x), gated_hand(model, x))


def test_value_and_grad_runs_in_the_entry_too(finishes):
    rng = np.random.default_rng(16)
    model, (X, Y) = MLP(), data(rng)
    d = srcad.value_and_grad(global_loss, wrt="model")
    warm(d, model, X, Y)
    assert d._path.entry is not None
    count = finishes[0]
    value, grads = d(model, X, Y)
    assert finishes[0] == count
    assert value == pytest.approx(global_loss(model, X, Y), rel=1e-12)
    close(grads, hand(model, X, Y))
    model.W.weight.data = rng.standard_normal((3, 5))         # new numbers, same shape
    value, grads = d(model, X, Y)
    assert value == pytest.approx(global_loss(model, X, Y), rel=1e-12)
    close(grads, hand(model, X, Y))
    x = rng.standard_normal(5)                                # and for plain arrays
    plain = srcad.value_and_grad(sine_sum)
    v, g = warm(plain, x)
    assert plain._path.entry is not None
    assert v == pytest.approx(np.sum(np.sin(x))) and np.allclose(g, np.cos(x), rtol=1e-12)
    assert g is not x and not np.shares_memory(g, x)


def sine_sum(x):
    return np.sum(np.sin(x))
