"""The call path of a derivative for arguments of types and shapes seen before.

In: a `Generated` gradient (of `grad` or `value_and_grad`), the positions of the arguments it
differentiates, and example arguments (NumPy arrays and scalars, and models whose parameters are
NumPy arrays, already checked). Out: a function of the argument tuple that calls the generated
function and returns gradients in the form of their inputs, each owning its memory, as
`runtime.as_gradient` and `runtime.distinct` do, with their common cases inline (a fresh array
of the input's shape and dtype; a float for a float; for a model, a dict keyed like its
`named_parameters()`), so that a call costs little more than the generated function itself.
`entry` goes one step further for `grad` of arrays and numbers: the generated code itself,
compiled again inside a guard that checks the arguments and the gradients (what `source()`
shows stays the plain function).
"""

import numpy

from . import codegen, models, runtime
from .errors import NonScalarOutputError
from .sparse import RowGrad

_ndarray = numpy.ndarray
_FLOATS = (float, numpy.float64)
_MODEL = "model"


def make(generated, grad_only, positions, single, args, keep_rows=False):
    """The call path (see the module docstring); `grad_only` for `grad`, else the function
    returns `(value, gradients)`; `single` when one gradient is returned bare; `keep_rows`
    leaves a model's row-sparse gradients (`RowGrad`, of embedding lookups) sparse."""
    function = generated.function
    as_gradient, distinct, owned = runtime.as_gradient, runtime.distinct, runtime.owned
    forms = [(p, args[p].shape, args[p].dtype) if type(args[p]) is _ndarray else
             (p, float, None) if type(args[p]) is float else
             (p, _MODEL, None) if models.is_model(args[p]) else (p, None, None)
             for p in positions]                # types, shapes and dtypes are in the key
    position, shape, dtype = forms[0]

    def gradients(grads, args):
        out = []
        seen = inputs(args)                     # an input or an earlier gradient: a copy
        for g, (p, shape, dtype) in zip(grads, forms):
            if shape is _MODEL:
                g = model_gradients(g, args[p], seen, keep_rows)
            elif (type(g) is _ndarray and g.dtype is dtype and g.shape == shape
                    and g.base is None):
                if id(g) in seen:
                    g = g.copy()
            elif shape is float and type(g) in _FLOATS:
                g = float(g)                        # a float for a float input
            else:
                g = owned(as_gradient(g, args[p]), seen)
            seen.add(id(g))
            out.append(g)
        return tuple(out)

    def grad_call(args):
        try:
            grad = function(*args)
        except NonScalarOutputError as exc:
            raise NonScalarOutputError(exc.message, generated.return_location) from None
        if single:
            if (type(grad) is _ndarray and grad.dtype is dtype and grad.shape == shape
                    and grad.base is None):
                for a in args:
                    if a is grad:                   # an input itself (`dx = y`): a copy
                        return grad.copy()
                return grad
            if shape is float and type(grad) in _FLOATS:
                return float(grad)
            if shape is _MODEL:
                return model_gradients(grad, args[position], inputs(args), keep_rows)
            return distinct((as_gradient(grad, args[position]),), args)[0]
        return gradients(grad if len(forms) > 1 else (grad,), args)

    def value_and_grad_call(args):
        try:
            value, grads = function(*args)
        except NonScalarOutputError as exc:
            raise NonScalarOutputError(exc.message, generated.return_location) from None
        if single:
            return value, gradients((grads,), args)[0]
        return value, gradients(grads if len(forms) > 1 else (grads,), args)

    return grad_call if grad_only else value_and_grad_call


def inputs(args):
    """The ids of the arguments (the items of a list), of the arrays they view, and of
    models' parameter arrays (see `runtime.owned`)."""
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


def model_gradients(grads, model, seen, keep_rows=False):
    """The generated code's dict of a model's gradients keyed like its `named_parameters()`,
    with zeros for parameters the output does not reach, and a copy of any array that is, or
    views, an input (a parameter's array too) or an earlier gradient (`seen`, see
    `inputs`); with `keep_rows`, row-sparse gradients stay as they are."""
    named = models.layout(model).named
    out = {}
    for name, param in named:
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


