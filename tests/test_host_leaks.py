"""srcad on a device array library, without a GPU: every public path runs on `tests.support.leaky`'s
LeakyArray, which fails on any implicit copy to the host (as a CuPy array would cost one) and on
NumPy arrays mixed into device computations (which CuPy refuses). Each result must equal the
NumPy result and stay on the "device".

Covered: every derivative rule's case (tests/cases) in forward and reverse mode; grad,
value_and_grad, vjp, jvp, hvp, jacobian, hessian of functions with loops, branches, writes into
arrays, index arrays and masks, calls of user functions, user-registered rules, stop_gradient
and nondifferentiable; every nn layer and loss through `srcad.grad(wrt="model")`, `nn.backward`
and `nn.fit` (Dropout's mask drawn on the device, Embedding's row-sparse gradient); nn.init;
every optimizer step (LBFGS too), its state dict and `to`; both clippings; ReduceLROnPlateau;
the DataLoader and checkpoints. Not here: `srcad.testing.check_grads`, a host-side tool.
"""

import contextlib
import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import srcad
from srcad import nn, optim
from tests.support import cases, leaky
from tests.support.compare import assert_same
from tests.support.crosscheck_functions import (
    broadcasting,
    elementwise_soup,
    reductions,
    shapes,
    softmax_cross_entropy,
)
from tests.support.leaky import LeakyArray, to_leaky, to_numpy


@pytest.fixture(autouse=True)
def device():
    with leaky.installed() as xp:
        yield xp


def on_device(run, *args, context=contextlib.nullcontext):
    """`run(*args)` with every array argument moved to the device (inside `context()`); the
    result, with every array checked to be a device array and copied back."""
    with context():
        got = run(*to_leaky(args))
    assert_device(got)
    return to_numpy(got)


def assert_device(value):
    """Every array in `value` (nested) is a device array; numbers are Python numbers."""
    if isinstance(value, (tuple, list)):
        for item in value:
            assert_device(item)
    elif isinstance(value, dict):
        for item in value.values():
            assert_device(item)
    else:
        assert not isinstance(value, (np.ndarray, np.generic)), \
            f"a NumPy {type(value).__name__} came back from device inputs"


def same_on_device(run, *args, rtol=1e-12, context=contextlib.nullcontext):
    """`run` on NumPy arguments and on the same arguments on the device: equal results."""
    expected = run(*args)
    assert_same(on_device(run, *args, context=context), expected, rtol)
    return expected


def all_modes(f, args, wrt, context=contextlib.nullcontext):
    """grad, value_and_grad, vjp and jvp of `f`, all at once (tangents and cotangents are
    drawn on the host first, so both runs see the same numbers)."""
    if not any(isinstance(a, (np.ndarray, list, tuple, dict)) for a in args):
        return                        # numbers only: nothing would be on the device
    rng = np.random.default_rng(0)
    directions = [rng.standard_normal(np.shape(args[i])) for i in wrt]
    y = f(*args)
    cotangent = rng.standard_normal(np.shape(y))

    def run(args, directions, cotangent):
        value, pullback = srcad.vjp(f, wrt=wrt)(*args)
        results = [value, pullback(cotangent), srcad.jvp(f, wrt=wrt)(*args, *directions)]
        if np.size(y) == 1 and not isinstance(y, (tuple, list)):
            results += [srcad.grad(f, wrt=wrt)(*args), srcad.value_and_grad(f, wrt=wrt)(*args)]
        return results
    same_on_device(run, args, directions, cotangent, context=context)


# ---- gradients of functions ----------------------------------------------------------------
def rnn(h, W, xs):
    for x in xs:
        h = np.tanh(W @ h + x)
    return np.sum(h)


def halve_until_small(x):
    while np.sum(x * x) > 1.0:
        x = x * 0.5
    return np.sum(x * x)


def branches_break_continue(x, W):
    total = 0.0
    for i in range(W.shape[0]):
        if i == 1:
            continue
        row = W[i] * x
        if np.sum(row) > 10.0:
            break
        total = total + np.sum(np.sin(row))
    return total


def writes_into_created_array(x, W):
    out = np.zeros_like(W)
    for i in range(W.shape[0]):
        out[i] = W[i] * x[i % x.shape[0]]
    out[0] += x[:W.shape[1]]
    return np.sum(out * out)


