"""The layers and losses of srcad.nn.layers / srcad.nn.losses.

Each is checked against an independent NumPy computation, its generated gradient against
central finite differences (every parameter, and the input), its default initialization, and
against torch (tests/support/torch_parity.py): its results stored in
tests/fixtures/torch_reference.npz on every run, and torch itself where it is installed.
"""

import math

import numpy as np
import pytest

import srcad
from srcad.nn import Module
from srcad.nn.layers import (
    GELU,
    RNN,
    Bilinear,
    Dropout,
    Embedding,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    RNNCell,
    Sigmoid,
    Softmax,
    Tanh,
)
from srcad.nn.losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from tests.support import torch_parity

EPS = 1e-6


def loss(model, x):
    out = model(x)
    return np.sum(np.sin(out) + 0.5 * out * out)


def loss2(model, x1, x2):
    out = model(x1, x2)
    return np.sum(np.sin(out) + 0.5 * out * out)


def numeric(f, array):
    """Central differences of the scalar f() in every entry of `array` (changed in place)."""
    g = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        old = array[index]
        array[index] = old + EPS
        plus = f()
        array[index] = old - EPS
        minus = f()
        array[index] = old
        g[index] = (plus - minus) / (2 * EPS)
    return g


def check_gradients(f, model, *args, inputs=(1,)):
    """srcad's gradients of f(model, *args) against finite differences: every parameter, and
    the arguments at positions `inputs` (1 is the first after the model)."""
    grads = srcad.grad(f, wrt="model")(model, *args)
    assert list(grads) == [name for name, _ in model.named_parameters()]
    for name, param in model.named_parameters():
        expected = numeric(lambda: f(model, *args), param.data)
        np.testing.assert_allclose(grads[name], expected, rtol=1e-5, atol=1e-7, err_msg=name)
    for position in inputs:
        got = srcad.grad(f, wrt=position)(model, *args)
        expected = numeric(lambda: f(model, *args), args[position - 1])
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


# ---- independent NumPy references -----------------------------------------------------------

