"""The oracle for wide scenarios: every derivative srcad returns against central finite
differences of the CURRENT definition, and against HIPS autograd where autograd can run it.

In: a `Scenario` (tests/support/wide_strategy.py) and a seed for the argument values. Out: a
`Report`: how many derivative calls agreed, how many srcad refused with a `SrcadError`
(acceptable) and how many of those errors do not name the program's file (`unlocated`, also
failures), how many were skipped (the program fails or is not differentiable at the drawn
point, seen by its differences), how many calls were at a point where a linalg function has
no derivative, seen from its primal values (`degenerate`, tests/support/wide_degenerate.py),
and the `failures`: an exception from inside srcad that is not a SrcadError, or a
wrong number (a value, gradient, jvp, vjp or hvp off the differences; where autograd agrees
with srcad against the differences the call is counted as `disputed`, not failed).

The module is imported from a file holding every stage, stage 0 executed on import and stage i
executed at its step with its own line numbers in that file (as a notebook re-runs a cell), so
srcad can read the source of whatever a stage defines. The derivatives (`grad`, `jvp`, `vjp`
and `hvp` of `f`, the last against differences of the finite-difference gradient; for a model
`grad` of `loss` with respect to the model and to `x`) are made once, before the first step,
and called at each call step.
"""

import atexit
import os
import shutil
import sys
import tempfile
import traceback
import types
import warnings

import numpy as np

import srcad
from tests.support import wide_degenerate

STEP = 1e-6
TOLERANCE = 1e-4
OUTER = 1e-4              # the step of differences of a finite-difference gradient (hvp)
LARGEST = 1e6

_directory = tempfile.mkdtemp(prefix="srcad_wide_")
atexit.register(shutil.rmtree, _directory, ignore_errors=True)
_count = [0]


class Failure:
    """`kind` (what groups it: "internal ..." or "wrong ..."), `detail` and the step index."""

    def __init__(self, kind, detail, step):
        self.kind, self.detail, self.step = kind, detail, step

    def __repr__(self):
        return f"Failure({self.kind!r}, step {self.step})\n{self.detail}"


class Report:
    """Counts of derivative calls by outcome, and the failures."""

    def __init__(self):
        self.agreed = self.rejected = self.skipped = self.disputed = 0
        self.degenerate = 0         # calls at a point without a derivative (wide_degenerate)
        self.unlocated = 0          # SrcadErrors that do not name the program's file
        self.failures = []
        self.rejections = []

    def fail(self, kind, detail, step):
        self.failures.append(Failure(kind, detail, step))


class Staged:
    """A scenario's module: the file with every stage, stage 0 run; `run(i)` runs stage i.
    With `autograd`, a second namespace runs the same stages on autograd.numpy."""

    def __init__(self, scenario):
        _count[0] += 1
        self.name = f"srcad_wide_{os.getpid()}_{_count[0]}"
        self.path = os.path.join(_directory, self.name + ".py")
        self.offsets = scenario.offsets()
        with open(self.path, "w") as handle:
            handle.write(scenario.source())
        self.module = types.ModuleType(self.name)
        self.module.__file__ = self.path
        sys.modules[self.name] = self.module
        self.stages = scenario.stages
        self.autograd = self._autograd_namespace() if scenario.kind == "function" else None
        self.run(0)

    def _code(self, i, text):
        return compile("\n" * self.offsets[i] + text, self.path, "exec")

    def run(self, i):
        exec(self._code(i, self.stages[i]), self.module.__dict__)
        if self.autograd is not None:
            try:
                exec(self._code(i, self.stages[i].replace(
                    "import numpy as np", "import autograd.numpy as np")), self.autograd)
            except Exception:
                self.autograd = None

    def _autograd_namespace(self):
        try:
            import autograd  # noqa: F401
        except ImportError:
            return None
        return {"__name__": self.name + "_autograd"}

    def close(self):
        sys.modules.pop(self.name, None)
        os.remove(self.path)


