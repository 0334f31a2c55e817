"""Gradients of models (nn.Module trees) are generated code: the parameters are the inputs.

Checked against finite differences on every parameter and against a gradient derived by hand.
"""

import numpy as np
import pytest

import srcad
from srcad.nn import Module, ModuleList, Parameter, Sequential


class Linear(Module):
    def __init__(self, n_in, n_out, rng):
        super().__init__()
        self.weight = Parameter(rng.standard_normal((n_out, n_in)) * 0.5)
        self.bias = Parameter(rng.standard_normal(n_out) * 0.1)

    def forward(self, x):
        return x @ self.weight.T + self.bias


class Tanh(Module):
    def forward(self, x):
        return np.tanh(x)


class FFNN(Module):
    def __init__(self, rng):
        super().__init__()
        self.V = Linear(3, 4, rng)
        self.g = Tanh()
        self.W = Linear(4, 2, rng)

    def forward(self, x):
        return self.W(self.g(self.V(x)))


def mse(model, X, y):
    out = model(X)
    return np.mean((out - y) ** 2)


def numeric_gradients(loss, model, *args, eps=1e-6):
    grads = {}
    for name, param in model.named_parameters():
        g = np.zeros_like(param.data)
        for index in np.ndindex(param.data.shape):
            old = param.data[index]
            param.data[index] = old + eps
            plus = loss(model, *args)
            param.data[index] = old - eps
            minus = loss(model, *args)
            param.data[index] = old
            g[index] = (plus - minus) / (2 * eps)
        grads[name] = g
    return grads


