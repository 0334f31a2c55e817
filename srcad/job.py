"""One generation's job: what the passes need besides the tree, built once per generation.

In: the user function being transformed and the options of this generation (the kind of
derivative, `wrt`, the values known while generating, the parameters that hold containers, the
argument shapes to specialize to), then, as the pipeline in `generation` goes, the services the
later passes share (the namer, the free names, the callback that derives a called function).
Out: a `Job`, which every pass takes as `run(tree, job) -> tree`. Passes read the job; facts a
pass finds about the tree go onto the tree as annotations (`srcad.annotations`), never into the
job. The only writes after construction are the pipeline's: `locals` (with the names the
`desugar` pass binds), `namer` (before normal form), `free`, `derive` and `pullback_only`
(after it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import models
from .ast_util import SourceInfo
from .naming import FreeNames, Namer

Shape = tuple[int, ...]
"""A static shape: `()` for a scalar."""

ParameterShapes = Mapping[tuple[str, str], Shape]
"""The shapes of a static model's parameters, keyed as annotation PARAM gives their reads:
`("self", "V.weight")`."""

Derive = Callable[..., str]
"""`derive(func, kind, wrt, statics=(), argument_shapes=None, containers=())`: the name under
which the generated code calls the derivative `kind` of the user function `func` with respect to
the parameters `wrt`; `statics` pairs (parameter, value) known while generating (a method's
`self`), `argument_shapes` maps the callee's parameters to the static shapes of the call's
arguments (or None: the calling code is not specialized to shapes), `containers` names the
callee's parameters that the call passes lists, tuples or dicts of arrays."""

PullbackOnly = Callable[[str], str | None]
"""`pullback_only(name)`: for the name of a called vjp, the name of its variant that returns
the pullback alone; None when `name` is not a called vjp."""

ResultShape = Callable[[Callable[..., Any], tuple[tuple[str, Any], ...],
                        Mapping[str, Shape | None]], Shape | None]
"""`result_shape(func, statics, argument_shapes)`: the static shape of what a call of the
user function `func` returns, or None when it is not known."""


class Job:
    """What the passes of one generation share (see the module docstring).

    Set on construction: `func`, `kind` (`srcad.kinds`), `wrt` (parameter names), `name` (of
    the generated function: the namer keeps it free), `info` (where the user's source is, for
    errors), `names` (what the user's code sees: globals, closure values, builtins, lowest
    first), `locals` (the names the function binds as the user wrote it: parameters and
    assignment targets, which are never looked up in `names`), `statics` (parameter -> value
    known while generating: a method's `self`, a model), `containers` (parameters holding
    lists, tuples or dicts of arrays), `argument_shapes` and `parameter_shapes` (the static
    shapes to specialize to; empty when the code is generic), `result_shape`, and `lazy`
    (True for code specialized to the shapes of Dask arrays among the arguments: the adjoints
    of `@` stay the run-time helpers, which reduce over a Dask array's chunks with one
    `tensordot` where Dask's own `@` adds steps).
    """

    __slots__ = ("func", "kind", "wrt", "name", "info", "names", "locals", "statics",
                 "containers", "argument_shapes", "parameter_shapes", "result_shape", "namer",
                 "free", "derive", "pullback_only", "lazy")

    func: Callable[..., Any]
    kind: str
    wrt: tuple[str, ...]
    name: str
    info: SourceInfo
    names: dict[str, Any]
    locals: frozenset[str]
    statics: dict[str, Any]
    containers: tuple[str, ...]
    argument_shapes: dict[str, Shape | None]
    parameter_shapes: ParameterShapes
    result_shape: ResultShape | None
    lazy: bool
    namer: Namer                   # set by the pipeline before normal form
    free: FreeNames                # set after normal form: objects generated code names
    derive: Derive                 # set after normal form
    pullback_only: PullbackOnly    # set after normal form

    def __init__(self, func: Callable[..., Any], kind: str, wrt: tuple[str, ...], name: str,
                 info: SourceInfo, names: dict[str, Any], locals_: Iterable[str], *,
                 statics: Mapping[str, Any] | None = None, containers: tuple[str, ...] = (),
                 argument_shapes: Mapping[str, Shape | None] | None = None,
                 parameter_shapes: ParameterShapes | None = None,
                 result_shape: ResultShape | None = None, lazy: bool = False) -> None:
        self.func = func
        self.kind = kind
        self.wrt = tuple(wrt)
        self.name = name
        self.info = info
        self.names = names
        self.locals = frozenset(locals_)
        self.statics = dict(statics or {})
        self.containers = tuple(containers)
        self.argument_shapes = dict(argument_shapes or {})
        self.parameter_shapes = dict(parameter_shapes or {})
        self.result_shape = result_shape
        self.lazy = lazy

    @property
    def modules(self) -> tuple[str, ...]:
        """The parameters in `wrt` that hold a static model (their gradient is a dict keyed
        like its `named_parameters()`), in the order of `statics`."""
        return tuple(param for param, value in self.statics.items()
                     if models.is_model(value) and param in self.wrt)
