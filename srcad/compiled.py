"""Compiled mode (`jit=True`): generated code compiled with numba, per shape signature.

In: a `Generated` (the code a call runs), the key of a call's arguments (`dispatch`'s: types,
shapes, dtypes, of NumPy or CuPy arrays) and its arguments. Out: `PerKey`, whose `function` is
called like the generated one: the first call of a key runs the generated code once, traced
(what each name holds: an array's shape and dtype, a number), and returns its result; it then
builds that key's `Compiled`: `fusion` turns each chain of elementwise statements into one loop
function, numba compiles the loops and, for a function with loops, the whole function (its
loops become compiled loops; straight-line code stays Python between the compiled loops and
NumPy's own calls, which numba would not make faster). What numba cannot compile (a dict, a
closure, a helper it does not know) runs with NumPy, its fused loops still compiled, and a
`JitFallbackWarning` names the user's line. `PerKey.full_text()` is the source that runs,
headed by what was compiled; `seconds` is the compile cost, apart from the calls. numba is
imported only here, on the first compilation (`pip install "srcad[jit]"`). On CuPy arrays the
fused chains are `cupy.ElementwiseKernel`s instead (`build_device`). At most `KEYS` keys per
generated function are compiled; numba's compilations are shared by equal loop texts and equal
whole functions.
"""

import ast
import linecache
import re
import time
import warnings

import numpy

from . import backend, codegen, fusion, rules, runtime
from .errors import JitFallbackWarning, SrcadError

_FLAGS = {"boundscheck": True, "error_model": "numpy"}   # NumPy's IndexError, inf and nan
_LOOP_FLAGS = {"error_model": "numpy"}      # fused loops index only within their arrays' size
_LOOPS = {}                 # loop text -> numba dispatcher, shared by every derivative
_SCALARS = (float, int, numpy.float64)
KEYS = 8                    # keys compiled per generated function; further ones run NumPy


class PerKey:
    """A generated function compiled per key of its arguments (see the module docstring)."""

    def __init__(self, generated, key):
        self.generated, self.key = generated, key
        self.return_location = generated.return_location
        self.by_key = {}
        self.latest = None

    def function(self, *args, **kwargs):
        key = self.key(args) if not kwargs else None
        compiled = self.by_key.get(key) if key is not None else None
        if compiled is not None:
            self.latest = compiled
            return compiled.function(*args)
        if key is None or len(self.by_key) >= KEYS:
            return self.generated.function(*args, **kwargs)
        seen, result = trace(self.generated, args)
        make = build_device if any(backend.fused_kernels(a) for a in args) else build
        self.latest = self.by_key[key] = make(self.generated, seen, args)
        return result

    @property
    def seconds(self):
        """The compile time of every key so far, in seconds."""
        return sum(c.seconds for c in self.by_key.values())

    def full_text(self):
        """The source that runs for the latest key (before a call, the generated code), then
        that of the derivatives it calls."""
        own = self.generated.text if self.latest is None else self.latest.full_text()
        rest = self.generated.full_text()[len(self.generated.text):]
        return own + rest


class Compiled:
    """A key's compiled code: `function`, `text`, `loops` (the fused loops' `fusion.Kernel`s),
    `compiled` (the names numba compiled), `fallback` (why the function runs with NumPy, or
    None), `seconds` (the compile cost)."""

    engine = "numba"                # or "CuPy": the loops are elementwise kernels

    def __init__(self, function, text, loops, compiled, fallback, seconds, generated):
        self.function, self.text, self.loops = function, text, loops
        self.return_location = generated.return_location
        self.compiled, self.fallback, self.seconds = compiled, fallback, seconds

    def full_text(self):
        """The function's text headed by what numba compiled, then its loop functions."""
        head = (f"# srcad compiled mode ({self.engine}): compiled "
                f"{', '.join(self.compiled) or 'nothing'}")
        if self.engine == "numba" and not self.fallback \
                and self.function.__name__ not in self.compiled:
            head += (f"\n# {self.function.__name__} has no loop: it runs as Python, between "
                     "NumPy's calls and its fused loops")
        if self.fallback:
            head += "\n" + "".join(f"# {line}\n" for line in self.fallback.splitlines())
        loops = [loop.text if self.engine == "numba" else _kernel_text(loop)
                 for loop in self.loops]
        return "\n\n".join([head.rstrip("\n") + "\n" + self.text] + loops)


