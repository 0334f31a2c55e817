"""The public entry points (grad, value_and_grad, vjp, jvp, source, rule registration).

In: a user's Python function and options (`wrt`, the kind of derivative). Out: a callable
(`Derivative`) that generates, on first use, the derivative's Python source, compiles it, and
then calls it; `source()` returns that text. Generation is cached per function and options.

Calls of `grad` and `value_and_grad` with NumPy arrays, scalars and models run code
specialized to the argument shapes, a model's parameter shapes included (`passes.shapes`: no
`unbroadcast` where shapes match, ...; `passes.specialize`: branches on `np.ndim` taken),
generated once per shape signature (at most `_SPECIALIZATIONS` of them; further ones run the
generic code); the derivatives of the user functions and layers that code calls are
specialized to the shapes of their arguments in turn. A call finds its code by the arguments'
types, shapes and dtypes (for a model, its cached `structure()` and parameter shapes), and
checks its inputs only the first time it meets them (`fastcall`).
"""

import ast
import inspect

import numpy

from . import ast_util, fastcall, models, rules, runtime
from .errors import NonScalarOutputError, ShapeMismatchError, SrcadError, WrtError
from .generation import (
    _CONTAINERS,
    _SPECIALIZATIONS,
    GRAD,
    JVP,
    VALUE_AND_GRAD,
    VJP,
    _is_module,
    cached,
    parameters,
    signature,
)
from .passes import reverse
from .sparse import RowGrad


def resolve_wrt(func, wrt):
    """`wrt` (an index, a name, or a tuple of those) as (tuple of names, single?)."""
    single = not isinstance(wrt, (tuple, list))
    items = [wrt] if single else list(wrt)
    params = parameters(func)
    names = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            if not -len(params) <= item < len(params):
                raise WrtError(f"wrt={item!r} is out of range: {func.__name__} has "
                               f"{len(params)} parameter(s) {params}", _def_location(func))
            names.append(params[item])
        elif isinstance(item, str) and item in params:
            names.append(item)
        else:
            raise WrtError(f"wrt={item!r} names no parameter of {func.__name__}; its "
                           f"parameters are {params}", _def_location(func))
    if len(set(names)) != len(names):
        raise WrtError(f"wrt={wrt!r} names a parameter twice", _def_location(func))
    return tuple(names), single


def _def_location(func):
    try:
        return ast_util.parse_function(func)[1].location(func.__code__.co_firstlineno)
    except SrcadError:
        return None


