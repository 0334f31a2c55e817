"""The public entry points (grad, value_and_grad, vjp, jvp, source, rule registration).

In: a user's Python function and options (`wrt`, the kind of derivative). Out: a callable
(`Derivative`) that generates, on first use, the derivative's Python source, compiles it, and
then calls it; `source()` returns that text. What happens on a call (the key of the
arguments, code specialized to it, the checks of what the code relies on, the result in the
form of the input) is `dispatch`'s; generation and its cache are `generation`'s.
"""

import functools
import inspect
import types
import weakref
from collections.abc import Callable
from typing import Any

import numpy

from . import ast_util, dispatch, models, rules
from .errors import SrcadError, UnsupportedSyntaxError, WrtError
from .generation import cached, parameters
from .kinds import FORWARD, GRAD, GRAD_NESTED, JVP, TANGENT, VALUE_AND_GRAD, VJP

Wrt = int | str | tuple | list
"""What `wrt` takes: a parameter's index or name, or a tuple (list) of those."""


def resolve_wrt(func: Callable, wrt: Wrt) -> tuple[tuple[str, ...], bool]:
    """`wrt` (an index, a name, or a tuple of those) as (tuple of names, single?)."""
    single = not isinstance(wrt, (tuple, list))
    items = list(wrt) if isinstance(wrt, (tuple, list)) else [wrt]
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
    """A derivative of a user function: call it like the function (see `grad`, `jvp`...).
    Its calls go through its `dispatch.CallPath`."""

    def __init__(self, func: Any, kind: str, wrt: Wrt, jit: bool = False) -> None:
        if not callable(func):
            raise TypeError(f"srcad.{kind} expects a function, got {type(func).__name__}")
        self.bound_args, self.bound_kwargs = (), {}
        if isinstance(func, Derivative) and (func.bound_args or func.bound_kwargs):
            func = functools.partial(_differentiable(func, kind), *func.bound_args,
                                     **func.bound_kwargs)
        if isinstance(func, functools.partial):  # its arguments go first; `wrt` counts after
            self.bound_args, self.bound_kwargs = func.args, dict(func.keywords)
            wrt = _shifted(wrt, len(func.args))
            func = func.func
        elif _is_callable_object(func):         # differentiate its `__call__`, bound
            func = func.__call__
        self.pack_at: int | None = (func.pack_at if isinstance(func, Derivative)
                                    else _vararg_position(func))
        self.adapts = bool(self.bound_args or self.bound_kwargs or self.pack_at is not None)
        self.inner: Derivative | None = None        # grad of grad: the inner derivative
        self.inner_generated: Any = None
        if isinstance(func, Derivative):
            self.inner, self.inner_generated = func, _inner_code(func)
        func = _differentiable(func, kind)
        self.wrt_given = wrt
        self.wrt, self.single = resolve_wrt(func, wrt)
        self.receiver: Any = None
        self.statics: tuple = ()
        if inspect.ismethod(func):              # a bound method: `self` is known
            self.receiver = func.__self__
            func = func.__func__
            self.statics = ((parameters(func)[0], self.receiver),)
        self.func = func
        self.kind = kind
        self.params = parameters(func)
        self.positions = [self.params.index(n) for n in self.wrt]
        self.keep_rows = False                  # row-sparse gradients stay sparse (nn.backward)
        self.jit = bool(jit)                    # compiled mode: numba, per shape signature
        self.__name__ = f"{kind}_{func.__name__}"
        self.__qualname__ = f"{kind}_{getattr(func, '__qualname__', self.__name__)}"
        self.__module__ = getattr(func, "__module__", None)  # type: ignore[assignment]
        self.__doc__ = f"srcad {kind} of {func.__name__} with respect to {', '.join(self.wrt)}"
        self._path = dispatch.CallPath(self)

    @property
    def given_positions(self):
        """The positions of the `wrt` arguments among those a call gives (after a bound
        method's receiver and a partial's bound arguments)."""
        skip = len(self.bound_args) + (self.receiver is not None)
        return [p - skip for p in self.positions]

    @property
    def generated(self):
        """The generic generated code (no shapes), generated again when stale."""
        return self._path.generic()

    @property
    def __wrapped__(self):
        """The generated function (so `inspect.getsource` and `inspect.signature` show it)."""
        return self.generated.function

    def refresh(self) -> None:
        """For a derivative of a derivative whose inner code went stale (a global rebound, a
        helper redefined): transform the inner derivative's new code from now on."""
        if self.inner is not None and not self.inner_generated.valid():
            self.inner_generated = _inner_code(self.inner)
            self.func = self.inner_generated.function

    def __srcad_generated__(self):
        """(function, `Generated`) that code srcad differentiates runs when it calls this
        derivative (`np.sum(grad_f(x) ** 2)`): the generated function, which srcad transforms
        like the user's own; None where a call's result is not that function's raw result (a
        partial, `*rest`, a one-name tuple `wrt`) or the kind is not differentiated again."""
        if (self.kind not in (GRAD, JVP) or self.bound_args or self.bound_kwargs
                or self.pack_at is not None or (not self.single and len(self.wrt) == 1)
                or models.is_model(self.receiver)):
            return None
        generated = _inner_code(self)
        function = _differentiable(self, self.kind)
        return function, generated

    def location(self):
        """Where the user's function is defined (for errors), or None."""
        return _def_location(self.func)

    def specialized_function(self, *args, **kwargs):
        """The generated function that a call with these arguments runs, without the API
        wrapper around it (for benchmarks and debugging)."""
        args = self.pack(args)
        if self.receiver is not None:
            args = (self.receiver,) + args
        return self._path.specialized(args, kwargs).function

    def source(self, *args: Any, generic: bool = False, **kwargs: Any) -> str:
        """The generated source: the code that ran for the latest call's shapes (before any
        call, or with `generic=True`, the generic code); with example arguments, the code for
        calls like that one (models and lists/tuples/dicts of arrays get code specialized to
        their structure; grad and value_and_grad of arrays and scalars, to their shapes,
        unless `generic=True`)."""
        if not args and not kwargs:
            latest = self._path.latest
            if self.jit and self._path.ran is not None and not generic:
                return self._path.ran.full_text()
            if latest is None or generic:
                return self.generated.full_text()
            return latest.generated.full_text()
        args = self.pack(args)
        if self.receiver is not None:
            args = (self.receiver,) + args
        if self.kind in FORWARD and len(args) + len(kwargs) > len(self.params):
            args = args[:-len(self.wrt)]        # (the call's tangents, after its arguments)
        return self._path.specialized(args, kwargs, shapes=not generic).full_text()

    @property
    def compile_seconds(self) -> float:
        """Compiled mode: the seconds spent compiling (every shape signature so far), apart
        from the calls; 0.0 otherwise."""
        return sum(per_key.seconds for per_key, _ in self._path.jitted.values())

    def __repr__(self):
        return f"<srcad {self.kind} of {self.func.__qualname__} wrt {', '.join(self.wrt)}>"

    def __get__(self, instance, owner=None):
        """Through an instance, a method decorated with `@srcad.grad(...)` is the derivative
        of the bound method (like a plain function's), made once per instance."""
        if instance is None or self.receiver is not None or isinstance(
                self.func, functools.partial):
            return self
        try:
            per_instance = self.__dict__.setdefault("_per_instance", weakref.WeakKeyDictionary())
            if instance not in per_instance:
                per_instance[instance] = Derivative(
                    types.MethodType(self.func, instance), self.kind, self.wrt_given, self.jit)
            return per_instance[instance]
        except TypeError:                       # not weakly referable, or not hashable
            return Derivative(types.MethodType(self.func, instance), self.kind, self.wrt_given,
                              self.jit)

    def pack(self, args):
        """The positional arguments of a call as the generated code takes them: a partial's
        bound ones first, and the extra ones of a `*rest` parameter as one tuple (tangents,
        after them in forward mode, stay as given)."""
        args = self.bound_args + tuple(args)
        if self.pack_at is None:
            return args
        count = len(args) - (len(self.wrt) if self.kind in FORWARD else 0)
        return args[:self.pack_at] + (tuple(args[self.pack_at:count]),) + args[count:]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.adapts:                             # bound arguments, a `*rest` packed
            args = self.pack(args)
            kwargs = {**self.bound_kwargs, **kwargs}
        try:
            entry = self._path.entry
            if entry is not None and not kwargs:    # checked: falls back to the call path
                return entry(*args)
            result = self._path(args, kwargs)
        except SrcadError:
            raise
        except Exception as exc:                    # a rule failing: at the user's line
            failure = dispatch.relocated(exc)
            if failure is None:
                raise
            raise failure from exc
        if self.kind == JVP:
            value, tangent = result
            return value, _host_tangent(tangent, args, len(self.wrt), self.positions)
        if self.kind == TANGENT:
            return _host_tangent(result, args, len(self.wrt), self.positions)
        return result

    def _repr_html_(self):
        """In a notebook: the user's function beside the generated code (`srcad.display`)."""
        from . import display
        return display.html(self)


