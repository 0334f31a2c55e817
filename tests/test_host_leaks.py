"""srcad on a device array library, without a GPU: every public path runs on `tests.leaky`'s
LeakyArray, which fails on any implicit copy to the host (as a CuPy array would cost one) and on
NumPy arrays mixed into device computations (which CuPy refuses). Each result must equal the
NumPy result and stay on the "device".

Covered: every derivative rule's case (tests/cases) in forward and reverse mode; grad,
value_and_grad, vjp, jvp, hvp of functions with loops, branches, writes into arrays and calls
of user functions; every nn layer and loss through `srcad.grad(wrt="model")`, `nn.backward` and
`nn.fit`; every optimizer step (LBFGS too), its state dict and `to`; clipping; the DataLoader
and checkpoints.
"""

import contextlib
import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import srcad
from tests import cases, leaky
from tests.crosscheck_functions import (
    broadcasting,
    elementwise_soup,
    reductions,
    shapes,
    softmax_cross_entropy,
)
from tests.leaky import LeakyArray, to_leaky, to_numpy


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


def assert_same(got, expected, rtol=1e-12):
    if isinstance(expected, (tuple, list)):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert_same(g, e, rtol)
    elif isinstance(expected, dict):
        assert list(got) == list(expected)
        for key in expected:
            assert_same(got[key], expected[key], rtol)
    else:
        assert np.shape(got) == np.shape(expected)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-14)


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
    parts = [rng.standard_normal(3) for _ in range(3)]
    same_on_device(lambda p, x: srcad.grad(list_of_arrays, wrt=(0, 1))(p, x), parts,
                   rng.standard_normal(3))


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
    "elementwise.asarray": "numpy.asarray(x)", "elementwise.asarray_list": "numpy.asarray",
    "elementwise.array": "numpy.array(x)", "elementwise.array_nested": "numpy.array",
    "elementwise.array_ndmin": "numpy.array(x)",
    "indexing.repeated_integer_indices": "a NumPy index array",
    "indexing.boolean_mask": "a NumPy mask", "generated_code.scatter_add": "a NumPy index",
    "linalg.undiag_of_matrix": "numpy.zeros((3, 4))",
    "linalg.dot_adjoint_right": "numpy.zeros((2, 4))",
    "shape.hstack_vstack_with_scalar": "numpy.vstack of Python floats",
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
