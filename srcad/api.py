"""The public entry points and the one place that knows the order of the passes.

In: a user's Python function and options (`wrt`, the kind of derivative). Out: a callable
(`Derivative`) that generates, on first use, the derivative's Python source, compiles it, and
then calls it; `source()` returns that text. Generation is cached per function and options.
"""

import inspect
import threading
import weakref

from . import ast_util, codegen, rules, runtime
from .errors import NonScalarOutputError, SrcadError, WrtError
from .naming import FreeNames, Namer
from .passes import activity, fence, forward, normalize, optimize, resolve, reverse

GRAD, VALUE_AND_GRAD, VJP, JVP = "grad", "value_and_grad", "vjp", "jvp"

_cache = weakref.WeakKeyDictionary()      # user function -> {(kind, wrt): Generated}
_lock = threading.RLock()


class Generated:
    """A generated function, its source text, and where the user's return statement is."""

    __slots__ = ("function", "text", "return_location")

    def __init__(self, function, text, return_location):
        self.function = function
        self.text = text
        self.return_location = return_location


def generate(func, kind, wrt):
    """Run the pipeline on `func`: the `Generated` derivative of `kind` with respect to `wrt`
    (a tuple of parameter names)."""
    tree, info = ast_util.parse_function(func)
    names = resolve.namespace(func)
    fence.run(tree, info)
    resolve.run(tree, info, names)
    locals_ = resolve.local_names(tree)
    namer = Namer(ast_util.names_in(tree) | locals_)
    free = FreeNames(namer, names)
    normalize.run(tree, namer, locals_, info)
    active = activity.run(tree, wrt)
    if kind == JVP:
        fdef = forward.run(tree, wrt, active, namer, free, info)
    else:
        fdef = reverse.run(tree, wrt, active, namer, free, info, kind)
    optimize.run(fdef)
    _strip_defaults(fdef)
    text = codegen.emit(fdef, info, None if kind == JVP else "grad of")
    function = codegen.compile_function(text, fdef.name, func.__globals__, free.bound)
    if kind != JVP:
        function.__defaults__ = func.__defaults__
        function.__kwdefaults__ = func.__kwdefaults__
    function.__srcad_source__ = text
    last = tree.body[-1] if tree.body else tree
    return Generated(function, text, info.location(last))


def _strip_defaults(fdef):
    fdef.args.defaults = []
    fdef.args.kw_defaults = [None] * len(fdef.args.kwonlyargs)


def cached(func, kind, wrt):
    """`generate` once per (function, its code, kind, wrt)."""
    with _lock:
        try:
            per_function = _cache.setdefault(func, {})
        except TypeError:                       # not a Python function: generate() says why
            return generate(func, kind, wrt)
        key = (kind, wrt, getattr(func, "__code__", None))   # a new __code__ (reload) misses
        if key not in per_function:
            per_function[key] = generate(func, kind, wrt)
        return per_function[key]


def parameters(func):
    """The names of `func`'s parameters, in order."""
    return list(inspect.signature(func).parameters)


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
        self.func = func
        self.kind = kind
        self.wrt, self.single = resolve_wrt(func, wrt)
        params = parameters(func)
        self._positions = [params.index(n) for n in self.wrt]
        self._arity = len(params)
        self._generated = None
        self._call_impl = None
        self.__name__ = f"{kind}_{func.__name__}"
        self.__qualname__ = f"{kind}_{getattr(func, '__qualname__', self.__name__)}"
        self.__module__ = getattr(func, "__module__", None)
        self.__doc__ = f"srcad {kind} of {func.__name__} with respect to {', '.join(self.wrt)}"

    @property
    def generated(self):
        if self._generated is None:
            self._generated = cached(self.func, self.kind, self.wrt)
        return self._generated

    @property
    def __wrapped__(self):
        """The generated function (so `inspect.getsource` and `inspect.signature` show it)."""
        return self.generated.function

    def source(self):
        return self.generated.text

    def __repr__(self):
        return f"<srcad {self.kind} of {self.func.__qualname__} wrt {', '.join(self.wrt)}>"

    def __call__(self, *args, **kwargs):
        call = self._call_impl
        if call is None:
            call = self._call_impl = self._make_call()
        return call(args, kwargs)

    def _make_call(self):
        """The call path for this kind, with the generated function looked up once."""
        generated = self.generated
        function = generated.function
        gradients = self._gradients

        def run(args, kwargs):
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
                return value, lambda cotangent: gradients(pullback(cotangent), args, kwargs)
            return vjp_call
        return self._jvp

    def _gradients(self, grads, args, kwargs):
        """Gradients in the shape and dtype of their inputs (one, or a tuple)."""
        if len(self._positions) == 1:
            position = self._positions[0]
            x = args[position] if position < len(args) else self._keyword(0, kwargs)
            grad = runtime.as_gradient(grads, x)
            return grad if self.single else (grad,)
        return tuple(runtime.as_gradient(g, args[p] if p < len(args) else self._keyword(i, kwargs))
                     for i, (g, p) in enumerate(zip(grads, self._positions)))

    def _keyword(self, i, kwargs):
        name = self.wrt[i]
        if name in kwargs:
            return kwargs[name]
        return inspect.signature(self.func).parameters[name].default

    def _jvp(self, args, kwargs):
        k = len(self.wrt)
        if len(args) < k:
            raise TypeError(f"{self.__name__} takes the primal arguments followed by {k} "
                            f"tangent(s) for {', '.join(self.wrt)}")
        primals, tangents = args[:-k], args[-k:]
        if kwargs or len(primals) != self._arity:
            bound = inspect.signature(self.func).bind(*primals, **kwargs)
            bound.apply_defaults()
            primals, kwargs = bound.args, bound.kwargs
        return self.generated.function(*primals, *tangents, **kwargs)


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


def source(obj):
    """The generated Python source of a srcad derivative, as a string."""
    if isinstance(obj, Derivative):
        return obj.source()
    text = getattr(obj, "__srcad_source__", None)
    if text is None:
        raise TypeError(f"{obj!r} was not made by srcad, so it has no generated source")
    return text


def stop_gradient(x):
    """`x` itself, but derivatives do not flow through it (it is a constant for srcad)."""
    return x


rules.nondifferentiable(stop_gradient, reason="stop_gradient blocks derivatives on purpose")


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