def _host_tangent(tangent, args, k, positions):
    """A forward-mode tangent `dy`, a NumPy scalar, as a Python float when the differentiated
    arguments and their tangents are Python floats (as `grad` gives a float for a float)."""
    if type(tangent) is numpy.float64 and len(args) >= k and all(
            type(a) is float for a in args[-k:]) and all(
            position < len(args) - k and type(args[position]) is float
            for position in positions):
        return float(tangent)
    return tangent


def _vararg_position(func):
    """The position of `func`'s `*rest` parameter, or None (None too with `**kwargs`, which
    srcad rejects)."""
    try:
        kinds = [p.kind for p in inspect.signature(func).parameters.values()]
    except (TypeError, ValueError):
        return None
    if inspect.Parameter.VAR_KEYWORD in kinds or inspect.Parameter.VAR_POSITIONAL not in kinds:
        return None
    return kinds.index(inspect.Parameter.VAR_POSITIONAL)


def _shifted(wrt, count):
    """`wrt` given for a partial with `count` positional arguments bound, as indices into the
    parameters of its function (names unchanged)."""
    def shift(item):
        if isinstance(item, int) and not isinstance(item, bool):
            return item + count if item >= 0 else item
        return item
    return type(wrt)(shift(w) for w in wrt) if isinstance(wrt, (tuple, list)) else shift(wrt)


