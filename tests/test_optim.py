"""Optimizers, schedulers and clipping against their update equations, written out again here.

Each reference below is the documented algorithm in plain NumPy, one formula per line; the
optimizers must follow it step by step over a fixed gradient stream. The last section compares
with torch.optim's results (tests/support/torch_parity.py): those stored in
tests/fixtures/torch_reference.npz on every run, and torch's own where torch is installed.
"""

import copy
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes
from numpy.testing import assert_allclose, assert_array_equal

from srcad import optim
from srcad.nn import Parameter
from srcad.optim import lr_scheduler
from tests.support import torch_parity
from tests.support.torch_parity import gradient_stream, rosenbrock, rosenbrock_grad

# -- reference algorithms: (theta_0, gradients, hyper-parameters) -> theta after each step -------


def ref_sgd(theta, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
            maximize=False):
    out, b = [], None
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        g = g + weight_decay * theta
        if momentum != 0:
            b = g if t == 1 else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        theta = theta - lr * g
        out.append(theta)
    return out


def ref_adam(theta, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
             maximize=False, decoupled=False):
    b1, b2 = betas
    m = v = vmax = np.zeros_like(theta)
    out = []
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        if decoupled:
            theta = theta * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        v_hat = (vmax if amsgrad else v) / (1 - b2 ** t)
        theta = theta - lr * (m / (1 - b1 ** t)) / (np.sqrt(v_hat) + eps)
        out.append(theta)
    return out


def ref_adamw(theta, grads, lr, weight_decay=1e-2, **kw):
    return ref_adam(theta, grads, lr, weight_decay=weight_decay, decoupled=True, **kw)


def ref_adagrad(theta, grads, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                eps=1e-10, maximize=False):
    s = np.full_like(theta, initial_accumulator_value)
    out = []
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        g = g + weight_decay * theta
        s = s + g * g
        theta = theta - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
        out.append(theta)
    return out


def ref_adadelta(theta, grads, lr, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    v = u = np.zeros_like(theta)
    out = []
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * theta
        v = rho * v + (1 - rho) * g * g
        dx = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * dx * dx
        theta = theta - lr * dx
        out.append(theta)
    return out


def ref_rmsprop(theta, grads, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                centered=False, maximize=False):
    v = g_avg = b = np.zeros_like(theta)
    out = []
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * theta
        v = alpha * v + (1 - alpha) * g * g
        w = v
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            w = v - g_avg ** 2
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(w) + eps)
            theta = theta - lr * b
        else:
            theta = theta - lr * g / (np.sqrt(w) + eps)
        out.append(theta)
    return out


REFERENCES = {"SGD": ref_sgd, "Adam": ref_adam, "AdamW": ref_adamw, "Adagrad": ref_adagrad,
              "Adadelta": ref_adadelta, "RMSprop": ref_rmsprop}
# (optimizer, reference, hyper-parameters): the settings torch.optim's results are stored for
CASES = [(getattr(optim, name), REFERENCES[name], kwargs)
         for name, kwargs in torch_parity.OPTIMIZER_SETTINGS]
IDS = torch_parity.OPTIMIZER_IDS


def run(opt, params, streams):
    """Feed one gradient per parameter per step; yield the parameters' data after each step."""
    for grads in zip(*streams):
        for p, g in zip(params, grads):
            p.grad = g.copy()
        opt.step()
        for p, g in zip(params, grads):
            assert_array_equal(p.grad, g)               # the optimizer never writes to .grad
        yield [p.data.copy() for p in params]


# -- update equations --------------------------------------------------------------------------
@pytest.mark.parametrize("cls, ref, kwargs", CASES, ids=IDS)
def test_follows_update_equations(cls, ref, kwargs):
    theta0 = np.random.default_rng(1).standard_normal((3, 2))
    grads = gradient_stream(theta0.shape)
    p = Parameter(theta0.copy())
    expected = ref(theta0, grads, **kwargs)
    for k, (data,) in enumerate(run(cls([p], **kwargs), [p], [grads])):
        assert_allclose(data, expected[k], rtol=1e-10, atol=1e-12, err_msg=f"step {k + 1}")