def layer(W, x, scale=1.0):
    return np.tanh(W @ x) * scale


def two_layers(W, x):
    h = layer(W, x)
    return np.sum(layer(W, h, scale=2.0) ** 2)


def gather_rows(W, index, x):
    rows = W[index]
    return np.sum(rows * x) + np.max(W[index[0]])


def masked_and_diagonal(x, M):
    positive = x[x > 0.0]
    return np.sum(positive ** 2) + np.sum(np.diag(M) * x) + np.sum(np.diag(x) @ M)


def list_of_arrays(parts, x):
    total = parts[0] * x
    for p in parts[1:]:
        total = total + np.exp(p * 0.1)
    return np.sum(total * total)


def created_like_input(x):
    ones = np.ones(np.shape(x), like=x)
    steps = np.arange(np.shape(x)[0], like=x)
    return np.sum((x + ones) * steps)


@pytest.mark.parametrize("f", [elementwise_soup, broadcasting, reductions, shapes,
                               softmax_cross_entropy], ids=lambda f: f.__name__)
def test_straight_line_functions(f):
    rng = np.random.default_rng(1)
    all_modes(f, (rng.uniform(0.1, 1.0, 4), rng.standard_normal((3, 4))), wrt=(0, 1))


@pytest.mark.parametrize("f, wrt", [(branches_break_continue, (0, 1)),
                                    (writes_into_created_array, (0, 1)),
                                    (two_layers, (0, 1))], ids=lambda v: getattr(v, "__name__", ""))
def test_control_flow_and_calls(f, wrt):
    rng = np.random.default_rng(2)
    all_modes(f, (rng.standard_normal(3), rng.standard_normal((3, 3))), wrt=wrt)


def test_loops_over_rows_and_while_on_data():
    rng = np.random.default_rng(3)
    all_modes(rnn, (rng.standard_normal(3), rng.standard_normal((3, 3)) * 0.5,
                    rng.standard_normal((4, 3))), wrt=(0, 1, 2))
    all_modes(halve_until_small, (rng.standard_normal(3) * 3,), wrt=(0,))


def test_index_arrays_lists_and_constructors_on_the_device():
    rng = np.random.default_rng(4)
    all_modes(gather_rows, (rng.standard_normal((4, 3)), np.array([2, 0, 2]),
                            rng.standard_normal(3)), wrt=(0, 2))
    all_modes(created_like_input, (rng.standard_normal(5),), wrt=(0,))
    all_modes(masked_and_diagonal, (rng.standard_normal(4), rng.standard_normal((4, 4))),
              wrt=(0, 1))
    parts = [rng.standard_normal(3) for _ in range(3)]
    same_on_device(lambda p, x: srcad.grad(list_of_arrays, wrt=(0, 1))(p, x), parts,
                   rng.standard_normal(3))


def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def bucket(x):
    return np.floor(x * 2.0)


srcad.nondifferentiable(bucket)


@srcad.register_adjoint(logistic)
def logistic_adjoint(y, x):
    srcad.d[x] += srcad.d[y] * y * (1.0 - y)


@srcad.register_tangent(logistic)
def logistic_tangent(y, x):
    srcad.d[y] = srcad.d[x] * y * (1.0 - y)


def custom_rules_and_constants(x, W):
    h = logistic(W @ x)
    return np.sum(h * srcad.stop_gradient(h)) + np.sum(bucket(x) * x)


def test_custom_rules_stop_gradient_and_nondifferentiable():
    rng = np.random.default_rng(6)
    all_modes(custom_rules_and_constants, (rng.standard_normal(3), rng.standard_normal((2, 3))),
              wrt=(0, 1))


def test_higher_order():
    rng = np.random.default_rng(5)
    h, W, xs = rng.standard_normal(3), rng.standard_normal((3, 3)) * 0.5, \
        rng.standard_normal((4, 3))
    same_on_device(lambda h, W, xs, v: srcad.hvp(rnn, wrt=1)(h, W, xs, v), h, W, xs,
                   rng.standard_normal((3, 3)))
    same_on_device(lambda W, x: srcad.jacobian(layer, wrt=1)(W, x), W, h)
    same_on_device(lambda x, W: srcad.hessian(reductions, wrt=0)(x, W), h + 2.0,
                   rng.standard_normal((3, 3)))
    same_on_device(lambda x, W, v: srcad.jvp(srcad.grad(broadcasting))(x, W, v), h,
                   rng.standard_normal((3, 3)), rng.standard_normal(3))


