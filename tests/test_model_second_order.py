"""hvp and hessian with respect to a model's parameters (`wrt="model"`).

`srcad.hvp(loss, wrt="model")(model, X, y, v)` takes `v` and gives `H v` as dicts keyed like
`named_parameters()`; `srcad.hessian(loss, wrt="model")(model, X, y)` is a dict of dicts of
blocks, `H[a][b]` shaped `a.shape + b.shape`. Checked against the analytic Hessian of a
linear model, autograd's Hessian of the same small MLP written on a flat parameter vector,
central differences of srcad's model gradient, and with tied parameters (summed, as `grad`
sums them).
"""

import autograd  # (the test extra installs it: a missing one fails, never skips)
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import srcad
from srcad import nn

RNG = np.random.default_rng(11)


def mse(model, X, y):
    return np.mean((model(X) - y) ** 2)


def flat(blocks, names, sizes):
    """The dict-of-dicts Hessian as one matrix, parameters in `names` order."""
    return np.concatenate([np.concatenate(
        [blocks[a][b].reshape(sizes[a], sizes[b]) for b in names], axis=1) for a in names])


def gradient_differences(loss, model, args, v, eps=1e-6):
    """Central differences of srcad's model gradient along `v` (a dict of directions)."""
    grad = srcad.grad(loss, wrt="model")
    params = dict(model.named_parameters())

    def at(sign):
        for key, p in params.items():
            p.data = p.data + sign * eps * v[key]
        out = grad(model, *args)
        for key, p in params.items():
            p.data = p.data - sign * eps * v[key]
        return out
    plus, minus = at(1.0), at(-1.0)
    return {key: (plus[key] - minus[key]) / (2 * eps) for key in params}


def directions(model, rng):
    return {key: rng.standard_normal(p.data.shape) for key, p in model.named_parameters()}


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 3), st.integers(2, 4), st.integers(0, 1000))
def test_linear_model_against_its_analytic_hessian(n_out, n_in, seed):
    """mean((X W^T + b - y)^2) over m rows and o outputs has the constant Hessian
    (2 / (m o)) [X 1]^T [X 1] for each output, and no coupling between outputs."""
    rng = np.random.default_rng(seed)
    model = nn.Linear(n_in, n_out)
    m = 6
    X, y = rng.standard_normal((m, n_in)), rng.standard_normal((m, n_out))
    H = srcad.hessian(mse, wrt="model")(model, X, y)
    c, eye = 2.0 / (m * n_out), np.eye(n_out)
    np.testing.assert_allclose(H["weight"]["weight"],
                               c * np.einsum("ik,jl->ijkl", eye, X.T @ X), atol=1e-12)
    np.testing.assert_allclose(H["weight"]["bias"],
                               c * np.einsum("ik,j->ijk", eye, X.sum(axis=0)), atol=1e-12)
    np.testing.assert_allclose(H["bias"]["weight"],
                               c * np.einsum("ik,j->ikj", eye, X.sum(axis=0)), atol=1e-12)
    np.testing.assert_allclose(H["bias"]["bias"], c * m * eye, atol=1e-12)
    v = directions(model, rng)
    hv = srcad.hvp(mse, wrt="model")(model, X, y, v)
    np.testing.assert_allclose(hv["weight"], c * v["weight"] @ X.T @ X
                               + c * np.outer(v["bias"], X.sum(axis=0)), atol=1e-12)


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.V = nn.Linear(3, 4)
        self.W = nn.Linear(4, 2)

    def forward(self, x):
        return self.W(np.tanh(self.V(x))) + np.sum(self.V.bias)


def two_layer_reference(theta, X, y):
    """The same MLP and loss on one flat vector (V.weight, V.bias, W.weight, W.bias)."""
    Vw, Vb = theta[:12].reshape(4, 3), theta[12:16]
    Ww, Wb = theta[16:24].reshape(2, 4), theta[24:26]
    out = anp.tanh(X @ Vw.T + Vb) @ Ww.T + Wb + anp.sum(Vb)
    return anp.mean((out - y) ** 2)


