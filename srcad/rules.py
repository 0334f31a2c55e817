"""Registries of derivative rules, keyed by the real Python object of the primitive.

Keys are the objects themselves: `numpy.tanh`, `numpy.ndarray.sum`, the operator classes
`ast.Add`/`ast.Mult`/`ast.USub`, `ast.Subscript` for indexing. A key may carry a variant, e.g.
`(ast.Mult, "same")` for `x * x` whose rule is `2 * x * dx`.

In: decorated template functions (from `templates/`, or registered by users). Out: `lookup(key,
mode)` returns a `Template`, or None; `is_nondifferentiable(key)` says whether a primitive's
result carries no derivative at all (comparisons, argmax, shape, zeros...).

Everything srcad knows about one primitive is registered here, on its real object, beside its
templates in `templates/`: the adjoint and tangent templates (`adjoint`, `tangent`, or one of
the shorthands `elementwise` and `linear` for both at once), its shape rule (`shape`, see
`srcad.shape_rules`), whether it reduces (`reduction`), whether it has no derivative or returns
a list of arrays. `facts(key)` gathers them, with the run-time helpers its templates call.
"""

import ast
import importlib
import importlib.util
import pathlib
import sys
import threading

from . import shorthands
from .shape_rules import same_shape
from .template import Template, d  # noqa: F401  (d is re-exported for templates)

ADJOINT = "adjoint"
TANGENT = "tangent"

_RULES = {ADJOINT: {}, TANGENT: {}}
_NONDIFF = {}          # key -> reason
_VALUES: dict = {}     # key -> parameters whose values its result depends on (see below)
_SEQUENCE = set()      # keys whose result is a list/tuple of arrays
_SHAPES: dict = {}     # key -> shape rule
_REDUCTIONS: set = set()  # keys of reductions: over all axes (no `axis`), a scalar
_WITHOUT: dict = {}    # key -> parameters its rules give no derivative on purpose
_loaded = False
epoch = 0
"""Counts registrations: code generated under one count relies on the rules of that count."""
_lock = threading.Lock()


def _register(mode, key, broadcasts):
    def decorate(func):
        global epoch
        _RULES[mode][key] = Template(func, key, mode, broadcasts=broadcasts)
        epoch += 1
        return func
    return decorate


def adjoint(key, broadcasts=False):
    """Decorator: register `func` as the reverse-mode template of `key`."""
    return _register(ADJOINT, key, broadcasts)


def tangent(key, broadcasts=False):
    """Decorator: register `func` as the forward-mode template of `key`.

    With `broadcasts=True`, a tangent left as a single input's derivative after zero terms are
    removed is broadcast to the result's shape (as in `d[z] = d[x] + d[y]` when only x varies).
    """
    return _register(TANGENT, key, broadcasts)


def elementwise(*keys):
    """Decorator: register both modes of `keys` from one elementwise rule `func(g, result, x,
    ...)` returning `g` times the derivative (see `srcad.shorthands`)::

        @elementwise(numpy.tanh)            # d[x] += d[y] * (1.0 - y * y); d[y] = d[x] * ...
        def tanh(g, y, x):
            return g * (1.0 - y * y)
    """
    return _shorthand(keys, shorthands.elementwise)


def linear(*keys):
    """Decorator: register both modes of `keys`, linear in their first argument, from
    `func(result, x, ...)` returning the transpose applied to `d[result]`; the tangent applies
    the first key to `d[x]` (see `srcad.shorthands`)::

        @linear(numpy.flip)                 # d[m] += numpy.flip(d[y], axis)
        def flip(y, m, axis=None):          # d[y] = numpy.flip(d[m], axis)
            return numpy.flip(d[y], axis)
    """
    return _shorthand(keys, lambda func: shorthands.linear(func, keys[0]))


def _shorthand(keys, derive):
    def decorate(func):
        global epoch
        derived = derive(func)
        for key in keys:
            for mode, parts in derived.items():
                _RULES[mode][key] = Template(func, key, mode, **parts)
        epoch += 1
        return func
    return decorate