# ---- every derivative rule, through its test case ------------------------------------------
CASES = cases.load()
# cases whose own source reads a device array on the host or mixes in a NumPy array it makes:
# on CuPy these functions fail as written, so on the double they must fail too
USER_HOST_CODE = {
    "elementwise.clip_method": "numpy.asarray(x)", "elementwise.float64_array": "float64(x)",
    "elementwise.float_": "float(x)", "elementwise.float_item": "x.item()",
    "elementwise.item": "x.item()", "elementwise.item_and_float_of_0d": "x.item()",
    "linalg.cholesky_of_a_product": "numpy.eye(3)",
    "python_functions.log_of_0d_array": "math.log of an array",
    "python_functions.sum_start_only_active": "numpy.ones(3)",
    "shape.full_of_a_row": "numpy.full((2, 3), v)",
    "elementwise.asarray": "numpy.asarray(x)", "elementwise.asarray_list": "numpy.asarray",
    "elementwise.array": "numpy.array(x)", "elementwise.array_nested": "numpy.array",
    "elementwise.array_ndmin": "numpy.array(x)",
    "indexing.repeated_integer_indices": "a NumPy index array",
    "indexing.boolean_mask": "a NumPy mask", "generated_code.scatter_add": "a NumPy index",
    "linalg.undiag_of_matrix": "numpy.zeros((3, 4))",
    "linalg.dot_adjoint_right": "numpy.zeros((2, 4))",
    "shape.hstack_vstack_with_scalar": "numpy.vstack of Python floats",
    "casts.host_copies": "numpy.asanyarray, ascontiguousarray... make NumPy arrays",
    **{f"scipy_rules.{name}": "SciPy's Python functions make NumPy arrays" for name in (
        "polygamma", "logsumexp", "logsumexp_axis_keepdims", "logsumexp_weighted_large",
        "logsumexp_number_weight",
        "softmax", "softmax_axis", "log_softmax_axis", "log_softmax", "solve_triangular_lower",
        "solve_triangular_upper_transposed", "solve_triangular_unit_diagonal", "cho_solve",
        "cho_solve_upper")},
}


@contextlib.contextmanager
def globals_on_device(function):
    """The NumPy arrays among `function`'s module globals moved to the device meanwhile (the
    cases' constant operands, such as X23)."""
    namespace = function.__globals__
    saved = {k: v for k, v in namespace.items() if isinstance(v, np.ndarray)}
    namespace.update(to_leaky(saved))
    try:
        yield
    finally:
        namespace.update(saved)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_rule_case(case, data):
    args = data.draw(case.args, label="args")
    wrt = case.wrt if case.wrt is not None else tuple(
        i for i, a in enumerate(args) if isinstance(a, float) or getattr(a, "dtype", None)
        is not None and a.dtype.kind == "f")
    wrt = (wrt,) if isinstance(wrt, int) else tuple(wrt)
    moved = functools.partial(globals_on_device, case.function)
    if case.name in USER_HOST_CODE:
        with pytest.raises((leaky.HostTransferError, TypeError)):
            all_modes(case.function, args, wrt, moved)
    else:
        all_modes(case.function, args, wrt, moved)


def test_the_double_catches_leaks():
    x = to_leaky(np.ones(3))
    with pytest.raises(leaky.HostTransferError):
        np.asarray(x)
    with pytest.raises(leaky.HostTransferError):
        float(np.sum(x))
    with pytest.raises(leaky.HostTransferError):
        x.tolist()
    with pytest.raises(TypeError, match="mixed"):
        x + np.ones(3)
    assert isinstance(np.sum(x), LeakyArray) and isinstance(np.zeros(2, like=x), LeakyArray)


# ---- every nn layer and loss, through srcad.grad(wrt="model") --------------------------------
def model_loss(model, x):
    out = model(x)
    return np.sum(np.sin(out) + 0.5 * out * out)


