"""NumPy's callables, found in NumPy's own namespace, with argument recipes that work for them.

In: nothing (`catalogue()` probes NumPy once and caches the result). Out: `Entry`s, each a
template of a call such as `np.cumsum({A}, axis=0)`, `np.linalg.inv({M})` or `np.add.at({W},
{I}, {S})`, where `{A}`, `{B}` are float arrays of one shape, `{S}` a float scalar, `{M}` a
well-conditioned symmetric matrix with distinct eigenvalues (a point where its eigenvectors
have a derivative), `{I}` the repeated index `np.array([0, 0, 1])`, `{K}` a mask and
`{W}` an array the call writes into. Nothing here knows which functions srcad supports: every
ufunc, every public function of `numpy` and `numpy.linalg`, every ndarray method and the index
builders (`np.r_`, `np.c_`) are tried with every recipe that their signature allows, and an
entry is kept when the call runs, gives the same numbers twice and gives a numeric result
(`Entry.writes` when it changed an operand instead: those make the in-place family).

The operands can be wrapped to keep a function in its domain (`0.9 * np.tanh(a)` for arcsin,
`1.5 + a * a` for arccosh and log): the first wrapper that gives finite values on random inputs
in [-1.5, 1.5] is the one recorded.
"""

import contextlib
import functools
import inspect
import io
import warnings

import numpy as np

# names whose call would read or write files, change NumPy's global state, print, or hand back
# uninitialized memory: never called, not even to probe them
_UNSAFE = ("save", "load", "file", "txt", "memmap", "seterr", "geterr", "errstate", "set",
           "get", "show", "info", "print", "test", "lookfor", "source", "who", "empty",
           "add_newdoc", "add_docstring", "busday", "datetime", "deprecate", "nditer",
           "nested_iters", "vectorize", "frompyfunc", "fromregex", "fromiter", "fromfunction",
           "getbuffer", "typename", "format_float", "array_repr", "array_str", "array2string",
           "base_repr", "binary_repr", "require", "asmatrix", "bmat", "matrix", "shares_memory",
           "may_share_memory", "byte_bounds", "setbufsize", "iterable", "apply_")
# the operands' placeholder texts: how a recipe names them
OPERANDS = ("A", "B", "S", "M", "N", "I", "K", "W")
WRAPPERS = ("{}", "0.9 * np.tanh({})", "1.5 + {} * {}")

_ROWS = (4,), (3, 4)            # probe shapes: one and two dimensions (>= 3 rows for {I})
_RECIPES = [                     # (template, signature parameter it needs or None)
    ("F({A})", None), ("F({A}, {B})", None), ("F({A}, {S})", None), ("F({S}, {A})", None),
    ("F({A}, {B}, {S})", None), ("F({A}, axis=0)", "axis"), ("F({A}, axis=-1)", "axis"),
    ("F({A}, keepdims=True)", "keepdims"), ("F({A}, 2)", None), ("F({A}, 1, 0)", None),
    ("F([{A}, {B}])", None), ("F([{A}, {B}], axis=-1)", "axis"), ("F(({A}, {B}))", None),
    ("F({A}, dtype=int)", "dtype"), ("F({A}, {B}, 3)", None), ("F({A}, (1, 0))", None),
    ("F({A}, [0, 1], [1, 0])", None), ("F({A}, [0], [])", None), ("F({M})", None),
    ("F({M}, {N})", None), ("F({M}, 2)", None), ("F({A}, {I})", None),
    ("F({A}, {I}, axis=0)", "axis"), ("F({K}, {A}, {B})", None), ("F({A}, {K}, {B})", None),
    ("F({A}, {I}, {S})", None), ("F({A}, {S}, {B})", None), ("F('i->', {A})", None),
    ("F('ij->ji', {A})", None), ("F({A}, {B}, axes=1)", "axes"),
]
_METHOD_RECIPES = ["{A}.F()", "{A}.F(0)", "{A}.F({B})", "{A}.F({S})", "{A}.F({I}, {S})",
                   "{A}.F(axis=0)", "{A}.F(1)", "{A}.F(-0.5, 0.5)", "{A}.F(int)", "{A}.F(2)"]
