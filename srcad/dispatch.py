"""The call path of a derivative: the one owner of arguments -> key -> entry -> result.

In: a `Derivative` (its function, kind, `wrt`, and the arguments of each call). Out: the
call's result in the form of the input: a gradient shaped and typed like its argument (a float
for a float, for a model a dict keyed like its `named_parameters()`, each array owned, never an
input or another gradient), `(value, gradients)`, `(value, pullback)` or `(value, tangent)`.

A call's key is what its code depends on in the arguments: the types of the arguments, the
shapes and dtypes of NumPy arrays, for a model its structure and its parameters' shapes
(`models.layout`). `grad` and `value_and_grad` of such arguments get code specialized to the key
(at most `SPECIALIZATIONS` keys; more run the generic code), found again by the key on later
calls; `grad` and `value_and_grad` of arrays, numbers and models also get an `entry`: the
generated code compiled once more inside a check of the key (for a model its class, structure
key and parameter arrays, `model_entry`) and of every fact generation relied on (`guards`), so
that a call costs one Python call. Every route checks those facts before it runs code: a failed
check regenerates.
"""

import ast
import inspect
import linecache
import os
import types

import numpy

from . import backend, codegen, compiled, model_entry, models, runtime
from .errors import (
    NonScalarOutputError,
    RuleFailedError,
    ShapeMismatchError,
    SrcadError,
    WrtError,
)
from .generation import cached, signature, specializations
from .kinds import FORWARD, GRAD, GRAD_NESTED, TANGENT, VALUE_AND_GRAD
from .sparse import RowGrad

SPECIALIZATIONS = 8     # keys (shape signatures) per derivative; further ones run generic code
_ENTRY_KINDS = (GRAD, VALUE_AND_GRAD)   # the kinds whose routes get a compiled `entry`

_ndarray = numpy.ndarray
_FLOATS = (float, numpy.float64)
_PLAIN = (numpy.ndarray, float, int, numpy.float64, numpy.float32, type(None))
_CONTAINERS = (list, tuple, dict)


