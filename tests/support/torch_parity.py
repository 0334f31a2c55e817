"""The PyTorch-parity cases: their inputs, and what torch computes for them.

Each case is a name ("optim/SGD-0", "layers/net", ...) and a function that takes the torch
module and returns torch's results as a dict of NumPy arrays. `tests/fixtures/
make_torch_reference.py` runs them all and stores the results in `tests/fixtures/
torch_reference.npz`; `results("stored")` reads them back, so the parity tests
(tests/test_optim.py, tests/test_layers.py, tests/test_init.py) compare srcad with torch on
every run, and `results("live")` computes them with the installed torch (skipping without it).
The inputs are made here from fixed seeds, with NumPy only, for both sides.
"""

import functools
import math
import pathlib

import numpy as np
import pytest

FIXTURE = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "torch_reference.npz"
SEPARATOR = "::"                # npz keys are "<case>::<quantity>"
CASES = {}                      # case name -> function(torch) -> {quantity: array}

# (optimizer name, hyper-parameters): tests/test_optim.py checks each against its update
# equations too
OPTIMIZER_SETTINGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.5, maximize=True, weight_decay=0.2)),
    ("Adam", dict(lr=0.1)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.1, amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=0.1)),
    ("AdamW", dict(lr=0.1, weight_decay=0.3, amsgrad=True, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.2, weight_decay=0.1, initial_accumulator_value=0.5,
                     eps=1e-6, maximize=True)),
    ("Adadelta", dict(lr=1.0)),
    ("Adadelta", dict(lr=0.5, rho=0.7, eps=1e-3, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.8, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5)),
    ("Adam", dict(lr=0.1, weight_decay=0.1, amsgrad=True)),
]
OPTIMIZER_IDS = [f"{name}-{i}" for i, (name, _) in enumerate(OPTIMIZER_SETTINGS)]
LBFGS_SETTINGS = [dict(), dict(lr=0.5, history_size=3, max_iter=7)]
LBFGS_LINE_SEARCHES = [None, "strong_wolfe"]
LBFGS_START, LBFGS_STEPS = np.array([-1.2, 1.0, 0.5, -0.3]), 6
# each scheduler drives an SGD with two groups, lr 1.0 and 0.25, for SCHEDULER_EPOCHS steps
SCHEDULERS = [("StepLR", dict(step_size=3, gamma=0.3)), ("ExponentialLR", dict(gamma=0.9)),
              ("CosineAnnealingLR", dict(T_max=5, eta_min=0.01))]
SCHEDULER_EPOCHS = 17
CLIP_NORM_TYPES = [1.0, 2.0, math.inf]
# (layer class name, constructor arguments) whose parameter names and shapes must be torch's
LAYERS = [("Linear", (3, 4)), ("Bilinear", (2, 3, 4)), ("Embedding", (5, 2)),
          ("LayerNorm", ((2, 3),)), ("RNNCell", (3, 4)), ("RNN", (3, 4))]
# an RNN(3, 4) then a LayerNorm(4), a tanh GELU and a cross-entropy: its parameters
NET_PARAMETERS = [("rnn.weight_ih_l0", (4, 3)), ("rnn.weight_hh_l0", (4, 4)),
                  ("rnn.bias_ih_l0", (4,)), ("rnn.bias_hh_l0", (4,)),
                  ("norm.weight", (4,)), ("norm.bias", (4,))]
ACTIVATIONS = [("Sigmoid", ()), ("LeakyReLU", ()), ("Softmax", (0,)), ("LogSoftmax", (1,))]
GAIN_NAMES = ["linear", "sigmoid", "tanh", "relu", "selu", "leaky_relu"]
FAN_SHAPES = [(3, 5), (8, 3, 5, 5), (4, 2, 3)]


def results(source):
    """A function case name -> {quantity: array} of torch's results, `source` "stored" (the
    fixture file) or "live" (the installed torch; the calling test skips without it)."""
    if source == "stored":
        return _stored
    torch = pytest.importorskip("torch")
    return lambda case: CASES[case](torch)


def _stored(case):
    found = {key.split(SEPARATOR, 1)[1]: value for key, value in stored_arrays().items()
             if key.split(SEPARATOR, 1)[0] == case}
    assert found, f"{FIXTURE.name} has no case {case!r}: run tests/fixtures/make_torch_reference.py"
    return found