def model_loss2(model, x1, x2):
    out = model(x1, x2)
    return np.sum(np.sin(out) + 0.5 * out * out)


def sequence_loss(model, x):
    out, h = model(x)
    return np.sum(np.sin(out)) + np.sum(h * h)


def sequence_loss2(model, x, h0):
    out, h = model(x, h0)
    return np.sum(np.sin(out)) + np.sum(h * h)


def criterion_loss(criterion, x, t):
    return np.sum(np.sin(criterion(x, t)))


LAYERS = [
    ("linear", lambda: nn.Linear(3, 4), [(5, 3)]),
    ("linear-no-bias", lambda: nn.Linear(3, 2, bias=False), [(2, 4, 3)]),
    ("bilinear", lambda: nn.Bilinear(3, 4, 2), [(5, 3), (5, 4)]),
    ("tanh", nn.Tanh, [(3, 4)]), ("relu", nn.ReLU, [(3, 4)]), ("sigmoid", nn.Sigmoid, [(3, 4)]),
    ("leaky-relu", lambda: nn.LeakyReLU(0.2), [(3, 4)]), ("gelu", nn.GELU, [(3, 4)]),
    ("softmax", lambda: nn.Softmax(dim=1), [(3, 4, 2)]),
    ("log-softmax", lambda: nn.LogSoftmax(dim=-1), [(3, 4)]),
    ("layer-norm", lambda: nn.LayerNorm((2, 3)), [(4, 2, 3)]),
    ("rnn-cell", lambda: nn.RNNCell(3, 4), [(2, 3)]),
    ("rnn-cell-with-state", lambda: nn.RNNCell(3, 4, nonlinearity="relu"), [(2, 3), (2, 4)]),
    ("rnn", lambda: nn.RNN(3, 4, batch_first=True), [(2, 5, 3)]),
    ("rnn-with-state", lambda: nn.RNN(3, 4, nonlinearity="relu"), [(5, 2, 3), (1, 2, 4)]),
    ("dropout-eval", lambda: nn.Dropout(0.5).eval(), [(3, 4)]),
    ("sequential", lambda: nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.LayerNorm(8),
                                         nn.Linear(8, 2)), [(6, 3)]),
]


def moved(model, device):
    """`model.to(device)`, checked: every parameter is then on that device."""
    model.to(device)
    for _, param in model.named_parameters():
        assert isinstance(param.data, LeakyArray) == (device == "leaky")
    return model


@pytest.mark.parametrize("name, factory, shapes", LAYERS, ids=[c[0] for c in LAYERS])
def test_every_layer(name, factory, shapes):
    srcad.manual_seed(len(name))
    model = factory()
    rng = np.random.default_rng(len(name))
    inputs = [rng.standard_normal(shape) for shape in shapes]

    f = {(False, 1): model_loss, (False, 2): model_loss2, (True, 1): sequence_loss,
         (True, 2): sequence_loss2}[isinstance(model, nn.RNN), len(shapes)]

    def run(*inputs):
        values, grads = srcad.value_and_grad(f, wrt="model")(model, *inputs)
        return values, grads, srcad.grad(f, wrt=1)(model, *inputs), model(*inputs)
    expected = run(*inputs)
    moved(model, "leaky")
    assert_same(on_device(run, *inputs), expected)
    moved(model, "cpu")


def test_embedding_rows_stay_sparse_on_the_device():
    srcad.manual_seed(0)
    model = nn.Embedding(6, 3)
    indices = np.array([[1, 4], [1, 0]])
    expected = srcad.grad(model_loss, wrt="model")(model, indices)
    moved(model, "leaky")
    got = on_device(lambda i: srcad.grad(model_loss, wrt="model")(model, i), indices)
    assert_same(got, expected)
    model.zero_grad()
    nn.backward(model_loss, model, to_leaky(indices))      # a RowGrad of device arrays
    assert isinstance(model.weight.grad.values, LeakyArray)
    assert_same(to_numpy(model.weight.grad.dense()), expected["weight"])
    before = to_numpy(model.weight.data)
    optim.SGD(model.parameters(), lr=0.1).step()          # touches only the rows used
    assert isinstance(model.weight.data, LeakyArray)
    assert_same(to_numpy(model.weight.data), before - 0.1 * expected["weight"])