class Derivative:
    """A derivative of a user function: call it like the function (see `grad`, `jvp`...)."""

    def __init__(self, func, kind, wrt):
        if not callable(func):
            raise TypeError(f"srcad.{kind} expects a function, got {type(func).__name__}")
        func = _differentiable(func, kind)
        self.wrt, self.single = resolve_wrt(func, wrt)
        self._receiver, self._statics = None, ()
        if inspect.ismethod(func):              # a bound method: `self` is known
            self._receiver = func.__self__
            func = func.__func__
            self._statics = ((parameters(func)[0], self._receiver),)
        self.func = func
        self.kind = kind
        params = self._params = parameters(func)
        self._positions = [params.index(n) for n in self.wrt]
        self._arity = len(params)
        self.keep_rows = False                  # row-sparse gradients stay sparse (nn.backward)
        self._generated = None
        self._call_impl = None
        self._fast = {}                         # argument types and shapes -> call path
        self._entries = {}                      # the same -> `fastcall.entry`, where it has one
        self._entry = None                      # the entry of the latest call's key
        if kind not in (GRAD, VALUE_AND_GRAD) or self._receiver is not None:
            self._fast = None                   # (code specialized to shapes: grad only)
        self.__name__ = f"{kind}_{func.__name__}"
        self.__qualname__ = f"{kind}_{getattr(func, '__qualname__', self.__name__)}"
        self.__module__ = getattr(func, "__module__", None)
        self.__doc__ = f"srcad {kind} of {func.__name__} with respect to {', '.join(self.wrt)}"

    @property
    def generated(self):
        if self._generated is None:
            self._generated = cached(self.func, self.kind, self.wrt, statics=self._statics)
        return self._generated

    @property
    def __wrapped__(self):
        """The generated function (so `inspect.getsource` and `inspect.signature` show it)."""
        return self.generated.function

    def specialized_function(self, *args, **kwargs):
        """The generated function that a call with these arguments runs, without the API
        wrapper around it (for benchmarks and debugging)."""
        if self._receiver is not None:
            args = (self._receiver,) + args
        return self._specialized(args, kwargs).function

    def source(self, *args, **kwargs):
        """The generated source; with example arguments, the code for calls like that one
        (models and lists/tuples/dicts of arrays get code specialized to their structure;
        grad and value_and_grad of arrays and scalars, code specialized to their shapes)."""
        if not args and not kwargs:
            return self.generated.full_text()
        if self._receiver is not None:
            args = (self._receiver,) + args
        return self._specialized(args, kwargs).full_text()

    def __repr__(self):
        return f"<srcad {self.kind} of {self.func.__qualname__} wrt {', '.join(self.wrt)}>"

    def __call__(self, *args, **kwargs):
        entry = self._entry
        if entry is not None and not kwargs:    # guarded: falls back to `_dispatch`
            return entry(*args)
        if self._fast is not None and not kwargs:
            return self._dispatch(args)
        return self._call(args, kwargs)

    def _dispatch(self, args):
        """The fast path: the call path for argument types and shapes seen before."""
        key = ()
        for a in args:
            key += (a.shape, a.dtype) if type(a) is _ndarray else (type(a),)
        fast = self._fast.get(key)
        if fast is None:
            return self._first_call(key, args)
        self._entry = self._entries.get(key)
        return fast(args)

    def _call(self, args, kwargs):
        if self._receiver is not None:
            args = (self._receiver,) + args
        if self.kind != JVP and (_special(args) or (kwargs and _special(kwargs.values()))):
            return self._special_call(args, kwargs)
        call = self._call_impl
        if call is None:
            call = self._call_impl = self._make_call(self.generated)
        return call(args, kwargs)

    def _first_call(self, key, args):
        """A call with argument types and shapes not seen before: from now on, calls like it
        go straight to code specialized to those shapes, their inputs checked once."""
        if max(self._positions) >= len(args) or len(self._fast) >= _SPECIALIZATIONS:
            return self._call(args, {})
        if any(type(a) not in _PLAIN for a in args):             # CuPy, containers, models
            if not all(type(a) in _PLAIN or _is_module(a) for a in args):
                return self._call(args, {})
            fast = self._fast[key] = self._model_call(args)
            return fast(args)
        self._check_inputs(args, {})
        generated = cached(self.func, self.kind, self.wrt, signature=signature(args))
        fast = self._fast[key] = fastcall.make(generated, self.kind == GRAD, self._positions,
                                               self.single, args)
        if self.kind == GRAD:
            self._entry = self._entries[key] = fastcall.entry(
                generated, self._positions, self.single, args, self._dispatch)
        return fast(args)

    def _model_call(self, args):
        """The call path for calls with models (and arrays and scalars) of these types: code
        found by the models' structure and parameter shapes (models with CuPy parameters take
        the general path)."""
        model_positions = [i for i, a in enumerate(args) if _is_module(a)]
        table = {}

        def call(args):
            key = (self.keep_rows,)
            for i in model_positions:
                _, structure, named, _ = models.layout(args[i])
                key += (structure,)
                for _, param in named:
                    data = param.data
                    if type(data) is not _ndarray:
                        return self._call(args, {})
                    key += (data.shape, data.dtype)
            fast = table.get(key)
            if fast is None:
                if len(table) >= _SPECIALIZATIONS:
                    return self._call(args, {})
                self._check_inputs(args, {})
                fast = table[key] = fastcall.make(self._specialized(args, {}),
                                                  self.kind == GRAD, self._positions,
                                                  self.single, args, self.keep_rows)
            return fast(args)
        return call

    def _special_call(self, args, kwargs):
        return self._make_call(self._specialized(args, kwargs))(args, kwargs)

    def _specialized(self, args, kwargs):
        """Calls with lists, tuples or dicts of arrays, or with models, get code specialized
        to them (to which parameters are containers; to the structure of each model); calls
        of grad and value_and_grad with arrays and scalars, code specialized to their shapes."""
        if not (_special(args) or _special(kwargs.values())):
            if self.kind in (GRAD, VALUE_AND_GRAD) and self._receiver is None and not kwargs:
                return cached(self.func, self.kind, self.wrt, signature=signature(args))
            return self.generated
        params = self._params
        names = {params[i] for i, a in enumerate(args) if type(a) in _CONTAINERS}
        names |= {k for k, v in kwargs.items() if type(v) in _CONTAINERS}
        models = tuple((params[i], a) for i, a in enumerate(args) if _is_module(a))
        shaped = (self.kind in (GRAD, VALUE_AND_GRAD) and self._receiver is None and not kwargs
                  and not names)
        return cached(self.func, self.kind, self.wrt, tuple(sorted(names)),
                      self._statics + models, signature(args) if shaped else None)

    def _make_call(self, generated):
        """The call path for this kind, with the generated function looked up once."""
        function = generated.function
        gradients = self._gradients

        def run(args, kwargs):
            self._check_inputs(args, kwargs)
            try:
                return function(*args, **kwargs)
            except NonScalarOutputError as exc:
                raise NonScalarOutputError(exc.message, generated.return_location) from None

        if self.kind == GRAD:
            return lambda args, kwargs: gradients(run(args, kwargs), args, kwargs)
        if self.kind == VALUE_AND_GRAD:
            def value_and_grad_call(args, kwargs):
                value, grads = run(args, kwargs)
                return value, gradients(grads, args, kwargs)
            return value_and_grad_call
        if self.kind == VJP:
            def vjp_call(args, kwargs):
                value, pullback = run(args, kwargs)

                def checked_pullback(cotangent):
                    self._check_cotangent(cotangent, value, generated.return_location)
                    return gradients(pullback(cotangent), args, kwargs)
                return value, checked_pullback
            return vjp_call
        return self._jvp

    def _gradients(self, grads, args, kwargs):
        """Gradients in the shape and dtype of their inputs (one, or a tuple), each owning its
        memory (`runtime.owned`)."""
        xs = [args[p] if p < len(args) else self._keyword(i, kwargs)
              for i, p in enumerate(self._positions)]
        seen = fastcall.inputs(list(args) + list(kwargs.values()))
        out = []
        for g, x in zip((grads,) if len(xs) == 1 else grads, xs):
            g = _as_gradient(g, x, self.keep_rows)
            out.append({k: runtime.owned(v, seen) for k, v in g.items()} if _is_module(x)
                       else runtime.owned(g, seen))
        return out[0] if self.single else tuple(out)

    def _check_inputs(self, args, kwargs):
        """A clear error when a `wrt` argument cannot carry a derivative (None, an integer,
        a boolean or integer array, a string)."""
        for i, position in enumerate(self._positions):
            x = args[position] if position < len(args) else self._keyword(i, kwargs)
            if type(x) is float or (type(x) is numpy.ndarray and x.dtype.kind in "fc"):
                continue
            problem = _not_differentiable(x)
            if problem:
                raise WrtError(f"cannot differentiate {self.func.__name__} with respect to "
                               f"`{self.wrt[i]}`: it is {problem}; pass a float or a float "
                               f"array, or leave it out of wrt", _def_location(self.func))

    def _check_cotangent(self, cotangent, value, location, path=""):
        """A clear error when a pullback's cotangent is not shaped like the output."""
        if isinstance(value, (tuple, list)):
            if not isinstance(cotangent, (tuple, list)) or len(cotangent) != len(value):
                raise ShapeMismatchError(
                    f"the pullback of {self.func.__name__} takes a cotangent shaped like its "
                    f"output{path}: a {type(value).__name__} of {len(value)}, not "
                    f"{_describe(cotangent)}", location)
            for i, (c, v) in enumerate(zip(cotangent, value)):
                self._check_cotangent(c, v, location, f"{path}[{i}]")
            return
        if isinstance(value, dict) or isinstance(cotangent, (tuple, list, dict)):
            return
        shape, expected = numpy.shape(cotangent), numpy.shape(value)
        if shape != expected:
            raise ShapeMismatchError(
                f"the pullback of {self.func.__name__} takes a cotangent shaped like its "
                f"output{path}, {expected}, not {shape}", location)

    def _keyword(self, i, kwargs):
        name = self.wrt[i]
        if name in kwargs:
            return kwargs[name]
        return inspect.signature(self.func).parameters[name].default

    def _jvp(self, args, kwargs):
        k = len(self.wrt)
        primals, tangents = args[:-k], args[-k:]
        if kwargs or len(primals) != self._arity:
            try:
                bound = inspect.signature(self.func).bind(*primals, **kwargs)
            except TypeError:
                bound = None
            if len(args) < k or bound is None:
                raise TypeError(f"{self.__name__} takes the arguments of {self.func.__name__} "
                                f"followed by {k} tangent(s), for {', '.join(self.wrt)}; got "
                                f"{len(args)} positional argument(s)") from None
            bound.apply_defaults()
            primals, kwargs = bound.args, bound.kwargs
        self._check_inputs(primals, kwargs)
        for name_, position, tangent in zip(self.wrt, self._positions, tangents):
            x = primals[position]
            if isinstance(x, (list, tuple, dict)) or isinstance(tangent, (list, tuple, dict)):
                continue
            if numpy.shape(tangent) != numpy.shape(x):
                raise ShapeMismatchError(
                    f"the tangent for `{name_}` has shape {numpy.shape(tangent)}, but "
                    f"`{name_}` has shape {numpy.shape(x)}: {self.__name__} takes one tangent "
                    f"per wrt argument, shaped like it, after the arguments",
                    _def_location(self.func))
        return self.generated.function(*primals, *tangents, **kwargs)


