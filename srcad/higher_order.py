"""Higher-order derivatives built from srcad's generated ones: Hessian-vector products
(forward over reverse), Jacobians (forward or reverse mode, whichever takes fewer passes for the
shapes) and Hessians.

In: a user function and `wrt`, as for `srcad.grad`. Out: callables whose calls return
`H @ v`, the Jacobian (shape: output shape + input shape) or the Hessian, and whose `source()`
is the generated code of the derivatives they are made of.
"""

import numpy

from . import runtime
from .api import Derivative
from .kinds import GRAD, JVP, VJP


class Composite:
    """A derivative built from other derivatives (hvp, jacobian, hessian)."""

    def __init__(self, name, parts):
        self.__name__ = name
        self._parts = parts

    def source(self):
        return "\n\n".join(part.source() for part in self._parts)

    @property
    def __srcad_source__(self):
        """The generated source (what `srcad.source` shows)."""
        return self.source()

    def __repr__(self):
        return f"<srcad {self.__name__}>"


class _Hvp(Composite):
    def __init__(self, func, wrt, jit=False):
        self._jvp = Derivative(Derivative(func, GRAD, wrt), JVP, wrt, jit)
        super().__init__(f"hvp_{getattr(func, '__name__', 'f')}", [self._jvp])

    def __call__(self, *args, **kwargs):
        return self._jvp(*args, **kwargs)[1]


def hvp(func=None, wrt=0, jit=False):
    """Hessian-vector product by forward mode over reverse mode: `hvp(f)(x, W, v)` is
    `H v`, with `H` the Hessian of the scalar `f` in the argument `wrt` (one argument);
    `jit=True` compiles it (see `srcad.grad`)."""
    if func is None:
        return lambda f: _Hvp(f, wrt, jit)
    return _Hvp(func, wrt, jit)


class _Jacobian(Composite):
    """The full Jacobian, by forward mode (one jvp per input element) or reverse mode (one
    pullback per output element), whichever takes fewer passes for the shapes at hand."""

    def __init__(self, func, wrt, mode, jit=False):
        if mode not in ("auto", "forward", "reverse"):
            raise ValueError(f"mode={mode!r}: choose 'auto', 'forward' or 'reverse'")
        self._func = func
        self._jvp = Derivative(func, JVP, wrt, jit)
        self._vjp = Derivative(func, VJP, wrt, jit) if mode != "forward" else None
        self._mode = mode
        self._single = self._jvp.single
        parts = [self._jvp] if self._vjp is None else [self._vjp, self._jvp]
        super().__init__(f"jacobian_{self._jvp.func.__name__}", parts)

    def __call__(self, *args):
        inputs = [args[p] for p in self._jvp.given_positions]
        if self._vjp is None:
            return self._finish(self._forward(args, inputs, self._func(*args)))
        y, pullback = self._vjp(*args)
        in_size = sum(numpy.size(x) for x in inputs)
        if self._mode == "auto" and in_size <= numpy.size(y):
            return self._finish(self._forward(args, inputs, y))
        return self._finish(self._reverse(pullback, inputs, y))

    def _finish(self, blocks):
        return blocks[0] if self._single else tuple(blocks)

    def _forward(self, args, inputs, y):
        blocks = []
        for k, x in enumerate(inputs):
            columns = []
            for basis in _basis(x):
                tangents = [basis if i == k else runtime.zeros_like(x_i)
                            for i, x_i in enumerate(inputs)]
                columns.append(_as_floats(self._jvp(*args, *tangents)[1]))
            stacked = numpy.stack(columns, axis=-1) if columns else numpy.zeros_like(
                y, shape=numpy.shape(y) + (0,), dtype=float)
            blocks.append(stacked.reshape(numpy.shape(y) + numpy.shape(x)))
        return blocks

    def _reverse(self, pullback, inputs, y):
        rows = [[] for _ in inputs]
        for basis in _basis(y):
            grads = pullback(basis)
            grads = (grads,) if self._single else grads
            for row, g in zip(rows, grads):
                row.append(_as_floats(g).ravel())
        return [numpy.stack(row).reshape(numpy.shape(y) + numpy.shape(x)) if row else
                numpy.zeros_like(y, shape=numpy.shape(y) + numpy.shape(x), dtype=float)
                for row, x in zip(rows, inputs)]


def _as_floats(value):
    """`value` as a float array of its own library (a NumPy array for a number)."""
    if hasattr(value, "astype"):
        return value.astype(float, copy=False)
    return numpy.asarray(value, dtype=float)


def _basis(x):
    """The unit vectors shaped like `x`, in `x`'s array library (floats for a scalar)."""
    shape = numpy.shape(x)
    if not shape:
        yield 1.0
        return
    size = int(numpy.prod(shape, dtype=int))
    for i in range(size):
        e = numpy.zeros_like(x, shape=(size,), dtype=float)
        e[i] = 1.0
        yield e.reshape(shape)


def jacobian(func=None, wrt=0, mode="auto", jit=False):
    """`jacobian(f)(x, W)` has shape `y.shape + x.shape`; `wrt` as in `grad` (a tuple gives one
    block per argument); mode 'forward', 'reverse' or 'auto' (fewer passes); `jit=True`
    compiles the derivatives it calls (see `srcad.grad`)."""
    if func is None:
        return lambda f: _Jacobian(f, wrt, mode, jit)
    return _Jacobian(func, wrt, mode, jit)


def hessian(func=None, wrt=0, jit=False):
    """The Hessian of a scalar function in one argument: forward mode over its generated
    gradient, one Hessian-vector product per input element (`jit=True`: compiled)."""
    if func is None:
        return lambda f: hessian(f, wrt, jit)
    hess = _Jacobian(Derivative(func, GRAD, wrt), wrt, "forward", jit)
    hess.__name__ = f"hessian_{getattr(func, '__name__', 'f')}"
    return hess
