"""Initializers (srcad.nn.init) and the seeded generator (srcad.seeding).

Distributions are checked by their bounds, shapes and sample moments over many draws, with
loose tolerances; fans and gains against PyTorch's definitions, and against torch's results
(tests/support/torch_parity.py: stored on every run, and torch itself where it is installed).
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes
from numpy.testing import assert_allclose, assert_array_equal

from srcad import seeding
from srcad.nn import Parameter, init
from tests.support import torch_parity

N = 200_000      # samples for moment checks: the standard error of a mean is ~0.2% of the std


@pytest.mark.parametrize("name, param, gain", [
    ("linear", None, 1), ("conv2d", None, 1), ("conv_transpose3d", None, 1),
    ("sigmoid", None, 1), ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)),
    ("selu", None, 0.75), ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("leaky_relu", 0, math.sqrt(2)),
])
def test_calculate_gain(name, param, gain):
    assert init.calculate_gain(name, param) == pytest.approx(gain, rel=1e-15)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape, fans", [((3, 5), (5, 3)), ((8, 3, 5, 5), (75, 200)),
                                         ((4, 2, 3), (6, 12))])
def test_fans(shape, fans):
    assert init.calculate_fan_in_and_fan_out(np.empty(shape)) == fans


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(np.empty(5))


def moments(x):
    return float(x.mean()), float(x.std())


def test_uniform_and_normal():
    seeding.manual_seed(0)
    u = init.uniform_(np.empty(N), -2.0, 3.0)
    assert u.min() >= -2.0 and u.max() <= 3.0
    mean, std = moments(u)
    assert mean == pytest.approx(0.5, abs=0.02)
    assert std == pytest.approx(5 / math.sqrt(12), rel=0.01)
    n = init.normal_(np.empty((N // 100, 100)), mean=1.5, std=0.25)
    mean, std = moments(n)
    assert mean == pytest.approx(1.5, abs=0.005) and std == pytest.approx(0.25, rel=0.01)


@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_xavier(gain):
    shape = (400, 100)                         # fan_in 100, fan_out 400
    std = gain * math.sqrt(2 / 500)
    u = init.xavier_uniform_(np.empty(shape), gain=gain)
    assert np.abs(u).max() <= math.sqrt(3) * std
    assert moments(u)[1] == pytest.approx(std, rel=0.02)
    n = init.xavier_normal_(np.empty(shape), gain=gain)
    assert abs(moments(n)[0]) < 0.05 * std and moments(n)[1] == pytest.approx(std, rel=0.02)


@pytest.mark.parametrize("a, mode, nonlinearity, fan", [
    (0.0, "fan_in", "leaky_relu", 100), (math.sqrt(5), "fan_in", "leaky_relu", 100),
    (0.0, "fan_out", "relu", 400), (0.0, "fan_in", "tanh", 100),
])
def test_kaiming(a, mode, nonlinearity, fan):
    shape = (400, 100)
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    u = init.kaiming_uniform_(np.empty(shape), a=a, mode=mode, nonlinearity=nonlinearity)
    assert np.abs(u).max() <= math.sqrt(3) * std
    assert moments(u)[1] == pytest.approx(std, rel=0.02)
    n = init.kaiming_normal_(np.empty(shape), a=a, mode=mode, nonlinearity=nonlinearity)
    assert moments(n)[1] == pytest.approx(std, rel=0.02)


def test_kaiming_errors_and_empty():
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(np.empty((2, 2)), mode="fan_avg")
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_normal_(np.empty((0, 3)))


@given(shape=array_shapes(min_dims=2, max_dims=4, max_side=5),
       dtype=st.sampled_from([np.float32, np.float64]),
       which=st.sampled_from(["xavier_uniform_", "kaiming_uniform_"]))
def test_uniform_initializers_keep_shape_dtype_and_bound(shape, dtype, which):
    w = np.full(shape, np.nan, dtype=dtype)
    out = getattr(init, which)(w)
    assert out is w and w.dtype == dtype and w.shape == shape
    fan_in, fan_out = init.calculate_fan_in_and_fan_out(w)
    if which == "xavier_uniform_":
        bound = math.sqrt(6 / (fan_in + fan_out))
    else:
        bound = math.sqrt(3) * math.sqrt(2) / math.sqrt(fan_in)
    assert np.all(np.abs(w) <= bound * (1 + 1e-6))


def test_parameters_are_filled_in_place_and_returned():
    p = Parameter(np.zeros((3, 4), dtype=np.float32))
    data = p.data
    assert init.kaiming_uniform_(p, a=math.sqrt(5)) is p
    assert p.data is data and p.data.dtype == np.float32 and np.any(p.data != 0)
    assert init.zeros_(p) is p and not p.data.any()
    assert_array_equal(init.ones_(p).data, np.ones((3, 4)))
    assert_array_equal(init.constant_(p, 0.5).data, np.full((3, 4), 0.5))


def test_non_contiguous_arrays_are_filled_like_contiguous_ones():
    seeding.manual_seed(3)
    base = np.zeros((4, 6))
    view = init.normal_(base[:, ::2])
    seeding.manual_seed(3)
    assert_array_equal(view, init.normal_(np.empty((4, 3))))
    assert not base[:, 1::2].any()


def test_integer_arrays_are_rejected():
    with pytest.raises(TypeError, match="floating-point"):
        init.normal_(np.zeros(3, dtype=int))


# -- seeding ---------------------------------------------------------------------------------
def test_manual_seed_makes_initialization_reproducible():
    seeding.manual_seed(0)
    a = init.xavier_normal_(np.empty((5, 7)))
    b = init.uniform_(np.empty(3))
    seeding.manual_seed(0)
    assert_array_equal(init.xavier_normal_(np.empty((5, 7))), a)
    assert_array_equal(init.uniform_(np.empty(3)), b)
    seeding.manual_seed(1)
    assert not np.array_equal(init.xavier_normal_(np.empty((5, 7))), a)


def test_same_draws_in_float32_and_float64():
    seeding.manual_seed(7)
    a = init.normal_(np.empty(10))
    seeding.manual_seed(7)
    b = init.normal_(np.empty(10, dtype=np.float32))
    assert_allclose(b, a.astype(np.float32))


def test_explicit_generator():
    a = init.uniform_(np.empty(4), generator=np.random.default_rng(5))
    assert_array_equal(a, np.random.default_rng(5).random(4))


def test_generator_is_one_object_reseeded_in_place():
    g = seeding.generator()
    assert seeding.manual_seed(11) is g and seeding.generator() is g
    assert_array_equal(g.standard_normal(3), np.random.default_rng(11).standard_normal(3))


@pytest.mark.parametrize("seed, error", [(-1, ValueError), (1.5, TypeError),
                                         ("0", TypeError), (True, TypeError)])
def test_manual_seed_validation(seed, error):
    with pytest.raises(error, match="seed"):
        seeding.manual_seed(seed)


def test_manual_seed_takes_numpy_integers():
    seeding.manual_seed(np.int64(4))
    assert_array_equal(seeding.generator().random(2), np.random.default_rng(4).random(2))


# -- the same fans, gains and kaiming bound as torch.nn.init (stored, and live) ----------------
def test_same_gains_and_fans_as_torch(torch_results):
    expected = torch_results("init")
    ours = [init.calculate_gain(name) for name in torch_parity.GAIN_NAMES]
    assert_allclose(ours, expected["gains"], rtol=1e-12)
    for shape, theirs in zip(torch_parity.FAN_SHAPES, expected["fans"], strict=True):
        assert init.calculate_fan_in_and_fan_out(np.empty(shape)) == tuple(theirs)
    w = init.kaiming_uniform_(np.empty((30, 20)), a=math.sqrt(5))
    bound = 1 / math.sqrt(20)                     # nn.Linear's documented init bound
    assert 0.9 * bound < expected["kaiming_max"] <= bound and np.abs(w).max() <= bound