def _describe(value):
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a value of shape {numpy.shape(value)}"


def _not_differentiable(x):
    """Why `x` cannot carry a derivative, or None when it can."""
    if x is None or isinstance(x, (str, bytes)):
        return f"{x!r}"
    if isinstance(x, (bool, int)) and not isinstance(x, float):
        return f"an integer ({x!r})"
    dtype = getattr(x, "dtype", None)
    if dtype is not None and getattr(dtype, "kind", "f") in "biu":
        return f"an array of {dtype}"
    if isinstance(x, (list, tuple)):
        return next((p for p in map(_not_differentiable, x) if p), None)
    if isinstance(x, dict):
        return next((p for p in map(_not_differentiable, x.values()) if p), None)
    return None


_ndarray = numpy.ndarray
_PLAIN = (numpy.ndarray, float, int, numpy.float64, numpy.float32, type(None))


def _special(values):
    """True when a call has lists, tuples or dicts, or models, among its arguments."""
    for value in values:
        kind = type(value)
        if kind not in _PLAIN and (kind in _CONTAINERS or _is_module(value)):
            return True
    return False


def _as_gradient(g, x, keep_rows=False):
    """A gradient in the form of its input; for a model, a dict keyed like its
    `named_parameters()`, with zeros for parameters the output does not depend on (and, with
    `keep_rows`, row-sparse gradients of embedding lookups left sparse)."""
    if type(x) is numpy.ndarray:
        return runtime.as_gradient(g, x)
    if _is_module(x):
        return {name: (g[name] if keep_rows and isinstance(g.get(name), RowGrad)
                       else runtime.as_gradient(g[name], p.data)) if name in g
                else runtime.zeros_like(p.data) for name, p in x.named_parameters()}
    return runtime.as_gradient(g, x)