@pytest.mark.parametrize("cls, ref, kwargs", CASES, ids=IDS)
def test_param_groups_with_their_own_lr(cls, ref, kwargs):
    theta = [np.linspace(-1, 1, 4), np.linspace(2, 3, 3)]
    streams = [gradient_stream(t.shape, seed=i) for i, t in enumerate(theta)]
    params = [Parameter(t.copy()) for t in theta]
    lr2 = kwargs["lr"] / 10
    opt = cls([{"params": [params[0]]}, {"params": params[1], "lr": lr2}], **kwargs)
    expected = [ref(theta[0], streams[0], **kwargs),
                ref(theta[1], streams[1], **{**kwargs, "lr": lr2})]
    for k, data in enumerate(run(opt, params, streams)):
        assert_allclose(data[0], expected[0][k], rtol=1e-10, atol=1e-12)
        assert_allclose(data[1], expected[1][k], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls, ref, kwargs", CASES, ids=IDS)
def test_state_dict_round_trip_continues_identically(cls, ref, kwargs):
    theta = [np.arange(6.0).reshape(2, 3) / 7, np.array([0.5, -0.25])]
    streams = [gradient_stream(t.shape, steps=8, seed=i + 3) for i, t in enumerate(theta)]
    params = [Parameter(t.copy()) for t in theta]
    opt = cls(params, **kwargs)
    whole = list(run(opt, params, streams))

    params = [Parameter(t.copy()) for t in theta]
    opt = cls(params, **kwargs)
    first = [s[:4] for s in streams]
    list(run(opt, params, first))
    saved = copy.deepcopy(opt.state_dict())
    resumed = [Parameter(p.data.copy()) for p in params]
    opt2 = cls(resumed, lr=123.0)                       # hyper-parameters come from the dict
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == kwargs["lr"]
    rest = list(run(opt2, resumed, [s[4:] for s in streams]))
    for a, b in zip(whole[4:], rest):
        assert_array_equal(a[0], b[0])
        assert_array_equal(a[1], b[1])


@given(shape=array_shapes(max_dims=3, max_side=4),
       lr=st.floats(1e-4, 1.0), beta1=st.floats(0.0, 0.99), beta2=st.floats(0.5, 0.9999),
       eps=st.floats(1e-10, 1e-2), weight_decay=st.sampled_from([0.0, 0.1]),
       amsgrad=st.booleans(), maximize=st.booleans(), decoupled=st.booleans())
def test_adam_hyper_parameters(shape, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize,
                               decoupled):
    theta0 = np.random.default_rng(2).standard_normal(shape)
    grads = gradient_stream(shape, steps=4)
    kwargs = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay,
                  amsgrad=amsgrad, maximize=maximize)
    p = Parameter(theta0.copy())
    cls = optim.AdamW if decoupled else optim.Adam
    expected = (ref_adamw if decoupled else ref_adam)(theta0, grads, **kwargs)
    for k, (data,) in enumerate(run(cls([p], **kwargs), [p], [grads])):
        assert_allclose(data, expected[k], rtol=1e-9, atol=1e-12)


@given(shape=array_shapes(max_dims=2, max_side=5), lr=st.floats(1e-3, 1.0),
       momentum=st.floats(0.0, 0.99), dampening=st.floats(0.0, 1.0),
       weight_decay=st.floats(0.0, 0.5), nesterov=st.booleans(), maximize=st.booleans())
def test_sgd_hyper_parameters(shape, lr, momentum, dampening, weight_decay, nesterov, maximize):
    if nesterov:
        momentum, dampening = max(momentum, 0.1), 0.0
    kwargs = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                  nesterov=nesterov, maximize=maximize)
    theta0 = np.random.default_rng(3).standard_normal(shape)
    grads = gradient_stream(shape, steps=4)
    p = Parameter(theta0.copy())
    expected = ref_sgd(theta0, grads, **kwargs)
    for k, (data,) in enumerate(run(optim.SGD([p], **kwargs), [p], [grads])):
        assert_allclose(data, expected[k], rtol=1e-9, atol=1e-12)


@given(alpha=st.floats(0.5, 0.999), momentum=st.sampled_from([0.0, 0.9]),
       centered=st.booleans(), weight_decay=st.sampled_from([0.0, 0.1]))
def test_rmsprop_hyper_parameters(alpha, momentum, centered, weight_decay):
    kwargs = dict(lr=0.01, alpha=alpha, momentum=momentum, centered=centered,
                  weight_decay=weight_decay)
    theta0 = np.linspace(-1, 1, 5)
    grads = gradient_stream(theta0.shape, steps=4)
    p = Parameter(theta0.copy())
    expected = ref_rmsprop(theta0, grads, **kwargs)
    for k, (data,) in enumerate(run(optim.RMSprop([p], **kwargs), [p], [grads])):
        assert_allclose(data, expected[k], rtol=1e-9, atol=1e-12)