def shape(*keys):
    """Decorator: register `func` as the shape rule of `keys` (see `srcad.shape_rules`)::

        @shape(numpy.ndarray.T)
        def T_shape(shapes, x, /):
            dims = shapes.shape(x)
            return dims[::-1] if dims is not None else None
    """
    def decorate(func):
        global epoch
        for key in keys:
            _SHAPES[key] = func
        epoch += 1
        return func
    return decorate


def reduction(*keys):
    """Mark reductions (sum, mean, ...): without `axis`, their result is a scalar."""
    _REDUCTIONS.update(keys)


def nondifferentiable(*keys, reason="it has no useful derivative", values=()):
    """Mark primitives whose results are constants for differentiation (zero derivative).

    `values` names the parameters the claim is false for: the result depends on their values
    (a random draw's `loc`, the `start` of `arange`); a differentiated value given for one of
    them is an error, not a zero. It may also be a function of the call's bound arguments
    (`{parameter: node}`) returning such names.
    """
    global epoch
    for key in keys:
        _NONDIFF[key] = reason
        if values:
            _VALUES[key] = values
    epoch += 1


def without_derivative(key, *params):
    """Declare parameters of `key` that its rules give no derivative on purpose: only their
    shapes, dtypes or settings change the result (`x` of srcad's `unbroadcast(g, x)`, an
    `axis`), or the result changes with their values only piecewise (`numpy.where`'s
    `condition`, the order `sort_adjoint` reads off `a`). A differentiated value reaching any
    other parameter that a rule does not cover is an error at the user's line
    (`primitive.check_covered`), never a dropped derivative."""
    global epoch
    _WITHOUT[key] = _WITHOUT.get(key, frozenset()) | frozenset(params)
    epoch += 1


def parameters_without_derivative(key):
    """The parameters of `key` declared with `without_derivative` (a frozenset)."""
    load()
    try:
        return _WITHOUT.get(key, frozenset())
    except TypeError:
        return frozenset()


def changed():
    """Record a change that code generated before it does not know (a new rule, a library the
    user lets srcad transform): generated code is made again."""
    global epoch
    epoch += 1


def stop_gradient(x):
    """`x` itself, but derivatives do not flow through it (it is a constant for srcad)."""
    return x


nondifferentiable(stop_gradient, reason="stop_gradient blocks derivatives on purpose")
shape(stop_gradient)(same_shape)


def returns_sequence(*keys):
    """Mark primitives that return a list of arrays (e.g. numpy.split)."""
    _SEQUENCE.update(keys)


def load():
    """Import the bundled templates once (they register themselves)."""
    global _loaded
    if not _loaded:
        with _lock:
            if not _loaded:
                _import_templates()
                _loaded = True