def _differentiable(func, kind):
    """The function to transform: a srcad derivative is itself generated Python, so higher
    orders differentiate its generated function (raw gradients, the same parameters)."""
    if not isinstance(func, Derivative):
        return func
    if func.kind not in (GRAD, JVP) or func._receiver is not None:
        raise SrcadError(f"srcad differentiates again the results of grad and jvp (and of "
                         f"functions of plain parameters), not of {func.kind}; use grad, jvp, "
                         "hvp, jacobian or hessian")
    generated = func.generated
    if func.kind == GRAD and generated.callees:
        # pullback closures are not differentiated again: take the variant whose adjoint calls
        # each callee's closure-free `backward_` function
        generated = cached(func.func, reverse.GRAD_NESTED, func.wrt, statics=func._statics)
    if kind != JVP and func.kind == GRAD and any(
            isinstance(node, (ast.For, ast.While))
            for node in ast.walk(ast.parse(generated.full_text()))):
        raise SrcadError(
            f"srcad runs reverse mode over the gradient of {func.func.__name__} only when that "
            "gradient has no loops, in it or in the functions it calls (their adjoints replay "
            "stacks, which reverse mode does not differentiate again); take the second "
            "derivative in forward mode instead: srcad.hessian(f), srcad.hvp(f), or "
            "srcad.jvp(srcad.grad(f))", generated.return_location)
    return generated.function


