"""The compiled entry's part for models: the checks of a model argument and the return of its
gradient dict as the generated code built it.

In: a model argument of the call that made the entry (`dispatch.entry`), the generated code's
text, and the entry's naming of objects (`bind(obj, hint)`, `local(hint)`). Out: `kind(model)`
(a `Model`: what the entry checks of it), `condition(...)` (that check as one Python expression,
binding each parameter's array to a local of the entry), `literal(text, name)` (the gradient
dict `name` as the code's last statement before its `return` builds it: `{path: value name}`)
and `fresh(...)` (when that dict may be returned as it is).

What code generated for a model relies on is the model's class, its structure (classes,
settings, parameter paths, which paths share one parameter: `models.layout(model).key`, made
again by `nn.Module` whenever an attribute of one of its modules changes) and each parameter's
array type, shape and dtype; the entry checks each on every call, else takes the call path.
"""

import ast
from typing import NamedTuple

import numpy

from . import models

_ndarray = numpy.ndarray


class Model(NamedTuple):
    """What the entry checks of a model argument: `cls` its class, `key` its structure's key,
    `params` ((path, shape, dtype), ...) in `named_parameters()` order, and `shared` whether
    some parameter is reached by two paths (then the gradients of the paths are summed by the
    general finish)."""

    cls: type
    key: int
    params: tuple
    shared: bool


def kind(model):
    """The `Model` of a model argument whose parameters are all NumPy arrays, else None."""
    layout = models.layout(model)
    params = []
    for path, param in layout.named:
        data = param.data
        if type(data) is not _ndarray:
            return None
        params.append((path, data.shape, data.dtype))
    return Model(type(model), layout.key, tuple(params), bool(layout.aliases))


def condition(p, model, bind, local):
    """(a Python expression true when the argument named `p` is a model of `model`'s class,
    structure and parameter arrays, the names the expression gives those arrays in order).
    `bind(obj, hint)` names an object for the entry, `local(hint)` a fresh local."""
    type_, ndarray = bind(type, "srcad_type"), bind(_ndarray, "srcad_ndarray")
    layout, named = local(f"srcad_layout_{p}"), local(f"srcad_named_{p}")
    parts = [f"{type_}({p}) is {bind(model.cls, f'srcad_class_{p}')}",
             f"({layout} := {bind(models.layout, 'srcad_layout')}({p})).key == {model.key!r}"]
    if model.params:
        parts.append(f"({named} := {layout}.named) is not None")
    arrays = []
    for i, (_, shape, dtype) in enumerate(model.params):
        array = local(f"srcad_param_{p}_{i}")
        arrays.append(array)
        parts.append(f"{type_}({array} := {named}[{i}][1].data) is {ndarray} and "
                     f"{array}.shape == {shape!r} and {array}.dtype is "
                     f"{bind(dtype, f'srcad_dtype_{p}_{i}')}")
    return " and ".join(parts), arrays


def literal(text, name):
    """{path: value name} of the dict literal that the statement just before the final
    `return` of the generated function in `text` assigns to `name`, when every key is a
    string and every value a name; else None."""
    body = ast.parse(text).body[0].body
    if len(body) < 2:
        return None
    last = body[-2]
    if not (isinstance(last, ast.Assign) and len(last.targets) == 1
            and isinstance(last.targets[0], ast.Name) and last.targets[0].id == name
            and isinstance(last.value, ast.Dict)):
        return None
    keys, values = last.value.keys, last.value.values
    if not all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in keys) or \
            not all(isinstance(v, ast.Name) for v in values):
        return None
    return {k.value: v.id for k, v in zip(keys, values)}


def fresh(model, entries, others, bind, owned):
    """The conditions under which the dict whose `entries` ({path: value name}) the code
    builds is the model's gradient as the call path would give it: keyed exactly like
    `named_parameters()`, in its order, each value a fresh array of its parameter's shape and
    dtype (`owned(g)`: the text saying `g` owns its memory), none another value or one of
    `others` (pairs (name, (shape, dtype)) of the arrays the entry checked: arguments,
    parameters, earlier gradients; one of another shape or dtype cannot be it). ["False"]
    where the dict can never be returned as it is (a parameter shared by two paths, a key
    missing or out of order)."""
    if model.shared or list(entries) != [path for path, _, _ in model.params]:
        return ["False"]
    type_, ndarray = bind(type, "srcad_type"), bind(_ndarray, "srcad_ndarray")
    out, seen = [], list(others)
    for i, (path, shape, dtype) in enumerate(model.params):
        g = entries[path]
        out.append(f"{type_}({g}) is {ndarray} and {owned(g)} and {g}.shape == {shape!r} "
                   f"and {g}.dtype is {bind(dtype, f'srcad_gdtype_{i}')}")
        out += [f"{g} is not {other}" for other, form in seen if form == (shape, dtype)]
        seen.append((g, (shape, dtype)))
    return out