def ref_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def ref_gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def ref_layer_norm(x, ndim, w, b, eps=1e-5):
    axes = tuple(range(x.ndim - ndim, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def ref_rnn(x, w_ih, w_hh, b_ih, b_hh, h, act=np.tanh):
    outs = []
    for t in range(x.shape[0]):
        h = act(w_ih @ x[t].T + w_hh @ h.T + (b_ih + b_hh)[:, None]).T if x.ndim == 3 else \
            act(w_ih @ x[t] + w_hh @ h + b_ih + b_hh)
        outs.append(h)
    return np.array(outs), h


def _p(model, name):
    return getattr(model, name).data


def _shuffle(model, rng):
    """Replace every parameter by random values (LayerNorm's init is ones and zeros)."""
    for _, param in model.named_parameters():
        param.data = rng.standard_normal(param.data.shape)
    return model


# (name, model factory, input shape, reference forward(model, x))
CASES = [
    ("linear", lambda: Linear(3, 4), (5, 3),
     lambda m, x: x @ _p(m, "weight").T + _p(m, "bias")),
    ("linear-no-bias", lambda: Linear(3, 2, bias=False), (2, 4, 3),
     lambda m, x: np.einsum("abi,oi->abo", x, _p(m, "weight"))),
    ("tanh", Tanh, (3, 4), lambda m, x: np.tanh(x)),
    ("relu", ReLU, (3, 4), lambda m, x: np.maximum(x, 0)),
    ("sigmoid", Sigmoid, (3, 4), lambda m, x: 1 / (1 + np.exp(-x))),
    ("leaky-relu", lambda: LeakyReLU(0.2), (3, 4), lambda m, x: np.where(x > 0, x, 0.2 * x)),
    ("gelu", GELU, (3, 4), lambda m, x: ref_gelu_tanh(x)),
    ("softmax", lambda: Softmax(dim=1), (3, 4, 2), lambda m, x: ref_softmax(x, 1)),
    ("log-softmax", lambda: LogSoftmax(dim=-1), (3, 4),
     lambda m, x: np.log(ref_softmax(x, -1))),
    ("layer-norm", lambda: LayerNorm(4), (3, 4),
     lambda m, x: ref_layer_norm(x, 1, _p(m, "weight"), _p(m, "bias"))),
    ("layer-norm-2d", lambda: LayerNorm((2, 3)), (4, 2, 3),
     lambda m, x: ref_layer_norm(x, 2, _p(m, "weight"), _p(m, "bias"))),
    ("layer-norm-plain", lambda: LayerNorm(4, elementwise_affine=False), (3, 4),
     lambda m, x: ref_layer_norm(x, 1, 1.0, 0.0)),
    ("rnn-cell", lambda: RNNCell(3, 4), (2, 3),
     lambda m, x: np.tanh(x @ _p(m, "weight_ih").T + _p(m, "bias_ih")
                          + _p(m, "bias_hh"))),
    ("rnn-cell-relu", lambda: RNNCell(3, 4, nonlinearity="relu"), (2, 3),
     lambda m, x: np.maximum(x @ _p(m, "weight_ih").T + _p(m, "bias_ih") + _p(m, "bias_hh"),
                             0)),
    ("dropout-eval", lambda: Dropout(0.5).eval(), (3, 4), lambda m, x: x),
]


@pytest.mark.parametrize("name, factory, shape, reference", CASES, ids=[c[0] for c in CASES])
def test_forward_and_gradient(name, factory, shape, reference):
    rng = np.random.default_rng(len(name))
    model = _shuffle(factory(), rng)
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(model(x), reference(model, x), rtol=1e-12, atol=1e-12)
    check_gradients(loss, model, x)


def test_bilinear():
    rng = np.random.default_rng(0)
    model = Bilinear(3, 4, 2)
    x1, x2 = rng.standard_normal((5, 3)), rng.standard_normal((5, 4))
    w, b = model.weight.data, model.bias.data
    expected = np.array([[x1[n] @ w[o] @ x2[n] + b[o] for o in range(2)] for n in range(5)])
    np.testing.assert_allclose(model(x1, x2), expected, rtol=1e-12)
    assert model(x1.reshape(5, 1, 3), x2.reshape(5, 1, 4)).shape == (5, 1, 2)
    check_gradients(loss2, model, x1, x2, inputs=(1, 2))
    check_gradients(loss2, Bilinear(2, 3, 2, bias=False), x1[:2, :2], x2[:2, :3], inputs=())


def test_embedding():
    model = Embedding(6, 3)
    indices = np.array([[1, 4], [1, 0]])
    np.testing.assert_array_equal(model(indices), model.weight.data[indices])
    check_gradients(loss, model, indices, inputs=())
    grads = srcad.grad(loss, wrt="model")(model, indices)
    assert np.all(grads["weight"][[2, 3, 5]] == 0)            # rows not used: no gradient


# ---- initialization --------------------------------------------------------------------------

def test_default_initialization_shapes_and_bounds():
    srcad.manual_seed(0)
    linear = Linear(50, 40)
    assert linear.weight.shape == (40, 50) and linear.bias.shape == (40,)
    for param in (linear.weight, linear.bias):
        assert np.abs(param.data).max() <= 1 / math.sqrt(50)
        assert np.abs(param.data).max() > 0.9 / math.sqrt(50)
    bilinear = Bilinear(16, 5, 7)
    assert bilinear.weight.shape == (7, 16, 5) and bilinear.bias.shape == (7,)
    assert 0.2 < np.abs(bilinear.weight.data).max() <= 0.25           # 1 / sqrt(16)
    embedding = Embedding(400, 50)
    assert embedding.weight.shape == (400, 50)
    assert abs(embedding.weight.data.std() - 1) < 0.02 and abs(embedding.weight.data.mean()) < 0.02
    norm = LayerNorm((2, 3))
    np.testing.assert_array_equal(norm.weight.data, np.ones((2, 3)))
    np.testing.assert_array_equal(norm.bias.data, np.zeros((2, 3)))
    assert list(dict(LayerNorm(3, elementwise_affine=False).named_parameters())) == []
    cell = RNNCell(3, 16)
    assert [(n, p.shape) for n, p in cell.named_parameters()] == [
        ("weight_ih", (16, 3)), ("weight_hh", (16, 16)), ("bias_ih", (16,)), ("bias_hh", (16,))]
    rnn = RNN(3, 16, bias=False)
    assert [(n, p.shape) for n, p in rnn.named_parameters()] == [
        ("weight_ih_l0", (16, 3)), ("weight_hh_l0", (16, 16))]
    for param in list(cell.parameters()) + list(rnn.parameters()):
        assert np.abs(param.data).max() <= 0.25
    assert list(dict(Linear(2, 3, bias=False).named_parameters())) == ["weight"]


def test_initialization_is_reproducible_with_manual_seed():
    srcad.manual_seed(3)
    first = Linear(4, 3).weight.data.copy()
    srcad.manual_seed(3)
    np.testing.assert_array_equal(Linear(4, 3).weight.data, first)


def test_repr_and_validation():
    assert repr(Linear(3, 2)) == "Linear(in_features=3, out_features=2, bias=True)"
    assert repr(Dropout(0.25)) == "Dropout(p=0.25)"
    assert "nonlinearity='relu'" in repr(RNN(2, 3, nonlinearity="relu"))
    assert repr(CrossEntropyLoss(reduction="sum")) == "CrossEntropyLoss(reduction='sum')"
    with pytest.raises(ValueError, match="1.5"):
        Dropout(1.5)
    with pytest.raises(ValueError, match="sigmoid"):
        RNNCell(2, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="erf"):
        GELU(approximate="none")
    with pytest.raises(ValueError, match="avg"):
        MSELoss(reduction="avg")


# ---- dropout ---------------------------------------------------------------------------------

class Dropped(Module):
    def __init__(self):
        super().__init__()
        self.fc = Linear(4, 6)
        self.drop = Dropout(0.4)

    def forward(self, x):
        return self.drop(self.fc(x))


def test_dropout_train_and_eval():
    x = np.ones((200, 50))
    drop = Dropout(0.3)
    srcad.manual_seed(0)
    y = drop(x)
    assert set(np.unique(y)) == {0.0, 1 / 0.7}
    assert abs((y == 0).mean() - 0.3) < 0.02
    srcad.manual_seed(0)
    np.testing.assert_array_equal(drop(x), y)                 # same seed, same mask
    np.testing.assert_array_equal(drop.eval()(x), x)
    np.testing.assert_array_equal(Dropout(1.0)(x), 0 * x)
    np.testing.assert_array_equal(Dropout(0.0)(x), x)


def test_dropout_gradient_reuses_the_forward_mask():
    rng = np.random.default_rng(2)
    drop = Dropout(0.5)
    x = rng.standard_normal((6, 5))
    srcad.manual_seed(7)
    value, dx = srcad.value_and_grad(loss, wrt=1)(drop, x)
    srcad.manual_seed(7)
    keep = srcad.seeding.generator().random(x.shape) >= 0.5
    out = x * keep * 2.0
    assert value == pytest.approx(np.sum(np.sin(out) + 0.5 * out * out), rel=1e-12)
    np.testing.assert_allclose(dx, keep * 2.0 * (np.cos(out) + out), rtol=1e-12)
    assert np.all(dx[~keep] == 0)


def test_dropout_in_a_model_matches_finite_differences_under_one_seed():
    rng = np.random.default_rng(3)
    model, x = Dropped(), rng.standard_normal((3, 4))

    def seeded(model, x):
        srcad.manual_seed(11)
        return loss(model, x)

    srcad.manual_seed(11)
    grads = srcad.grad(loss, wrt="model")(model, x)
    for name, param in model.named_parameters():
        expected = numeric(lambda: seeded(model, x), param.data)
        np.testing.assert_allclose(grads[name], expected, rtol=1e-5, atol=1e-7)
    model.eval()                                  # evaluation: dropout is the identity
    check_gradients(loss, model, x)


# ---- RNN over sequences ----------------------------------------------------------------------

class LastState(Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn
        self.head = Linear(rnn.hidden_size, 2)

    def forward(self, x):
        output, h_n = self.rnn(x)
        return self.head(h_n[0]) + np.sum(output, axis=0)[..., :2]


@pytest.mark.parametrize("length", [1, 3, 7])
def test_rnn_over_sequences_of_different_lengths(length):
    rng = np.random.default_rng(length)
    srcad.manual_seed(length)
    model = LastState(RNN(3, 4))
    x = rng.standard_normal((length, 2, 3))
    r = model.rnn
    output, h_n = r(x)
    ref_out, ref_h = ref_rnn(x, r.weight_ih_l0.data, r.weight_hh_l0.data, r.bias_ih_l0.data,
                             r.bias_hh_l0.data, np.zeros((2, 4)))
    assert output.shape == (length, 2, 4) and h_n.shape == (1, 2, 4)
    np.testing.assert_allclose(output, ref_out, rtol=1e-12)
    np.testing.assert_allclose(h_n[0], ref_h, rtol=1e-12)
    check_gradients(loss, model, x)


def test_rnn_options_batch_first_unbatched_initial_state_relu():
    rng = np.random.default_rng(9)
    rnn = RNN(3, 4, nonlinearity="relu", batch_first=True)
    x = rng.standard_normal((2, 5, 3))                         # (N, T, input)
    h0 = rng.standard_normal((1, 2, 4))
    output, h_n = rnn(x, h0)
    ref_out, ref_h = ref_rnn(np.swapaxes(x, 0, 1), rnn.weight_ih_l0.data, rnn.weight_hh_l0.data,
                             rnn.bias_ih_l0.data, rnn.bias_hh_l0.data, h0[0],
                             act=lambda z: np.maximum(z, 0))
    np.testing.assert_allclose(output, np.swapaxes(ref_out, 0, 1), rtol=1e-12)
    np.testing.assert_allclose(h_n[0], ref_h, rtol=1e-12)

    def with_state(model, x, h0):
        output, h_n = model(x, h0)
        return np.sum(np.sin(output)) + np.sum(h_n * h_n)

    check_gradients(with_state, rnn, x, h0, inputs=(1, 2))
    plain = RNN(3, 4, bias=False)
    sequence = rng.standard_normal((4, 3))                     # unbatched (T, input)
    output, h_n = plain(sequence)
    assert output.shape == (4, 4) and h_n.shape == (1, 4)
    check_gradients(with_state, plain, sequence, rng.standard_normal((1, 4)))


def test_rnn_cell_with_a_state_in_a_loop():
    class Unrolled(Module):
        def __init__(self):
            super().__init__()
            self.cell = RNNCell(2, 3)

        def forward(self, x):
            h = self.cell(x[0])
            for t in range(1, x.shape[0]):
                h = self.cell(x[t], h)
            return h

    rng = np.random.default_rng(4)
    model, x = Unrolled(), rng.standard_normal((4, 5, 2))
    c = model.cell
    _, ref_h = ref_rnn(x, c.weight_ih.data, c.weight_hh.data, c.bias_ih.data, c.bias_hh.data,
                       np.zeros((5, 3)))
    np.testing.assert_allclose(model(x), ref_h, rtol=1e-12)
    check_gradients(loss, model, x)


# ---- losses ----------------------------------------------------------------------------------

def reduce(values, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](values)


def log_softmax(x, axis):
    return np.log(ref_softmax(x, axis))


LOSS_CASES = [
    ("ce-index", CrossEntropyLoss, (4, 3), lambda rng: rng.integers(0, 3, 4),
     lambda x, t: -log_softmax(x, 1)[np.arange(4), t]),
    ("ce-prob", CrossEntropyLoss, (4, 3), lambda rng: ref_softmax(rng.standard_normal((4, 3)), 1),
     lambda x, t: -(log_softmax(x, 1) * t).sum(1)),
    ("ce-unbatched", CrossEntropyLoss, (5,), lambda rng: np.array(2),
     lambda x, t: -log_softmax(x, 0)[2]),
    ("ce-spatial", CrossEntropyLoss, (2, 3, 4), lambda rng: rng.integers(0, 3, (2, 4)),
     lambda x, t: -np.take_along_axis(log_softmax(x, 1), t[:, None], 1)[:, 0]),
    ("nll", NLLLoss, (4, 3), lambda rng: rng.integers(0, 3, 4),
     lambda x, t: -x[np.arange(4), t]),
    ("mse", MSELoss, (4, 3), lambda rng: rng.standard_normal((4, 3)), lambda x, t: (x - t) ** 2),
    ("bce-logits", BCEWithLogitsLoss, (4, 3), lambda rng: rng.random((4, 3)),
     lambda x, t: -(t * np.log(1 / (1 + np.exp(-x))) + (1 - t) * np.log(1 - 1 / (1 + np.exp(-x))))),
]


def criterion_loss(criterion, x, t):
    return np.sum(np.sin(criterion(x, t)))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name, cls, shape, target, reference", LOSS_CASES,
                         ids=[c[0] for c in LOSS_CASES])
def test_loss_forward_and_gradient(name, cls, shape, target, reference, reduction):
    rng = np.random.default_rng(len(name))
    criterion = cls(reduction=reduction)
    x, t = rng.standard_normal(shape), target(rng)
    np.testing.assert_allclose(criterion(x, t), reduce(reference(x, t), reduction), rtol=1e-12)
    got = srcad.grad(criterion_loss, wrt=1)(criterion, x, t)
    np.testing.assert_allclose(got, numeric(lambda: criterion_loss(criterion, x, t), x),
                               rtol=1e-5, atol=1e-8)


def test_cross_entropy_one_hot_equals_indices_and_is_stable():
    rng = np.random.default_rng(5)
    x, t = rng.standard_normal((6, 4)) * 1000, rng.integers(0, 4, 6)
    ce = CrossEntropyLoss()
    assert np.isfinite(ce(x, t))
    assert ce(x, t) == pytest.approx(ce(x, np.eye(4)[t]), rel=1e-12)
    bce = BCEWithLogitsLoss(reduction="none")
    values = bce(np.array([-1000.0, 1000.0, 0.0]), np.array([1.0, 0.0, 1.0]))
    np.testing.assert_allclose(values, [1000.0, 1000.0, math.log(2)])


class Classifier(Module):
    def __init__(self):
        super().__init__()
        self.fc = Linear(3, 4)
        self.act = GELU()
        self.norm = LayerNorm(4)
        self.out = Linear(4, 3)

    def forward(self, x):
        return self.out(self.norm(self.act(self.fc(x))))


CRITERION = CrossEntropyLoss()


def model_loss(model, x, y):
    return CRITERION(model(x), y)


def test_a_model_with_a_global_criterion():
    rng = np.random.default_rng(6)
    model = _shuffle(Classifier(), rng)
    x, y = rng.standard_normal((5, 3)), rng.integers(0, 3, 5)
    check_gradients(model_loss, model, x, y)


# ---- against torch: its stored results, and torch itself where it is installed --------------
class Net(Module):
    """torch_parity's net: an RNN, a LayerNorm and a tanh GELU (then a cross-entropy)."""

    def __init__(self):
        super().__init__()
        self.rnn = RNN(3, 4)
        self.norm = LayerNorm(4)
        self.act = GELU()

    def forward(self, x):
        output, h_n = self.rnn(x)
        return self.act(self.norm(h_n[0]))


def test_against_torch(torch_results):
    names = torch_results("layers/names")             # parameter names and shapes are torch's
    for name, args in torch_parity.LAYERS:
        ours = getattr(srcad.nn.layers, name)(*args)
        assert torch_parity.parameter_list(ours.named_parameters()) == list(names[name])

    params, x, y, x2, target = torch_parity.layer_inputs()
    net = Net()
    assert [(n, p.data.shape) for n, p in net.named_parameters()] == torch_parity.NET_PARAMETERS
    for name, param in net.named_parameters():
        param.data = params[name]
    expected = torch_results("layers/net")
    value, grads = srcad.value_and_grad(model_loss, wrt="model")(net, x, y)
    assert value == pytest.approx(float(expected["value"]), rel=1e-10)
    assert sorted(grads) == sorted(n for n, _ in torch_parity.NET_PARAMETERS)
    for name in grads:
        np.testing.assert_allclose(grads[name], expected[f"grad:{name}"], rtol=1e-8, atol=1e-12)

    expected = torch_results("layers/losses")
    ours = BCEWithLogitsLoss(reduction="sum")(x2, target)
    assert ours == pytest.approx(float(expected["bce"]), rel=1e-12)
    for name, args in torch_parity.ACTIVATIONS:
        np.testing.assert_allclose(getattr(srcad.nn.layers, name)(*args)(x2), expected[name],
                                   rtol=1e-12, atol=1e-15)
