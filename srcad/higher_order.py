"""Higher-order derivatives built from srcad's generated ones: Hessian-vector products
(forward over reverse), Jacobians (forward or reverse mode, whichever takes fewer passes for the
shapes) and Hessians; forward mode pushes many directions at once as a batch of tangents
(`srcad.batching`), one at a time where the batch does not apply.

In: a user function and `wrt`, as for `srcad.grad`. Out: callables whose calls return
`H @ v`, the Jacobian (shape: output shape + input shape) or the Hessian, and whose `source()`
is the generated code of the derivatives they are made of.
"""

import numpy

from . import (
    backend,
    batching,
    dispatch,
    models,
    runtime,
    scaled_batch,  # noqa: F401  (sets batching.folding: batches keep scaling steps)
    unit_batch,
)
from .api import Derivative
from .kinds import GRAD, GRAD_NESTED, TANGENT, VJP

MAX_DIRECTIONS = 256     # directions per pass (more are pushed in groups of this size)
MAX_ELEMENTS = 2 ** 24   # in memory, k times the largest argument's size stays under this


class Composite:
    """A derivative built from other derivatives (hvp, jacobian, hessian)."""

    def __init__(self, name, parts):
        self.__name__ = name
        self._parts = parts

    def parts(self):
        """The derivatives it is made of."""
        return self._parts

    def source(self, *args, generic=False, **kwargs):
        """The source of its parts: the code the latest call ran, or with example arguments
        (those of a call of it), the code for calls like that one (see `srcad.source`)."""
        return "\n\n".join(part.source(*args, generic=generic, **kwargs)
                             if isinstance(part, (Derivative, Composite)) else part.source()
                             for part in self.parts())

    @property
    def __srcad_source__(self):
        """The generated source (what `srcad.source` shows)."""
        return self.source()

    def __repr__(self):
        return f"<srcad {self.__name__}>"


class _Hvp(Composite):
    unbatched_reason = None     # why the latest `batched` call went one direction at a time

    def __init__(self, func, wrt, jit=False):
        self._func, self._wrt, self._jit, self._jvp = func, wrt, jit, None
        self._models = _ModelSecondOrder(func, wrt)
        super().__init__(f"hvp_{getattr(func, '__name__', 'f')}", [])

    def parts(self):
        """The derivatives it is made of (the forward over reverse one built on first use)."""
        return self._models.parts() or [self.plain()]

    def plain(self):
        """The tangent of grad (forward over reverse, the tangent alone), for arguments that
        are not models."""
        if self._jvp is None:
            self._jvp = Derivative(Derivative(self._func, GRAD, self._wrt), TANGENT, self._wrt,
                                   self._jit)
        return self._jvp

    def __call__(self, *args, **kwargs):
        if self._models.applies(args, kwargs):
            return self._models.hvp(args[:-1], kwargs, args[-1])
        return self.plain()(*args, **kwargs)

    def batched(self, *args):
        """`hvp(f).batched(x, W, V)`: the products of the Hessian with every row of `V` (shape
        `(k,) + x.shape`), as one array of that shape, in one forward pass over the generated
        gradient when `srcad.batching` implements what it does (else one pass per row)."""
        *args, directions = args
        k = numpy.shape(directions)[0]
        self.unbatched_reason = None
        try:
            stacked = _pushed(self.plain(), args, [batching.Batch(directions)], k)
            return _computed(_as_floats(stacked))
        except Exception as exc:      # (an exception of the function itself: raised again)
            self.unbatched_reason = _reason(exc)
        rows = [_as_floats(self(*args, directions[i])) for i in range(k)]
        return numpy.stack(rows) if rows else numpy.zeros_like(directions, dtype=float)


def hvp(func=None, wrt=0, jit=False):
    """Hessian-vector product by forward mode over reverse mode: `hvp(f)(x, W, v)` is
    `H v`, with `H` the Hessian of the scalar `f` in the argument `wrt` (one argument);
    `hvp(f).batched(x, W, V)` gives `H v` for every row `v` of `V` in one pass. For a model
    (`wrt="model"`), `v` and the result are dicts keyed like `named_parameters()`; `jit=True`
    compiles it (see `srcad.grad`; a model's runs with NumPy)."""
    if func is None:
        return lambda f: _Hvp(f, wrt, jit)
    return _Hvp(func, wrt, jit)