class View:
    """A key's `Compiled` code seen as `Generated` (for `dispatch.entry`): its function and
    text, the generated code's guards, callees and return location."""

    __slots__ = ("function", "text", "guards", "callees", "return_location")

    def __init__(self, generated, code):
        self.function, self.text = code.function, code.text
        self.guards, self.callees = generated.guards, generated.callees
        self.return_location = generated.return_location


def fresh(array, args):
    """True for an array numba allocated (its base is numba's memory record) that shares no
    memory with an array among `args` (a view numba made of an input has that base too)."""
    base = array.base
    return type(base) is _MEMINFO[0] and not any(
        type(a) is numpy.ndarray and numpy.may_share_memory(array, a) for a in args)


_MEMINFO = [None]           # numba's memory record type, once numba is imported


# ---- the traced run -----------------------------------------------------------------------------
def trace(generated, args):
    """(what each local name of the generated function held: `{name: kind}` as `fusion` reads
    it, the function's result for `args`), from one run of an instrumented copy."""
    function = generated.function
    text = generated.text
    fdef = ast.parse(text).body[0]
    lines = text.splitlines()
    seen = {}

    def record(name, value):
        kind = _kind(value)
        seen[name] = kind if seen.get(name, kind) == kind else ("other",)

    hook = _fresh_name("srcad_seen", function)
    inserts = [(fdef.body[0].lineno - 1, fdef.body[0].col_offset,
                [a.arg for a in fdef.args.args])]
    for stmt in _statements(fdef.body):
        names = _assigned(stmt)
        if names:
            inserts.append((stmt.end_lineno, stmt.col_offset, names))
        if isinstance(stmt, ast.For) and isinstance(stmt.target, ast.Name):
            inserts.append((stmt.body[0].lineno - 1, stmt.body[0].col_offset, [stmt.target.id]))
    for at, col, names in sorted(inserts, key=lambda i: -i[0]):
        lines.insert(at, " " * col + "; ".join(f"{hook}({n!r}, {n})" for n in names))
    traced = codegen.compile_function("\n".join(lines) + "\n", function.__name__,
                                      function.__globals__, {**_bound(function), hook: record},
                                      codegen.ORIGINS.get(function.__code__.co_filename))
    result = traced(*args)
    return seen, result


def _kind(value):
    if type(value) is numpy.ndarray or backend.fused_kernels(value):
        return ("array", tuple(value.shape), value.dtype.name)
    if type(value) is int:
        return ("scalar", "int")
    if type(value) in _SCALARS:
        return ("scalar",)
    return ("other",)


