"""Differential check of one generated program: srcad's forward and reverse mode against
central finite differences and against each other, with respect to all float arguments or a
random subset of them (then what depends only on the others must carry no derivative), and
optionally hvp against differences of the gradient.

In: a `Program` (tests/support/program_strategy.py) and a seed for its argument values.
Out: True when every check passed, False when the arguments sit at a point where the program has no
derivative or an infinite value (the caller discards the example), or an `AssertionError` that
quotes the program and says which check failed. Reused by tests/test_random_programs.py (CI)
and tests/fuzz.py (long runs).

A point has no derivative when the one-sided differences along a direction disagree (a branch
or trip count flips, an extremum changes hands, `abs` crosses 0); such points are rare for
random values and are skipped rather than avoided.
"""

import atexit
import importlib.util
import os
import shutil
import sys
import tempfile
import warnings

import numpy as np

import srcad

STEP = 1e-6
TOLERANCE = 1e-4          # finite differences against srcad, relative to the larger magnitude
AGREEMENT = 1e-8          # forward mode against reverse mode (no finite-difference noise)
LARGEST = 1e6             # values beyond this are discarded: differences lose their digits

_directory = tempfile.mkdtemp(prefix="srcad_programs_")
atexit.register(shutil.rmtree, _directory, ignore_errors=True)
_count = [0]


class Loaded:
    """A program imported from a file of its own (srcad reads functions' source files)."""

    def __init__(self, program):
        _count[0] += 1
        self.name = f"srcad_program_{os.getpid()}_{_count[0]}"
        self.path = os.path.join(_directory, self.name + ".py")
        with open(self.path, "w") as handle:
            handle.write(program.source)
        spec = importlib.util.spec_from_file_location(self.name, self.path)
        self.module = importlib.util.module_from_spec(spec)
        sys.modules[self.name] = self.module
        spec.loader.exec_module(self.module)

    def __enter__(self):
        return self.module

    def __exit__(self, *exc):
        sys.modules.pop(self.name, None)
        os.remove(self.path)


def arguments(program, rng):
    """Values for `f`: floats in [-1.5, 1.5] of the program's shapes, then `n` if it takes it."""
    args = []
    for shape in program.shapes:
        value = rng.uniform(-1.5, 1.5, shape)
        args.append(float(value) if not shape and program.scalars_as_floats else value)
    if program.takes_n:
        args.append(int(rng.integers(0, 4)))
    return args


def check_program(program, seed, second_order=False):
    """Run every check on `program` at arguments drawn from `seed` (see the module doc);
    with `second_order`, also hvp against differences of the gradient."""
    rng = np.random.default_rng(seed)
    with Loaded(program) as module, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return _check(program, module.f, arguments(program, rng), rng, second_order)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- program (seed {seed}) ---\n{program.source}") \
                from None


def _check(program, f, args, rng, second_order):
    wrt = _some_arguments(len(program.shapes), rng)
    y = f(*_copies(args))
    if not _finite(y):
        return False
    tangents = [_like(args[i], rng) for i in wrt]
    difference = _directional(f, args, wrt, tangents)
    if difference is None:
        return False
    y_forward, dy = srcad.jvp(f, wrt=wrt)(*_copies(args), *tangents)
    _close(y_forward, y, 1e-12, "jvp's value against the function's")
    _close(dy, difference, TOLERANCE, f"forward mode (jvp, wrt={wrt}) against finite "
           "differences")
    y_reverse, pullback = srcad.vjp(f, wrt=wrt)(*_copies(args))
    _close(y_reverse, y, 1e-12, "vjp's value against the function's")
    u = _like(y, rng)
    grads = pullback(u)
    for i, g in zip(wrt, grads):
        _same_form(g, args[i], i)
    _close(sum(_dot(g, t) for g, t in zip(grads, tangents)), _dot(u, dy), AGREEMENT,
           f"reverse mode <J^T u, t> against forward mode <u, J t> (wrt={wrt})")
    for i, g in zip(wrt, grads):
        expected = _gradient(f, args, i, u)
        if expected is None:
            return False
        _close(g, expected, TOLERANCE, f"reverse mode (vjp, wrt={wrt}), argument x{i}, "
               "against finite differences")
    if np.ndim(y) == 0:
        value, scalar_grads = srcad.value_and_grad(f, wrt=wrt)(*_copies(args))
        _close(value, y, 1e-12, "value_and_grad's value against the function's")
        ones = pullback(1.0)
        for i, g, one in zip(wrt, scalar_grads, ones):
            _same_form(g, args[i], i)
            _close(g, one, AGREEMENT, f"grad against vjp with cotangent 1, argument x{i}")
        if second_order:
            return _check_hvp(f, args, wrt[0], tangents[0])
    return True