def _is_callable_object(func):
    """True for an instance whose class defines `__call__` in Python (not a function, method,
    class, or srcad derivative)."""
    return not isinstance(func, (types.FunctionType, types.MethodType, type, Derivative)) \
        and isinstance(vars(type(func)).get("__call__"), types.FunctionType)


def _differentiable(func, kind):
    """The function to transform: a srcad derivative is itself generated Python, so higher
    orders differentiate its generated function (raw gradients, the same parameters)."""
    if not isinstance(func, Derivative):
        return func
    if func.kind not in (GRAD, JVP) or models.is_model(func.receiver):
        hint = (" (a pullback is a closure): for the vjp of a vjp of F, take vjp of the "
                "gradient in x of G(x, u) = np.sum(F(x) * u), srcad.vjp(srcad.grad(G))"
                if func.kind == VJP else "; use grad, jvp, hvp, jacobian or hessian")
        raise SrcadError(f"srcad differentiates again the results of grad and jvp (and of "
                         f"functions of plain parameters), not of {func.kind}{hint}")
    generated = _inner_code(func)
    if func.receiver is not None:               # a callable object's or a bound method's
        return types.MethodType(generated.function, func.receiver)
    return generated.function


def _inner_code(func):
    """The `Generated` code of the derivative `func` that a derivative of it transforms."""
    try:
        generated = func.generated
    except UnsupportedSyntaxError as exc:
        if "local value" not in exc.message:
            raise
        raise UnsupportedSyntaxError(            # (a model is known at a call only)
            exc.message + "; a derivative of a derivative is generated before any call, so a "
            "model among the arguments is not known yet: for second derivatives in a model's "
            "parameters use srcad.hvp(f, wrt=...) or srcad.hessian(f, wrt=...)",
            exc.location) from None
    if func.kind == GRAD and generated.callees:
        # pullback closures are not differentiated again: take the variant whose adjoint calls
        # each callee's closure-free `backward_` function
        generated = cached(func.func, GRAD_NESTED, func.wrt, statics=func.statics)
    return generated