def entry(generated, positions, single, args, fallback):
    """For `grad` of arguments that are NumPy arrays and numbers: the generated function's code
    with the call path around it, compiled as one function of `*args`: a guard (these types,
    shapes and dtypes, else `fallback(args)`), the code, and the gradients (of the arguments
    at `positions`; `single`: one, bare) returned as they are when each is a fresh array of its
    input's kind or a float for a float (else the general path makes them so). One Python call
    instead of three; None where that does not apply."""
    kinds = [_kind(a) for a in args]
    lines = generated.text.splitlines()
    if None in kinds or "grad_seed(" in generated.text or '"""' in generated.text \
            or "'''" in generated.text or not lines[-1].startswith("    return ") \
            or any(line.startswith("    return ") for line in lines[1:-1]):
        return None                 # (a string over several lines would change if indented)
    function = generated.function
    code = function.__code__
    params = code.co_varnames[:code.co_argcount]
    results = lines[-1][len("    return "):].split(", ")
    if len(params) != len(args) or code.co_kwonlyargcount or len(results) != len(positions) \
            or not all(r.isidentifier() for r in results):
        return None
    bound = dict(zip(code.co_freevars, (c.cell_contents for c in function.__closure__ or ())))
    taken = set(bound) | set(params) | set(function.__globals__)

    def bind(obj, hint):
        ident = hint
        while ident in taken:
            ident += "_"
        taken.add(ident)
        bound[ident] = obj
        return ident

    ndarray = bind(_ndarray, "srcad_ndarray")
    types = [bind(dtype if kind is _ndarray else kind, f"srcad_type_{i}")
             for i, (kind, _, dtype) in enumerate(kinds)]
    guard = [f"type({p}) is {ndarray} and {p}.shape == {shape!r} and {p}.dtype is {t}"
             if kind is _ndarray else f"type({p}) is {t}"
             for p, (kind, shape, _), t in zip(params, kinds, types)]
    arrays = [p for p, (kind, _, _) in zip(params, kinds) if kind is _ndarray]
    fresh, final = [], list(results)
    for i, (g, position) in enumerate(zip(results, positions)):
        kind, shape, _ = kinds[position]
        if kind is not _ndarray:                # a float for a float input
            fresh.append(f"type({g}) in {bind(_FLOATS, 'srcad_floats')}")
            final[i] = f"{bind(float, 'srcad_float')}({g})"
            continue
        fresh += [f"type({g}) is {ndarray} and {g}.base is None and {g}.shape == {shape!r} "
                  f"and {g}.dtype is {types[position]}"]
        fresh += [f"{g} is not {other}" for other in arrays + results[:i]]
    returned = final[0] if single else f"({', '.join(final)},)"
    body = "\n".join(" " * 8 + line if line else "" for line in lines[1:-1])
    text = (f"def {function.__name__}(*args):\n"
            f"    if len(args) == {len(args)}:\n"
            f"        {', '.join(params)}, = args\n"
            f"        if {' and '.join(guard)}:\n"
            f"{body}\n"
            f"            if {' and '.join(fresh)}:\n"
            f"                return {returned}\n"
            f"            return {bind(_finisher(positions, single), 'srcad_finish')}("
            f"({', '.join(results)},), args)\n"
            f"    return {bind(fallback, 'srcad_fallback')}(args)\n")
    return codegen.compile_function(text, function.__name__, function.__globals__, bound)


def _kind(a):
    """(type, shape, dtype) of an argument an entry can guard, else None."""
    if type(a) is _ndarray:
        return _ndarray, a.shape, a.dtype
    if type(a) in (float, int, numpy.float64):
        return type(a), None, None
    return None


def _finisher(positions, single):
    """What makes an entry's gradients final on the general path (`runtime.as_gradient`,
    `runtime.owned`)."""
    def finish(grads, args):
        seen = inputs(args)
        out = tuple(runtime.owned(runtime.as_gradient(g, args[p]), seen)
                    for g, p in zip(grads, positions))
        return out[0] if single else out
    return finish