def check_scenario(scenario, seed):
    """Take every step of `scenario` (see the module docstring); returns a `Report`."""
    rng = np.random.default_rng(seed)
    report = Report()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        staged = Staged(scenario)
        try:
            runner = (_ModelRunner if scenario.kind == "model" else _FunctionRunner)(
                staged, scenario, report, rng)
            for index, (what, k) in enumerate(scenario.steps):
                if what == "stage":
                    try:
                        staged.run(k)
                    except Exception:      # the change itself fails (`pop()` of nothing)
                        report.skipped += 1
                        break
                else:
                    runner.call(index, k, rng)
        finally:
            staged.close()
    return report


class _Runner:
    """Calls one derivative and sorts its outcome into the report."""

    def __init__(self, staged, scenario, report):
        self.staged, self.scenario, self.report = staged, scenario, report
        self.stage_seen = False

    def attempt(self, label, index, call):
        """`call()`'s result, or None after recording a SrcadError or an internal failure."""
        try:
            return call()
        except srcad.SrcadError as exc:
            self.report.rejected += 1
            self.report.rejections.append(f"{label}: {type(exc).__name__}: "
                                          f"{str(exc).splitlines()[0]}")
            if self.staged.path not in str(exc):     # it must name the user's line
                self.report.unlocated += 1
                self.report.fail(f"SrcadError naming no line of the program ({label}): "
                                 f"{str(exc).splitlines()[0][:90]}", traceback.format_exc(),
                                 index)
        except Exception as exc:
            where = _srcad_frame(exc)
            first = (str(exc).splitlines() or [""])[0][:90]
            self.report.fail(f"internal {type(exc).__name__} in {where} ({label}): {first}",
                             traceback.format_exc(), index)
        return None

    def compare(self, label, index, got, expected, autograd_value=None, tolerance=TOLERANCE):
        """Record agreement, a dispute (autograd sides with srcad), or a wrong number."""
        if _close(got, expected, tolerance):
            self.report.agreed += 1
            return
        if autograd_value is not None and _close(got, autograd_value) and \
                not _close(autograd_value, expected):
            self.report.disputed += 1
            return
        when = self.when(index)
        self.report.fail(f"wrong {label}{when}", f"srcad gives\n{got}\nfinite differences "
                         f"give\n{expected}\nautograd gives\n{autograd_value}", index)

    def when(self, index):
        """' after a later stage' / ' at another shape' for the failure's kind."""
        steps = self.scenario.steps[:index + 1]
        parts = []
        if any(what == "stage" for what, _ in steps):
            parts.append(" after a later stage")
        if steps[-1][1] != 0:
            parts.append(" at another shape")
        return "".join(parts)