@pytest.mark.parametrize("seed", range(3))
def test_gradient_of_a_model_matches_finite_differences_and_the_hand_derivation(seed):
    rng = np.random.default_rng(seed)
    model, X, y = FFNN(rng), rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    grads = srcad.grad(mse, wrt="model")(model, X, y)
    assert list(grads) == [name for name, _ in model.named_parameters()]
    numeric = numeric_gradients(mse, model, X, y)
    h = np.tanh(X @ model.V.weight.data.T + model.V.bias.data)
    dout = 2 * (h @ model.W.weight.data.T + model.W.bias.data - y) / y.size
    dz = dout @ model.W.weight.data * (1 - h ** 2)
    by_hand = {"W.weight": dout.T @ h, "W.bias": dout.sum(0), "V.weight": dz.T @ X,
               "V.bias": dz.sum(0)}
    for name in grads:
        np.testing.assert_allclose(grads[name], numeric[name], rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(grads[name], by_hand[name], rtol=1e-10, atol=1e-12)


def test_value_and_grad_and_structure_caching():
    rng = np.random.default_rng(1)
    first, second = FFNN(rng), FFNN(rng)
    X, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    step = srcad.value_and_grad(mse, wrt="model")
    value, grads = step(first, X, y)
    assert value == pytest.approx(mse(first, X, y))
    step(second, X, y)
    generated = [key for key in srcad.generation._cache[mse] if key[0] == "value_and_grad"]
    assert len(generated) == 1                 # one generated gradient per structure


def test_parameters_the_loss_does_not_reach_get_zeros():
    rng = np.random.default_rng(2)
    model = FFNN(rng)
    model.unused = Parameter(np.ones(3))
    grads = srcad.grad(mse, wrt="model")(model, rng.standard_normal((2, 3)),
                                          rng.standard_normal((2, 2)))
    np.testing.assert_array_equal(grads["unused"], np.zeros(3))


def test_model_source_shows_every_layer():
    rng = np.random.default_rng(3)
    model = FFNN(rng)
    text = srcad.source(srcad.grad(mse, wrt="model"), model, np.ones((1, 3)), np.ones((1, 2)))
    # the layers' forwards are inlined: one function reading each parameter where it is
    assert text.count("\ndef ") == 0 and "model.V.weight" in text and "model.W.bias" in text
    assert "line 20 of Linear.forward" in text and "prefix_grads" not in text
    assert "dmodel = {'V.weight': d_weight, 'V.bias': d_bias, 'W.weight': d_weight_1," in text


class Stack(Module):
    def __init__(self, rng):
        super().__init__()
        self.body = Sequential(Linear(3, 4, rng), Tanh(), Linear(4, 4, rng), Tanh())
        self.heads = ModuleList([Linear(4, 2, rng), Linear(4, 2, rng)])

    def forward(self, x):
        h = self.body(x)
        out = 0.0
        for head in self.heads:
            out = out + head(h)
        return out


def test_sequential_and_module_lists_are_unrolled():
    rng = np.random.default_rng(4)
    model, X, y = Stack(rng), rng.standard_normal((3, 3)), rng.standard_normal((3, 2))
    grads = srcad.grad(mse, wrt="model")(model, X, y)
    assert set(grads) == {name for name, _ in model.named_parameters()}
    assert "body.0.weight" in grads and "heads.1.bias" in grads
    numeric = numeric_gradients(mse, model, X, y)
    for name in grads:
        np.testing.assert_allclose(grads[name], numeric[name], rtol=1e-5, atol=1e-8)


def test_pytorch_style_loop_fills_grad_and_optimizer_steps():
    rng = np.random.default_rng(5)
    model, X, y = FFNN(rng), rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    optimizer = srcad.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        losses.append(srcad.nn.backward(mse, model, X, y))
        optimizer.step()
    assert losses[-1] < 0.75 * losses[0]
    expected = srcad.grad(mse, wrt="model")(model, X, y)
    optimizer.zero_grad()
    srcad.nn.backward(mse, model, X, y)
    for name, param in model.named_parameters():
        np.testing.assert_allclose(param.grad, expected[name])


class Lookup(Module):
    def __init__(self, vocabulary, width, rng):
        super().__init__()
        self.table = Parameter(rng.standard_normal((vocabulary, width)))
        self.out = Linear(width, 1, rng)

    def forward(self, tokens):
        vectors = self.table[tokens]
        return self.out(np.tanh(np.sum(vectors, axis=0)))


def lookup_loss(model, tokens):
    return np.sum(model(tokens) ** 2)


def test_embedding_rows_are_sparse():
    rng = np.random.default_rng(6)
    model = Lookup(1000, 4, rng)
    tokens = np.array([3, 17, 3, 999])
    grads = srcad.grad(lookup_loss, wrt="model")(model, tokens)
    numeric = {}
    for row in (3, 17, 999, 5):                     # 3 twice: repeated rows accumulate
        for col in range(4):
            old = model.table.data[row, col]
            model.table.data[row, col] = old + 1e-6
            plus = lookup_loss(model, tokens)
            model.table.data[row, col] = old - 1e-6
            minus = lookup_loss(model, tokens)
            model.table.data[row, col] = old
            numeric[row, col] = (plus - minus) / 2e-6
    for (row, col), value in numeric.items():
        assert grads["table"][row, col] == pytest.approx(value, rel=1e-5, abs=1e-8)
    assert np.count_nonzero(np.abs(grads["table"]).sum(axis=1)) == 3
    # the training step keeps it sparse: plain SGD touches only the rows used
    model.zero_grad()
    srcad.nn.backward(lookup_loss, model, tokens)
    assert isinstance(model.table.grad, srcad.sparse.RowGrad)
    assert model.table.grad.values.shape == (4, 4)
    before = model.table.data.copy()
    srcad.optim.SGD(model.parameters(), lr=0.1).step()
    changed = np.flatnonzero(np.any(model.table.data != before, axis=1))
    np.testing.assert_array_equal(changed, [3, 17, 999])
    np.testing.assert_allclose(model.table.data - before, -0.1 * grads["table"], atol=1e-12)


class Classifier(Module):
    def __init__(self, rng):
        super().__init__()
        self.V = Linear(2, 8, rng)
        self.W = Linear(8, 2, rng)

    def forward(self, x):
        return self.W(np.tanh(self.V(x)))


def cross_entropy(model, X, y):
    logits = model(X)
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(y.shape[0]), y])