def _import_templates():
    """`srcad.templates` as installed, or, in a source checkout, from `templates/` beside
    the `srcad/` folder (the wheel maps that folder to `srcad.templates`)."""
    try:
        return importlib.import_module("srcad.templates")
    except ModuleNotFoundError as exc:
        if exc.name != "srcad.templates":
            raise
    init = pathlib.Path(__file__).resolve().parent.parent / "templates" / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        "srcad.templates", init, submodule_search_locations=[str(init.parent)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["srcad.templates"] = module
    spec.loader.exec_module(module)
    return module


def lookup(key, mode):
    """The template of `key` in `mode` ("adjoint" or "tangent"), or None."""
    load()
    try:
        return _RULES[mode].get(key) or _RULES[mode].get(_unbound(key))
    except TypeError:            # an unhashable object cannot have a rule
        return None


def is_nondifferentiable(key):
    load()
    try:
        return key in _NONDIFF or _unbound(key) in _NONDIFF
    except TypeError:
        return False


def value_parameters(key):
    """The `values` a non-differentiable primitive was registered with (see
    `nondifferentiable`): a tuple of parameter names or a function; () when none."""
    load()
    try:
        return _VALUES.get(key) or _VALUES.get(_unbound(key)) or ()
    except TypeError:
        return ()


def _unbound(key):
    """For a method bound to an object (`rng.normal`), the method of its type, which rules are
    registered on (`numpy.random.Generator.normal`); else None."""
    owner = getattr(key, "__self__", None)
    if owner is None or isinstance(owner, type) or type(owner).__name__ == "module":
        return None
    return getattr(type(owner), getattr(key, "__name__", ""), None)


def is_sequence(key):
    load()
    try:
        return key in _SEQUENCE
    except TypeError:
        return False


def shape_rule(key):
    """The shape rule of `key` (see `srcad.shape_rules`), or None."""
    load()
    try:
        return _SHAPES.get(key)
    except TypeError:
        return None


def reduces(key):
    """True when `key` is a reduction (see `reduction`)."""
    load()
    try:
        return key in _REDUCTIONS
    except TypeError:
        return False


class Facts:
    """What srcad knows about one primitive: its `adjoint` and `tangent` templates (or None),
    its `shape` rule (or None), whether it `reduces`, its `nondifferentiable` reason (or None),
    whether it returns a list of arrays (`sequence`), and the run-time `helpers` its templates
    call (the objects, from srcad's run-time modules)."""

    def __init__(self, key):
        self.adjoint, self.tangent = lookup(key, ADJOINT), lookup(key, TANGENT)
        self.shape = shape_rule(key)
        self.reduces = reduces(key)
        self.nondifferentiable = _NONDIFF.get(key) if is_nondifferentiable(key) else None
        self.sequence = is_sequence(key)
        self.helpers = tuple(dict.fromkeys(
            h for t in (self.adjoint, self.tangent) if t is not None for h in _helpers(t)))


def facts(key):
    """The `Facts` of `key`, gathered from every registry."""
    return Facts(key)


def _helpers(template):
    """The run-time helpers (functions of srcad.runtime, runtime_linalg, runtime_arrange,
    sparse) that the body of `template` calls."""
    found = []
    for node in ast.walk(ast.Module(body=template.body, type_ignores=[])):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            obj = template.globals.get(node.func.id)
            if getattr(obj, "__module__", "") in _RUNTIME_MODULES:
                found.append(obj)
    return found


_RUNTIME_MODULES = ("srcad.runtime", "srcad.runtime_linalg", "srcad.runtime_arrange",
                    "srcad.runtime_pieces", "srcad.runtime_sampled", "srcad.runtime_statistics",
                    "srcad.sparse")


def has_rule(key):
    """True when `key` has a rule in either mode or is known to be non-differentiable."""
    return (lookup(key, ADJOINT) is not None or lookup(key, TANGENT) is not None
            or is_nondifferentiable(key))


def registered(mode):
    """A snapshot `{key: Template}` of the rules in `mode` (tests iterate it)."""
    load()
    return dict(_RULES[mode])


def key_name(key):
    """A readable name for a rule key: `numpy.tanh`, `ast.Mult`, `numpy.ndarray.sum`."""
    if isinstance(key, tuple):
        return " ".join(key_name(k) for k in key)
    if isinstance(key, type) and key.__module__ == "ast":
        return f"ast.{key.__name__}"
    module = getattr(key, "__module__", None) or ""
    qual = getattr(key, "__qualname__", None) or getattr(key, "__name__", None) or repr(key)
    if isinstance(getattr(key, "__objclass__", None), type):
        owner = key.__objclass__
        return f"{owner.__module__}.{owner.__qualname__}.{key.__name__}"
    return f"{_public(module, qual, key)}.{qual}" if module else qual


def _public(module, qual, key):
    """The shortest enclosing module that exports `key` under `qual` (numpy._core.fromnumeric
    for numpy.sum, scipy.special._logsumexp for scipy.special.logsumexp), else `module`."""
    parts = module.split(".")
    for end in range(1, len(parts)):
        outer = sys.modules.get(".".join(parts[:end]))
        if outer is not None and getattr(outer, qual, None) is key:
            return ".".join(parts[:end])
    return module