class CallPath:
    """The calls of one `Derivative` (see the module docstring)."""

    def __init__(self, derivative):
        self.d = derivative
        self.routes = {}            # key -> function(args), the checked fast route
        self.entry = None           # the compiled entry of the latest key (grad only)
        self.latest = None          # the route of the latest call (`_Ran` off the routes)
        self.general = None         # (Generated, its guard, its call) of the generic code
        self.fast = derivative.kind in (GRAD, VALUE_AND_GRAD) and derivative.receiver is None
        self.jit = derivative.jit   # compiled mode: code of each key compiled (`compiled`)
        self.jitted = {}            # id(Generated) -> its `compiled.PerKey` (compiled mode)
        self.unshaped = set()       # signatures whose shaped jvp failed to generate (`shaped_jvp`)
        self.ran = None             # the `compiled.PerKey` of the latest call (compiled mode)

    # ---- arguments -> key -> route ------------------------------------------------------------
    def __call__(self, args, kwargs):
        if not self.fast or kwargs:
            return self.call_general(args, kwargs)
        key = _key(args)
        route = self.routes.get(key) if key is not None else None
        if route is None:
            return self.first_call(key, args)
        self.entry, self.latest = route.entry, route
        self.ran = route.ran
        return route(args)

    def first_call(self, key, args):
        """Arguments of a key not seen before: code specialized to it, from now on found by
        the key (past `SPECIALIZATIONS` keys, or for arguments without a key, the generic
        path)."""
        d = self.d
        if key is None or max(d.positions) >= len(args) or len(self.routes) >= SPECIALIZATIONS:
            return self.call_general(args, {})
        check_inputs(d, args, {})
        route = self.routes[key] = _Route(self, args)
        self.entry, self.latest, self.ran = route.entry, route, route.ran
        result = route(args)
        if self.jit:                            # the key's code is compiled now
            self.entry = route.compiled(args)
        return result

    def runs(self, generated):
        """What runs `generated`: itself, or in compiled mode its code compiled per key."""
        if not self.jit:
            return generated
        return self.compiled_call(generated)[0]

    def compiled_call(self, generated):
        """Compiled mode: (`compiled.PerKey` of `generated`, its `_finished` call)."""
        pair = self.jitted.get(id(generated))
        if pair is None or pair[0].generated is not generated:
            per_key = compiled.PerKey(generated, _compiled_key)
            pair = self.jitted[id(generated)] = (per_key, _finished(self.d, per_key))
        self.ran = pair[0]
        return pair

    def forget(self):
        """Drop every route (what they relied on changed)."""
        self.routes.clear()
        self.jitted.clear()
        self.unshaped.clear()
        self.entry = self.latest = self.ran = None
        self.general = None
        self.d.refresh()

    def guard(self, generated):
        """One check of every fact the code relies on: `generated` and the derivatives it
        calls, and for a derivative of a derivative, the inner derivative's code."""
        own = closure_guard(generated)
        inner = self.d.inner_generated
        if inner is None:
            return own
        return lambda: own() and inner.valid()

    # ---- the general path ---------------------------------------------------------------------
    def call_general(self, args, kwargs):
        d = self.d
        if d.receiver is not None:
            args = (d.receiver,) + args
        backend.any_lazy(args)                  # (finds Dask before its arrays are used)
        if d.kind in FORWARD:
            return self.jvp(args, kwargs)
        if _special(args) or _special(kwargs.values()) or backend.any_lazy(args):
            generated = self.specialized(args, kwargs)      # (Dask arrays: their shapes)
            self.latest = _Ran(generated)
            if self.jit:
                return self.compiled_call(generated)[1](args, kwargs)
            return _finished(d, generated)(args, kwargs)
        generated = self.generic()
        self.latest = _Ran(generated)
        if self.jit:
            return self.compiled_call(generated)[1](args, kwargs)
        return self.general[2](args, kwargs)

    def generic(self):
        """The generic code (no shapes), checked: stale code is generated again."""
        general = self.general
        if general is None or not general[1]():
            self.d.refresh()
            generated = cached(self.d.func, self.d.kind, self.d.wrt, statics=self.d.statics)
            general = self.general = (generated, self.guard(generated),
                                      _finished(self.d, generated))
        return general[0]

    def specialized(self, args, kwargs, shapes=True, kind=None):
        """Code for calls like this one: for lists, tuples or dicts of arrays, specialized to
        which parameters hold them; for models, to their structure; for grad and
        value_and_grad of arrays, models and scalars, to their shapes (unless `shapes` is
        False: the code for any shapes). `kind`: another kind of code of the same function
        for such calls (the gradient's `GRAD_NESTED` variant)."""
        d = self.d
        kind = kind or d.kind
        if kind in FORWARD and shapes and not kwargs:
            shaped = self.shaped_jvp(args)
            if shaped is not None:
                return shaped
        if not (_special(args) or _special(kwargs.values())):
            if shapes and self.fast and not kwargs and self.may_specialize():
                return cached(d.func, kind, d.wrt, signature=signature(args))
            return self.generic() if kind == d.kind else cached(d.func, kind, d.wrt,
                                                                statics=d.statics)
        params = d.params
        names = {params[i] for i, a in enumerate(args) if type(a) in _CONTAINERS}
        names |= {k for k, v in kwargs.items() if type(v) in _CONTAINERS}
        statics = tuple((params[i], a) for i, a in enumerate(args) if models.is_model(a))
        shaped = shapes and self.fast and not kwargs and not names and self.may_specialize()
        return cached(d.func, kind, d.wrt, tuple(sorted(names)), d.statics + statics,
                      signature(args) if shaped else None)

    def shaped_jvp(self, primals):
        """The forward-mode code of a gradient (`hvp`, `hessian`) for calls with arrays and
        numbers of known shapes (NumPy or Dask): the transformed code of the gradient
        specialized to their shapes (where it has none of `unreduce`, `unbroadcast`, ...);
        None where that does not apply (the generic jvp then runs)."""
        d, inner = self.d, self.d.inner
        if (inner is None or inner.kind != GRAD or inner.adapts or inner.receiver is not None
                or d.receiver is not None or _special(primals)
                or len(primals) != len(inner.params) or not inner._path.fast):
            return None
        shapes = signature(primals)
        if None in shapes or shapes in self.unshaped or not inner._path.may_specialize():
            return None
        try:                        # (what `inner._path.specialized` gives, checked above)
            code = cached(inner.func, GRAD, inner.wrt, signature=shapes)
            if code.callees:        # (closure-free adjoints, as `api._inner_code` takes)
                code = cached(inner.func, GRAD_NESTED, inner.wrt, signature=shapes)
            return cached(code.function, d.kind, d.wrt, statics=d.statics,
                          signature=shapes if d.kind == TANGENT else None)
        except SrcadError:          # (what the specialized gradient calls has no forward
            self.unshaped.add(shapes)       # rule: the generic code's error, if any, is
            return None                     # the one to show)

    def may_specialize(self):
        """True while this function has fewer than `SPECIALIZATIONS` shape signatures cached
        (by any of its derivatives of this kind)."""
        d = self.d
        return specializations(d.func, d.kind, d.wrt) < SPECIALIZATIONS

    def jvp(self, args, kwargs):
        d = self.d
        k = len(d.wrt)
        primals, tangents = args[:-k], args[-k:]
        if kwargs or len(primals) != len(d.params):
            try:
                bound = inspect.signature(d.func).bind(*primals, **kwargs)
            except TypeError:
                bound = None
            if len(args) < k or bound is None:
                raise TypeError(f"{d.__name__} takes the arguments of {d.func.__name__} "
                                f"followed by {k} tangent(s), for {', '.join(d.wrt)}; got "
                                f"{len(args)} positional argument(s)") from None
            bound.apply_defaults()
            primals, kwargs = bound.args, bound.kwargs
        check_inputs(d, primals, kwargs)
        tangents = list(tangents)
        for i, (name_, position, tangent) in enumerate(zip(d.wrt, d.positions, tangents)):
            x = primals[position]
            if models.is_model(x):
                tangents[i] = _model_tangent(d, name_, x, tangent)
                continue
            if isinstance(x, _CONTAINERS) or isinstance(tangent, _CONTAINERS):
                continue
            if numpy.shape(tangent) != numpy.shape(x):
                raise ShapeMismatchError(
                    f"the tangent for `{name_}` has shape {numpy.shape(tangent)}, but "
                    f"`{name_}` has shape {numpy.shape(x)}: {d.__name__} takes one tangent "
                    f"per wrt argument, shaped like it, after the arguments", d.location())
        if any(models.is_model(a) for a in (*primals, *kwargs.values())):   # code for the
            generated = self.specialized(primals, kwargs)                   # models' structure
        else:
            generated = (None if kwargs else self.shaped_jvp(primals)) or self.generic()
        self.latest = _Ran(generated)
        result = self.runs(generated).function(*primals, *tangents, **kwargs)
        if backend.lazy_results() or not (backend.any_lazy(args) or backend.any_lazy(kwargs)):
            return result
        return backend.compute_all(result)


