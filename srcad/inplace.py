"""NumPy functions and methods that write into an argument, and how a call of one is recognized.

In: the object a call resolves to (`numpy.copyto`, `numpy.ndarray.sort`, `numpy.add.at`, a
ufunc) and the call's AST node. Out: `writes(func, call)` says what the call writes into (a
short text for the error message), or None when it writes into nothing.

srcad gives every value a new name; a NumPy call that changes an array it was given instead
would change a value srcad has already differentiated, so such a call on a differentiated value
is rejected (`passes/deny.py`). The tables below are checked against NumPy's own API by
`derive()`, which regenerates the list from NumPy itself: every ufunc (its `out=` argument and
its `.at` method), every function of NumPy's namespace with an `out` or `overwrite_input`
parameter, and every function and ndarray method that changes an argument when run on a small
array (tests/test_deny_by_default.py compares the two).
"""

import ast
import functools
import inspect
import types

import numpy

# functions that write into one of their arguments (found by running them; see `derive`)
WRITING_FUNCTIONS = {
    numpy.copyto: "its first argument",
    numpy.put: "its first argument",
    numpy.putmask: "its first argument",
    numpy.place: "its first argument",
    numpy.put_along_axis: "its first argument",
    numpy.fill_diagonal: "its first argument",
    numpy.random.shuffle: "its argument",
    numpy.random.Generator.shuffle: "its argument",
    numpy.random.RandomState.shuffle: "its argument",
}

# ndarray methods that change the array they are called on
WRITING_METHODS = {"sort", "fill", "put", "resize", "partition", "itemset", "setfield",
                   "byteswap", "setflags", "__setitem__", "__setstate__", "__iadd__",
                   "__isub__", "__imul__", "__itruediv__", "__ifloordiv__", "__imod__",
                   "__ipow__", "__imatmul__", "__iand__", "__ior__", "__ixor__", "__ilshift__",
                   "__irshift__"}

# parameters whose argument a function writes into (or may overwrite)
WRITING_PARAMETERS = ("out", "overwrite_input")


# positions of the `out` argument of ufunc methods called positionally
_UFUNC_METHOD_OUT = {"reduce": 3, "accumulate": 3, "reduceat": 4}


def writes(func, call, method=False):
    """What the call `call` of `func` writes into, as a phrase, or None; `method` is True
    for `receiver.method(...)` (the receiver is then the first argument of `func`)."""
    if isinstance(func, numpy.ufunc):
        if len(call.args) > func.nin:
            return "its output argument (a ufunc's arguments after the inputs are outputs)"
    owner = getattr(func, "__self__", None)
    if isinstance(owner, numpy.ufunc):
        if getattr(func, "__name__", "") == "at":
            return "its first argument"
        if len(call.args) > _UFUNC_METHOD_OUT.get(getattr(func, "__name__", ""), 99):
            return "its output argument"
    if isinstance(func, (types.FunctionType, types.MethodType)) and not (
            getattr(func, "__module__", None) or "").startswith("numpy"):
        return None                               # the user's code: srcad transforms it too
    for param in WRITING_PARAMETERS:
        value = argument(func, call, method, param)
        if value is not None and not _is_false(value):
            return f"its `{param}=` argument"
    if func is numpy.nan_to_num and _is_false(argument(func, call, method, "copy")) and \
            argument(func, call, method, "copy") is not None:
        return "its first argument (`copy=False`)"
    if _method_name(func) in WRITING_METHODS:
        if _method_name(func) == "byteswap" and not _writes_byteswap(call):
            return None
        return "the array it is called on"
    try:
        return WRITING_FUNCTIONS.get(func) or WRITING_FUNCTIONS.get(_unbound(func))
    except TypeError:                             # an unhashable callable
        return None


def argument(func, call, method, param):
    """The node the call `call` of `func` passes as parameter `param`, or None (`method`: as
    in `writes`)."""
    for keyword in call.keywords:
        if keyword.arg == param:
            return keyword.value
    positional = _positional(func)
    if positional is None:
        return None
    args = ([None] if method else []) + list(call.args)
    if param in positional and positional.index(param) < len(args) and not any(
            isinstance(a, ast.Starred) for a in args if a is not None):
        return args[positional.index(param)]
    return None


def _positional(func):
    """The names of `func`'s positional parameters, or None when it has no signature."""
    try:
        return _positional_cached(func)
    except TypeError:                             # unhashable: not cached
        return _positional_cached.__wrapped__(func)


@functools.lru_cache(maxsize=1024)
def _positional_cached(func):
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return None
    return tuple(p.name for p in params if p.kind in (p.POSITIONAL_ONLY,
                                                      p.POSITIONAL_OR_KEYWORD))


