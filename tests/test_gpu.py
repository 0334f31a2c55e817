"""srcad on a real GPU: CuPy arrays through the same generated gradients, layers, losses and
optimizers (the fused update kernels included). Skipped without CuPy or without a GPU; on a
machine without one, tests/test_host_leaks.py checks the same paths on a host-leak double.

Gradients on CuPy equal gradients on NumPy to 1e-10 (float64); a classifier trains on the GPU
as it does on the CPU; every optimizer's fused kernel step equals its NumPy step.
"""

import numpy as np
import pytest

import srcad
from srcad import backend, nn, optim
from srcad.optim import kernels
from tests import test_host_leaks as cases

cupy = pytest.importorskip("cupy")
try:
    if cupy.cuda.runtime.getDeviceCount() < 1:
        pytest.skip("no GPU", allow_module_level=True)
except cupy.cuda.runtime.CUDARuntimeError:
    pytest.skip("no GPU", allow_module_level=True)


def to_gpu(value):
    if isinstance(value, np.ndarray):
        return cupy.asarray(value)
    if isinstance(value, (tuple, list)):
        return type(value)(to_gpu(v) for v in value)
    if isinstance(value, dict):
        return {k: to_gpu(v) for k, v in value.items()}
    return value


def to_cpu(value):
    if isinstance(value, cupy.ndarray):
        return cupy.asnumpy(value)
    if isinstance(value, (tuple, list)):
        return type(value)(to_cpu(v) for v in value)
    if isinstance(value, dict):
        return {k: to_cpu(v) for k, v in value.items()}
    return value


def assert_on_gpu(value):
    if isinstance(value, (tuple, list)):
        for v in value:
            assert_on_gpu(v)
    elif isinstance(value, dict):
        for v in value.values():
            assert_on_gpu(v)
    else:
        assert not isinstance(value, (np.ndarray, np.generic)), type(value)


def same_on_gpu(run, *args, rtol=1e-10):
    expected = run(*args)
    got = run(*to_gpu(args))
    assert_on_gpu(got)
    cases.assert_same(to_cpu(got), expected, rtol)


def all_modes(f, args, wrt):
    rng = np.random.default_rng(0)
    directions = [rng.standard_normal(np.shape(args[i])) for i in wrt]
    cotangent = rng.standard_normal(np.shape(f(*args)))

    def run(args, directions, cotangent):
        value, pullback = srcad.vjp(f, wrt=wrt)(*args)
        return (value, pullback(cotangent), srcad.jvp(f, wrt=wrt)(*args, *directions),
                srcad.grad(f, wrt=wrt)(*args))
    same_on_gpu(run, args, directions, cotangent)


FUNCTIONS = [
    (cases.elementwise_soup, lambda rng: (rng.uniform(0.1, 1, 4), rng.standard_normal((3, 4)))),
    (cases.broadcasting, lambda rng: (rng.uniform(0.1, 1, 4), rng.standard_normal((3, 4)))),
    (cases.reductions, lambda rng: (rng.uniform(0.1, 1, 4), rng.standard_normal((3, 4)))),
    (cases.shapes, lambda rng: (rng.uniform(0.1, 1, 4), rng.standard_normal((3, 4)))),
    (cases.softmax_cross_entropy, lambda rng: (rng.standard_normal(4),
                                               rng.standard_normal((3, 4)))),
    (cases.rnn, lambda rng: (rng.standard_normal(3), rng.standard_normal((3, 3)) * 0.5,
                             rng.standard_normal((5, 3)))),
    (cases.branches_break_continue, lambda rng: (rng.standard_normal(3),
                                                 rng.standard_normal((3, 3)))),
    (cases.writes_into_created_array, lambda rng: (rng.standard_normal(3),
                                                   rng.standard_normal((3, 3)))),
    (cases.two_layers, lambda rng: (rng.standard_normal((3, 3)), rng.standard_normal(3))),
]


@pytest.mark.parametrize("f, make_args", FUNCTIONS, ids=[f.__name__ for f, _ in FUNCTIONS])
def test_gradients_on_the_gpu_equal_numpy(f, make_args):
    args = make_args(np.random.default_rng(0))
    all_modes(f, args, tuple(range(len(args))))