def test_small_mlp_against_autograd_and_differences():
    srcad.manual_seed(3)
    model = TwoLayer()
    X, y = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2))
    names = [key for key, _ in model.named_parameters()]
    assert names == ["V.weight", "V.bias", "W.weight", "W.bias"]
    params = dict(model.named_parameters())
    sizes = {key: p.data.size for key, p in params.items()}
    theta = np.concatenate([params[key].data.ravel() for key in names])
    want = autograd.hessian(two_layer_reference)(theta, X, y)
    H = srcad.hessian(mse, wrt="model")(model, X, y)
    assert {a: set(H[a]) for a in H} == {a: set(names) for a in names}
    assert H["V.weight"]["W.bias"].shape == (4, 3, 2)
    np.testing.assert_allclose(flat(H, names, sizes), want, rtol=1e-9, atol=1e-12)
    v = directions(model, RNG)
    hv = srcad.hvp(mse, wrt="model")(model, X, y, v)
    numeric = gradient_differences(mse, model, (X, y), v)
    flat_v = np.concatenate([v[key].ravel() for key in names])
    for key, block in zip(names, np.split(want @ flat_v, np.cumsum(list(sizes.values()))[:-1])):
        np.testing.assert_allclose(hv[key], block.reshape(params[key].data.shape), rtol=1e-9,
                                   atol=1e-12)
        np.testing.assert_allclose(hv[key], numeric[key], rtol=1e-5, atol=1e-7)


class Tied(nn.Module):
    """One Linear used twice and one Parameter in two modules (weight tying)."""

    def __init__(self):
        super().__init__()
        self.first = nn.Linear(3, 3)
        self.again = self.first
        self.head = nn.Linear(3, 3)
        self.out = nn.Linear(3, 1)
        self.out_weight_user = nn.Linear(3, 3)
        self.out_weight_user.weight = self.head.weight

    def forward(self, x):
        h = np.tanh(self.again(np.tanh(self.first(x))))
        return self.out(np.tanh(self.out_weight_user(np.tanh(self.head(h)))))


def test_tied_parameters_are_summed():
    srcad.manual_seed(5)
    model = Tied()
    X, y = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 1))
    names = [key for key, _ in model.named_parameters()]
    assert "again.weight" not in names and "out_weight_user.weight" not in names
    v = directions(model, RNG)
    hv = srcad.hvp(mse, wrt="model")(model, X, y, v)
    assert list(hv) == names
    numeric = gradient_differences(mse, model, (X, y), v)
    for key in names:
        np.testing.assert_allclose(hv[key], numeric[key], rtol=1e-5, atol=1e-7)
    sizes = {key: p.data.size for key, p in model.named_parameters()}
    H = flat(srcad.hessian(mse, wrt="model")(model, X, y), names, sizes)
    np.testing.assert_allclose(H, H.T, rtol=1e-9, atol=1e-12)
    flat_v = np.concatenate([v[key].ravel() for key in names])
    np.testing.assert_allclose(H @ flat_v, np.concatenate([hv[key].ravel() for key in names]),
                               rtol=1e-9, atol=1e-12)


def sequence_loss(model, xs):
    output, h_n = model(xs)
    return np.sum(output ** 2) + np.sum(np.sin(h_n))


def test_through_a_recurrent_models_loop():
    srcad.manual_seed(2)
    model = nn.RNN(2, 3)
    xs = RNG.standard_normal((4, 2, 2))
    v = directions(model, RNG)
    hv = srcad.hvp(sequence_loss, wrt="model")(model, xs, v)
    numeric = gradient_differences(sequence_loss, model, (xs,), v)
    for key in numeric:
        np.testing.assert_allclose(hv[key], numeric[key], rtol=1e-5, atol=1e-7)


def helper_forward(net, X):
    return net(X)


def loss_through_a_helper(model, X, y):
    return np.mean((helper_forward(model, X) - y) ** 2)


def test_a_model_passed_to_a_helper_function():
    """A model given to a function of the user's (`helper_forward(model, X)`) is known to it
    while generating, in both orders."""
    srcad.manual_seed(4)
    model = TwoLayer()
    X, y = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2))
    got = srcad.grad(loss_through_a_helper, wrt="model")(model, X, y)
    want = srcad.grad(mse, wrt="model")(model, X, y)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-14)
    v = directions(model, RNG)
    got = srcad.hvp(loss_through_a_helper, wrt="model")(model, X, y, v)
    want = srcad.hvp(mse, wrt="model")(model, X, y, v)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-14)