def _model_tangent(d, name_, model, tangent):
    """A model's tangent, a dict with the keys of its `named_parameters()` each shaped like its
    parameter, with an entry for each other path to a shared parameter too (generated code
    reads parameters by the path written); else a ShapeMismatchError that says so."""
    layout = models.layout(model)
    shapes = {path: numpy.shape(p) for path, p in layout.named}
    if not isinstance(tangent, dict) or set(tangent) != set(shapes) or any(
            numpy.shape(tangent[k]) != shape for k, shape in shapes.items()):
        raise ShapeMismatchError(
            f"the tangent for the model `{name_}` must be a dict keyed like its "
            f"named_parameters(), each entry shaped like its parameter: {shapes}",
            d.location())
    return {**tangent, **{alias: tangent[path] for alias, path in layout.aliases.items()}}


class _Ran:
    """The code a call off the fast routes ran, read by `source` as a route's `generated`."""

    __slots__ = ("generated",)

    def __init__(self, generated):
        self.generated = generated


class _Route:
    """The fast route of one key: its code, the facts it relies on, and the finished result."""

    __slots__ = ("path", "generated", "call", "guard", "entry", "ran")

    def __init__(self, path, args):
        d = path.d
        generated = self.generated = path.specialized(args, {})
        self.path = path
        self.guard = path.guard(generated)
        if not self.guard():
            raise SrcadError(f"srcad generated code for {d.func.__name__} whose checks fail "
                             "at once; this is a bug in srcad", d.location())
        self.ran = path.runs(generated)
        self.call = _fast_result(d, self.ran, args)
        self.entry = entry(d, generated, args, self.guard, path) \
            if d.kind in _ENTRY_KINDS and not path.jit else None

    def __call__(self, args):
        if not self.guard():
            self.path.forget()
            return self.path(args, {})
        return self.call(args)

    def compiled(self, args):
        """Compiled mode, after the key's first call: the route calls the compiled code
        directly; its entry (see `entry`) wraps it where it is a Python function."""
        d, code = self.path.d, self.ran.latest
        if code is None:                        # (nothing compiled for this key)
            return self.entry
        self.call = _fast_result(d, code, args)
        if d.kind in _ENTRY_KINDS and type(code.function) is types.FunctionType:
            self.entry = entry(d, compiled.View(self.generated, code), args, self.guard,
                               self.path)
        return self.entry


def _key(args):
    """What specialized code depends on in the arguments, or None for arguments that take
    the general path (containers, CuPy arrays, models with CuPy parameters)."""
    key = ()
    for a in args:
        kind = type(a)
        if kind is _ndarray:
            key += (a.shape, a.dtype)
        elif kind in _PLAIN:
            key += (kind,)
        elif models.is_model(a):
            layout = models.layout(a)
            key += (kind, layout.key)
            for _, param in layout.named:
                data = param.data
                if type(data) is not _ndarray:
                    return None
                key += (data.shape, data.dtype)
        else:
            return None
    return key