def test_index_arrays_and_while_loops_on_the_gpu():
    rng = np.random.default_rng(1)
    all_modes(cases.gather_rows, (rng.standard_normal((4, 3)), np.array([2, 0, 2]),
                                  rng.standard_normal(3)), (0, 2))
    same_on_gpu(lambda x: srcad.grad(cases.halve_until_small)(x), rng.standard_normal(3) * 3)


@pytest.mark.parametrize("name, factory, shapes", cases.LAYERS, ids=[c[0] for c in cases.LAYERS])
def test_every_layer_on_the_gpu(name, factory, shapes):
    srcad.manual_seed(0)
    model = factory()
    rng = np.random.default_rng(2)
    inputs = [rng.standard_normal(shape) for shape in shapes]
    f = {(False, 1): cases.model_loss, (False, 2): cases.model_loss2,
         (True, 1): cases.sequence_loss, (True, 2): cases.sequence_loss2}[
        isinstance(model, nn.RNN), len(shapes)]
    expected = srcad.value_and_grad(f, wrt="model")(model, *inputs)
    model.to("cuda")
    got = srcad.value_and_grad(f, wrt="model")(model, *to_gpu(inputs))
    assert_on_gpu(got)
    cases.assert_same(to_cpu(got), expected, 1e-10)


@pytest.mark.parametrize("name, cls, shape, target", cases.LOSSES,
                         ids=[c[0] for c in cases.LOSSES])
def test_every_loss_on_the_gpu(name, cls, shape, target):
    rng = np.random.default_rng(3)
    criterion = cls()
    same_on_gpu(lambda x, t: srcad.value_and_grad(cases.criterion_loss, wrt=1)(criterion, x, t),
                rng.standard_normal(shape), target(rng))


@pytest.mark.parametrize("make_optimizer", cases.OPTIMIZERS, ids=range(len(cases.OPTIMIZERS)))
def test_optimizer_steps_on_the_gpu_equal_numpy(make_optimizer):
    rng = np.random.default_rng(4)
    theta = rng.standard_normal((64, 33))
    grads = [rng.standard_normal(theta.shape) for _ in range(5)]
    results = []
    for device in ("cpu", "cuda"):
        p = nn.Parameter(backend.to_device(theta.copy(), device))
        opt = make_optimizer([p])
        for g in grads:
            p.grad = backend.to_device(g, device)
            opt.step()
        results.append(backend.to_host(p.data))
    np.testing.assert_allclose(results[1], results[0], rtol=1e-10, atol=1e-12)
    assert any(key[1] == "cuda" for key in kernels._COMPILED)      # the fused kernel ran


def test_a_classifier_trains_on_the_gpu():
    rng = np.random.default_rng(5)
    centers = rng.standard_normal((3, 8)) * 3
    y = rng.integers(0, 3, 600)
    X = centers[y] + rng.standard_normal((600, 8))

    def train(device):
        srcad.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 3)).to(device)
        data = (backend.to_device(X, device), backend.to_device(y, device))
        history = nn.fit(model, cases.classifier_loss, optim.Adam(model.parameters(),
                                                                           lr=0.01),
                         data, dev=data, epochs=5, batch_size=64, progress=False, log=None)
        return history, model
    cpu, _ = train("cpu")
    gpu, model = train("cuda")
    assert all(isinstance(p.data, cupy.ndarray) for p in model.parameters())
    assert gpu["dev_accuracy"][-1] > 0.9
    assert gpu["train_loss"][-1] < gpu["train_loss"][0]
    np.testing.assert_allclose(gpu["train_loss"], cpu["train_loss"], rtol=1e-8)


def test_float32_training_step_stays_float32_on_the_gpu():
    srcad.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 4))
    for param in model.parameters():
        param.data = param.data.astype(np.float32)
    model.to("cuda")
    opt = optim.Adam(model.parameters(), lr=1e-3)
    X = cupy.asarray(np.random.default_rng(6).standard_normal((32, 16)), dtype=cupy.float32)
    y = cupy.asarray(np.arange(32) % 4)
    loss = nn.backward(cases.classifier_loss, model, X, y)
    opt.step()
    assert isinstance(loss, cupy.ndarray)
    assert all(p.data.dtype == cupy.float32 and isinstance(p.data, cupy.ndarray)
               for p in model.parameters())
