"""Calls to the user's own Python functions, which srcad differentiates by transforming them too.

In: the object a normal-form call refers to, and the call's argument nodes. Out: whether the
callee is a user function to derive recursively (a Python function with no registered rule),
the call's arguments bound to the callee's parameters (defaults filled in), and whether the
callee returns a tuple (then its result's adjoint is a list, one entry per item).

srcad transforms only the user's own code (see `srcad.libraries`).
"""

import ast
import functools
import inspect
import types

from . import annotations as anno
from . import models, rules
from .errors import UnsupportedSyntaxError
from .libraries import is_library_function


def _module_forward(func):
    """The function a call of the model `func` runs, or None when `func` is not a model."""
    return models.forward(func) if models.is_model(func) else None


def without_parameters(obj):
    """True for a model that has no parameters (`Tanh()`, a loss)."""
    return models.is_model(obj) and not models.has_parameters(obj)


def derivative_code(func):
    """For a srcad derivative (`grad_f = srcad.grad(f)`) called by code srcad transforms:
    (the generated function it runs, its `Generated` code), which srcad transforms like the
    user's own code; None for anything else."""
    generated = getattr(type(func), "__srcad_generated__", None)
    return generated(func) if callable(generated) else None


def is_user_function(func, mode):
    """True for a plain Python function (or a method bound to an object, or a model whose
    forward is such a function, or a srcad derivative: `derivative_code`) of the user's own
    code (see `is_library_function`) without a rule in `mode` that is not marked constant."""
    if derivative_code(func) is not None:
        return True
    if _module_forward(func) is not None:
        return rules.lookup(type(func), mode) is None
    plain = func.__func__ if isinstance(func, types.MethodType) else func
    return (isinstance(plain, types.FunctionType) and rules.lookup(func, mode) is None
            and rules.lookup(plain, mode) is None and not rules.is_nondifferentiable(plain)
            and not is_library_function(plain))


def unbind(func, call):
    """(plain function, argument nodes, statics) of a call: a bound method `obj.f(x)` becomes
    `f(obj, x)` with `self` known while generating; a srcad derivative, its generated
    function."""
    code = derivative_code(func)
    if code is not None:
        func = code[0]
    if isinstance(func, types.MethodType):
        first = next(iter(inspect.signature(func.__func__).parameters))
        return func.__func__, [call.func.value] + list(call.args), ((first, func.__self__),)
    forward = _module_forward(func)
    if forward is not None:                      # model(x) runs type(model).forward(model, x)
        first = next(iter(inspect.signature(forward).parameters))
        return forward, [call.func] + list(call.args), ((first, func),)
    return func, list(call.args), ()


def bind_arguments(func, args, keywords):
    """`{parameter: node or inspect.Parameter.empty}` in the callee's parameter order; a
    parameter the call leaves out maps to its default (a `Default`)."""
    signature = inspect.signature(func)
    bound = signature.bind(*args, **keywords)
    out = {}
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError("*args/**kwargs")
        out[param.name] = bound.arguments.get(param.name, Default(param.default))
    return out


def keyword_only(func):
    """The names of `func`'s keyword-only parameters (after `*`)."""
    return {p.name for p in inspect.signature(func).parameters.values()
            if p.kind is p.KEYWORD_ONLY}


class Default:
    """A parameter's default value, for a call that leaves the parameter out."""

    def __init__(self, value):
        self.value = value


@functools.cache
def returns_tuple(func):
    """True when every `return` of `func` returns a tuple, list or dict literal."""
    from .ast_util import parse_function
    code = derivative_code(func)
    func = func if code is None else code[0]
    plain = _module_forward(func) or getattr(func, "__func__", func)
    tree, _ = parse_function(plain)
    returns = [n for n in ast.walk(tree) if isinstance(n, ast.Return)]
    return bool(returns) and all(isinstance(r.value, (ast.Tuple, ast.List, ast.Dict))
                                 for r in returns)


def prepare(func, call, info, lineno, known=None):
    """(plain function, argument nodes, statics, {parameter: node or Default}) for a call of a
    user function; a call srcad cannot bind is an error at the user's line. `known`: the
    caller's statics (parameter -> value); an argument denoting one of its models (annotation
    MODULE: `self.V`, `model`) is a static of the callee too (`helper(model, X)`)."""
    if models.is_model(func) and models.own_forward(func):
        raise UnsupportedSyntaxError(
            f"this calls a {type(func).__name__} that holds a `forward` of its own (set on the "
            f"instance), which Python runs instead of {type(func).__name__}.forward; srcad "
            "differentiates a model's class's forward: define the new forward in a subclass",
            info.location(lineno))
    plain, args, statics = unbind(func, call)
    if any(p.kind is p.VAR_POSITIONAL for p in inspect.signature(plain).parameters.values()):
        raise UnsupportedSyntaxError(
            f"srcad does not differentiate a call of {plain.__name__}, which has a *args "
            "parameter, from code it transforms; pass a tuple instead", info.location(lineno))
    try:
        bound = bind_arguments(plain, args, {k.arg: k.value for k in call.keywords})
    except TypeError as exc:
        raise UnsupportedSyntaxError(f"srcad cannot differentiate this call of "
                                     f"{plain.__name__}: {exc}", info.location(lineno)) from None
    given = {param for param, _ in statics}
    for param, node in bound.items():
        module = anno.get(node, anno.MODULE) if isinstance(node, ast.AST) else None
        if module and known and module[0] in known and param not in given:
            statics += ((param, _submodule(known[module[0]], module[1])),)
    return plain, args, statics, bound


def _submodule(model, path):
    """The module at the dotted `path` ("V", "layers.0", "" for `model` itself) of `model`."""
    for part in path.split(".") if path else ():
        model = model[int(part)] if part.isdigit() else getattr(model, part)
    return model