def _transform(kind: str, func: Callable | None, wrt: Wrt, jit: bool) -> Any:
    if func is None:
        return lambda f: Derivative(f, kind, wrt, jit)
    return Derivative(func, kind, wrt, jit)


def grad(func: Callable | None = None, wrt: Wrt = 0, jit: bool = False) -> Any:
    """Reverse-mode gradient of a scalar-valued function.

    `grad(f)(x, W)` is d f / d x; `wrt` picks the argument(s) by index or name, and a tuple
    gives a tuple of gradients. Works as a decorator, with or without options::

        @srcad.grad(wrt="W")
        def loss(W, X): ...

    `jit=True` compiles the generated code with numba per shape signature (`srcad.compiled`;
    `pip install "srcad[jit]"`); `srcad.source` shows the compiled source.
    """
    return _transform(GRAD, func, wrt, jit)


def value_and_grad(func: Callable | None = None, wrt: Wrt = 0, jit: bool = False) -> Any:
    """Like `grad`, but the call returns `(value, gradient)` from one primal evaluation."""
    return _transform(VALUE_AND_GRAD, func, wrt, jit)


def vjp(func: Callable | None = None, wrt: Wrt = 0, jit: bool = False) -> Any:
    """`vjp(f)(x, W)` returns `(y, pullback)`; `pullback(ct)` gives the gradient(s) of
    `sum(ct * y)`. Any output shape; a tuple output takes a tuple cotangent."""
    return _transform(VJP, func, wrt, jit)


def jvp(func: Callable | None = None, wrt: Wrt = 0, jit: bool = False) -> Any:
    """Forward mode: `jvp(f)(x, W, dx)` returns `(y, dy)`, the tangents following the primal
    arguments, one per `wrt` argument."""
    return _transform(JVP, func, wrt, jit)


def source(obj: Any, *example_args: Any, generic: bool = False, **example_kwargs: Any) -> str:
    """The generated Python source of a srcad derivative, as a string: the code that ran for
    the latest call's argument shapes (the generic code before any call, or with
    `generic=True`). For the code of other calls, pass example arguments:
    `srcad.source(srcad.grad(loss, wrt="model"), model, X, y)`, `srcad.source(srcad.hessian(
    loss), b, X, y)` (with `generic=True`, the code for any shapes: for a model, specialized to
    its structure alone)."""
    if isinstance(obj, Derivative):
        return obj.source(*example_args, generic=generic, **example_kwargs)
    made = type(obj)
    if hasattr(made, "__srcad_source__") and callable(getattr(made, "source", None)):
        return obj.source(*example_args, generic=generic, **example_kwargs)   # (hvp, hessian)
    text = getattr(obj, "__srcad_source__", None)
    if text is None:
        raise TypeError(f"{obj!r} was not made by srcad, so it has no generated source")
    return text


stop_gradient = rules.stop_gradient


def register_adjoint(key: Any) -> Callable[[Callable], Callable]:
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


def register_tangent(key: Any, broadcasts: bool = False) -> Callable[[Callable], Callable]:
    """Decorator: a forward-mode rule for `key`; `d[y] = ...` defines the result's tangent::

        @srcad.register_tangent(scipy.special.expit)
        def expit(y, x):
            d[y] = d[x] * y * (1.0 - y)
    """
    rules.load()
    return rules.tangent(key, broadcasts=broadcasts)


def nondifferentiable(*keys: Any) -> None:
    """Mark functions whose results srcad treats as constants (zero derivative)."""
    rules.load()
    rules.nondifferentiable(*keys, reason="registered as non-differentiable")
