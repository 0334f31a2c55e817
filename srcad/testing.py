"""Gradient checking for srcad's derivatives, usable on any function and any custom rule.

In: a function, a tuple of arguments, and which arguments to check. Out: nothing when the
derivatives agree, else an `AssertionError` that says which argument, which element, what was
expected and what srcad gave. Forward mode is compared with central finite differences along
random directions; reverse mode (the vector-Jacobian product) with the inner-product identity
`<J^T u, v> = <u, J v>`, where `J v` comes from forward mode and from finite differences, and
for small inputs element by element with the finite-difference gradient.

    >>> import numpy as np
    >>> from srcad.testing import check_grads
    >>> def f(x):
    ...     return np.sin(x) * x
    >>> check_grads(f, (np.linspace(0.1, 1.0, 5),))
"""

import numpy

from . import api

FORWARD, REVERSE = "forward", "reverse"
_ELEMENTWISE_LIMIT = 64


def check_grads(f, args, wrt=None, modes=(FORWARD, REVERSE), eps=1e-6, rtol=1e-5, atol=1e-6,
                seed=0):
    """Check srcad's forward and/or reverse derivatives of `f` at `args` (see module doc)."""
    args = tuple(args)
    if wrt is None:
        wrt = tuple(i for i, a in enumerate(args) if _is_real(a))
    wrt = (wrt,) if isinstance(wrt, (int, str)) else tuple(wrt)
    positions = [api.parameters(f).index(w) if isinstance(w, str) else w for w in wrt]
    rng = numpy.random.default_rng(seed)
    directions = [_random_like(args[p], rng) for p in positions]
    fd = _finite_difference(f, args, positions, directions, eps)
    jv = None
    if FORWARD in modes:
        _, jv = api.jvp(f, wrt=tuple(positions))(*args, *directions)
        _compare(jv, fd, "forward mode (jvp) along a random direction", rtol, atol)
    if REVERSE in modes:
        y, pullback = api.vjp(f, wrt=tuple(positions))(*args)
        u = _random_like_output(y, rng)
        grads = pullback(u)
        lhs = sum(_dot(g, v) for g, v in zip(grads, directions))
        _compare(lhs, _dot(u, fd), "reverse mode: <J^T u, v> against finite-difference <u, J v>",
                 rtol, atol)
        if jv is not None:
            _compare(lhs, _dot(u, jv), "reverse mode: <J^T u, v> against forward-mode <u, J v>",
                     rtol, atol)
        for position, g in zip(positions, grads):
            if isinstance(args[position], (list, tuple, dict)):
                continue                       # containers: checked by the identities above
            _check_shape(g, args[position], position)
            if numpy.size(args[position]) <= _ELEMENTWISE_LIMIT:
                expected = _finite_difference_gradient(f, args, position, u, eps)
                _compare(g, expected, f"reverse mode, gradient of argument {position}",
                         rtol, atol)


def _is_real(a):
    if isinstance(a, float):
        return True
    return hasattr(a, "dtype") and a.dtype.kind == "f"


def _random_like(x, rng):
    if isinstance(x, (list, tuple)):
        return type(x)(_random_like(item, rng) for item in x)
    if isinstance(x, dict):
        return {key: _random_like(item, rng) for key, item in x.items()}
    if isinstance(x, float):
        return float(rng.standard_normal())
    return rng.standard_normal(numpy.shape(x)).astype(x.dtype)


def _random_like_output(y, rng):
    if isinstance(y, (tuple, list)):
        return type(y)(_random_like_output(e, rng) for e in y)
    if isinstance(y, (float, int)) or numpy.ndim(y) == 0:
        return float(rng.standard_normal())
    return rng.standard_normal(numpy.shape(y))


def _shifted(args, positions, directions, scale):
    new = list(args)
    for p, v in zip(positions, directions):
        new[p] = _step(args[p], v, scale)
    return new


def _step(x, v, scale):
    if isinstance(x, (list, tuple)):
        return type(x)(_step(a, b, scale) for a, b in zip(x, v))
    if isinstance(x, dict):
        return {key: _step(x[key], v[key], scale) for key in x}
    return x + scale * v


def _finite_difference(f, args, positions, directions, eps):
    plus = f(*_shifted(args, positions, directions, eps))
    minus = f(*_shifted(args, positions, directions, -eps))
    return _map(lambda a, b: (numpy.asarray(a, float) - numpy.asarray(b, float)) / (2 * eps),
                plus, minus)


def _finite_difference_gradient(f, args, position, u, eps):
    x = numpy.asarray(args[position], dtype=float)
    grad = numpy.zeros(x.shape)
    for index in numpy.ndindex(*x.shape):
        basis = numpy.zeros(x.shape)
        basis[index] = 1.0
        v = float(basis) if isinstance(args[position], float) else basis
        grad[index] = _dot(u, _finite_difference(f, args, [position], [v], eps))
    return grad


def _map(fn, a, b):
    if isinstance(a, dict):
        return {key: _map(fn, a[key], b[key]) for key in a}
    if isinstance(a, (tuple, list)):
        return type(a)(_map(fn, p, q) for p, q in zip(a, b))
    return fn(a, b)


def _dot(a, b):
    if isinstance(a, dict):
        return sum(_dot(a[key], b[key]) for key in a)
    if isinstance(a, (tuple, list)):
        return sum(_dot(p, q) for p, q in zip(a, b))
    return float(numpy.sum(numpy.asarray(a, float) * numpy.asarray(b, float)))


def _check_shape(g, x, position):
    if numpy.shape(g) != numpy.shape(x):
        raise AssertionError(f"gradient of argument {position} has shape {numpy.shape(g)}, "
                             f"but the argument has shape {numpy.shape(x)}")


def _compare(got, expected, what, rtol, atol):
    if isinstance(expected, (tuple, list)):
        for i, (g, e) in enumerate(zip(got, expected)):
            _compare(g, e, f"{what}, output {i}", rtol, atol)
        return
    got = numpy.asarray(got, float)
    expected = numpy.asarray(expected, float)
    if got.shape != expected.shape:
        got = numpy.broadcast_to(got, expected.shape) if got.size == 1 else got
    if got.shape != expected.shape:
        raise AssertionError(f"{what}: shape {got.shape}, expected {expected.shape}")
    scale = atol + rtol * max(1.0, float(numpy.max(numpy.abs(expected), initial=0.0)))
    error = numpy.abs(got - expected)
    bad = ~(error <= scale)
    if bad.any():
        index = numpy.unravel_index(int(numpy.argmax(numpy.where(bad, error, -1))), error.shape)
        where = f" at index {tuple(int(i) for i in index)}" if error.ndim else ""
        raise AssertionError(f"{what}{where}: srcad gives {got[index]!r}, expected "
                             f"{expected[index]!r} (tolerance {scale:.2e}, "
                             f"{int(bad.sum())} of {error.size} elements differ)")