def test_clip_grad_value_on_the_device():
    grads = np.random.default_rng(7).standard_normal((3, 4)) * 3

    def clipped(g):
        p = nn.Parameter(np.zeros_like(g))
        p.grad = g.copy()
        optim.clip_grad_value_(p, 1.0)
        return p.grad
    same_on_device(clipped, grads)


def test_plateau_scheduler_reads_a_device_loss_explicitly():
    p = nn.Parameter(to_leaky(np.ones(2)))
    optimizer = optim.SGD([p], lr=1.0)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, factor=0.5)
    for loss in (1.0, 2.0, 3.0):
        scheduler.step(to_leaky(np.array(loss)))
    assert optimizer.param_groups[0]["lr"] == 0.25


def test_dropout_draws_its_mask_on_the_device():
    srcad.manual_seed(3)
    model = moved(nn.Dropout(0.4), "leaky")
    x = to_leaky(np.random.default_rng(0).uniform(1.0, 2.0, (50, 8)))
    value, grad = srcad.value_and_grad(model_loss, wrt=1)(model, x)
    kept = to_numpy(grad) != 0
    out = np.where(kept, to_numpy(x) / 0.6, 0.0)
    assert 0.4 < kept.mean() < 0.8
    np.testing.assert_allclose(to_numpy(value), np.sum(np.sin(out) + 0.5 * out * out))
    np.testing.assert_allclose(to_numpy(grad), np.where(kept, (np.cos(out) + out) / 0.6, 0.0))


LOSSES = [
    ("ce-index", nn.CrossEntropyLoss, (4, 3), lambda rng: rng.integers(0, 3, 4)),
    ("ce-prob", nn.CrossEntropyLoss, (4, 3), lambda rng: rng.dirichlet(np.ones(3), 4)),
    ("ce-spatial", nn.CrossEntropyLoss, (2, 3, 4), lambda rng: rng.integers(0, 3, (2, 4))),
    ("nll", nn.NLLLoss, (4, 3), lambda rng: rng.integers(0, 3, 4)),
    ("mse", nn.MSELoss, (4, 3), lambda rng: rng.standard_normal((4, 3))),
    ("bce-logits", nn.BCEWithLogitsLoss, (4, 3), lambda rng: rng.random((4, 3))),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name, cls, shape, target", LOSSES, ids=[c[0] for c in LOSSES])
def test_every_loss(name, cls, shape, target, reduction):
    rng = np.random.default_rng(len(name))
    criterion = cls(reduction=reduction)
    same_on_device(lambda x, t: (criterion(x, t), srcad.value_and_grad(criterion_loss, wrt=1)(
        criterion, x, t)), rng.standard_normal(shape), target(rng))


# ---- training: nn.backward, nn.fit, every optimizer ------------------------------------------
class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.V = nn.Linear(4, 8)
        self.g = nn.Tanh()
        self.W = nn.Linear(8, 3)

    def forward(self, x):
        return self.W(self.g(self.V(x)))


CRITERION = nn.CrossEntropyLoss()


def classifier_loss(model, x, y):
    return CRITERION(model(x), y)


def train(device, make_optimizer, steps=4, closure=False):
    """A few training steps on `device`; the parameters and losses afterwards, on the host."""
    srcad.manual_seed(0)
    model = moved(Classifier(), device)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((12, 4)), rng.integers(0, 3, 12)
    if device == "leaky":
        X, y = to_leaky(X), to_leaky(y)
    optimizer = make_optimizer(model.parameters())
    losses = []
    for _ in range(steps):
        if closure:
            def step():
                optimizer.zero_grad()
                return nn.backward(classifier_loss, model, X, y)
            losses.append(optimizer.step(step))
        else:
            optimizer.zero_grad()
            losses.append(nn.backward(classifier_loss, model, X, y))
            optim.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
    if device == "leaky":
        assert_device(losses)
        assert_device(optimizer.state_dict()["state"])
    state = {k: to_numpy(v) for k, v in model.state_dict().items()}
    return state, to_numpy(losses)


OPTIMIZERS = [
    lambda p: optim.SGD(p, lr=0.1),
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda p: optim.SGD(p, lr=0.05, momentum=0.8, dampening=0.3, maximize=True),
    lambda p: optim.Adam(p, lr=0.01),
    lambda p: optim.Adam(p, lr=0.01, weight_decay=0.1, amsgrad=True),
    lambda p: optim.AdamW(p, lr=0.01, maximize=True),
    lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.1, weight_decay=0.1,
                            initial_accumulator_value=0.5),
    lambda p: optim.Adadelta(p, lr=1.0, weight_decay=0.1),
    lambda p: optim.RMSprop(p, lr=0.01),
    lambda p: optim.RMSprop(p, lr=0.01, momentum=0.8, centered=True, weight_decay=0.1),
]


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS, ids=range(len(OPTIMIZERS)))
def test_every_optimizer_step(make_optimizer):
    expected = train("cpu", make_optimizer)
    assert_same(train("leaky", make_optimizer), expected)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs(line_search_fn):
    def make(p):
        return optim.LBFGS(p, lr=0.5, max_iter=5, line_search_fn=line_search_fn)
    expected = train("cpu", make, steps=2, closure=True)
    assert_same(train("leaky", make, steps=2, closure=True), expected, rtol=1e-10)