def _is_false(node):
    return isinstance(node, ast.Constant) and node.value in (None, False)


def _writes_byteswap(call):
    """`a.byteswap(True)` or `a.byteswap(inplace=True)` swaps in place; `a.byteswap()` copies."""
    values = list(call.args) + [k.value for k in call.keywords if k.arg == "inplace"]
    return any(not _is_false(v) for v in values)


def _method_name(func):
    """The name of an ndarray method (`numpy.ndarray.sort`), else None."""
    if getattr(func, "__objclass__", None) is numpy.ndarray:
        return func.__name__
    return None


def _unbound(func):
    owner = getattr(func, "__self__", None)
    if owner is None or isinstance(owner, type) or inspect.ismodule(owner):
        return None
    return getattr(type(owner), getattr(func, "__name__", ""), None)


# ---- the list from NumPy's own API -----------------------------------------------------------

_SKIPPED = ("save", "load", "from", "show", "set", "get", "info", "test", "print", "memmap",
            "genfromtxt", "recfromcsv", "source", "lookfor")


def derive():
    """`{(where, name): how}` of every NumPy function or method that writes into an argument,
    regenerated from NumPy itself (no list written by hand): `where` is "ufunc", "numpy",
    "numpy.random", "Generator" or "ndarray"."""
    found = {}
    for where, space in (("numpy", numpy), ("numpy.linalg", numpy.linalg),
                         ("numpy.fft", numpy.fft)):
        for name_, obj in sorted(vars(space).items()):
            if isinstance(obj, numpy.ufunc):
                found[("ufunc", name_)] = "out=, .at"
            elif callable(obj) and not isinstance(obj, type) and not name_.startswith("_"):
                how = _writing_parameter(obj) or _probe_function(obj, name_)
                if how:
                    found[(where, name_)] = how
    for where in ("RandomState", "Generator"):
        for name_ in sorted(vars(getattr(numpy.random, where))):
            if not name_.startswith("_"):
                how = _writing_parameter(getattr(_generator(where), name_, None)) or (
                    "changes its argument" if _probe_random(where, name_) else None)
                if how:
                    found[(where, name_)] = how
    for name_ in sorted(dir(numpy.ndarray)):
        how = _writing_parameter(getattr(numpy.ndarray, name_)) or (
            "changes the array" if _probe_method(name_) else None)
        if how:
            found[("ndarray", name_)] = how
    return found


def _generator(where):
    return numpy.random.default_rng(0) if where == "Generator" else numpy.random.RandomState(0)


def _writing_parameter(func):
    if not callable(func):
        return None
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return None
    named = [p for p in WRITING_PARAMETERS if p in params]
    return ", ".join(f"{p}=" for p in named) or None


def _samples():
    """Fresh small arguments for probing: a float matrix first, then plausible others."""
    matrix = numpy.array([[3.0, 1.0, 2.0], [6.0, 4.0, 5.0], [9.0, 7.0, 8.0], [2.0, 0.5, 1.0]])
    index = numpy.array([[0, 1, 0]])
    mask = matrix > 4.0
    tries = [(), (0,), (1,), (9.0,), (True,), (0, 9.0), ([0, 1], [9.0, 8.0]), (mask, 9.0),
             (mask, [9.0, 8.0]), (numpy.full((4, 3), 9.0),), (index, 9.0, 0), ((2, 2),),
             (2.0 * numpy.eye(3),), (9.0, numpy.dtype(float), 0)]
    for extra in tries:
        yield matrix.copy(), extra, {}
    yield matrix.copy(), ((2, 2),), {"refcheck": False}      # resize without its check
    yield numpy.array([numpy.nan, 1.0]), (), {"copy": False}  # nan_to_num in place


def _changes(call):
    """True when calling `call(matrix, *extra)` on some sample changes `matrix`."""
    for matrix, extra, keywords in _samples():
        matrix = numpy.asarray(matrix)
        before = matrix.copy()
        try:
            call(matrix, *extra, **keywords)
        except Exception:                         # noqa: BLE001 (these arguments do not fit)
            continue
        if matrix.shape != before.shape or not numpy.array_equal(matrix, before,
                                                                  equal_nan=True):
            return True
    return False


def _probe_function(func, name_):
    import warnings
    if name_.startswith(_SKIPPED):                # files, printing, global settings
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return "changes its first argument" if _changes(func) else None


def _probe_random(where, name_):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _changes(getattr(_generator(where), name_))


def _probe_method(name_):
    import warnings
    if name_ in ("__init__", "__new__", "__init_subclass__", "__class_getitem__") or \
            any(s in name_ for s in ("dump", "tofile")):
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _changes(lambda matrix, *extra, **keywords: getattr(matrix, name_)(
            *extra, **keywords))