def _compiled_key(args):
    """Compiled mode's key: `_key`, or for arguments among which are CuPy arrays (the others
    numbers), their types, shapes and dtypes; None for other arguments."""
    key = _key(args)
    if key is not None or not any(backend.fused_kernels(a) for a in args):
        return key
    key = ("cupy",)
    for a in args:
        if backend.fused_kernels(a):
            key += (tuple(a.shape), a.dtype.name)
        elif type(a) in _PLAIN and type(a) is not _ndarray:
            key += (type(a),)
        else:
            return None
    return key


def _special(values):
    """True when a call has lists, tuples or dicts, or models, among its arguments."""
    for value in values:
        kind = type(value)
        if kind not in _PLAIN and (kind in _CONTAINERS or models.is_model(value)):
            return True
    return False


def closure_guard(generated):
    """One check of the facts that `generated` and every derivative it calls rely on."""
    checks = tuple(g.guards.holds for g in generated.reachable() if g.guards is not None)
    if len(checks) == 1:
        return checks[0]
    return lambda: all(check() for check in checks)


# ---- result in the form of the input ----------------------------------------------------------
def inputs(args):
    """The ids of the arguments (the items of a list), of the arrays they view, and of
    models' parameter arrays: what gradients must not be or view (`runtime.owned`)."""
    seen = set()
    for a in args:
        if type(a) not in _FLOATS and type(a) is not _ndarray and models.is_model(a):
            seen.add(id(a))
            a = [param.data for _, param in models.layout(a).named]
        for array in a if type(a) is list else (a,):
            seen.add(id(array))
            base = getattr(array, "base", None)
            if base is not None:
                seen.add(id(base))
    return seen


def finish(g, x, seen, keep_rows=False, args=()):
    """The gradient `g` of the input `x` in the form of `x`, owning its memory: a fresh array
    of `x`'s shape and dtype, a float for a float, for a model a dict keyed like its
    `named_parameters()` (`model_gradients`); its id joins `seen`. An array numba allocated
    that shares no memory with the arrays among `args` is fresh too (`compiled.fresh`)."""
    if type(x) is _ndarray:
        if not (type(g) is _ndarray and g.dtype is x.dtype and g.shape == x.shape
                and (g.base is None or (args and compiled.fresh(g, args)))):
            g = runtime.as_gradient(g, x)
        g = runtime.owned(g, seen)
    elif type(x) is float and type(g) in _FLOATS:
        g = float(g)
    elif models.is_model(x):
        g = model_gradients(g, x, seen, keep_rows)
    else:
        g = runtime.owned(runtime.as_gradient(g, x), seen)
    seen.add(id(g))
    return g


def model_gradients(grads, model, seen, keep_rows=False):
    """The generated code's dict of a model's gradients keyed like its `named_parameters()`:
    the gradients of every path that reaches one parameter summed (weight tying, a module used
    twice, as PyTorch does), zeros for parameters the output does not reach, each owned (see
    `inputs`); with `keep_rows`, row-sparse gradients (`RowGrad`) stay sparse."""
    layout = models.layout(model)
    if layout.aliases and grads:
        grads = dict(grads)
        for path, canonical in layout.aliases.items():
            g = grads.pop(path, None)
            if g is not None:
                grads[canonical] = g if canonical not in grads else _add(grads[canonical], g)
    out = {}
    for name, param in layout.named:
        x, g = param.data, grads.get(name)
        if g is None:
            g = runtime.zeros_like(x)
        elif keep_rows and isinstance(g, RowGrad):
            out[name] = g
            continue
        elif not (type(g) is _ndarray and g.dtype == x.dtype and g.shape == x.shape):
            g = runtime.as_gradient(g, x)
        out[name] = runtime.owned(g, seen)
    return out


def _add(a, b):
    """The sum of two gradients of one parameter (row-sparse ones made dense)."""
    a = a.dense() if isinstance(a, RowGrad) else a
    b = b.dense() if isinstance(b, RowGrad) else b
    return a + b


def gradients(d, grads, args, kwargs):
    """The raw gradients of the generated code (one, or a tuple) finished (see `finish`)."""
    xs = [args[p] if p < len(args) else keyword(d, i, kwargs)
          for i, p in enumerate(d.positions)]
    seen = inputs(list(args) + list(kwargs.values()))
    out = []
    for g, x in zip((grads,) if len(xs) == 1 else grads, xs):     # compiled mode: numba's
        arrays = tuple(args) + tuple(out) if d.jit else ()          # arrays share no memory
        out.append(finish(g, x, seen, d.keep_rows, arrays))
    return out[0] if d.single else tuple(out)


