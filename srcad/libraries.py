"""Which Python functions are the user's own code, which srcad transforms.

srcad transforms only the user's own functions: a function whose source lies in an installed
package or in Python's standard library (`scipy.special.logsumexp`, `colorsys.rgb_to_yiq`) is
a primitive like a NumPy function, and needs a rule (`srcad.register_adjoint`). Its call on a
differentiated value is a `MissingRuleError` at the user's line that says so. The user opts in
to transforming a library's code with `srcad.transform_library("colorsys")`.

In: a Python function. Out: whether it is library code (`is_library_function`).
"""

import functools
import os
import sys
import sysconfig

from . import rules

_TRANSFORMED = set()        # top-level package names the user asked srcad to transform


def transform_library(*packages):
    """Let srcad transform the Python functions of the installed `packages` (names of
    top-level packages or modules, `"scipy"`, `"colorsys"`) like the user's own code, instead
    of asking for a rule for each function called from them. Returns None."""
    for name in packages:
        if not isinstance(name, str) or not name or "." in name:
            raise TypeError(f"transform_library takes names of top-level packages, not {name!r}")
        _TRANSFORMED.add(name)
    rules.changed()


def is_library_function(func):
    """True when the Python function `func` belongs to an installed package or to Python's
    standard library (not to srcad, not to a package named in `transform_library`)."""
    top = (getattr(func, "__module__", None) or "").partition(".")[0]
    if top == "srcad" or top in _TRANSFORMED:
        return False
    return _installed(func.__code__.co_filename)


@functools.cache
def _installed(filename):
    """True for a source file under site-packages or the standard library's folders."""
    path = os.path.realpath(filename)
    return any(path.startswith(root + os.sep) for root in _library_roots())


@functools.cache
def _library_roots():
    paths = sysconfig.get_paths()
    roots = {paths[k] for k in ("purelib", "platlib", "stdlib", "platstdlib") if k in paths}
    roots.update(p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages"))
    return tuple(os.path.realpath(r) for r in roots)