class _FunctionRunner(_Runner):
    """grad, jvp and vjp of `f` in all its float arguments or a random subset of them (what
    depends only on the others must then carry no derivative), and hvp in the first of them,
    made once; each call step checks them at fresh arguments against differences of the
    current `f` (and autograd)."""

    def __init__(self, staged, scenario, report, rng):
        super().__init__(staged, scenario, report)
        f = staged.module.f
        count = len(scenario.shape_sets[0])
        self.wrt = tuple(range(count))
        if count > 1 and rng.random() < 0.5:
            self.wrt = tuple(i for i in range(count) if rng.random() < 0.5) or (count - 1,)
        self.made = {}
        for kind, make in (("grad", srcad.grad), ("jvp", srcad.jvp), ("vjp", srcad.vjp)):
            self.made[kind] = self.attempt(kind + " (made)", -1, lambda m=make: m(f, wrt=self.wrt))
        self.made["hvp"] = self.attempt("hvp (made)", -1,
                                        lambda: srcad.hvp(f, wrt=self.wrt[0]))

    def call(self, index, k, rng):
        """Check every derivative at arguments of the k-th shape set (step `index`)."""
        f = self.staged.module.f
        args = _arguments(self.scenario.shape_sets[k], self.scenario.scalars_as_floats, rng)
        try:
            with wide_degenerate.watching() as reasons:
                y = f(*_copies(args))
        except Exception:
            self.report.skipped += 1                 # the program itself fails here
            return
        if reasons:                                  # no derivative here: nothing to compare
            self.report.degenerate += 1
            return
        if np.ndim(y) != 0 or not _finite(y):
            self.report.skipped += 1
            return
        grads = [_fd_gradient(lambda d, i=i: f(*_moved(args, i, d)), args[i]) for i in self.wrt]
        if any(g is None for g in grads):
            self.report.skipped += 1
            return
        expected_auto = self.autograd(args)
        tangents = [_like(args[i], rng) for i in self.wrt]
        self.check_grad(index, args, y, grads, expected_auto)
        self.check_jvp(index, args, y, grads, tangents)
        self.check_vjp(index, args, y, grads, rng)
        self.check_hvp(index, args, tangents[0])

    def autograd(self, args):
        """autograd's gradients of the autograd copy of `f`, or None where it cannot run it."""
        namespace = self.staged.autograd
        if namespace is None or "f" not in namespace:
            return None
        try:
            import autograd
            return [autograd.grad(namespace["f"], i)(*_copies(args)) for i in self.wrt]
        except Exception:
            return None

    def check_grad(self, index, args, y, grads, auto):
        if self.made["grad"] is None:
            return
        got = self.attempt("grad", index, lambda: self.made["grad"](*_copies(args)))
        if got is not None:
            for i, g, e, a in zip(self.wrt, got, grads, auto or [None] * len(grads)):
                self.compare(f"grad x{i}", index, g, e, a)

    def check_jvp(self, index, args, y, grads, tangents):
        """jvp's value against `y`, its tangent against <fd gradient, tangents>."""
        if self.made["jvp"] is None:
            return
        got = self.attempt("jvp", index,
                           lambda: self.made["jvp"](*_copies(args), *tangents))
        if got is not None:
            expected = sum(_dot(g, t) for g, t in zip(grads, tangents))
            self.compare("jvp value", index, got[0], y)
            self.compare("jvp tangent", index, got[1], expected)

    def check_vjp(self, index, args, y, grads, rng):
        """vjp's value against `y`, its pullback of a random u against u * fd gradient."""
        if self.made["vjp"] is None:
            return
        made = self.attempt("vjp", index, lambda: self.made["vjp"](*_copies(args)))
        if made is None:
            return
        self.compare("vjp value", index, made[0], y)
        u = float(rng.standard_normal())
        pulled = self.attempt("vjp pullback", index, lambda: made[1](u))
        if pulled is not None:
            for i, g, e in zip(self.wrt, pulled, grads):
                self.compare(f"vjp x{i}", index, g, u * np.asarray(e))

    def check_hvp(self, index, args, v):
        """hvp in the first differentiated argument against central differences (step
        OUTER) of the finite-difference gradient along `v`; nothing at a kink."""
        if self.made["hvp"] is None:
            return
        f, i = self.staged.module.f, self.wrt[0]

        def gradient_at(step):
            moved = _moved(args, i, step * np.asarray(v))
            return _fd_gradient(lambda d: f(*_moved(moved, i, d)), moved[i])
        plus, here, minus = gradient_at(OUTER), gradient_at(0.0), gradient_at(-OUTER)
        if plus is None or here is None or minus is None:
            return
        central = (plus - minus) / (2 * OUTER)
        one_sided = (plus - here) / OUTER, (here - minus) / OUTER
        scale = max(1.0, float(np.max(np.abs(central), initial=0.0)))
        if np.any(np.abs(one_sided[0] - one_sided[1]) > 1e-2 * scale):
            return                                    # the gradient has a kink here
        got = self.attempt("hvp", index, lambda: self.made["hvp"](*_copies(args), v))
        if got is not None:
            self.compare(f"hvp x{i}", index, got, central, tolerance=1e-3)