def _fast_result(d, generated, args):
    """The call of a fast route: the generated function, then `gradients` with the common
    cases inline (a fresh array of the input's kind returned as it is)."""
    function = generated.function
    position = d.positions[0]
    x = args[position]
    shape, dtype = (x.shape, x.dtype) if type(x) is _ndarray else (None, None)

    def result(grads, args):
        if d.single and shape is not None and type(grads) is _ndarray and \
                grads.dtype is dtype and grads.shape == shape and \
                (grads.base is None or compiled.fresh(grads, args)) and \
                not any(a is grads for a in args):
            return grads
        return gradients(d, grads, args, {})

    def grad_call(args):
        try:
            return result(function(*args), args)
        except NonScalarOutputError as exc:
            raise NonScalarOutputError(exc.message, generated.return_location) from None

    def value_and_grad_call(args):
        try:
            value, grads = function(*args)
        except NonScalarOutputError as exc:
            raise NonScalarOutputError(exc.message, generated.return_location) from None
        return value, result(grads, args)

    return grad_call if d.kind == GRAD else value_and_grad_call


def _finished(d, generated):
    """The general call of `generated` for the derivative's kind: inputs checked, results
    finished; a pullback checks its cotangent."""
    function = generated.function

    def run(args, kwargs):
        check_inputs(d, args, kwargs)
        try:
            return function(*args, **kwargs)
        except NonScalarOutputError as exc:
            raise NonScalarOutputError(exc.message, generated.return_location) from None

    if d.kind == GRAD:
        return lambda args, kwargs: computed(d, None, gradients(d, run(args, kwargs), args,
                                                                kwargs), args, kwargs)[1]
    if d.kind == VALUE_AND_GRAD:
        def value_and_grad_call(args, kwargs):
            value, grads = run(args, kwargs)
            return computed(d, value, gradients(d, grads, args, kwargs), args, kwargs)
        return value_and_grad_call

    def vjp_call(args, kwargs):
        value, pullback = run(args, kwargs)

        def checked_pullback(cotangent):
            check_cotangent(d, cotangent, value, generated.return_location)
            try:
                grads = pullback(cotangent)
            except SrcadError:
                raise
            except Exception as exc:                # a rule failing: at the user's line
                failure = relocated(exc)
                if failure is None:
                    raise
                raise failure from exc
            return computed(d, None, gradients(d, grads, args, kwargs), args, kwargs)[1]
        return value, checked_pullback
    return vjp_call


def computed(d, value, grads, args, kwargs):
    """`(value, grads)` of a call with Dask arrays among its arguments, computed in one pass
    over their graph: the value and the gradients of every input that is not a Dask array,
    which come back in its form (NumPy arrays, floats); the gradients of Dask inputs stay Dask
    arrays. Inside `srcad.lazy()`, and for calls without Dask arrays, as they are."""
    if backend.lazy_results() or not (backend.any_lazy(args) or backend.any_lazy(kwargs)):
        return value, grads
    xs = [args[p] if p < len(args) else keyword(d, i, kwargs)
          for i, p in enumerate(d.positions)]
    gs = (grads,) if d.single else grads
    wanted = [g for g, x in zip(gs, xs) if not backend.is_lazy(x)]
    value, wanted = backend.compute_all((value, wanted))
    seen = inputs(list(args) + list(kwargs.values()))
    done = iter(wanted)
    out = [g if backend.is_lazy(x) else finish(next(done), x, seen) for g, x in zip(gs, xs)]
    return value, out[0] if d.single else tuple(out)


# ---- checks -----------------------------------------------------------------------------------
def keyword(d, i, kwargs):
    """The value of the i-th `wrt` parameter when not given positionally."""
    name = d.wrt[i]
    if name in kwargs:
        return kwargs[name]
    return inspect.signature(d.func).parameters[name].default


def check_inputs(d, args, kwargs):
    """A clear error when a `wrt` argument cannot carry a derivative (None, an integer, a
    boolean or integer array, a string, a complex number)."""
    for i, position in enumerate(d.positions):
        x = args[position] if position < len(args) else keyword(d, i, kwargs)
        if type(x) is float or (type(x) is _ndarray and x.dtype.kind == "f"):
            continue
        problem = _not_differentiable(x)
        if problem:
            raise WrtError(f"cannot differentiate {d.func.__name__} with respect to "
                           f"`{d.wrt[i]}`: it is {problem}; pass a float or a float "
                           f"array, or leave it out of wrt", d.location())


def _not_differentiable(x):
    """Why `x` cannot carry a derivative, or None when it can."""
    if x is None or isinstance(x, (str, bytes)):
        return f"{x!r}"
    if isinstance(x, (bool, int)) and not isinstance(x, float):
        return f"an integer ({x!r})"
    if isinstance(x, complex):
        return f"a complex number ({x!r}); srcad differentiates real functions"
    dtype = getattr(x, "dtype", None)
    kind = getattr(dtype, "kind", "f")
    if dtype is not None and kind in "biu":
        return f"an array of {dtype}"
    if dtype is not None and kind == "c":
        return f"an array of {dtype}; srcad differentiates real functions"
    if isinstance(x, (list, tuple)):
        return next((p for p in map(_not_differentiable, x) if p), None)
    if isinstance(x, dict):
        return next((p for p in map(_not_differentiable, x.values()) if p), None)
    return None