@functools.cache
def stored_arrays():
    """Every array of the fixture file, by its key."""
    with np.load(FIXTURE, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def compute_all(torch):
    """Every case's torch results, by fixture key (what make_torch_reference.py stores)."""
    return {f"{case}{SEPARATOR}{quantity}": np.asarray(value)
            for case, run in CASES.items() for quantity, value in run(torch).items()}


def case(name):
    """Register the decorated function(torch) as the parity case `name`."""
    def register(function):
        CASES[name] = function
        return function
    return register


def _float64(torch):
    """A context in which torch makes float64 tensors by default."""
    class Float64:
        def __enter__(self):
            self.previous = torch.get_default_dtype()
            torch.set_default_dtype(torch.float64)

        def __exit__(self, *exc):
            torch.set_default_dtype(self.previous)
    return Float64()


# ---- optimizers, schedulers, clipping ---------------------------------------------------------
def gradient_stream(shape, steps=6, seed=0):
    """`steps` standard-normal gradients of `shape` from the given seed."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for _ in range(steps)]


def optimizer_inputs():
    """Two parameters' start values and their gradient streams (10 steps)."""
    theta = [np.random.default_rng(6).standard_normal((4, 3)), np.linspace(-1, 1, 5)]
    streams = [gradient_stream(t.shape, steps=10, seed=i + 7) for i, t in enumerate(theta)]
    return theta, streams


def _torch_optimizer(torch, name, kwargs):
    """Each parameter after each step: param0 (10, 4, 3), param1 (10, 5); the second group
    has a third of the learning rate."""
    theta, streams = optimizer_inputs()
    tensors = [torch.tensor(t.copy(), requires_grad=True) for t in theta]
    groups = [{"params": [tensors[0]]}, {"params": [tensors[1]], "lr": kwargs["lr"] / 3}]
    optimizer = getattr(torch.optim, name)(groups, **kwargs)
    trajectory = [[], []]
    for k in range(len(streams[0])):
        for t, grads in zip(tensors, streams):
            t.grad = torch.tensor(grads[k])
        optimizer.step()
        for path, t in zip(trajectory, tensors):
            path.append(t.detach().numpy().copy())
    return {f"param{j}": np.array(path) for j, path in enumerate(trajectory)}


def _register_optimizer_cases():
    for case_id, (name, kwargs) in zip(OPTIMIZER_IDS, OPTIMIZER_SETTINGS):
        case(f"optim/{case_id}")(functools.partial(_torch_optimizer, name=name, kwargs=kwargs))


_register_optimizer_cases()


def rosenbrock(x):
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def rosenbrock_grad(x):
    g = np.zeros_like(x)
    g[:-1] = -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


def lbfgs_case(setting, line_search_fn):
    """The case name of LBFGS_SETTINGS[setting] with the given line search."""
    return f"lbfgs/{setting}-{line_search_fn}"


def _torch_lbfgs(torch, kwargs, line_search_fn):
    """L-BFGS on the Rosenbrock function from LBFGS_START: the loss each step returns, the
    point after each step, and the function evaluations at the end."""
    t = torch.tensor(LBFGS_START.copy(), requires_grad=True)
    optimizer = torch.optim.LBFGS([t], line_search_fn=line_search_fn, **kwargs)

    def closure():
        v = t.detach().numpy()
        t.grad = torch.tensor(rosenbrock_grad(v))
        return rosenbrock(v)

    losses, points = [], []
    for _ in range(LBFGS_STEPS):
        losses.append(optimizer.step(closure))
        points.append(t.detach().numpy().copy())
    return {"loss": np.array(losses), "x": np.array(points),
            "func_evals": np.array(optimizer.state[t]["func_evals"])}


def _register_lbfgs_cases():
    for setting, kwargs in enumerate(LBFGS_SETTINGS):
        for search in LBFGS_LINE_SEARCHES:
            case(lbfgs_case(setting, search))(
                functools.partial(_torch_lbfgs, kwargs=kwargs, line_search_fn=search))


_register_lbfgs_cases()


@case("schedulers")
def _torch_schedulers(torch):
    """Each scheduler's two learning rates after each of SCHEDULER_EPOCHS steps."""
    out = {}
    for name, kwargs in SCHEDULERS:
        params = [torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)]
        optimizer = torch.optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.25}],
                                    lr=1.0)
        scheduler = getattr(torch.optim.lr_scheduler, name)(optimizer, **kwargs)
        rates = []
        for _ in range(SCHEDULER_EPOCHS):
            optimizer.step()
            scheduler.step()
            rates.append(scheduler.get_last_lr())
        out[name] = np.array(rates)
    return out