def test_the_direction_must_be_keyed_like_the_parameters():
    model = TwoLayer()
    X, y = np.ones((2, 3)), np.ones((2, 2))
    with pytest.raises(srcad.ShapeMismatchError, match="named_parameters"):
        srcad.hvp(mse, wrt="model")(model, X, y, {"V.weight": np.ones((4, 3))})


def test_the_code_that_ran_is_shown():
    model = TwoLayer()
    hvp = srcad.hvp(mse, wrt="model")
    hvp(model, np.ones((2, 3)), np.ones((2, 2)), directions(model, RNG))
    text = srcad.source(hvp)
    assert text.startswith("def tangent_TwoLayer_grad_TwoLayer_mse_wrt_model")
    assert "model.V.weight.data" in text        # the layers' code, inlined (passes/inline.py)
    assert "dmodel_1['V.weight']" in text       # the direction, keyed like named_parameters()


def test_a_derivative_of_a_models_gradient_says_what_to_use():
    with pytest.raises(srcad.UnsupportedSyntaxError, match=r"use srcad.hvp\(f, wrt=...\)"):
        srcad.jvp(srcad.grad(mse, wrt="model"), wrt="model")


def mse_in_inputs(X, model, y):
    return np.mean((model(X) - y) ** 2)


def inputs_reference(X, theta, y):
    return two_layer_reference(theta, X, y)


@settings(max_examples=5, deadline=None)
@given(st.integers(1, 4), st.integers(0, 1000))
def test_derivatives_in_an_array_with_a_model_as_a_setting(rows, seed):
    """jvp, hvp and hessian with respect to the inputs of a model that is not differentiated
    (its structure known at the call): against autograd on the same network written on a flat
    parameter vector, and central differences of srcad's gradient."""
    rng = np.random.default_rng(seed)
    srcad.manual_seed(seed)
    model = TwoLayer()
    names = [key for key, _ in model.named_parameters()]
    theta = np.concatenate([dict(model.named_parameters())[k].data.ravel() for k in names])
    X, y, v = rng.standard_normal((rows, 3)), rng.standard_normal((rows, 2)), \
        rng.standard_normal((rows, 3))
    value, tangent = srcad.jvp(mse_in_inputs, wrt="X")(X, model, y, v)
    assert value == pytest.approx(mse_in_inputs(X, model, y), rel=1e-12)
    assert tangent == pytest.approx(np.sum(autograd.grad(inputs_reference)(X, theta, y) * v),
                                    rel=1e-9, abs=1e-12)
    want = autograd.hessian(inputs_reference)(X, theta, y)
    H = srcad.hessian(mse_in_inputs, wrt="X")(X, model, y)
    assert H.shape == X.shape * 2
    np.testing.assert_allclose(H, want, rtol=1e-9, atol=1e-12)
    hv = srcad.hvp(mse_in_inputs, wrt="X")(X, model, y, v)
    np.testing.assert_allclose(hv, np.tensordot(want, v, axes=2), rtol=1e-9, atol=1e-12)
    grad, eps = srcad.grad(mse_in_inputs, wrt="X"), 1e-6
    numeric = (grad(X + eps * v, model, y) - grad(X - eps * v, model, y)) / (2 * eps)
    np.testing.assert_allclose(hv, numeric, rtol=1e-5, atol=1e-7)


def test_the_source_of_a_jvp_called_with_its_tangents():
    """`srcad.source(jvp, *args, *tangents)` shows the code of that call (the tangents after
    the arguments are left out of what the code is specialized to), with a model too."""
    model, X, y = TwoLayer(), RNG.standard_normal((2, 3)), RNG.standard_normal((2, 2))
    v = directions(model, RNG)
    jvp = srcad.jvp(mse, wrt="model")
    assert srcad.source(jvp, model, X, y, v) == srcad.source(jvp, model, X, y)
    assert srcad.source(jvp, model, X, y).startswith("def jvp_TwoLayer_mse_wrt_model(")
    text = srcad.source(srcad.jvp(mse_in_inputs, wrt="X"), X, model, y, np.ones_like(X))
    assert text.startswith("def jvp_TwoLayer_mse_in_inputs(X, model, y, dX):")