def check_cotangent(d, cotangent, value, location, path=""):
    """A clear error when a pullback's cotangent is not shaped like the output."""
    if isinstance(value, (tuple, list)):
        if not isinstance(cotangent, (tuple, list)) or len(cotangent) != len(value):
            raise ShapeMismatchError(
                f"the pullback of {d.func.__name__} takes a cotangent shaped like its "
                f"output{path}: a {type(value).__name__} of {len(value)}, not "
                f"{_describe(cotangent)}", location)
        for i, (c, v) in enumerate(zip(cotangent, value)):
            check_cotangent(d, c, v, location, f"{path}[{i}]")
        return
    if isinstance(value, dict) or isinstance(cotangent, (tuple, list, dict)):
        return
    shape, expected = numpy.shape(cotangent), numpy.shape(value)
    if shape != expected:
        raise ShapeMismatchError(
            f"the pullback of {d.func.__name__} takes a cotangent shaped like its "
            f"output{path}, {expected}, not {shape}", location)


def _describe(value):
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a value of shape {numpy.shape(value)}"


# ---- the compiled entry -----------------------------------------------------------------------
def entry(d, generated, args, guard, fallback):
    """For `grad` (and `value_and_grad`: the value returned as the code gives it) of arguments
    that are NumPy arrays, numbers and models: the generated
    function's code with the call path around it, compiled as one function of the arguments: a
    check (these types, shapes and dtypes, for a model its class, structure and parameter
    arrays (`model_entry`), and every fact of `generated.guards`; `guard` for the facts of the
    derivatives it calls), else `fallback(args, {})`; the code; and the gradients returned as
    they are when each is a fresh array of its input's kind, a float for a float, for a model
    the dict the code built when it is keyed like `named_parameters()` with fresh arrays of the
    parameters' shapes and dtypes (else `gradients` makes them so). One Python call instead of
    three; None where that does not apply. What `source()` shows stays the plain function."""
    form = _entry_form(d, generated, args)
    if form is None:
        return None
    params, results, kinds = form
    value = results[0] + ", " if d.kind == VALUE_AND_GRAD else ""
    results = results[1:] if value else results
    function = generated.function
    names = _EntryNames(function)
    star, ok = names.local("srcad_args"), names.local("srcad_ok")
    checks, arrays = [], []
    for i, (p, kind) in enumerate(zip(params, kinds)):
        text, checked = _check(p, kind, i, names)
        checks.append(text)
        arrays += checked
    facts = generated.guards.conditions(names.bind) if generated.guards is not None else []
    if generated.callees or d.inner is not None:
        facts.append(f"{names.bind(guard, 'srcad_guard')}()")
    new = () if d.jit else _new_arrays(generated.text, results)
    fresh, returned = _fresh_results(d, generated, results, kinds, arrays, names, star, new)
    lines = generated.text.splitlines()
    body = "\n".join(" " * 8 + line if line else ""
                     for line in lines[_header_lines(generated.text):-1])
    finisher = names.bind(lambda grads, args: gradients(
        d, grads if len(grads) > 1 else grads[0], args, {}), "srcad_finish")
    text = (f"def {function.__name__}(*{star}):\n"
            f"    if {names.bind(len, 'srcad_len')}({star}) == {len(args)}:\n"
            f"        {', '.join(params)}, = {star}\n"
            f"        if {' and '.join(checks)}:\n"
            f"            try:\n"
            f"                {ok} = {' and '.join(facts) or 'True'}\n"
            f"            except Exception:\n"
            f"                {ok} = False\n"
            f"        else:\n"
            f"            {ok} = False\n"
            f"        if {ok}:\n"
            f"{body}\n"
            f"            if {' and '.join(fresh) or 'True'}:\n"
            f"                return {value}{returned}\n"
            f"            return {value}{finisher}(({', '.join(results)},), {star})\n"
            f"    return {names.bind(fallback, 'srcad_fallback')}({star}, {{}})\n")
    return codegen.compile_function(text, function.__name__, function.__globals__, names.bound,
                                    codegen.ORIGINS.get(function.__code__.co_filename))


