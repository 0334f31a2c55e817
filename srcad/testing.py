"""Gradient checking for srcad's derivatives, usable on any function and any custom rule.

In: a function, a tuple of arguments, which arguments to check, the modes (forward "fwd",
reverse "rev") and the order (1: first derivatives; 2: second derivatives of a scalar
function). Out: a `Report` of every comparison made (what, largest error, tolerance) when all
agree, else an `AssertionError` that says which argument, which element, what was expected and
what srcad gave.

Order 1: forward mode is compared with central finite differences along random directions;
reverse mode (the vector-Jacobian product) with the inner-product identity
`<J^T u, v> = <u, J v>`, where `J v` comes from forward mode and from finite differences, and
for small inputs element by element with the finite-difference gradient.
Order 2: the gradient is differentiated again, forward over reverse (`H v`, as `srcad.hvp`)
and reverse over reverse (`H^T u`), and compared with central differences of srcad's gradient.

    >>> import numpy as np
    >>> from srcad.testing import check_grads
    >>> def f(x):
    ...     return np.sum(np.sin(x) * x)
    >>> report = check_grads(f, (np.linspace(0.1, 1.0, 5),), order=2)
    >>> report.max_error < 1e-6
    True
"""

import numpy

from . import api, generation

FORWARD, REVERSE = "fwd", "rev"
_MODES = {"fwd": FORWARD, "forward": FORWARD, "rev": REVERSE, "reverse": REVERSE}
_ELEMENTWISE_LIMIT = 64


class Report:
    """The comparisons a check made: `checks` is a list of (what, largest error, tolerance)."""

    def __init__(self):
        self.checks = []

    @property
    def max_error(self):
        """The largest absolute difference between srcad and its reference in any check."""
        return max((error for _, error, _ in self.checks), default=0.0)

    def __str__(self):
        return "\n".join(f"{error:10.3e}  (tolerance {tol:.1e})  {what}"
                         for what, error, tol in self.checks)


def check_grads(f, args, modes=(FORWARD, REVERSE), order=1, wrt=None, eps=None, rtol=None,
                atol=None, seed=0):
    """Check srcad's derivatives of `f` at `args` (see the module doc); returns a `Report`.

    `wrt` picks arguments by index or name (default: every float argument); `modes` is a
    subset of ("fwd", "rev"); `order` 2 needs a scalar `f`.
    """
    args = tuple(args)
    modes = _modes(modes)
    if order not in (1, 2):
        raise ValueError(f"order={order!r}: check_grads checks order 1 or 2")
    eps = eps if eps is not None else (1e-6 if order == 1 else 1e-5)
    rtol = rtol if rtol is not None else (1e-5 if order == 1 else 1e-4)
    atol = atol if atol is not None else (1e-6 if order == 1 else 1e-5)
    params = generation.parameters(f)
    if wrt is None:
        wrt = tuple(i for i, a in enumerate(args) if _is_real(a))
    wrt = (wrt,) if isinstance(wrt, (int, str)) else tuple(wrt)
    positions = tuple(params.index(w) if isinstance(w, str) else w for w in wrt)
    checker = _Checker(f, args, positions, params, numpy.random.default_rng(seed), eps, rtol,
                       atol)
    if order == 1:
        checker.first(modes)
    else:
        checker.second(modes)
    return checker.report


def _modes(modes):
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    unknown = [m for m in modes if m not in _MODES]
    if unknown:
        raise ValueError(f"modes={modes!r}: each mode is 'fwd' or 'rev'")
    return {_MODES[m] for m in modes}