def test_update_functions_are_plain_array_functions():
    p, m, v = np.zeros(2), np.zeros(2), np.zeros(2)
    optim.adam_update(p, np.array([1.0, -1.0]), m, v, None, 1, lr=0.1, beta1=0.9, beta2=0.999,
                      eps=0.0)
    assert_allclose(p, [-0.1, 0.1])
    assert_allclose(m, [0.1, -0.1])
    buf = optim.sgd_update(p, np.ones(2), None, lr=1.0, momentum=0.9)
    assert_allclose(buf, [1.0, 1.0])


def test_float32_parameters_stay_float32():
    p = Parameter(np.ones(3, dtype=np.float32))
    for cls, _, kwargs in CASES:
        opt = cls([p], **kwargs)
        p.grad = np.full(3, 0.5, dtype=np.float32)
        opt.step()
        assert p.data.dtype == np.float32
        assert all(getattr(s, "dtype", np.float32) == np.float32
                   for s in opt.state[p].values())


# -- the Optimizer base class --------------------------------------------------------------------
def test_state_is_created_lazily_and_skips_missing_gradients():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = optim.Adam([a, b], lr=0.1)
    assert not opt.state
    a.grad = np.ones(2)
    opt.step()
    assert set(opt.state[a]) == {"step", "exp_avg", "exp_avg_sq"}
    assert b not in opt.state and (b.data == 1).all()
    assert opt.state_dict()["state"].keys() == {0}


def test_step_returns_the_closure_loss():
    w = Parameter(np.array([2.0]))

    def closure():
        w.grad = 2 * w.data
        return float(w.data[0] ** 2)

    opt = optim.SGD([w], lr=0.25)
    assert opt.step(closure) == 4.0
    assert_allclose(w.data, [1.0])
    assert opt.step() is None


def test_zero_grad():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = optim.SGD([a, b])
    a.grad = np.ones(2)
    opt.zero_grad(set_to_none=False)
    assert_array_equal(a.grad, [0.0, 0.0])
    assert b.grad is None
    opt.zero_grad()
    assert a.grad is None


def test_add_param_group_and_defaults():
    a, b = Parameter(np.ones(1)), Parameter(np.ones(1))
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["momentum"] == 0.9
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="Invalid learning rate: -2"):
        opt.add_param_group({"params": [Parameter(np.ones(1))], "lr": -2})
    assert "Parameter Group 1" in repr(opt)


@pytest.mark.parametrize("params, error, message", [
    ([], ValueError, "empty parameter list"),
    ({Parameter(np.ones(1))}, TypeError, "ordered"),
    (Parameter(np.ones(1)), TypeError, "ordered iterable"),
    ([np.ones(1)], TypeError, "can only optimize Parameters"),
])
def test_bad_params(params, error, message):
    with pytest.raises(error, match=message):
        optim.SGD(params)


def test_duplicate_parameters_rejected():
    p = Parameter(np.ones(1))
    with pytest.raises(ValueError, match="duplicate"):
        optim.SGD([p, p])


