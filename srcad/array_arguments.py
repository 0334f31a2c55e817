"""Which arguments of a NumPy function NumPy itself turns into an array.

A Python list or tuple given where NumPy takes an array (`np.sort([x, y])`, `np.sum((a, b))`)
is converted by NumPy on entry (`asarray`); normal form makes that conversion explicit
(`_asarray = np.asarray([x, y]); np.sort(_asarray)`, and `np.asarray(items)` for a name the
function bound to a list or tuple), so only the rules of `numpy.asarray` and `numpy.array` see
a sequence of differentiated values and every other rule sees an array. A sequence NumPy
keeps as a sequence (`np.concatenate([x, y])`, `np.stack(arrays)`, `np.einsum(s, *operands)`)
is not an array parameter and stays as written.

In: the called object and the argument's position or keyword. Out: `takes_array` (a bool).
"""

import functools
import inspect

import numpy

# the names NumPy gives parameters that it converts with `asarray`/`asanyarray` on entry
ARRAY_PARAMETERS = frozenset({"a", "b", "x", "y", "x1", "x2", "m", "v", "p", "val", "arr",
                              "ary", "array", "A", "xp", "fp", "a_min", "a_max", "condition"})
# the conversions themselves: their rules take sequences (the form the others are given)
CONVERSIONS = (numpy.asarray, numpy.array)


def takes_array(func, position=None, keyword=None):
    """True when `func` (a NumPy function or ufunc) converts its argument at `position` (an
    int) or `keyword` (a name) into an array on entry; False for anything else (a user's
    function, a method, a parameter that takes a sequence or a shape, an unknown signature)."""
    if isinstance(func, numpy.ufunc):
        return keyword is None and position is not None and position < func.nin
    if any(func is conversion for conversion in CONVERSIONS) or not _is_numpy(func):
        return False
    names = _parameters(func)
    if names is None:
        return False
    if keyword is not None:
        return keyword in names and keyword in ARRAY_PARAMETERS
    return position < len(names) and names[position] in ARRAY_PARAMETERS


def _is_numpy(func):
    """True for a function of NumPy's own namespace (not a bound method, not a class)."""
    module = getattr(func, "__module__", None) or ""
    owner = getattr(func, "__self__", None)        # (a C function's is its module)
    return (module == "numpy" or module.startswith("numpy.")) and callable(func) \
        and not isinstance(func, type) and (owner is None or inspect.ismodule(owner))


@functools.cache
def _parameters(func):
    """The names of `func`'s parameters that can be given by position or keyword, in order
    (a `*args` ends them), or None when NumPy gives no signature."""
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return None
    names = []
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            break
        names.append(parameter.name)
    return tuple(names)