def _check(p, kind, i, names):
    """(the entry's check of the argument named `p` of `_kind` `kind`, the pairs (name,
    (shape, dtype)) of the arrays it checked: the argument, or a model's parameter arrays)."""
    if isinstance(kind, model_entry.Model):
        text, arrays = model_entry.condition(p, kind, names.bind, names.local)
        return text, [(a, (shape, dtype)) for a, (_, shape, dtype) in zip(arrays, kind.params)]
    kind, shape, dtype = kind
    type_ = names.bind(type, "srcad_type")
    if kind is _ndarray:
        t = names.bind(dtype, f"srcad_type_{i}")
        return (f"{type_}({p}) is {names.bind(_ndarray, 'srcad_ndarray')} and "
                f"{p}.shape == {shape!r} and {p}.dtype is {t}"), [(p, (shape, dtype))]
    return f"{type_}({p}) is {names.bind(kind, f'srcad_type_{i}')}", []


def _entry_form(d, generated, args):
    """(parameter names, names of the returned gradients, `_kind` of each argument) of code an
    entry can wrap: one `return` of names, last; no string over several lines (indenting it
    would change it); no seed of a non-scalar output. None for other code."""
    kinds = [_kind(a) for a in args]
    text = generated.text
    lines = text.splitlines()
    if None in kinds or "grad_seed(" in text or '"""' in text or "'''" in text \
            or not lines[-1].startswith("    return ") \
            or any(line.startswith("    return ") for line in lines[1:-1]):
        return None
    code = generated.function.__code__
    params = code.co_varnames[:code.co_argcount]
    results = lines[-1][len("    return "):].split(", ")
    returned = len(d.positions) + (d.kind == VALUE_AND_GRAD)      # (value, gradient)
    if len(params) != len(args) or code.co_kwonlyargcount or len(results) != returned \
            or not all(r.isidentifier() for r in results):
        return None
    return params, results, kinds


class _EntryNames:
    """Names in an entry's text for the objects it refers to, none a name the generated code,
    its globals or the user's parameters use (a parameter named `type` or `args` is fine)."""

    def __init__(self, function):
        code = function.__code__
        self.bound = dict(zip(code.co_freevars,
                              (c.cell_contents for c in function.__closure__ or ())))
        self.taken = (set(self.bound) | set(code.co_varnames) | set(code.co_names)
                      | set(function.__globals__))
        self._names = {}

    def local(self, hint):
        """A fresh name for a local variable of the entry."""
        ident = hint
        while ident in self.taken:
            ident += "_"
        self.taken.add(ident)
        return ident

    def bind(self, obj, hint):
        """The name under which the entry sees `obj` (one name per object and hint)."""
        key = (id(obj), hint)
        if key not in self._names:
            self._names[key] = self.local(hint)
            self.bound[self._names[key]] = obj
        return self._names[key]


def _new_arrays(text, results):
    """The names among `results` that the function in `text` last binds, at the top level of
    its body and nowhere after, to the value of an arithmetic operator (`a * b`, `-a`,
    `A @ B`): an operator on arrays gives a new array that owns its memory, so such a name is
    neither an argument, nor another result, nor a view (its type, shape and dtype are still
    checked). A name returned twice is not among them."""
    last = {}
    for statement in ast.parse(text).body[0].body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                last[node.id] = statement
    return {r for r in results if results.count(r) == 1 and _operator_result(last.get(r))}


def _operator_result(statement):
    """True for `name = a <op> b` and `name = -a` (one target, a name)."""
    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)):
        return False
    value = statement.value
    return isinstance(value, ast.BinOp) or (isinstance(value, ast.UnaryOp)
                                            and isinstance(value.op, (ast.USub, ast.UAdd)))


def _fresh_results(d, generated, results, kinds, arrays, names, star, new=()):
    """(the conditions under which the gradients `results` are returned as they are, what is
    returned then): each a fresh array of its input's shape and dtype, none an input (among
    `arrays`, pairs (name, (shape, dtype)) of the arrays the entry checked: one of another
    shape or dtype cannot be it) or an earlier gradient; a float for a float input; for a
    model, the dict the code built (`model_entry.fresh`). What `new` names is a new array by
    construction (see `_new_arrays`): its type, shape and dtype are checked."""
    type_, ndarray = names.bind(type, "srcad_type"), names.bind(_ndarray, "srcad_ndarray")
    fresh, final, seen = [], list(results), list(arrays)
    for i, (g, position) in enumerate(zip(results, d.positions)):
        kind = kinds[position]
        if isinstance(kind, model_entry.Model):
            entries = model_entry.literal(generated.text, g)
            fresh += ["False"] if entries is None else model_entry.fresh(
                kind, entries, seen, names.bind, lambda v: _owned(d, v, results, names, star))
            seen += [] if entries is None else [(entries[path], (shape, dtype)) for path, shape,
                                                dtype in kind.params if path in entries]
            continue
        kind, shape, dtype = kind
        if kind is not _ndarray:                # a float for a float input
            fresh.append(f"{type_}({g}) in {names.bind(_FLOATS, 'srcad_floats')}")
            final[i] = f"{names.bind(float, 'srcad_float')}({g})"
            continue
        dtype_name = names.bind(dtype, "srcad_dt")
        if g in new:
            fresh.append(f"{type_}({g}) is {ndarray} and {g}.shape == {shape!r} "
                         f"and {g}.dtype is {dtype_name}")
            seen.append((g, (shape, dtype)))
            continue
        fresh += [f"{type_}({g}) is {ndarray} and {_owned(d, g, results[:i], names, star)} "
                  f"and {g}.shape == {shape!r} and {g}.dtype is {dtype_name}"]
        fresh += [f"{g} is not {other}" for other, form in seen if form == (shape, dtype)]
        seen.append((g, (shape, dtype)))
    return fresh, final[0] if d.single else f"({', '.join(final)},)"