@pytest.mark.parametrize("cls, kwargs, message", [
    (optim.SGD, dict(lr=-1), r"Invalid learning rate: -1$"),
    (optim.SGD, dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    (optim.SGD, dict(weight_decay=-1e-3), "Invalid weight_decay value: -0.001"),
    (optim.SGD, dict(nesterov=True), "Nesterov momentum requires a momentum"),
    (optim.SGD, dict(nesterov=True, momentum=0.9, dampening=0.1), "zero dampening"),
    (optim.Adam, dict(lr=-0.1), "Invalid learning rate: -0.1"),
    (optim.Adam, dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    (optim.Adam, dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (optim.AdamW, dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (optim.AdamW, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    (optim.Adagrad, dict(lr_decay=-1), "Invalid lr_decay value: -1"),
    (optim.Adagrad, dict(initial_accumulator_value=-2),
     "Invalid initial_accumulator_value value: -2"),
    (optim.Adagrad, dict(eps=-1), "Invalid epsilon value: -1"),
    (optim.Adadelta, dict(rho=1.5), "Invalid rho value: 1.5"),
    (optim.Adadelta, dict(lr=-3), "Invalid learning rate: -3"),
    (optim.RMSprop, dict(alpha=-0.1), "Invalid alpha value: -0.1"),
    (optim.RMSprop, dict(momentum=-1), "Invalid momentum value: -1"),
    (optim.LBFGS, dict(lr=-1), "Invalid learning rate: -1"),
    (optim.LBFGS, dict(line_search_fn="armijo"), "'armijo'"),
])
def test_hyper_parameter_validation(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls([Parameter(np.ones(1))], **kwargs)


def test_load_state_dict_checks_and_casts():
    p = Parameter(np.ones(2))
    p.grad = np.ones(2)
    opt = optim.Adam([p])
    opt.step()
    saved = opt.state_dict()
    q = Parameter(np.ones(2, dtype=np.float32))
    opt32 = optim.Adam([q])
    opt32.load_state_dict(saved)
    assert opt32.state[q]["exp_avg"].dtype == np.float32
    assert opt32.state[q]["step"] == 1
    assert opt32.state[q]["exp_avg"] is not saved["state"][0]["exp_avg"]
    with pytest.raises(ValueError, match="number of parameter groups"):
        optim.Adam([{"params": [q]}, {"params": [Parameter(np.ones(1))]}]).load_state_dict(saved)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.Adam([q, Parameter(np.ones(1))]).load_state_dict(saved)


# -- L-BFGS ------------------------------------------------------------------------------------
def closure_for(p, f, grad):
    def closure():
        p.grad = grad(p.data)
        return f(p.data)
    return closure


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_minimizes_a_quadratic(line_search_fn):
    rng = np.random.default_rng(4)
    m = rng.standard_normal((6, 6))
    a, b = m @ m.T + 6 * np.eye(6), rng.standard_normal(6)
    x = Parameter(np.zeros(6))
    closure = closure_for(x, lambda v: 0.5 * v @ a @ v - b @ v, lambda v: a @ v - b)
    opt = optim.LBFGS([x], line_search_fn=line_search_fn, tolerance_change=1e-14)
    first = opt.step(closure)
    assert first == 0.0
    for _ in range(3):
        opt.step(closure)
    assert_allclose(x.data, np.linalg.solve(a, b), atol=1e-6)


@pytest.mark.parametrize("line_search_fn, lr", [(None, 1.0), ("strong_wolfe", 1.0),
                                                (None, 0.5)])
def test_lbfgs_minimizes_rosenbrock(line_search_fn, lr):
    x = Parameter(np.array([-1.2, 1.0]))
    opt = optim.LBFGS([x], lr=lr, max_iter=50, line_search_fn=line_search_fn,
                      tolerance_change=1e-14)
    closure = closure_for(x, rosenbrock, rosenbrock_grad)
    for _ in range(10):
        opt.step(closure)
    assert_allclose(x.data, [1.0, 1.0], atol=1e-6)
    assert opt.state[x]["func_evals"] >= opt.state[x]["n_iter"]


def test_lbfgs_two_parameters_as_one_vector_and_history_limit():
    x, y = Parameter(np.array([-1.2])), Parameter(np.array([1.0]))

    def closure():
        v = np.concatenate([x.data, y.data])
        g = rosenbrock_grad(v)
        x.grad, y.grad = g[:1], g[1:]
        return rosenbrock(v)

    opt = optim.LBFGS([x, y], history_size=3, line_search_fn="strong_wolfe", max_iter=100)
    for _ in range(5):
        opt.step(closure)
    assert_allclose([x.data[0], y.data[0]], [1.0, 1.0], atol=1e-5)
    assert len(opt.state[x]["old_dirs"]) <= 3


def test_lbfgs_state_dict_round_trip_continues_identically():
    def make():
        x = Parameter(np.array([-1.2, 1.0]))
        return x, optim.LBFGS([x], max_iter=4, line_search_fn="strong_wolfe")

    x, opt = make()
    closure = closure_for(x, rosenbrock, rosenbrock_grad)
    opt.step(closure)
    assert opt.state[x]["n_iter"] <= 4 and opt.defaults["max_eval"] == 5
    saved, after_one = copy.deepcopy(opt.state_dict()), x.data.copy()
    opt.step(closure)
    x2, opt2 = make()
    x2.data[...] = after_one
    opt2.load_state_dict(saved)
    opt2.step(closure_for(x2, rosenbrock, rosenbrock_grad))
    assert_array_equal(x2.data, x.data)


def test_lbfgs_needs_a_closure_and_one_group():
    x = Parameter(np.ones(1))
    with pytest.raises(TypeError, match="closure"):
        optim.LBFGS([x]).step()
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [x]}, {"params": [Parameter(np.ones(1))]}])


def test_lbfgs_returns_at_once_at_a_stationary_point():
    x = Parameter(np.zeros(2))
    calls = []

    def closure():
        calls.append(1)
        x.grad = np.zeros(2)
        return 1.0

    assert optim.LBFGS([x]).step(closure) == 1.0 and len(calls) == 1


# -- schedulers ----------------------------------------------------------------------------------
def two_group_sgd(lr=1.0):
    return optim.SGD([{"params": [Parameter(np.zeros(1))]},
                      {"params": [Parameter(np.zeros(1))], "lr": lr / 4}], lr=lr)


def lrs_over(scheduler, epochs):
    """The rates in force at epochs 0, 1, ..., epochs - 1."""
    out = [scheduler.get_last_lr()]
    for _ in range(epochs - 1):
        scheduler.optimizer.step()
        scheduler.step()
        out.append(scheduler.get_last_lr())
    return np.array(out)


@given(step_size=st.integers(1, 5), gamma=st.floats(0.1, 0.9))
def test_step_lr(step_size, gamma):
    lrs = lrs_over(lr_scheduler.StepLR(two_group_sgd(), step_size, gamma), 20)
    epochs = np.arange(20)[:, None]
    assert_allclose(lrs, [1.0, 0.25] * gamma ** (epochs // step_size), rtol=1e-12)


def test_exponential_lr():
    lrs = lrs_over(lr_scheduler.ExponentialLR(two_group_sgd(), gamma=0.9), 15)
    assert_allclose(lrs, [1.0, 0.25] * 0.9 ** np.arange(15)[:, None], rtol=1e-12)


@given(t_max=st.integers(1, 8), eta_min=st.sampled_from([0.0, 0.01]))
def test_cosine_annealing_lr(t_max, eta_min):
    sched = lr_scheduler.CosineAnnealingLR(two_group_sgd(), T_max=t_max, eta_min=eta_min)
    lrs = lrs_over(sched, 3 * t_max + 1)
    e = np.arange(3 * t_max + 1)[:, None]
    base = np.array([1.0, 0.25])
    assert_allclose(lrs, eta_min + (base - eta_min) * (1 + np.cos(np.pi * e / t_max)) / 2,
                    rtol=1e-9, atol=1e-12)


def test_scheduler_sets_initial_lr_and_needs_it_to_resume():
    opt = two_group_sgd()
    lr_scheduler.StepLR(opt, 2)
    assert [g["initial_lr"] for g in opt.param_groups] == [1.0, 0.25]
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(two_group_sgd(), 2, last_epoch=3)
    with pytest.raises(TypeError, match="not an Optimizer"):
        lr_scheduler.ExponentialLR(object(), 0.5)


def test_scheduler_state_dict_round_trip():
    opt = two_group_sgd()
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    lrs_over(sched, 4)
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 3
    other = lr_scheduler.CosineAnnealingLR(two_group_sgd(), T_max=10)
    other.load_state_dict(state)
    assert other.last_epoch == 3 and other.get_last_lr() == sched.get_last_lr()


@pytest.mark.parametrize("kwargs, metrics, expected", [
    (dict(patience=1, factor=0.5, cooldown=1, threshold=0.1, threshold_mode="abs",
          min_lr=0.2),
     [5, 4.95, 4.95, 6, 6, 4, 4, 4, 4, 4, 4, 4, 4, 4],
     [1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2]),
    (dict(mode="max", patience=0), [1, 2, 2, 1.9, 3], [1, 1, 0.1, 0.01, 0.01]),
    (dict(mode="max", patience=0, threshold=0.5), [1, 1.4, 1.6], [1, 0.1, 0.1]),
    (dict(patience=0, threshold=1.0, threshold_mode="abs", eps=0.5),
     [3, 2.5, 1.5, 1], [1, 0.1, 0.1, 0.1]),
])
def test_reduce_lr_on_plateau_scripted(kwargs, metrics, expected):
    opt = optim.SGD([Parameter(np.zeros(1))], lr=1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    lrs = []
    for m in metrics:
        sched.step(m)
        lrs.append(sched.get_last_lr()[0])
    assert_allclose(lrs, expected, rtol=1e-12)


def test_reduce_lr_on_plateau_per_group_min_lr_and_validation():
    opt = two_group_sgd()
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=[0.5, 0.0])
    for m in [1, 1, 1]:
        sched.step(m)
    assert_allclose(sched.get_last_lr(), [0.5, 0.0025])
    with pytest.raises(ValueError, match="expected 2 min_lrs, got 1"):
        lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.1])
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="avg")
    with pytest.raises(ValueError, match="threshold mode x is unknown"):
        lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="x")
    with pytest.raises(TypeError, match="not an Optimizer"):
        lr_scheduler.ReduceLROnPlateau(object())


def test_reduce_lr_on_plateau_state_dict_round_trip_continues_identically():
    metrics = [3.0, 2.0, 2.0, 2.0, 2.5, 1.0, 1.0, 1.0, 1.0]
    opt = two_group_sgd()
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5, cooldown=1)
    assert all("initial_lr" not in g for g in opt.param_groups)      # no first step taken
    for m in metrics[:4]:
        sched.step(m)
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 4
    resumed_opt = two_group_sgd()
    for group, lr in zip(resumed_opt.param_groups, sched.get_last_lr()):
        group["lr"] = lr
    resumed = lr_scheduler.ReduceLROnPlateau(resumed_opt)
    resumed.load_state_dict(state)
    for m in metrics[4:]:
        sched.step(m)
        resumed.step(m)
        assert resumed.get_last_lr() == sched.get_last_lr()
    assert sched.get_last_lr() == [0.25, 0.0625]      # halved after metrics 4 and 8