_UFUNC_RECIPES = {1: ["F({A})"], 2: ["F({A}, {B})", "F({A}, {S})", "F.reduce({A})",
                                     "F.accumulate({A})", "F.outer({A}, {B})"]}
_UFUNC_WRITES = {1: ["F({A}, out={W})", "F.at({W}, {I})"],
                 2: ["F({A}, {B}, out={W})", "F.at({W}, {I}, {S})"]}


class Entry:
    """A call template (`text`, operands as `{A}`...), which wrapper keeps its float operands in
    the domain, the operand dimensions it was probed at (`ndims`), whether it writes into `{W}`
    or its first operand (`writes`) and the element of a tuple result it takes (`item`)."""

    __slots__ = ("name", "text", "wrapper", "ndims", "writes")

    def __init__(self, name, text, wrapper, ndims, writes):
        self.name, self.text, self.wrapper = name, text, wrapper
        self.ndims, self.writes = tuple(ndims), writes

    def __repr__(self):
        return f"Entry({self.text!r}, wrapper={self.wrapper!r}, ndims={self.ndims})"


def _operands(ndim, wrapper, rng):
    """Probe values for every placeholder, the float ones passed through `wrapper`."""
    shape = _ROWS[ndim - 1]
    n = shape[-1]

    def wrapped(value):
        return eval(wrapper.replace("{}", "v"), {"np": np, "v": value})
    a, b = rng.uniform(-1.5, 1.5, shape), rng.uniform(-1.5, 1.5, shape)
    m = rng.uniform(-1.5, 1.5, (n, n))
    return {"A": wrapped(a), "B": wrapped(b), "S": float(wrapped(rng.uniform(-1.5, 1.5))),
            "M": m @ m.T + 3.0 * np.eye(n), "N": np.tanh(rng.uniform(-1.5, 1.5, (n, n))),
            "I": np.array([0, 0, 1]), "K": a > 0.0,
            "W": np.asarray(wrapped(rng.uniform(-1.5, 1.5, shape)), dtype=float)}


def _result_ok(value):
    """A numeric ndarray, NumPy scalar or Python number (not a matrix, object or None)."""
    if isinstance(value, (bool, int, float, np.generic)):
        return np.asarray(value).dtype.kind in "biufc"
    return type(value) is np.ndarray and value.dtype.kind in "biufc" and value.size <= 400


def _same(x, y):
    return np.shape(x) == np.shape(y) and np.array_equal(x, y, equal_nan=True)


def _call(text, values):
    """Evaluate `text` with the placeholders bound to fresh copies of `values`; (result,
    operands after the call)."""
    scope = {"np": np, "int": int}
    scope.update({k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in values.items()})
    code = text.replace("{", "").replace("}", "")
    with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
        result = eval(code, scope)
    return result, {k: scope[k] for k in values}


def _probe(text, ndim, rng_seed=0):
    """(wrapper, writes, items) for `text` at operands of `ndim` dimensions, or None: items
    are the usable elements of a tuple result ([None] for a plain result)."""
    for wrapper in WRAPPERS:
        values = _operands(ndim, wrapper, np.random.default_rng(rng_seed))
        try:
            first, after = _call(text, values)
            second, _ = _call(text, values)
        except Exception:             # a recipe that does not fit this function: not kept
            return None
        changed = [k for k in values if not _same(values[k], after[k])]
        if "{W}" in text and not changed:
            changed = ["W"]                  # it wrote the values W already had
        if changed:              # kept when it writes into its first operand, in its shape
            target = "W" if "{W}" in text else \
                min(OPERANDS, key=lambda k: text.find("{" + k + "}") % 10000)
            if changed != [target] or target not in "AW" or \
                    np.shape(after[target]) != np.shape(values[target]):
                return None
            if np.all(np.isfinite(after[target])):
                return wrapper, True, [None]
            continue                           # try the next wrapper
        items = list(range(len(first))) if isinstance(first, tuple) else [None]
        usable = [i for i in items if _usable(first, second, i)]
        if not usable:
            return None
        finite = all(np.all(np.isfinite(first if i is None else first[i])) for i in usable)
        if finite:
            return wrapper, False, usable
    return None