def clipping_inputs():
    """Two gradients, (3, 4) and (5,)."""
    rng = np.random.default_rng(8)
    return [rng.standard_normal((3, 4)), rng.standard_normal(5)]


@case("clipping")
def _torch_clipping(torch):
    """clip_grad_norm_ to 1.5 in each norm: the total norm and the clipped gradients."""
    out = {}
    for norm_type in CLIP_NORM_TYPES:
        tensors = [torch.zeros(g.shape, dtype=torch.float64) for g in clipping_inputs()]
        for t, g in zip(tensors, clipping_inputs()):
            t.grad = torch.tensor(g)
        out[f"total-{norm_type}"] = np.array(
            float(torch.nn.utils.clip_grad_norm_(tensors, 1.5, norm_type)))
        for j, t in enumerate(tensors):
            out[f"grad{j}-{norm_type}"] = t.grad.numpy().copy()
    return out


# ---- layers and losses ------------------------------------------------------------------------
def parameter_list(named_parameters):
    """["name(shape)", ...] of (name, parameter) pairs."""
    return [f"{name}{tuple(p.shape)}" for name, p in named_parameters]


@case("layers/names")
def _torch_layer_names(torch):
    """Each layer of LAYERS: its parameters' names and shapes."""
    return {name: np.array(parameter_list(getattr(torch.nn, name)(*args).named_parameters()))
            for name, args in LAYERS}


def layer_inputs():
    """The net's parameters (NET_PARAMETERS), its input (6, 5, 3) and labels (5,) in 0..3, then
    an input (4, 3) for the activations and targets (4, 3) in [0, 1) for the logistic loss."""
    rng = np.random.default_rng(8)
    params = {name: rng.standard_normal(shape) for name, shape in NET_PARAMETERS}
    x, y = rng.standard_normal((6, 5, 3)), rng.integers(0, 4, 5)
    x2 = rng.standard_normal((4, 3))
    return params, x, y, x2, rng.random((4, 3))


@case("layers/net")
def _torch_net(torch):
    """The cross-entropy of the net on layer_inputs() and its gradient by parameter."""
    params, x, y, _, _ = layer_inputs()
    with _float64(torch):
        modules = {"rnn": torch.nn.RNN(3, 4), "norm": torch.nn.LayerNorm(4)}
        with torch.no_grad():
            for name, value in params.items():
                owner, attr = name.split(".")
                getattr(modules[owner], attr).copy_(torch.tensor(value))
        _, h_n = modules["rnn"](torch.tensor(x))
        logits = torch.nn.functional.gelu(modules["norm"](h_n[0]), approximate="tanh")
        loss = torch.nn.CrossEntropyLoss()(logits, torch.tensor(y))
        loss.backward()
    out = {"value": np.array(loss.item())}
    for owner, module in modules.items():
        for attr, p in module.named_parameters():
            out[f"grad:{owner}.{attr}"] = p.grad.numpy().copy()
    return out


@case("layers/losses")
def _torch_losses(torch):
    """BCEWithLogitsLoss(reduction="sum") and each activation of ACTIVATIONS on layer_inputs()."""
    _, _, _, x, target = layer_inputs()
    t = torch.tensor
    bce = torch.nn.BCEWithLogitsLoss(reduction="sum")(t(x), t(target))
    out = {"bce": np.array(bce.item())}
    for name, args in ACTIVATIONS:
        out[name] = getattr(torch.nn, name)(*args)(t(x)).numpy().copy()
    return out


# ---- initialization ---------------------------------------------------------------------------
@case("init")
def _torch_init(torch):
    """The gains of GAIN_NAMES, the (fan_in, fan_out) of FAN_SHAPES, and the largest |w| of a
    seeded kaiming_uniform_(a=sqrt(5)) draw of shape (30, 20)."""
    t = torch.empty(30, 20, dtype=torch.float64)
    torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5), generator=torch.Generator().manual_seed(0))
    return {"gains": np.array([torch.nn.init.calculate_gain(n) for n in GAIN_NAMES]),
            "fans": np.array([torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(s))
                              for s in FAN_SHAPES]),
            "kaiming_max": np.array(float(t.abs().max()))}