def test_optimizer_state_moves_and_loads_on_the_device():
    model = moved(Classifier(), "leaky")
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    X, y = to_leaky(np.ones((2, 4))), to_leaky(np.array([0, 2]))
    nn.backward(classifier_loss, model, X, y)
    optimizer.step()
    saved = optimizer.state_dict()
    host = optim.Adam(moved(Classifier(), "cpu").parameters()).to("cpu")
    host.load_state_dict(saved)
    assert all(isinstance(s["exp_avg"], np.ndarray) for s in host.state.values())
    optimizer.load_state_dict(saved)
    assert_device(optimizer.state_dict()["state"])
    optimizer.to("cpu")
    assert all(isinstance(s["exp_avg"], np.ndarray) for s in optimizer.state.values())


def test_fit_on_the_device():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((20, 4)), rng.integers(0, 3, 20)

    def run(device):
        srcad.manual_seed(0)
        model = moved(Classifier(), device)
        data = (to_leaky(X), to_leaky(y)) if device == "leaky" else (X, y)
        return nn.fit(model, classifier_loss, optim.Adam(model.parameters(), lr=0.05), data,
                      dev=data, epochs=2, batch_size=8, progress=False, log=None)
    expected = run("cpu")
    got = run("leaky")
    assert list(got) == list(expected)
    for key in expected:
        assert all(type(v) is float for v in got[key])
        assert got[key] == pytest.approx(expected[key], rel=1e-12)


# ---- data ------------------------------------------------------------------------------------
@pytest.mark.parametrize("shuffle", [False, True])
def test_data_loader(shuffle):
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((10, 3)), rng.integers(0, 3, 10)

    def batches(X, y):
        loader = srcad.data.DataLoader(X, y, batch_size=4, shuffle=shuffle,
                                       generator=np.random.default_rng(7))
        return list(loader)
    same_on_device(batches, X, y)


def test_checkpoint_of_device_state(tmp_path):
    model = moved(Classifier(), "leaky")
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    nn.backward(classifier_loss, model, to_leaky(np.ones((2, 4))), to_leaky(np.array([0, 1])))
    optimizer.step()
    path = tmp_path / "ckpt.npz"
    srcad.data.save_checkpoint(path, model.state_dict(), optimizer.state_dict(), epoch=1)
    loaded = srcad.data.load_checkpoint(path)
    fresh = moved(Classifier(), "leaky")
    fresh.load_state_dict(loaded["model"])
    assert_device(fresh.state_dict())
    assert_same(to_numpy(fresh.state_dict()), to_numpy(model.state_dict()))


def test_init_fills_device_parameters():
    weight = to_leaky(np.zeros((3, 4)))
    srcad.manual_seed(0)
    nn.init.kaiming_uniform_(weight, a=5 ** 0.5)
    srcad.manual_seed(0)
    expected = nn.init.kaiming_uniform_(np.zeros((3, 4)), a=5 ** 0.5)
    assert isinstance(weight, LeakyArray)
    assert_same(to_numpy(weight), expected)