def _statements(body):
    """The statements of `body` and of its loops and branches (not of nested functions)."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.For, ast.While, ast.If)):
            yield from _statements(stmt.body)
            yield from _statements(stmt.orelse)


def _assigned(stmt):
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
        return [stmt.target.id]
    if not isinstance(stmt, ast.Assign):
        return []
    names = []
    for target in stmt.targets:
        items = target.elts if isinstance(target, ast.Tuple) else [target]
        names += [t.id for t in items if isinstance(t, ast.Name)]
    return names


def _bound(function):
    """The objects generated code refers to besides its globals (its closure cells)."""
    code = function.__code__
    return dict(zip(code.co_freevars, (c.cell_contents for c in function.__closure__ or ())))


def _fresh_name(hint, function):
    code = function.__code__
    taken = set(code.co_varnames) | set(code.co_names) | set(code.co_freevars)
    while hint in taken:
        hint += "_"
    return hint


# ---- compilation -------------------------------------------------------------------------------
def build(generated, seen, args):
    """The `Compiled` code of `generated` for arguments like `args`, whose traced run saw
    `seen`."""
    numba = _numba()
    start = time.perf_counter()
    function = generated.function
    namespace = {**function.__globals__, **_bound(function)}
    fused = fusion.fuse(generated.text, seen, namespace)
    info = codegen.ORIGINS.get(function.__code__.co_filename)
    loops, samples = {}, _samples(seen, args, function)
    for loop in fused.kernels:
        loops[loop.name] = _compile_loop(numba, loop, samples)
    text, helpers = _numba_calls(fused.text, namespace, seen)
    whole, problem = None, None
    if any(isinstance(node, (ast.For, ast.While)) for node in ast.walk(ast.parse(text))):
        whole, problem = _compile_whole(numba, text, function, namespace, loops, helpers,
                                        args, info)
    numba_whole = whole is not None
    if whole is None:
        text = fused.text
        whole = codegen.compile_function(text, function.__name__, function.__globals__,
                                         {**_bound(function), **loops}, info)
        if problem:
            warnings.warn(JitFallbackWarning(problem), stacklevel=4)
    names = ([function.__name__] if numba_whole else []) + list(loops)
    return Compiled(whole, text, fused.kernels, names, problem, time.perf_counter() - start,
                    generated)


def _numba():
    try:
        import numba
        from numba.core.runtime import _nrt_python
    except ImportError:
        raise SrcadError('srcad\'s compiled mode (jit=True) needs numba: pip install '
                         '"srcad[jit]"') from None
    _MEMINFO[0] = _nrt_python._MemInfo
    return numba


def _samples(seen, args, function):
    """Example values of the traced names, for the types numba compiles the loops for."""
    params = function.__code__.co_varnames[:function.__code__.co_argcount]
    out = dict(zip(params, args))
    for name, kind in seen.items():
        if name not in out and kind[0] == "array":
            out[name] = numpy.empty(kind[1], dtype=kind[2])
        elif name not in out and kind[0] == "scalar":
            out[name] = 0.0
    return out


def _compile_loop(numba, loop, samples):
    """The numba dispatcher of a fused loop, compiled for its traced argument types."""
    dispatcher = _LOOPS.get(loop.text)
    if dispatcher is None:
        python = codegen.compile_function(loop.text, loop.name, {"numpy": numpy}, {})
        dispatcher = _LOOPS[loop.text] = numba.njit(**_LOOP_FLAGS)(python)
    types = tuple(numba.typeof(samples[name]) for name in loop.inputs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dispatcher.compile(types)
    return dispatcher


def _compile_whole(numba, text, function, namespace, loops, helpers, args, info):
    """(the numba dispatcher of the whole function compiled for `args`' types, None) or
    (None, the message naming the user's line that numba could not compile). Dispatchers are
    shared by equal texts reading the same objects (numba compiles once per ndim)."""
    name = function.__name__
    scope = {**namespace, **loops, **helpers}
    free, frozen = _free_objects(text, scope)
    if frozen is not None:
        return None, (f"{name} runs with NumPy: it reads `{frozen}`, which holds data whose "
                      "value numba would freeze")
    key = (text, tuple(free.items()))
    try:
        dispatcher = _WHOLE.get(key)
    except TypeError:                   # an unhashable object
        key, dispatcher = None, None
    python = codegen.compile_function(text, name, scope, {}, info)
    try:
        types = tuple(numba.typeof(a) for a in args)
        if dispatcher is None:
            dispatcher = numba.njit(**_FLAGS)(python)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dispatcher.compile(types)
    except Exception as exc:            # numba's typing and lowering errors, unsupported args
        return None, _fallback_message(name, exc, python, info)
    if key is not None:
        _WHOLE[key] = dispatcher
    return dispatcher, None


_WHOLE = {}                 # (text, the objects it reads) -> numba dispatcher


def _free_objects(text, scope):
    """({name: object} of the names the code reads from `scope`, the first of them that holds
    data rather than a function or module, or None): numba freezes such values."""
    fdef = ast.parse(text).body[0]
    local = {n.id for n in ast.walk(fdef) if isinstance(n, ast.Name)
             and isinstance(n.ctx, ast.Store)} | {a.arg for a in ast.walk(fdef)
                                                  if isinstance(a, ast.arg)}
    free = {}
    for node in ast.walk(fdef):
        if isinstance(node, ast.Name) and node.id not in local and node.id in scope:
            value = free[node.id] = scope[node.id]
            if not callable(value) and type(value).__name__ != "module":
                return free, node.id
    return dict(sorted(free.items())), None


def _fallback_message(name, exc, python, info):
    """Why numba could not compile `name`, at the user's line when numba names one."""
    filename = python.__code__.co_filename
    where = re.findall(rf'File "{re.escape(filename)}", line (\d+)', str(exc))
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    message = f"{name} runs with NumPy (its fused loops compiled): numba cannot compile it"
    if where:
        label, line = _origin(filename, int(where[-1]))
        generated_line = linecache.getline(filename, int(where[-1])).strip()
        lineno = info.unlabel(line) if line is not None and info is not None else None
        if lineno is not None:
            location = info.location(lineno)
            return (f"{message} at `{generated_line}` ({reason}), from the "
                    f"{label + ' ' if label else ''}user's line\n{location}")
    return f"{message} ({reason})"


def _origin(filename, lineno):
    """(label, user line as the comment writes it: `12`, `56 of Linear.forward`) of the
    `# line N:` / `# grad of line N:` comment above `lineno`."""
    for line in reversed(linecache.getlines(filename)[:lineno]):
        match = re.match(r"\s*# (grad of )?line (\d+(?: of [^:]+)?):", line)
        if match:
            return (match.group(1) or "").strip(), match.group(2)
    return None, None


# ---- numba-friendly versions of what generated code calls --------------------------------------
def _numba_calls(text, namespace, seen):
    """(`text` with the calls numba does not know rewritten to srcad's numba versions, those
    versions by name): `np.multiply.outer(a, b)` as `multiply_outer(a, b)`, a sum or max with
    `keepdims=True` and a constant axis as `sum_keepdims_1(a)`; the names bound to srcad's
    `zeros_like` and `stop_gradient` bound to numba versions; srcad's `scatter_add(g, x, t)`
    with an integer `t` (as the traced run saw it) as `scatter_add_int(g, x, t)`."""
    numba = _numba()
    helpers = {name: _helper(numba, kind) for name, value in namespace.items()
               for kind, obj in (("zeros_like", runtime.zeros_like),
                                 ("stop_gradient", rules.stop_gradient))
               if value is obj}
    fdef = ast.parse(text).body[0]
    lines = text.splitlines()
    rewriter = _Rewriter(namespace, seen)
    edits = []
    for stmt in _statements(fdef.body):
        if isinstance(stmt, (ast.For, ast.While, ast.If)) or not rewriter.applies(stmt):
            continue
        new = rewriter.visit(stmt)
        edits.append((stmt.lineno, stmt.end_lineno, " " * stmt.col_offset
                      + codegen.statement(new)))
    for first, last, new in sorted(edits, key=lambda e: -e[0]):
        lines[first - 1:last] = [new]
    helpers.update({name: _helper(numba, name) for name in rewriter.used})
    return "\n".join(lines) + "\n", helpers


class _Rewriter(ast.NodeTransformer):
    """Rewrites the calls `_numba_calls` names; `used` collects the helpers they call."""

    def __init__(self, namespace, seen):
        self.namespace, self.seen = namespace, seen
        self.used = set()

    def applies(self, stmt):
        return any(isinstance(n, ast.Call) and self.helper(n) for n in ast.walk(stmt))

    def helper(self, call):
        """The name of the helper replacing `call`, or None."""
        func = _resolved(call.func, self.namespace)
        if func == numpy.multiply.outer and len(call.args) == 2 and not call.keywords:
            return "multiply_outer"
        if func is runtime.scatter_add and len(call.args) == 3 and not call.keywords and \
                isinstance(call.args[2], ast.Name) and \
                self.seen.get(call.args[2].id) == ("scalar", "int"):
            return "scatter_add_int"
        keywords = {k.arg: k.value for k in call.keywords}
        axis, keep = keywords.get("axis"), keywords.get("keepdims")
        if set(keywords) != {"axis", "keepdims"} or not (
                isinstance(keep, ast.Constant) and keep.value is True
                and isinstance(axis, ast.Constant) and type(axis.value) is int
                and axis.value >= 0):
            return None
        method = isinstance(call.func, ast.Attribute) and func is None
        reduction = call.func.attr if method else getattr(func, "__name__", None)
        if (reduction == "sum" or (reduction in ("max", "amax") and axis.value < 2)) \
                and len(call.args) == (0 if method else 1):
            return f"{reduction.lstrip('a')}_keepdims_{axis.value}"
        return None

    def visit_Call(self, node):
        self.generic_visit(node)
        name = self.helper(node)
        if name is None:
            return node
        self.used.add(name)
        args = node.args or [node.func.value]
        return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=args, keywords=[])


def _resolved(node, namespace):
    """The object an attribute chain names (`np.multiply.outer`), or None."""
    if isinstance(node, ast.Name):
        return namespace.get(node.id)
    if isinstance(node, ast.Attribute):
        return getattr(_resolved(node.value, namespace), node.attr, None)
    return None


_HELPERS = {}
_HELPER_TEXT = {
    "zeros_like": "def zeros_like(x):\n    return numpy.zeros_like(x)\n",
    "stop_gradient": "def stop_gradient(x):\n    return x\n",
    "scatter_add_int": "def scatter_add_int(g, x, index):\n"
                       "    out = numpy.zeros_like(x)\n"
                       "    out[index] += g\n"
                       "    return out\n",
    "multiply_outer": "def multiply_outer(a, b):\n"
                      "    return numpy.outer(a, b).reshape(a.shape + b.shape)\n",
}


def _reduction_text(name):
    """`sum_keepdims_1` and the like: a sum (of any array) or a max (of a matrix) over a
    constant axis, the axis kept."""
    reduction, _, axis = name.split("_")
    if reduction == "sum":
        return (f"def {name}(a):\n"
                f"    return numpy.expand_dims(a.sum(axis={axis}), {axis})\n")
    rows = "a.shape[0], 1" if axis == "1" else "1, a.shape[1]"
    item = "a[i, :]" if axis == "1" else "a[:, i]"
    where = "i, 0" if axis == "1" else "0, i"
    return (f"def {name}(a):\n"
            f"    out = numpy.empty(({rows}))\n"
            f"    for i in range(a.shape[{1 - int(axis)}]):\n"
            f"        out[{where}] = {item}.max()\n"
            f"    return out\n")


def _helper(numba, name):
    """The numba version of a helper (`sum_keepdims_1`: a sum over axis 1, kept)."""
    helper = _HELPERS.get(name)
    if helper is None:
        text = _HELPER_TEXT.get(name)
        if text is None:
            text = _reduction_text(name)
        python = codegen.compile_function(text, name, {"numpy": numpy}, {})
        helper = _HELPERS[name] = numba.njit(**_FLAGS)(python)
    return helper


# ---- CuPy: each fused chain one elementwise kernel ---------------------------------------------
def build_device(generated, seen, args):
    """The `Compiled` code of `generated` for CuPy arrays like `args`: its fused chains are
    `cupy.ElementwiseKernel`s (the rest runs as generated, on CuPy)."""
    start = time.perf_counter()
    function = generated.function
    fused = fusion.fuse(generated.text, seen, {**function.__globals__, **_bound(function)})
    kernels = {loop.name: backend.elementwise_kernel(loop.in_params, loop.out_params,
                                                     loop.operation, f"srcad_{loop.name}")
               for loop in fused.kernels}
    whole = codegen.compile_function(fused.text, function.__name__, function.__globals__,
                                     {**_bound(function), **kernels},
                                     codegen.ORIGINS.get(function.__code__.co_filename))
    code = Compiled(whole, fused.text, fused.kernels, list(kernels), None,
                    time.perf_counter() - start, generated)
    code.engine = "CuPy"
    return code


def _kernel_text(loop):
    """A fused chain's elementwise kernel as `srcad.source` shows it."""
    body = "".join(f"#     {line}\n" for line in loop.operation.splitlines())
    return (f"# {loop.name} = cupy.ElementwiseKernel(\n#     {loop.in_params!r},\n"
            f"#     {loop.out_params!r},\n{body}#     )\n")
