"""srcad on a real `dask.distributed` cluster: a `LocalCluster` of two worker processes on
loopback (one thread each), started once for this module and shut down at its end, each step
bounded in time. Gradients and Hessian-vector products of the three GLMs, a Newton fit of
logistic regression (srcad's gradient and Hessian-vector products), and an MLP epoch over the
chunk-aligned DataLoader must equal the in-memory NumPy results to 1e-10; so must a Hessian
taken chunk by chunk on the workers (`srcad.over_chunks`). (LBFGS over Dask
data: tests/test_dask.py.)"""

import numpy as np
import pytest
from distributed import Client, LocalCluster

import srcad
from srcad import nn, optim
from srcad.data import DataLoader
from tests.support import glm
from tests.support.lazy_double import to_dask

TIMEOUT = "60s"


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None, memory_limit="512MiB",
                           worker_dashboard_address=None, silence_logs=40)
    client = Client(cluster, timeout=TIMEOUT)
    try:
        client.wait_for_workers(2, timeout=60)
        yield client
    finally:
        client.close(timeout=30)
        cluster.close(timeout=30)


def test_the_cluster_has_two_worker_processes(client):
    workers = client.scheduler_info()["workers"]
    assert len(workers) == 2
    assert all(address.startswith("tcp://127.0.0.1:") for address in workers)
    pids = client.run(lambda: __import__("os").getpid())
    assert len(set(pids.values())) == 2


@pytest.mark.parametrize("model", sorted(glm.MODELS))
def test_glm_gradient_and_hvp_on_the_cluster(client, model):
    loss, gradient, hessian = glm.MODELS[model]
    X, y = glm.data(model, n=1000)
    Xd, yd = to_dask(X, 4), to_dask(y, 4)
    b, v = np.linspace(-0.3, 0.3, 5), np.linspace(1.0, -1.0, 5)
    g = srcad.grad(loss)(b, Xd, yd)
    np.testing.assert_allclose(g, srcad.grad(loss)(b, X, y), rtol=1e-10)
    np.testing.assert_allclose(g, gradient(b, X, y), rtol=1e-10)
    hv = srcad.hvp(loss)(b, Xd, yd, v)
    np.testing.assert_allclose(hv, srcad.hvp(loss)(b, X, y, v), rtol=1e-10)
    np.testing.assert_allclose(hv, hessian(b, X) @ v, rtol=1e-10)
    with srcad.lazy():
        future = client.compute(srcad.grad(loss)(b, Xd, yd))
    np.testing.assert_allclose(future.result(timeout=60), g, rtol=1e-12)


def test_a_glm_fit_on_the_cluster(client):
    X, y = glm.data("logistic", n=1000)
    fitted = glm.fit_newton(glm.logistic, to_dask(X, 4), to_dask(y, 4), iterations=6)
    np.testing.assert_allclose(fitted, glm.fit_newton(glm.logistic, X, y, iterations=6),
                               rtol=1e-10, atol=1e-12)    # at the optimum: both runs agree
    assert np.abs(glm.MODELS["logistic"][1](fitted, X, y)).max() < 1e-8


def test_derivatives_over_chunks_on_the_cluster(client):
    X, y = glm.data("poisson", n=1000)
    b = np.linspace(-0.3, 0.3, 5)
    H = srcad.over_chunks(srcad.hessian, glm.poisson)(b, to_dask(X, 4), to_dask(y, 4))
    np.testing.assert_allclose(H, srcad.hessian(glm.poisson)(b, X, y), rtol=1e-10)
    np.testing.assert_allclose(H, glm.MODELS["poisson"][2](b, X), rtol=1e-10)


def test_an_mlp_epoch_on_the_cluster(client):
    rng = np.random.default_rng(4)
    X, labels = rng.standard_normal((96, 5)), rng.integers(0, 3, 96)
    states = []
    for data in ((X, labels), (to_dask(X, 4), to_dask(labels, 4))):
        srcad.manual_seed(1)
        model = glm.MLP()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        for xb, yb in DataLoader(*data, batch_size=8):
            assert type(xb) is np.ndarray
            opt.zero_grad()
            nn.backward(glm.mlp_loss, model, xb, yb)
            opt.step()
        states.append(model.state_dict())
    for key in states[0]:
        np.testing.assert_allclose(states[1][key], states[0][key], rtol=1e-10, atol=1e-12)