class _Checker:
    def __init__(self, f, args, positions, params, rng, eps, rtol, atol):
        self.f, self.args, self.positions = f, args, positions
        self.names = [f"argument `{params[p]}`" if p < len(params) else f"argument {p}"
                      for p in positions]
        self.rng, self.eps, self.rtol, self.atol = rng, eps, rtol, atol
        self.report = Report()

    def compare(self, got, expected, what):
        self.report.checks.append(_compare(got, expected, what, self.rtol, self.atol))

    def first(self, modes):
        f, args, positions = self.f, self.args, self.positions
        directions = [_random_like(args[p], self.rng) for p in positions]
        fd = _finite_difference(f, args, positions, directions, self.eps)
        jv = None
        if FORWARD in modes:
            _, jv = api.jvp(f, wrt=positions)(*args, *directions)
            self.compare(jv, fd, "forward mode (jvp) along a random direction: output")
        if REVERSE not in modes:
            return
        y, pullback = api.vjp(f, wrt=positions)(*args)
        u = _random_like_output(y, self.rng)
        grads = pullback(u)
        for position, name, g in zip(positions, self.names, grads):
            if isinstance(args[position], (list, tuple, dict)):
                continue                       # containers: checked by the identities below
            _check_shape(g, args[position], name)
            if numpy.size(args[position]) <= _ELEMENTWISE_LIMIT:
                expected = _finite_difference_gradient(f, args, position, u, self.eps)
                self.compare(g, expected, f"reverse mode (vjp), gradient of {name}")
        lhs = sum(_dot(g, v) for g, v in zip(grads, directions))
        self.compare(lhs, _dot(u, fd),
                     "reverse mode: <J^T u, v> against finite-difference <u, J v>")
        if jv is not None:
            self.compare(lhs, _dot(u, jv), "reverse mode: <J^T u, v> against forward-mode "
                                           "<u, J v>")

    def second(self, modes):
        """Second derivatives: srcad's H v (and H^T u) against differences of its gradient."""
        f, args, positions = self.f, self.args, self.positions
        gradient = api.grad(f, wrt=positions)
        directions = [_random_like(args[p], self.rng) for p in positions]
        fd = _finite_difference(gradient, args, positions, directions, self.eps)
        hv = None
        single = len(positions) == 1            # the raw gradient is then one array, no tuple
        if FORWARD in modes:
            _, hv = api.jvp(gradient, wrt=positions)(*args, *directions)
            hv = (hv,) if single else hv
            for name, got, expected in zip(self.names, hv, fd):
                self.compare(got, expected, f"forward over reverse (Hessian-vector product), "
                                            f"gradient of {name} along a random direction")
        if REVERSE in modes:
            _, pullback = api.vjp(gradient, wrt=positions)(*args)
            u = tuple(_random_like(args[p], self.rng) for p in positions)
            htu = pullback(u[0] if single else u)
            lhs = sum(_dot(g, v) for g, v in zip(htu, directions))
            self.compare(lhs, _dot(u, fd), "reverse over reverse: <H^T u, v> against "
                                           "finite-difference <u, H v>")
            if hv is not None:
                self.compare(lhs, _dot(u, hv), "reverse over reverse: <H^T u, v> against "
                                               "forward over reverse <u, H v>")


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


def _check_shape(g, x, name):
    if numpy.shape(g) != numpy.shape(x):
        raise AssertionError(f"the gradient of {name} has shape {numpy.shape(g)}, but the "
                             f"argument has shape {numpy.shape(x)}")


def _compare(got, expected, what, rtol, atol):
    """(what, largest error, tolerance) when `got` matches `expected`; else AssertionError
    naming the worst element."""
    if isinstance(expected, dict):
        return _worst([_compare(got[k], e, f"{what} [{k!r}]", rtol, atol)
                       for k, e in expected.items()], what)
    if isinstance(expected, (tuple, list)):
        return _worst([_compare(g, e, f"{what} {i}", rtol, atol)
                       for i, (g, e) in enumerate(zip(got, expected))], what)
    got = numpy.asarray(got, float)
    expected = numpy.asarray(expected, float)
    if got.shape != expected.shape:
        got = numpy.broadcast_to(got, expected.shape) if got.size == 1 else got
    if got.shape != expected.shape:
        raise AssertionError(f"{what}: srcad gives shape {got.shape}, expected "
                             f"{expected.shape}")
    scale = atol + rtol * max(1.0, float(numpy.max(numpy.abs(expected), initial=0.0)))
    error = numpy.abs(got - expected)
    bad = ~(error <= scale)
    if bad.any():
        index = numpy.unravel_index(int(numpy.argmax(numpy.where(bad, error, -1))), error.shape)
        where = f" at index {tuple(int(i) for i in index)}" if error.ndim else ""
        raise AssertionError(f"{what}{where}: srcad gives {float(got[index]):.10g}, expected "
                             f"{float(expected[index]):.10g} (tolerance {scale:.2e}; "
                             f"{int(bad.sum())} of {error.size} elements differ)")
    return what, float(numpy.max(error, initial=0.0)), scale


def _worst(checks, what):
    if not checks:
        return what, 0.0, 0.0
    return max(checks, key=lambda check: check[1])