def _usable(first, second, item):
    one, two = (first, second) if item is None else (first[item], second[item])
    return _result_ok(one) and _same(one, two)


def _public_functions():
    """(qualified name, object, signature parameters or None) of numpy's and numpy.linalg's
    public functions that are not classes, ufuncs or unsafe to call."""
    found = []
    for prefix, namespace in (("np.", np), ("np.linalg.", np.linalg)):
        for name in sorted(dir(namespace)):
            obj = getattr(namespace, name, None)
            if (name.startswith("_") or not callable(obj) or isinstance(obj, (type, np.ufunc))
                    or any(word in name for word in _UNSAFE)):
                continue
            try:
                params = set(inspect.signature(obj).parameters)
            except (TypeError, ValueError):
                params = None
            found.append((prefix + name, obj, params))
    return found


def _entries_for(name, recipes):
    """Entries of `name` (a qualified name, or a method's name) for each recipe that works at
    one or two dimensions."""
    entries = []
    for recipe in recipes:
        call = recipe.replace("F", name, 1) if recipe.startswith("F") else \
            recipe.replace(".F(", "." + name + "(")
        kept = {}
        for ndim in (1, 2):
            probed = _probe(call, ndim)
            if probed is not None:
                kept.setdefault((probed[0], probed[1], tuple(probed[2])), []).append(ndim)
        for (wrapper, writes, items), ndims in kept.items():
            for item in items:
                text = call
                if item is not None:
                    text = f"{text}[{item}]"
                entries.append(Entry(name, text, wrapper, ndims, writes))
    return entries


@functools.cache
def catalogue():
    """Every entry found (see the module docstring), in a fixed order."""
    entries = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in sorted(n for n in dir(np) if isinstance(getattr(np, n), np.ufunc)):
            ufunc = getattr(np, name)
            if ufunc.nin in (1, 2):
                recipes = _UFUNC_RECIPES[ufunc.nin] + _UFUNC_WRITES[ufunc.nin]
                entries += _entries_for("np." + name, recipes)
        for name, _, params in _public_functions():
            recipes = [text for text, needs in _RECIPES
                       if needs is None or params is None or needs in params
                       or "kwargs" in params]
            entries += _entries_for(name, recipes)
            if params and "out" in params:
                entries += _out_entries(name, recipes)
        for name in ("r_", "c_"):
            entries += _entries_for("np." + name, ["F[{A}, {B}]", "F[{A}, {S}]"])
        for name in sorted(dir(np.ndarray)):
            if not name.startswith("_"):
                entries += _entries_for(name, _METHOD_RECIPES)
    return tuple(_dedupe(entries))


def _out_entries(name, recipes):
    """`out=` forms of a function's recipes: `F(..., out={W})` where the result has the shape
    of `{A}`, so that `{W}` (an array of that shape) can receive it."""
    found = []
    for recipe in recipes:
        if "{A}" not in recipe or "{M}" in recipe or not recipe.endswith(")"):
            continue
        text = recipe[:-1] + ", out={W})"
        found += [e for e in _entries_for(name, [text]) if e.writes]
    return found


def _dedupe(entries):
    seen, kept = set(), []
    for entry in entries:
        if entry.text not in seen:
            seen.add(entry.text)
            kept.append(entry)
    return kept


def expressions():
    """The entries that compute a value (no write into an operand)."""
    return [e for e in catalogue() if not e.writes]


def writers():
    """The entries that write into `{W}` or their first operand."""
    return [e for e in catalogue() if e.writes]
