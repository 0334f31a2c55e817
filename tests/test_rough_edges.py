"""A newcomer's rough edges (issue 17, part 6) that have no better home: the training bar only
on a terminal, jvp's tangent type for float arguments."""

import io
import sys

import numpy as np

import srcad
from srcad import nn, optim

from .support.readme_functions import network, square


class _Terminal(io.StringIO):
    def isatty(self):
        return True


CRITERION = nn.CrossEntropyLoss()


def _loss(model, X, y):
    return CRITERION(model(X), y)


def _fit(monkeypatch, stderr):
    monkeypatch.setattr(sys, "stderr", stderr)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 3)), rng.integers(0, 2, 40)
    model = nn.Linear(3, 2)
    nn.fit(model, _loss,
           optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=2, batch_size=8, log=None)
    return stderr.getvalue()


def test_fit_draws_no_bar_into_a_piped_log(monkeypatch):
    assert _fit(monkeypatch, io.StringIO()) == ""              # not a terminal: no fragments
    shown = _fit(monkeypatch, _Terminal())
    assert "epoch 1/2" in shown and "epoch 2/2" in shown        # a terminal: the bar


def test_jvp_gives_a_float_for_float_arguments_as_grad_does():
    def f(x):
        return np.sin(x) * x

    value, tangent = srcad.jvp(f)(3.0, 1.0)
    assert type(tangent) is float and type(srcad.grad(f)(3.0)) is float
    assert tangent == srcad.grad(f)(3.0)
    assert type(srcad.jvp(square)(3.0, 1.0)[1]) is float
    _, tangent = srcad.jvp(f)(np.float32(3.0), np.float32(1.0))
    assert tangent.dtype == np.float32                           # NumPy scalars stay NumPy
    _, tangent = srcad.jvp(network, wrt=1)(np.ones(3), np.ones((2, 3)), np.ones((2, 3)))
    assert type(tangent) is np.float64                           # array arguments: unchanged