def _owned(d, g, earlier, names, star):
    """The text saying the array `g` owns its memory: no view; in compiled mode, or an array
    numba allocated sharing no memory with the arguments or the gradients `earlier`."""
    owned = f"{g}.base is None"
    if not d.jit:
        return owned
    others = "".join(f"{r}, " for r in earlier if r != g)
    return f"({owned} or {names.bind(compiled.fresh, 'srcad_fresh')}({g}, {star} + ({others})))"


def _header_lines(text):
    """How many lines the `def` line of the function in `text` takes (a long one is wrapped)."""
    fdef = ast.parse(text).body[0]
    args = fdef.args
    every = args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]
    end = max([fdef.lineno] + [a.end_lineno for a in every if a is not None])
    lines = text.splitlines()
    while end < len(lines) and lines[end].strip().startswith(")"):     # astor's `\n    ):`
        end += 1
    return end


def _kind(a):
    """(type, shape, dtype) of an argument an entry can check, for a model its
    `model_entry.Model`, else None."""
    if type(a) is _ndarray:
        return _ndarray, a.shape, a.dtype
    if type(a) in (float, int, numpy.float64):
        return type(a), None, None
    if models.is_model(a):
        return model_entry.kind(a)
    return None


# ---- errors while generated code runs -----------------------------------------------------------
_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def relocated(exc):
    """A `RuleFailedError` at the user's line for an exception raised while generated code ran
    a derivative (inside srcad's run-time helpers, or in a derivative statement of reverse
    mode); None for one the user's own code would raise too (a primal statement, the user's
    functions), which stays as it is."""
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    generated = [f for f in frames if f.tb_frame.f_code.co_filename in codegen.ORIGINS]
    if not generated:
        return None
    innermost = frames[-1].tb_frame.f_code.co_filename
    inside_srcad = os.path.abspath(innermost).startswith(_PACKAGE + os.sep)
    where = generated[-1]
    filename = where.tb_frame.f_code.co_filename
    label, lineno = _origin_comment(filename, where.tb_lineno)
    if lineno is None:
        return None
    derivative = inside_srcad or label == "grad of" or _tangent_line(where)
    location = codegen.ORIGINS[filename].location(lineno)
    while location.filename in codegen.ORIGINS:     # a line of generated code (hvp's grad_f)
        label, lineno = _origin_comment(location.filename, location.lineno)
        if lineno is None:
            break
        derivative = derivative or label == "grad of"
        location = codegen.ORIGINS[location.filename].location(lineno)
    if not derivative:
        return None
    return RuleFailedError(
        f"srcad's derivative of this line failed: {type(exc).__name__}: {exc}. srcad gives no "
        "number rather than a wrong one; this is a limit of the rule for what the line "
        "calls (or a bug of srcad's, please report it)", location)


def _tangent_line(tb):
    """True when `tb` stopped in forward-mode code in a statement of a tangent (`dy = ...`, or
    a temporary of the rule's: codegen keeps the lines of derivative statements)."""
    return tb.tb_lineno in codegen.DERIVATIVE_LINES.get(tb.tb_frame.f_code.co_filename, ())


def _origin_comment(filename, lineno):
    """(label, user line) of the `# line N:` / `# grad of line N:` comment above `lineno` of
    generated code, or (None, None)."""
    lines = linecache.getlines(filename)
    for line in reversed(lines[:lineno]):
        text = line.strip()
        if text.startswith("# ") and " line " in text.split(":")[0] + " ":
            head = text[2:].split(":")[0]
            label, _, number = head.rpartition("line ")
            info = codegen.ORIGINS.get(filename)       # (`56 of Linear.forward`: inlined)
            lineno = info.unlabel(number.strip()) if info is not None else None
            if lineno is not None:
                return label.strip(), lineno
            if number.strip().isdigit():
                return label.strip(), int(number)
    return None, None