def _some_arguments(count, rng):
    """All float arguments half of the time, else a random non-empty subset: a value that
    depends on arguments left out must then carry no derivative."""
    if count == 1 or rng.random() < 0.5:
        return tuple(range(count))
    chosen = tuple(i for i in range(count) if rng.random() < 0.5)
    return chosen or (int(rng.integers(count)),)


def _check_hvp(f, args, position, v):
    """hvp (forward over reverse) in one argument, against central differences of the
    (already checked) reverse-mode gradient, and vjp of the gradient (reverse over reverse)
    against it (the Hessian is symmetric); False at a kink of the gradient."""
    gradient = srcad.grad(f, wrt=position)

    def grad_along(step):
        moved = _copies(args)
        moved[position] = args[position] + step * v
        return np.asarray(gradient(*moved), dtype=float)
    plus, here, minus = grad_along(STEP), grad_along(0.0), grad_along(-STEP)
    forward, backward = (plus - here) / STEP, (here - minus) / STEP
    central = (plus - minus) / (2 * STEP)
    scale = max(1.0, float(np.max(np.abs(central), initial=0.0)))
    if not (_finite(plus) and _finite(minus)) or np.any(
            np.abs(forward - backward) > TOLERANCE * scale):
        return False
    hv = srcad.hvp(f, wrt=position)(*_copies(args), v)
    _close(hv, central, 10 * TOLERANCE, "hvp (forward over reverse) against differences of grad")
    _, pullback = srcad.vjp(gradient, wrt=position)(*_copies(args))
    _close(pullback(v), hv, AGREEMENT, "reverse over reverse (H^T v, the loops' stacks "
           "differentiated) against forward over reverse (H v)")
    return True


def _copies(args):
    """Fresh copies, so that a program that wrote into its arguments would be noticed."""
    return [np.array(a) if isinstance(a, np.ndarray) else a for a in args]


def _like(x, rng):
    if isinstance(x, float):
        return float(rng.standard_normal())
    return rng.standard_normal(np.shape(x))


def _finite(y):
    return bool(np.all(np.isfinite(y)) and np.all(np.abs(y) < LARGEST))


def _shifted(args, position, direction, step):
    moved = _copies(args)
    moved[position] = args[position] + step * direction
    return moved


def _directional(f, args, positions, directions):
    """Central difference of `f` along `directions` (one per position), or None at a point
    without a derivative or with non-finite values nearby."""
    def at(step):
        moved = _copies(args)
        for p, v in zip(positions, directions):
            moved[p] = args[p] + step * v
        return np.asarray(f(*moved), dtype=float)

    plus, here, minus = at(STEP), np.asarray(f(*_copies(args)), dtype=float), at(-STEP)
    if not (_finite(plus) and _finite(minus)):
        return None
    forward, backward = (plus - here) / STEP, (here - minus) / STEP
    central = (plus - minus) / (2 * STEP)
    scale = max(1.0, float(np.max(np.abs(central), initial=0.0)))
    if np.any(np.abs(forward - backward) > TOLERANCE * scale):
        return None                                  # a kink or a jump between the points
    return central


def _gradient(f, args, position, u):
    """Finite-difference gradient of `<u, f>` in argument `position`, or None (see above)."""
    x = args[position]
    grad = np.zeros(np.shape(x))
    for index in np.ndindex(*np.shape(x)):
        basis = np.zeros(np.shape(x))
        basis[index] = 1.0
        direction = float(basis) if isinstance(x, float) else basis
        column = _directional(f, args, [position], [direction])
        if column is None:
            return None
        grad[index] = _dot(u, column)
    return grad


def _dot(a, b):
    return float(np.sum(np.asarray(a, dtype=float) * np.asarray(b, dtype=float)))


def _same_form(g, x, i):
    if isinstance(x, float):
        assert isinstance(g, float), f"gradient of the float x{i} is a {type(g).__name__}"
    else:
        assert np.shape(g) == np.shape(x), (
            f"gradient of x{i} has shape {np.shape(g)}, x{i} has {np.shape(x)}")
        assert g.dtype == x.dtype, f"gradient of x{i} is {g.dtype}, x{i} is {x.dtype}"


def _close(got, expected, tolerance, what):
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    assert got.shape == expected.shape or got.size == expected.size == 1, (
        f"{what}: shape {got.shape}, expected {expected.shape}")
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    error = float(np.max(np.abs(got - expected), initial=0.0))
    assert error <= tolerance * scale, (
        f"{what}: srcad gives\n{got}\nexpected\n{expected}\n(error {error:.3g}, tolerance "
        f"{tolerance * scale:.3g})")
