"""Models by registration: all that the transformer and the call path know of models.

The core never imports `srcad.nn`. A container type of learnable arrays registers here
(`register_model`), as `srcad.nn.Module` does, and so may any user container type; its learnable
arrays' type registers with `register_parameter`.

In: the registered classes and, for a model class, a function giving a model's `Layout`.
Out: `is_model(x)`, `is_parameter(x)`, `layout(model)`, `forward(model)` (the function that
calling the model runs), `own_forward(model)` (a `forward` set on the instance instead), and
`SETTING_TYPES` (the attribute types that code is specialized to).
"""

from collections.abc import Callable
from typing import Any, NamedTuple

SETTING_TYPES = (str, bool, type(None))
"""Types of a model's settings (`training`, `reduction="mean"`, `bias=None`): generated code
is specialized to their values, so branches on them vanish from it. Numbers (a dropout rate,
a slope) stay run-time values."""


class Layout(NamedTuple):
    """What generated code depends on in a model, and where its parameters are.

    `structure`: hashable, equal for models that generated code treats alike (classes,
    settings, parameter paths, which paths share one parameter); `key`: a small integer
    naming `structure`; `named`: `((path, parameter), ...)` like `named_parameters()`, each
    parameter once; `aliases`: `{path: canonical path}` for every other path that reaches a
    parameter already in `named` (weight tying, one module used twice)."""

    structure: Any
    key: int
    named: tuple
    aliases: dict


_layouts: dict = {}            # model class -> function(model) -> Layout
_model_types: tuple = ()
_parameter_types: tuple = ()
_by_type: dict = {}            # concrete class -> its layout function (found through the MRO)


def register_model(cls: type, layout: Callable[[Any], Layout]) -> None:
    """Make instances of `cls` (and its subclasses) models: `layout(model)` gives their
    `Layout`, and calling one runs `type(model).forward(model, ...)`."""
    global _model_types
    _layouts[cls] = layout
    _by_type.clear()
    if cls not in _model_types:
        _model_types = _model_types + (cls,)


def register_parameter(cls: type) -> None:
    """Make instances of `cls` parameters: objects holding a learnable array in `.data`."""
    global _parameter_types
    if cls not in _parameter_types:
        _parameter_types = _parameter_types + (cls,)


def is_model(value: Any) -> bool:
    """True for an instance of a registered model class."""
    return isinstance(value, _model_types)


def is_parameter(value: Any) -> bool:
    """True for an instance of a registered parameter class."""
    return isinstance(value, _parameter_types)


def layout(model: Any) -> Layout:
    """The `Layout` of a model (see `register_model`)."""
    kind = type(model)
    function = _by_type.get(kind)
    if function is None:
        function = next(_layouts[k] for k in kind.__mro__ if k in _layouts)
        _by_type[kind] = function
    return function(model)


def forward(model: Any) -> Callable:
    """The function that a call of `model` runs, with the model as its first argument."""
    return type(model).forward


def own_forward(model: Any) -> bool:
    """True for a model holding a `forward` of its own (an instance attribute, set after it was
    made): calling it in Python runs that, not its class's, which srcad transforms."""
    return "forward" in getattr(model, "__dict__", ())


def has_parameters(value: Any) -> bool:
    """True for a model with at least one parameter."""
    return bool(layout(value).named)