def test_fit_learns_a_separable_problem_and_reports_history():
    srcad.manual_seed(0)
    rng = np.random.default_rng(7)
    X = rng.standard_normal((200, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = Classifier(rng)
    optimizer = srcad.optim.Adam(model.parameters(), lr=0.05)
    lines = []
    history = srcad.nn.fit(model, cross_entropy, optimizer, (X[:150], y[:150]),
                           dev=(X[150:], y[150:]), epochs=15, batch_size=16, progress=False,
                           log=lines.append)
    assert len(lines) == 15 and "dev accuracy" in lines[-1]
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["dev_accuracy"][-1] >= 0.9


class Configurable(Module):
    """Branches on settings: srcad specializes the generated code to their values."""

    def __init__(self, rng, bias=True, activation="tanh"):
        super().__init__()
        self.weight = Parameter(rng.standard_normal((2, 3)) * 0.5)
        self.bias = Parameter(rng.standard_normal(2) * 0.1) if bias else None
        self.activation = activation

    def forward(self, x):
        h = x @ self.weight.T
        if self.bias is not None:
            h = h + self.bias
        if self.activation == "tanh" and not self.training:
            return np.tanh(h)
        elif self.activation == "tanh":
            return np.tanh(h) * 0.5
        return h ** 2


def reference_loss(model, X):
    h = X @ model.weight.data.T + (0.0 if model.bias is None else model.bias.data)
    if model.activation != "tanh":
        return np.mean(h ** 2)
    return np.mean(np.tanh(h) * (1.0 if not model.training else 0.5))


def mean_output(model, X):
    return np.mean(model(X))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("activation", ["tanh", "square"])
@pytest.mark.parametrize("training", [True, False])
def test_branches_on_settings_are_specialized_away(bias, activation, training):
    rng = np.random.default_rng(5)
    model, X = Configurable(rng, bias, activation).train(training), rng.standard_normal((4, 3))
    df = srcad.grad(mean_output, wrt="model")
    text = srcad.source(df, model, X)
    for setting in ("self.bias is", "self.activation", "self.training"):
        assert setting not in text
    assert ("'bias'" in text) == bias
    code = [line for line in text.splitlines() if not line.strip().startswith("#")]
    assert sum("= np.tanh(" in line for line in code) == (activation == "tanh")
    grads = df(model, X)
    numeric = numeric_gradients(reference_loss, model, X)
    assert set(grads) == set(numeric)
    for name in grads:
        np.testing.assert_allclose(grads[name], numeric[name], rtol=1e-6, atol=1e-9)


def test_changing_a_setting_regenerates_the_code():
    rng = np.random.default_rng(6)
    model, X = Configurable(rng), rng.standard_normal((4, 3))
    df = srcad.grad(mean_output, wrt="model")
    for training in (True, False, True):
        model.train(training)
        numeric = numeric_gradients(reference_loss, model, X)
        for name, g in df(model, X).items():
            np.testing.assert_allclose(g, numeric[name], rtol=1e-6, atol=1e-9)
    model.activation = "square"
    numeric = numeric_gradients(reference_loss, model, X)
    for name, g in df(model, X).items():
        np.testing.assert_allclose(g, numeric[name], rtol=1e-6, atol=1e-9)


class Tied(Module):
    """One parameter read twice: its two contributions must add up, not overwrite."""

    def __init__(self, rng):
        super().__init__()
        self.w = Parameter(rng.standard_normal(3))
        self.b = Parameter(rng.standard_normal(3))

    def forward(self, x):
        return np.tanh(x * self.w + self.b) * self.w


def test_a_parameter_read_twice_accumulates():
    rng = np.random.default_rng(7)
    model, X, y = Tied(rng), rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    grads = srcad.grad(mse, wrt="model")(model, X, y)
    numeric = numeric_gradients(mse, model, X, y)
    for name in ("w", "b"):
        np.testing.assert_allclose(grads[name], numeric[name], rtol=1e-6, atol=1e-9)
    t = np.tanh(X * model.w.data + model.b.data)
    g = 2 * (t * model.w.data - y) / y.size                 # d loss / d output
    dpre = g * model.w.data * (1 - t * t)
    np.testing.assert_allclose(grads["w"], np.sum(g * t + dpre * X, axis=0), rtol=1e-10)
    np.testing.assert_allclose(grads["b"], np.sum(dpre, axis=0), rtol=1e-10)


class Scaled(Module):
    """The gradient of `w` is the input itself: the caller must get a copy."""

    def __init__(self, rng):
        super().__init__()
        self.w = Parameter(rng.standard_normal((4, 3)))
        self.v = Parameter(rng.standard_normal(3))

    def forward(self, x):
        return np.sum(x * self.w) + np.sum(self.v * self.v)


def total(model, X):
    return model(X)


def test_model_gradients_own_their_memory():
    rng = np.random.default_rng(8)
    model, X = Scaled(rng), rng.standard_normal((4, 3))
    df = srcad.grad(total, wrt="model")
    for _ in range(2):                      # the first call and the fast path after it
        grads = df(model, X)
        np.testing.assert_array_equal(grads["w"], X)
        np.testing.assert_allclose(grads["v"], 2 * model.v.data)
        assert not np.shares_memory(grads["w"], X)
        assert all(not np.shares_memory(g, p.data) for g, (_, p) in
                   zip(grads.values(), model.named_parameters()))


def test_new_parameter_shapes_get_code_for_them():
    """Code is specialized to parameter shapes: replacing a parameter's array by one of another
    shape (no attribute of a module changes) must not reuse the old code."""
    rng = np.random.default_rng(9)
    model = FFNN(rng)
    df = srcad.grad(mse, wrt="model")
    for n_hidden in (4, 5, 4):
        model.V.weight.data = rng.standard_normal((n_hidden, 3))
        model.V.bias.data = rng.standard_normal(n_hidden)
        model.W.weight.data = rng.standard_normal((2, n_hidden))
        X, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
        numeric = numeric_gradients(mse, model, X, y)
        grads = df(model, X, y)
        for name, g in grads.items():
            assert g.shape == numeric[name].shape
            np.testing.assert_allclose(g, numeric[name], rtol=1e-6, atol=1e-8)


class ConstantBranch(Module):
    """`self.g(x)` has no parameters and a constant argument: it carries no derivative."""

    def __init__(self, rng):
        super().__init__()
        self.V = Linear(3, 3, rng)
        self.g = Tanh()

    def forward(self, x):
        return self.V(x) * self.g(x)


def test_layers_without_parameters_give_no_gradient_dicts():
    rng = np.random.default_rng(10)
    X = rng.standard_normal((5, 3))
    for model, y in ((FFNN(rng), rng.standard_normal((5, 2))),
                     (ConstantBranch(rng), rng.standard_normal((5, 3)))):
        df = srcad.grad(mse, wrt="model")
        text = df.source(model, X, y)
        assert "vjp_Tanh_forward_wrt_self" not in text and "prefix_grads('g'" not in text
        numeric = numeric_gradients(mse, model, X, y)
        for name, g in df(model, X, y).items():
            np.testing.assert_allclose(g, numeric[name], rtol=1e-6, atol=1e-8)


class Switch(Module):
    def __init__(self):
        super().__init__()
        self.square = False

    def forward(self, x):
        if self.square:
            return x * x
        return np.tanh(x)


class Nested(Module):
    def __init__(self, rng):
        super().__init__()
        self.V = Linear(3, 2, rng)
        self.act = Switch()

    def forward(self, x):
        return self.act(self.V(x))


def test_changes_deep_in_the_tree_regenerate_the_code():
    """The structure is cached on the model: a setting of a submodule, or a submodule
    replaced, must still give code for the new structure."""
    rng = np.random.default_rng(11)
    model, X, y = Nested(rng), rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    df = srcad.grad(mse, wrt="model")
    for change in (None, lambda: setattr(model.act, "square", True),
                   lambda: setattr(model, "act", Tanh()),
                   lambda: setattr(model, "act", Switch())):
        if change:
            change()
        for _ in range(2):
            numeric = numeric_gradients(mse, model, X, y)
            for name, g in df(model, X, y).items():
                np.testing.assert_allclose(g, numeric[name], rtol=1e-6, atol=1e-8)