# -- clipping ------------------------------------------------------------------------------------
def params_with_grads(*grads):
    params = []
    for g in grads:
        p = Parameter(np.zeros_like(g))
        p.grad = g.copy()
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, math.inf])
def test_clip_grad_norm(norm_type):
    rng = np.random.default_rng(5)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    flat = np.concatenate([g.ravel() for g in grads])
    total = np.linalg.norm(flat, ord=norm_type)
    params = params_with_grads(*grads) + [Parameter(np.ones(2))]      # one without a gradient
    returned = optim.clip_grad_norm_(params, max_norm=0.5, norm_type=norm_type)
    assert isinstance(returned, float)
    assert_allclose(returned, total, rtol=1e-12)
    clipped = np.concatenate([p.grad.ravel() for p in params[:2]])
    assert_allclose(clipped, flat * 0.5 / (total + 1e-6), rtol=1e-12)
    assert_allclose(np.linalg.norm(clipped, ord=norm_type), 0.5, rtol=1e-5)


def test_clip_grad_norm_leaves_small_gradients_and_handles_edge_cases():
    p, = params_with_grads(np.array([0.3, 0.4]))
    assert_allclose(optim.clip_grad_norm_(p, 1.0), 0.5)
    assert_array_equal(p.grad, [0.3, 0.4])
    assert optim.clip_grad_norm_([Parameter(np.ones(1))], 1.0) == 0.0
    q, = params_with_grads(np.array([np.inf, 1.0]))
    with pytest.raises(RuntimeError, match="non-finite"):
        optim.clip_grad_norm_([q], 1.0, error_if_nonfinite=True)


