"""Higher-order derivatives built from srcad's generated ones: Hessian-vector products
(forward over reverse), Jacobians (forward or reverse mode, whichever takes fewer passes for the
shapes) and Hessians.

In: a user function and `wrt`, as for `srcad.grad`. Out: callables whose calls return
`H @ v`, the Jacobian (shape: output shape + input shape) or the Hessian, and whose `source()`
is the generated code of the derivatives they are made of.
"""

import numpy

from . import dispatch, models, runtime
from .api import Derivative
from .kinds import GRAD, GRAD_NESTED, JVP, VJP


class Composite:
    """A derivative built from other derivatives (hvp, jacobian, hessian)."""

    def __init__(self, name, parts):
        self.__name__ = name
        self._parts = parts

    def parts(self):
        """The derivatives it is made of."""
        return self._parts

    def source(self):
        return "\n\n".join(part.source() for part in self.parts())

    @property
    def __srcad_source__(self):
        """The generated source (what `srcad.source` shows)."""
        return self.source()

    def __repr__(self):
        return f"<srcad {self.__name__}>"


class _Hvp(Composite):
    def __init__(self, func, wrt, jit=False):
        self._func, self._wrt, self._jit, self._jvp = func, wrt, jit, None
        self._models = _ModelSecondOrder(func, wrt)
        super().__init__(f"hvp_{getattr(func, '__name__', 'f')}", [])

    def parts(self):
        """The derivatives it is made of (the forward over reverse one built on first use)."""
        return self._models.parts() or [self.plain()]

    def plain(self):
        """jvp of grad, for arguments that are not models."""
        if self._jvp is None:
            self._jvp = Derivative(Derivative(self._func, GRAD, self._wrt), JVP, self._wrt,
                                   self._jit)
        return self._jvp

    def __call__(self, *args, **kwargs):
        if self._models.applies(args, kwargs):
            return self._models.hvp(args[:-1], kwargs, args[-1])
        return self.plain()(*args, **kwargs)[1]


def hvp(func=None, wrt=0, jit=False):
    """Hessian-vector product by forward mode over reverse mode: `hvp(f)(x, W, v)` is
    `H v`, with `H` the Hessian of the scalar `f` in the argument `wrt` (one argument). For a
    model (`wrt="model"`), `v` and the result are dicts keyed like `named_parameters()`;
    `jit=True` compiles it (see `srcad.grad`; a model's runs with NumPy)."""
    if func is None:
        return lambda f: _Hvp(f, wrt, jit)
    return _Hvp(func, wrt, jit)


class _ModelSecondOrder:
    """Second derivatives of a scalar function in a model's parameters: forward mode (with
    respect to the model) over the closure-free gradient generated for the model's structure.

    In: the function and `wrt` (one parameter, given a model at call time). Out: `hvp(primals,
    kwargs, v)`, a dict keyed like `named_parameters()` (shared parameters summed, as `grad`
    sums them), and `hessian(primals, kwargs)`, a dict of dicts: `H[a][b]` holds the second
    derivatives in parameters `a` and `b`, shaped `a.shape + b.shape` (`jax.hessian`'s form for
    a dict of parameters).
    """

    def __init__(self, func, wrt):
        self.grad = Derivative(func, GRAD, wrt)
        self.jvps = {}                          # id of the gradient's code -> (code, its jvp)
        self.latest = None                      # the generated code the latest call ran

    def applies(self, args, kwargs):
        """True when the differentiated argument of a call (given `args`, `kwargs`) is a model."""
        if len(self.grad.wrt) != 1:
            return False
        name, position = self.grad.wrt[0], self.grad.given_positions[0]
        value = kwargs.get(name, args[position] if position < len(args) else None)
        return models.is_model(value)

    def parts(self):
        """The code of the latest call (forward over reverse), as `_Code`; none before one."""
        return [] if self.latest is None else [_Code(self.latest)]

    def hvp(self, primals, kwargs, v):
        model = self.model(primals, kwargs)
        code = self.grad._path.specialized(self.grad.pack(primals), kwargs, kind=GRAD_NESTED)
        if id(code) not in self.jvps:
            self.jvps[id(code)] = (code, Derivative(code.function, JVP, self.grad.wrt))
        jvp = self.jvps[id(code)][1]
        _, tangent = jvp(*primals, v, **kwargs)
        self.latest = jvp._path.specialized(primals, kwargs)
        return dispatch.model_gradients(tangent, model, set())

    def model(self, primals, kwargs):
        name, position = self.grad.wrt[0], self.grad.given_positions[0]
        return kwargs[name] if name in kwargs else primals[position]

    def hessian(self, primals, kwargs):
        named = models.layout(self.model(primals, kwargs)).named
        zeros = {key: numpy.zeros_like(p.data, dtype=float) for key, p in named}
        blocks = {a: {} for a, _ in named}
        for b, param in named:
            columns = {a: [] for a, _ in named}
            for basis in _basis(param.data):
                product = self.hvp(primals, kwargs, {**zeros, b: basis})
                for a, _ in named:
                    columns[a].append(_as_floats(product[a]))
            for a, p in named:
                shape = numpy.shape(p.data) + numpy.shape(param.data)
                blocks[a][b] = numpy.stack(columns[a], axis=-1).reshape(shape)
        return blocks


class _Code:
    """Generated code shown as a part of a composite derivative."""

    def __init__(self, generated):
        self.generated = generated

    def source(self):
        return self.generated.full_text()


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


class _Hessian(Composite):
    """The Hessian: forward mode over the generated gradient, one Hessian-vector product per
    input element; for a model, a dict of dicts of blocks (see `_ModelSecondOrder`)."""

    def __init__(self, func, wrt, jit=False):
        self._func, self._wrt, self._jit, self._plain = func, wrt, jit, None
        self._models = _ModelSecondOrder(func, wrt)
        super().__init__(f"hessian_{getattr(func, '__name__', 'f')}", [])

    def parts(self):
        return self._models.parts() or [self.plain()]

    def plain(self):
        if self._plain is None:
            self._plain = _Jacobian(Derivative(self._func, GRAD, self._wrt), self._wrt,
                                    "forward", self._jit)
        return self._plain

    def __call__(self, *args):
        if self._models.applies(args, {}):
            return self._models.hessian(args, {})
        return self.plain()(*args)


def hessian(func=None, wrt=0, jit=False):
    """The Hessian of a scalar function in one argument: forward mode over its generated
    gradient, one Hessian-vector product per input element (`jit=True`: compiled). For a
    model (`wrt="model"`), a dict of dicts keyed like `named_parameters()`: `H[a][b]` has
    shape `a.shape + b.shape`."""
    if func is None:
        return lambda f: hessian(f, wrt, jit)
    return _Hessian(func, wrt, jit)