class _ModelRunner(_Runner):
    """grad of `loss` with respect to the model (a dict by parameter name) and to `x`, made
    once; each call step checks them against differences in each distinct Parameter (a
    shared one once: its differences sum every use, as PyTorch's gradient does) and in `x`."""

    def __init__(self, staged, scenario, report, rng):
        super().__init__(staged, scenario, report)
        loss = staged.module.loss
        self.made = {"model": self.attempt("grad model (made)", -1,
                                           lambda: srcad.grad(loss, wrt=0)),
                     "x": self.attempt("grad x (made)", -1, lambda: srcad.grad(loss, wrt=1))}

    def call(self, index, k, rng):
        """Check both gradients at an `x` of the k-th shape (step `index`)."""
        module = self.staged.module
        model, loss = module.model, module.loss
        x = rng.uniform(-1.5, 1.5, self.scenario.shape_sets[k][0])
        try:
            y = loss(model, x.copy())
        except Exception:
            self.report.skipped += 1
            return
        if not _finite(y):
            self.report.skipped += 1
            return
        expected = {name: _fd_gradient(lambda d, p=p: _with_delta(p, d, loss, model, x), p.data)
                    for name, p in model.named_parameters()}
        expected_x = _fd_gradient(lambda d: loss(model, x + d), x)
        if expected_x is None or any(g is None for g in expected.values()):
            self.report.skipped += 1
            return
        if self.made["model"] is not None:
            got = self.attempt("grad model", index, lambda: self.made["model"](model, x.copy()))
            if got is not None:
                self.compare_dicts(index, got, expected)
        if self.made["x"] is not None:
            got = self.attempt("grad x", index, lambda: self.made["x"](model, x.copy()))
            if got is not None:
                self.compare("model grad x", index, got, expected_x)

    def compare_dicts(self, index, got, expected):
        """The same parameter names, and each gradient against its differences."""
        if not isinstance(got, dict) or sorted(got) != sorted(expected):
            keys = sorted(got) if isinstance(got, dict) else type(got).__name__
            self.report.fail("wrong model gradient keys", f"srcad gives {keys}, the model's "
                             f"parameters are {sorted(expected)}", index)
            return
        for name in expected:
            self.compare(f"model grad {'weight' if 'weight' in name else 'bias'}", index,
                         got[name], expected[name])


def _with_delta(param, delta, loss, model, x):
    saved = param.data
    param.data = saved + delta
    try:
        return loss(model, x.copy())
    finally:
        param.data = saved


def _srcad_frame(exc):
    """'file:function' of the innermost traceback frame inside srcad (or the last one)."""
    frames = traceback.extract_tb(exc.__traceback__)
    inside = [fr for fr in frames if f"{os.sep}srcad{os.sep}" in fr.filename
              or f"{os.sep}templates{os.sep}" in fr.filename]
    frame = (inside or frames or [None])[-1]
    if frame is None:
        return "?"
    return f"{os.path.basename(frame.filename)}:{frame.name}"


def _arguments(shapes, scalars_as_floats, rng):
    args = []
    for shape in shapes:
        value = rng.uniform(-1.5, 1.5, shape)
        args.append(float(value) if not shape and scalars_as_floats else value)
    return args


def _copies(args):
    return [np.array(a) if isinstance(a, np.ndarray) else a for a in args]


def _moved(args, i, delta):
    moved = _copies(args)
    moved[i] = args[i] + (float(delta) if isinstance(args[i], float) else delta)
    return moved


def _like(x, rng):
    return float(rng.standard_normal()) if isinstance(x, float) else \
        rng.standard_normal(np.shape(x))


def _finite(y):
    return bool(np.all(np.isfinite(y)) and np.all(np.abs(y) < LARGEST))


def _fd_gradient(evaluate, x):
    """Central differences of the scalar `evaluate(delta)` in each element of `x`'s shape;
    None at a kink (one-sided differences disagree) or where values are not finite."""
    shape = np.shape(x)
    grad = np.zeros(shape)
    try:
        here = float(evaluate(np.zeros(shape)))
        for index in np.ndindex(*shape):
            basis = np.zeros(shape)
            basis[index] = STEP
            plus, minus = float(evaluate(basis)), float(evaluate(-basis))
            if not (_finite(plus) and _finite(minus)):
                return None
            forward, backward = (plus - here) / STEP, (here - minus) / STEP
            central = (plus - minus) / (2 * STEP)
            if abs(forward - backward) > TOLERANCE * max(1.0, abs(central)):
                return None
            grad[index] = central
    except Exception:
        return None
    return grad


def _dot(a, b):
    return float(np.sum(np.asarray(a, dtype=float) * np.asarray(b, dtype=float)))


def _close(got, expected, tolerance=TOLERANCE):
    """Whether `got` is `expected` within TOLERANCE relative to the larger magnitude (False
    for a wrong shape or something that is not a number)."""
    try:
        got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return False
    if got.shape != expected.shape and not (got.size == expected.size == 1):
        return False
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    return bool(np.all(np.abs(got - expected) <= tolerance * scale))