def test_clip_grad_value():
    a, b = params_with_grads(np.array([-3.0, 0.2, 3.0]), np.array([[0.5, -0.7]]))
    assert optim.clip_grad_value_([a, b], 0.6) is None
    assert_array_equal(a.grad, [-0.6, 0.2, 0.6])
    assert_array_equal(b.grad, [[0.5, -0.6]])


# -- the same results as torch.optim (stored, and live where torch is installed) ------------
@pytest.mark.parametrize("case_id, cls, kwargs",
                         [(i, cls, kw) for i, (cls, _, kw) in zip(IDS, CASES)], ids=IDS)
def test_same_as_torch(torch_results, case_id, cls, kwargs):
    expected = torch_results(f"optim/{case_id}")
    theta, streams = torch_parity.optimizer_inputs()
    params = [Parameter(t.copy()) for t in theta]
    groups = [{"params": [params[0]]}, {"params": [params[1]], "lr": kwargs["lr"] / 3}]
    trajectory = list(run(cls(groups, **kwargs), params, streams))
    assert len(trajectory) == len(expected["param0"]) == 10
    for k, data in enumerate(trajectory):
        for j, d in enumerate(data):
            assert_allclose(d, expected[f"param{j}"][k], rtol=0, atol=1e-7)


@pytest.mark.parametrize("line_search_fn", torch_parity.LBFGS_LINE_SEARCHES)
@pytest.mark.parametrize("setting", range(len(torch_parity.LBFGS_SETTINGS)),
                         ids=[f"kwargs{i}" for i in range(len(torch_parity.LBFGS_SETTINGS))])