def _transform(kind, func, wrt):
    if func is None:
        return lambda f: Derivative(f, kind, wrt)
    return Derivative(func, kind, wrt)


def grad(func=None, wrt=0):
    """Reverse-mode gradient of a scalar-valued function.

    `grad(f)(x, W)` is d f / d x; `wrt` picks the argument(s) by index or name, and a tuple
    gives a tuple of gradients. Works as a decorator, with or without options::

        @srcad.grad(wrt="W")
        def loss(W, X): ...
    """
    return _transform(GRAD, func, wrt)


def value_and_grad(func=None, wrt=0):
    """Like `grad`, but the call returns `(value, gradient)` from one primal evaluation."""
    return _transform(VALUE_AND_GRAD, func, wrt)


def vjp(func=None, wrt=0):
    """`vjp(f)(x, W)` returns `(y, pullback)`; `pullback(ct)` gives the gradient(s) of
    `sum(ct * y)`. Any output shape; a tuple output takes a tuple cotangent."""
    return _transform(VJP, func, wrt)


def jvp(func=None, wrt=0):
    """Forward mode: `jvp(f)(x, W, dx)` returns `(y, dy)`, the tangents following the primal
    arguments, one per `wrt` argument."""
    return _transform(JVP, func, wrt)


def source(obj, *example_args, **example_kwargs):
    """The generated Python source of a srcad derivative, as a string. For a derivative whose
    code depends on the structure of its arguments (a model, lists of arrays), pass example
    arguments: `srcad.source(srcad.grad(loss, wrt="model"), model, X, y)`."""
    if isinstance(obj, Derivative):
        return obj.source(*example_args, **example_kwargs)
    text = getattr(obj, "__srcad_source__", None)
    if text is None:
        raise TypeError(f"{obj!r} was not made by srcad, so it has no generated source")
    return text


stop_gradient = rules.stop_gradient


def register_adjoint(key):
    """Decorator: a reverse-mode rule for `key` (your function, or any third-party one).

    Write it like the rules in srcad's `templates/`: the result first, then the arguments;
    `d[x] += ...` accumulates the adjoint of argument `x`::

        from srcad import d

        @srcad.register_adjoint(scipy.special.expit)
        def expit(y, x):
            d[x] += d[y] * y * (1.0 - y)
    """
    rules.load()
    return rules.adjoint(key)


def register_tangent(key, broadcasts=False):
    """Decorator: a forward-mode rule for `key`; `d[y] = ...` defines the result's tangent::

        @srcad.register_tangent(scipy.special.expit)
        def expit(y, x):
            d[y] = d[x] * y * (1.0 - y)
    """
    rules.load()
    return rules.tangent(key, broadcasts=broadcasts)


def nondifferentiable(*keys):
    """Mark functions whose results srcad treats as constants (zero derivative)."""
    rules.load()
    rules.nondifferentiable(*keys, reason="registered as non-differentiable")