class _ModelSecondOrder:
    """Second derivatives of a scalar function of arguments among which are models: forward
    mode over the closure-free gradient generated for the models' structure (a model is known
    at a call only, so this code is generated there).

    In: the function and `wrt` (one parameter; a call with a model among its arguments). Out:
    `hvp(primals, kwargs, v)` and `hessian(primals, kwargs)`. With respect to a model, the
    first is a dict keyed like `named_parameters()` (shared parameters summed, as `grad` sums
    them), the second a dict of dicts: `H[a][b]` holds the second derivatives in parameters `a`
    and `b`, shaped `a.shape + b.shape` (`jax.hessian`'s form for a dict of parameters); with
    respect to an array `x` (the model a setting), `H v` shaped like `x` and the Hessian shaped
    `x.shape + x.shape`.
    """

    def __init__(self, func, wrt):
        self.grad = Derivative(func, GRAD, wrt)
        self.jvps = {}                          # id of the gradient's code -> (code, its jvp)
        self.latest = None                      # the generated code the latest call ran

    def applies(self, args, kwargs):
        """True for a call (given `args`, `kwargs`) of a derivative in one argument with a
        model among its arguments."""
        return len(self.grad.wrt) == 1 and any(
            models.is_model(a) for a in (*args, *kwargs.values()))

    def parts(self):
        """The code of the latest call (forward over reverse), as `_Code`; none before one."""
        return [] if self.latest is None else [_Code(self.latest)]

    def hvp(self, primals, kwargs, v):
        model = self.model(primals, kwargs)
        code = self.grad._path.specialized(self.grad.pack(primals), kwargs, kind=GRAD_NESTED)
        if id(code) not in self.jvps:
            self.jvps[id(code)] = (code, Derivative(code.function, TANGENT, self.grad.wrt))
        jvp = self.jvps[id(code)][1]
        tangent = jvp(*primals, v, **kwargs)
        self.latest = jvp._path.specialized(primals, kwargs)
        if not models.is_model(model):
            return tangent
        return dispatch.model_gradients(tangent, model, set())

    def model(self, primals, kwargs):
        name, position = self.grad.wrt[0], self.grad.given_positions[0]
        return kwargs[name] if name in kwargs else primals[position]

    def hessian(self, primals, kwargs):
        x = self.model(primals, kwargs)
        if not models.is_model(x):              # one Hessian-vector product per element
            columns = [_as_floats(self.hvp(primals, kwargs, e)) for e in _basis(x)]
            return numpy.stack(columns, axis=-1).reshape(numpy.shape(x) * 2)
        named = models.layout(x).named
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
        self._jvp = Derivative(func, TANGENT, wrt, jit)     # (the tangents alone)
        self._vjp = Derivative(func, VJP, wrt, jit) if mode != "forward" else None
        self._mode = mode
        self._single = self._jvp.single
        self.unbatched_reason = None     # why the latest call's jvps went one at a time
        parts = [self._jvp] if self._vjp is None else [self._vjp, self._jvp]
        super().__init__(f"jacobian_{self._jvp.func.__name__}", parts)

    def __call__(self, *args):
        inputs = [args[p] for p in self._jvp.given_positions]
        if self._vjp is None:
            return self._finish(self._forward(args, inputs))
        y, pullback = self._vjp(*args)
        in_size = sum(numpy.size(x) for x in inputs)
        if self._mode == "auto" and in_size <= numpy.size(y):
            return self._finish(self._forward(args, inputs))
        return self._finish(self._reverse(pullback, inputs, y))

    def _finish(self, blocks):
        return blocks[0] if self._single else tuple(blocks)

    def _forward(self, args, inputs):
        """One block per input: the jvps of its unit vectors, pushed together in batches
        (`directions_per_pass`; one at a time where batching does not apply)."""
        blocks, self.unbatched_reason = [], None
        for k, x in enumerate(inputs):
            stacked, y_shape = None, None
            try:
                stacked, y_shape = self._batched_columns(args, inputs, k)
            except Exception as exc:      # (an exception of the function itself: raised again)
                self.unbatched_reason = _reason(exc)
            if stacked is None:
                stacked, y_shape = self._columns(args, inputs, k)
            blocks.append(numpy.moveaxis(stacked, 0, -1).reshape(y_shape + numpy.shape(x)))
        return blocks

    def _tangents(self, inputs, k, direction):
        return [direction if i == k else runtime.zeros_like(x_i) for i, x_i in enumerate(inputs)]

    def _batched_columns(self, args, inputs, k):
        """(the jvps of input k's unit vectors stacked on a first axis, the output's shape),
        computed (or lazy inside `srcad.lazy()`) all together."""
        x = inputs[k]
        size = int(numpy.size(x))
        parts, y_shape = [], None
        step = directions_per_pass(args)
        for start in range(0, size, step):
            directions = _unit_batch(x, start, start + step)
            stacked = _pushed(self._jvp, args, self._tangents(inputs, k, directions),
                              directions.directions)
            parts.append(_as_floats(stacked))
            y_shape = tuple(numpy.shape(stacked))[1:]      # (a tangent is shaped like y)
        if not parts:
            return None, None
        stacked = parts[0] if len(parts) == 1 else numpy.concatenate(parts)
        return _computed(stacked), y_shape

    def _columns(self, args, inputs, k):
        """As `_batched_columns`, one jvp per unit vector."""
        columns, y_shape = [], None
        for basis in _basis(inputs[k]):
            dy = self._jvp(*args, *self._tangents(inputs, k, basis))
            columns.append(_as_floats(dy))
            y_shape = tuple(numpy.shape(dy))
        if not columns:
            y = self._func(*args)
            return numpy.zeros_like(y, shape=(0,) + numpy.shape(y), dtype=float), \
                tuple(numpy.shape(y))
        return numpy.stack(columns), y_shape

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