def test_lbfgs_same_as_torch(torch_results, line_search_fn, setting):
    expected = torch_results(torch_parity.lbfgs_case(setting, line_search_fn))
    x = Parameter(torch_parity.LBFGS_START.copy())
    opt = optim.LBFGS([x], line_search_fn=line_search_fn,
                      **torch_parity.LBFGS_SETTINGS[setting])
    for k in range(torch_parity.LBFGS_STEPS):
        loss = opt.step(closure_for(x, rosenbrock, rosenbrock_grad))
        assert loss == pytest.approx(expected["loss"][k], rel=1e-12)
        assert_allclose(x.data, expected["x"][k], rtol=0, atol=1e-7)
    assert opt.state[x]["func_evals"] == expected["func_evals"]


def test_schedulers_and_clipping_same_as_torch(torch_results):
    rates = torch_results("schedulers")
    for name, kwargs in torch_parity.SCHEDULERS:
        ours = getattr(lr_scheduler, name)(two_group_sgd(), **kwargs)
        assert len(rates[name]) == torch_parity.SCHEDULER_EPOCHS
        for expected in rates[name]:
            ours.optimizer.step()
            ours.step()
            assert_allclose(ours.get_last_lr(), expected, rtol=1e-12)
    clipped = torch_results("clipping")
    for norm_type in torch_parity.CLIP_NORM_TYPES:
        params = params_with_grads(*torch_parity.clipping_inputs())
        total = optim.clip_grad_norm_(params, 1.5, norm_type)
        assert_allclose(total, clipped[f"total-{norm_type}"])
        for j, p in enumerate(params):
            assert_allclose(p.grad, clipped[f"grad{j}-{norm_type}"], rtol=1e-12)


@pytest.mark.parametrize("grad", [np.array(0.5), np.float64(0.5), 0.5])
def test_zero_dimensional_parameters_and_scalar_gradients(grad):
    for cls, ref, kwargs in CASES:
        p = Parameter(np.array(1.0))
        opt = cls([p], **kwargs)
        expected = ref(np.array(1.0), [np.array(0.5)] * 3, **kwargs)
        for k in range(3):
            p.grad = grad
            opt.step()
            assert isinstance(p.data, np.ndarray) and p.data.shape == ()
            assert_allclose(p.data, expected[k], rtol=1e-10)
    x = Parameter(np.array(3.0))

    def closure():
        x.grad = grad * 0 + 2 * (float(x.data) - 1.0)
        return (float(x.data) - 1.0) ** 2

    optim.LBFGS([x], line_search_fn="strong_wolfe").step(closure)
    assert_allclose(x.data, 1.0)
    q = Parameter(np.array(0.0))
    q.grad = grad * 8
    assert optim.clip_grad_norm_([q], 2.0) == 4.0
    assert_allclose(q.grad, 2.0, rtol=1e-6)
    optim.clip_grad_value_(q, 1.0)
    assert_allclose(q.grad, 1.0)


def test_to_device_moves_optimizer_state_and_explains_a_missing_cupy():
    from srcad import backend
    from srcad.nn import Linear
    model = Linear(3, 2)
    optimizer = optim.Adam(model.parameters(), lr=0.1)
    for p in model.parameters():
        p.grad = np.ones_like(p.data)
    optimizer.step()
    before = {k: np.array(v) for k, v in optimizer.state[model.weight].items()}
    assert optimizer.to("cpu") is optimizer and model.to("cpu") is model
    for key, value in optimizer.state[model.weight].items():
        np.testing.assert_array_equal(value, before[key])
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        model.to("tpu")
    if backend.cupy is None:
        for thing in (model, optimizer):
            with pytest.raises(RuntimeError, match=r"to\('cuda'\) needs CuPy.*srcad\[gpu\]"):
                thing.to("cuda")