def directions_per_pass(args):
    """How many directions to push at once: `MAX_DIRECTIONS`, fewer where k copies of the
    largest in-memory argument would pass `MAX_ELEMENTS` (the batch's intermediate values
    are k times one direction's; a Dask array's chunks bound them instead), at least one."""
    largest = max([int(numpy.size(a)) for a in args if hasattr(a, "shape")
                   and not backend.is_lazy(a)] + [1])
    return max(1, min(MAX_DIRECTIONS, MAX_ELEMENTS // largest))


def _unit_batch(x, start, stop):
    """The unit vectors shaped like `x` numbered `start` to `stop`, as one batch that knows
    they are unit vectors (`srcad.unit_batch`; floats, in `x`'s array library where it computes
    them)."""
    shape = tuple(numpy.shape(x))
    size = int(numpy.prod(shape, dtype=int))
    stop = min(stop, size)
    return unit_batch.UnitBatch(stop - start, size, start, shape,
                                module=backend.array_module(x))


def _unbatched(value, k):
    """The stacked array of directions of a tangent a batched call returned: a batch's own, or a
    primal value (a tangent that did not depend on the direction) repeated k times."""
    if isinstance(value, batching.Batch):
        return value.stacked
    if isinstance(value, (tuple, list, dict)):
        raise batching.BatchUnsupported("a tangent that is a sequence or dict")
    return numpy.broadcast_to(value, (k,) + tuple(numpy.shape(value)))


def _pushed(tangent, args, tangents, k):
    """The stacked array of the k directions of `dy`, the result of the `TANGENT` derivative
    `tangent` called once with tangents of which one or more are batches of k directions
    (lazy for Dask data)."""
    with backend.lazy():
        dy = tangent(*args, *tangents)
    return _unbatched(dy, k)


def _computed(value):
    """`value`, computed when it is a Dask array and results are not wanted lazy."""
    if backend.lazy_results() or not backend.is_lazy(value):
        return value
    return backend.compute_all(value)


def _reason(exc):
    """Why a batched call failed, in a line: the innermost `BatchUnsupported`, else the
    exception itself."""
    seen = exc
    while seen is not None:
        if isinstance(seen, batching.BatchUnsupported):
            return f"not batched: {seen}"
        seen = seen.__cause__ or seen.__context__
    return f"{type(exc).__name__}: {exc}"


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
    compiles the derivatives it calls (see `srcad.grad`).

    Forward mode pushes the unit vectors of an input through the generated jvp together, as
    one batch of tangents (`srcad.batching`; in groups where k copies of the largest argument
    would be too big, see `directions_per_pass`): one call of the generated code, not one per
    input element. Where the code does something the batch does not implement, it pushes them
    one at a time (the same numbers) and the Jacobian's `unbatched_reason` says why. On Dask
    data the result is computed in one pass (a Dask array inside `srcad.lazy()`)."""
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

    @property
    def unbatched_reason(self):
        """Why the latest call's Hessian-vector products went one at a time (None: batched)."""
        return None if self._plain is None else self._plain.unbatched_reason


def hessian(func=None, wrt=0, jit=False):
    """The Hessian of a scalar function in one argument: forward mode over its generated
    gradient, the Hessian-vector products with all the unit vectors pushed through it as one
    batch of tangents (one per input element where batching does not apply: see `jacobian`;
    `jit=True`: compiled). `hessian(f)(x, W)` has shape `x.shape + x.shape`. For a model
    (`wrt="model"`), a dict of dicts keyed like `named_parameters()`: `H[a][b]` has shape
    `a.shape + b.shape`."""
    if func is None:
        return lambda f: hessian(f, wrt, jit)
    return _Hessian(func, wrt, jit)
