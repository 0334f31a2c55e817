"""Generating derivative code: the one place that knows the order of the passes, and the
cache of what was generated.

In: a user function, the kind of derivative (`srcad.kinds`), `wrt`, and what the code may
depend on besides the source: which parameters hold containers, the values known while
generating (`statics`: the `self` of a method, a model) and the argument shapes to specialize
to (`signature`). Out: `Generated` (the compiled function, its source text, the derivatives of
the user functions it calls, as lazily generated `Callee`s), built once per key by `cached`.
Each generation builds one `Job` and runs the passes on it (`_generate`; the order is listed in
`srcad.passes`).
"""

import ast
import builtins
import gc
import inspect
import threading
import weakref
from collections.abc import Callable
from types import FunctionType
from typing import Any

import numpy

from . import annotations as anno
from . import ast_util, backend, codegen, guards, models, runtime
from .ast_util import SourceInfo
from .callee import Callee
from .errors import Location, SrcadError
from .guards import Guards
from .job import Job, Shape
from .kinds import FORWARD, GRAD, GRAD_NESTED, PULLBACK, VJP
from .naming import FreeNames, Namer, identifier
from .passes import (
    activity,
    alias,
    classify,
    deny,
    desugar,
    fence,
    forward,
    inline,
    normalize,
    optimize,
    resolve,
    reverse,
    shapes,
    specialize,
    unroll,
)

_CONTAINERS = (list, tuple, dict)
Statics = tuple[tuple[str, Any], ...]
OnStage = Callable[[str, ast.FunctionDef, SourceInfo], None]

_cache = weakref.WeakKeyDictionary()      # user function -> {(kind, wrt): Generated}
_lock = threading.RLock()


class Generated:
    """A generated function, its source text, where the user's return statement is, and the
    derivatives of the user functions it calls."""

    __slots__ = ("function", "text", "return_location", "callees", "guards")

    function: Callable[..., Any]
    text: str
    return_location: Location
    callees: list[Callee]
    guards: Guards | None

    def __init__(self, function: Callable[..., Any], text: str, return_location: Location,
                 callees: list[Callee], guards: Guards | None = None) -> None:
        self.function = function
        self.text = text
        self.return_location = return_location
        self.callees = callees
        self.guards = guards

    def reachable(self):
        """This code and every derivative it calls, transitively, each generated now."""
        out, seen, todo = [], set(), [self]
        while todo:
            generated = todo.pop()
            if id(generated) in seen:
                continue
            seen.add(id(generated))
            out.append(generated)
            todo.extend(callee.generated() for callee in generated.callees)
        return out

    def valid(self):
        """True while the facts this code and the derivatives it calls (those generated so
        far) rely on hold."""
        seen, todo = set(), [self]
        while todo:
            generated = todo.pop()
            if id(generated) in seen:
                continue
            seen.add(id(generated))
            if generated.guards is not None and not generated.guards.holds():
                return False
            todo.extend(c.current for c in generated.callees if c.current is not None)
        return True

    def full_text(self) -> str:
        """This function's source followed by that of every derivative it calls, once each."""
        texts, seen, todo = [], set(), [self]
        while todo:
            generated = todo.pop(0)
            if id(generated) in seen:
                continue
            seen.add(id(generated))
            texts.append(generated.text)
            todo.extend(callee.generated() for callee in generated.callees)
        return "\n\n".join(texts)


def generate(func: FunctionType, kind: str, wrt: tuple[str, ...],
             containers: tuple[str, ...] = (), statics: Statics = (),
             signature: tuple | None = None, on_stage: OnStage | None = None) -> Generated:
    """See `_generate`; Python's cycle collector is paused meanwhile (the passes make many
    short-lived nodes and no cycles worth collecting: a fifth of the time of long functions)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate(func, kind, wrt, containers, statics, signature, on_stage)
    finally:
        if enabled:
            gc.enable()


def _generate(func: FunctionType, kind: str, wrt: tuple[str, ...],
              containers: tuple[str, ...] = (), statics: Statics = (),
              signature: tuple | None = None, on_stage: OnStage | None = None) -> Generated:
    """Run the pipeline on `func`: the `Generated` derivative of `kind` with respect to `wrt`
    (a tuple of parameter names); `containers` names the parameters that hold lists, tuples
    or dicts of arrays in the calls this code is for; `statics` pairs (parameter, value) for
    parameters known while generating, such as the `self` of a method; `signature` gives
    the shapes of the positional arguments (see `signature`) for reverse-mode code
    specialized to them (no `unbroadcast` where shapes match, ...; a model's entry gives the
    shapes of its parameters, see `signature`). `on_stage(stage, fdef, info)`, if given, sees
    the function after "normalize", after the derivative pass ("raw") and after "optimized"
    (it must not keep or change `fdef`)."""
    on_stage = on_stage or (lambda stage, fdef, info: None)
    tree, job = _job(func, kind, wrt, function_name(func, kind, wrt, statics), containers,
                     statics, signature)
    tree = _normal_form(tree, job)
    inlined = anno.get(tree, anno.INLINED)
    given = dict(statics)
    global_models = tuple((k, v) for k, v in job.statics.items() if k not in given)
    assumed = guards.collect(tree, func, statics, inlined, global_models)
    job.free = FreeNames(job.namer, job.names, {**vars(builtins), **func.__globals__},
                         job.locals)
    for ident, obj in inlined.names.items():
        job.free.bind_as(ident, obj)
    _bind_runtime_calls(tree, job.free)
    on_stage("normalize", tree, job.info)
    if signature is not None:
        tree = _infer_shapes(tree, job)
    tree = activity.run(tree, job)
    tree = deny.run(tree, job)
    _bind_closure(func, job.free)
    callees = _Callees(job.free)
    job.derive, job.pullback_only = callees.derive, callees.pullback_only
    fdef = _derivative(tree, job)
    on_stage("raw", fdef, job.info)
    fdef = optimize.run(fdef, job)
    _strip_defaults(fdef)
    on_stage("optimized", fdef, job.info)
    return _compiled(tree, fdef, job, callees.called_by(fdef), assumed)


def _compiled(tree: ast.FunctionDef, fdef: ast.FunctionDef, job: Job, callees: list[Callee],
              assumed: Guards) -> Generated:
    """The `Generated` of `fdef`, the finished derivative of the normal form `tree`: its source
    text, compiled with the job's free names, the derivatives it calls and the facts it relies
    on (`assumed`)."""
    func = job.func
    text = codegen.emit(fdef, job.info, None if job.kind in FORWARD else "grad of")
    function = codegen.compile_function(text, fdef.name, func.__globals__, job.free.bound,
                                        job.info)
    if job.kind not in FORWARD:
        function.__defaults__ = func.__defaults__
        function.__kwdefaults__ = func.__kwdefaults__
    function.__srcad_source__ = text
    last = tree.body[-1] if tree.body else tree
    return Generated(function, text, job.info.location(last), callees, assumed)


def _job(func: FunctionType, kind: str, wrt: tuple[str, ...], name: str,
         containers: tuple[str, ...] = (), statics: Statics = (),
         signature: tuple | None = None) -> tuple[ast.FunctionDef, Job]:
    """`func` parsed, and the `Job` of generating the function `name` from it (see
    `_generate`)."""
    tree, info = ast_util.parse_function(func)
    arguments, parameters_, lazy = {}, {}, False
    if signature is not None:       # the shapes of plain arguments, and of models' parameters
        lazy = any(type(shape) is LazyShape for shape in signature)
        arguments = {param: tuple(shape) if type(shape) is LazyShape else shape
                     for param, shape in zip(_positional(func), signature)}
        parameters_ = {(param, path): shape for param, value in statics if _is_module(value)
                       for path, shape in arguments.pop(param, None) or ()}
    job = Job(func, kind, wrt, name, info, resolve.namespace(func),
              resolve.local_names(tree), statics={**dict(statics), **_global_models(func, tree)},
              containers=containers, argument_shapes=arguments, parameter_shapes=parameters_,
              result_shape=_result_shape, lazy=lazy)
    return tree, job


def _global_models(func: FunctionType, tree: ast.FunctionDef) -> dict[str, Any]:
    """{name: model} for each module-level name `tree` (the parsed `func`) reads whose value
    is a registered model (`criterion = nn.CrossEntropyLoss()` at the top of a script): code is
    generated with it known, like a model argument (its calls inlined, its settings folded),
    and its guards check that the name still holds it, with its structure and parameter shapes
    (`guards.collect`)."""
    bound = resolve.local_names(tree) | set(func.__code__.co_freevars)
    bound |= {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    space = func.__globals__
    return {ident: space[ident] for ident in sorted(read - bound)
            if ident in space and models.is_model(space[ident])}


def _normal_form(tree: ast.FunctionDef, job: Job) -> ast.FunctionDef:
    """The parsed `tree` desugared (the job's `locals` then include the names that binds),
    fenced, its loops over static models unrolled, resolved with the values of the job's
    statics known, and normalized; the job's namer (made here) has every
    name of the resolved tree and the job's `name` taken."""
    tree = desugar.run(tree, job)
    job.locals |= resolve.local_names(tree)         # the names desugaring binds
    for pass_ in (fence, alias, unroll, inline):
        tree = pass_.run(tree, job)
    job.locals |= resolve.local_names(tree)         # the locals of inlined code
    job.names.update(anno.get(tree, anno.INLINED).names)    # the globals it reads, renamed
    for pass_ in (resolve, classify):
        tree = pass_.run(tree, job)
    job.namer = Namer(ast_util.names_in(tree) | resolve.local_names(tree) | {job.name})
    return normalize.run(tree, job)


def _derivative(tree: ast.FunctionDef, job: Job) -> ast.FunctionDef:
    """The derivative function of the normal form `tree` that the job asks for (forward mode
    for `JVP` and `TANGENT`, reverse mode for the others), named `job.name`."""
    if job.kind in FORWARD:
        fdef = forward.run(tree, job)
    else:
        fdef = reverse.run(tree, job)
    fdef.name = job.name
    return fdef


def _bind_closure(func: FunctionType, free: FreeNames) -> None:
    """Bind the values of `func`'s closure cells under their own names (an empty cell, one
    defined later in the enclosing function, is left out)."""
    for var, cell in zip(func.__code__.co_freevars, func.__closure__ or ()):
        try:
            free.bind(var, cell.cell_contents)
        except ValueError:
            pass


class _Callees:
    """The derivatives of user functions that one generated function calls: each a lazily
    generated `Callee`, made once per (function, kind, wrt, statics, signature) and bound in
    the generated code's free names."""

    def __init__(self, free: FreeNames) -> None:
        self.free = free
        self.made: dict[tuple, Callee] = {}

    def bind(self, func, kind, wrt, statics, signature_, containers=()) -> str:
        """The name under which the generated code calls the `Callee` of these options."""
        key = (func, kind, wrt, _static_key(statics), signature_, containers)
        if key not in self.made:
            self.made[key] = Callee(cached, func, kind, wrt, statics, signature_, containers)
        return self.free.bind(function_name(func, kind, wrt, statics), self.made[key])

    def derive(self, func, kind, wrt, statics=(), argument_shapes=None, containers=()) -> str:
        """The job's `derive` (see `job.Derive`)."""
        return self.bind(func, kind, wrt, statics,
                         _callee_signature(func, statics, argument_shapes), containers)

    def pullback_only(self, ident: str) -> str | None:
        """The job's `pullback_only` (see `job.PullbackOnly`)."""
        callee = self.free.bound.get(ident)
        if not isinstance(callee, Callee) or callee.kind != VJP:
            return None
        return self.bind(callee.func, PULLBACK, callee.wrt, callee.statics, callee.signature,
                         callee.containers)

    def called_by(self, fdef: ast.FunctionDef) -> list[Callee]:
        """The callees whose names `fdef` uses, in the order they were made."""
        if not self.made:
            return []                           # (most code: no walk of the whole tree)
        used = ast_util.names_in(fdef)
        return [c for c in self.made.values() if self.free.name_of(c) in used]


_RESULT_SHAPE = "result shape"
_pending_shapes = set()


def _result_shape(func, statics, argument_shapes):
    """The static shape of what a call of the user function `func` returns, given its
    arguments' shapes (`{parameter: shape or None}`), or None (see `shapes.infer`)."""
    signature_ = _callee_signature(func, statics, argument_shapes)
    if signature_ is None:
        return None
    with _lock:
        try:
            per_function = _cache.setdefault(func, {})
        except TypeError:
            return None
        code = func.__code__
        key = (_RESULT_SHAPE, None, (), _static_key(statics), signature_, code)
        if key not in per_function:
            if key in _pending_shapes:          # a recursive call: not known
                return None
            _pending_shapes.add(key)
            try:
                per_function[key] = _return_shape(func, statics, signature_)
            finally:
                _pending_shapes.discard(key)
        return per_function[key]


def _return_shape(func: FunctionType, statics: Statics, signature_: tuple) -> Shape | None:
    """The static shape of the name `func` returns, for arguments of the shapes `signature_`
    (None when not known)."""
    try:
        tree, job = _job(func, _RESULT_SHAPE, (), func.__name__, (), statics, signature_)
        tree = _normal_form(tree, job)
    except SrcadError:          # not code srcad transforms (then nothing derives it either)
        return None
    last = tree.body[-1] if tree.body else None
    if not (isinstance(last, ast.Return) and isinstance(last.value, ast.Name)):
        return None
    return anno.get(_infer_shapes(tree, job), anno.SHAPES).get(last.value.id)


def _infer_shapes(tree: ast.FunctionDef, job: Job) -> ast.FunctionDef:
    """The normal form `tree` annotated with its static shapes for the job's argument shapes
    (`shapes`), after specializing it to them (`specialize`: branches on `np.ndim` ...), again
    while that changes the tree (a branch taken lets shapes after it be known, as in inlined
    layers one after the other), at most `_SPECIALIZE_ROUNDS` times."""
    tree = shapes.run(tree, job)
    for _ in range(_SPECIALIZE_ROUNDS):
        tree = specialize.run(tree, job)
        if anno.get(tree, anno.SHAPES) is not None:     # unchanged: the shapes are final
            break
        tree = shapes.run(tree, job)
    return tree


_SPECIALIZE_ROUNDS = 8


def _callee_signature(func, statics, argument_shapes):
    """The signature (see `signature`) of a call of `func` whose arguments' shapes the calling
    code knows (`{parameter: shape or None}`), a static model's from its parameters; None
    when no shape is known."""
    if argument_shapes is None:
        return None
    known = dict(statics)
    shapes_ = tuple(model_signature(known[p]) if _is_module(known.get(p))
                    else argument_shapes.get(p) for p in _positional(func))
    return None if all(s is None for s in shapes_) else shapes_


def _bind_runtime_calls(tree: ast.FunctionDef, free: FreeNames) -> None:
    """Calls that normal form introduced (`set_item`, `range(len(x))`, `numpy.asarray` of a
    list given where NumPy takes an array) name their helper, builtin (under another name where
    a user local hides it) or numpy in generated code."""
    for node in ast_util.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = anno.get(node, anno.FUNC)
        if (isinstance(node.func, ast.Name)
                and getattr(func, "__module__", None) == runtime.__name__):
            node.func.id = free.bind(node.func.id, func)
        elif isinstance(node.func, ast.Name) and anno.get(node, anno.BUILTIN) is not None:
            ident = anno.get(node, anno.BUILTIN)
            node.func.id = free.bind(ident, getattr(builtins, ident))
        elif (func is numpy.asarray and isinstance(node.func, ast.Attribute)
              and isinstance(node.func.value, ast.Name) and node.func.value.id == "numpy"):
            node.func.value.id = free.bind("numpy", numpy)


def function_name(func, kind, wrt, statics=()):
    """`grad_f`, or `grad_f_wrt_W_b` when not with respect to the first parameter alone (the
    first after `self` for a method, named after its class: `vjp_Linear_forward`)."""
    owner = f"{type(statics[0][1]).__name__}_" if statics else ""
    base = identifier(f"{GRAD if kind == GRAD_NESTED else kind}_{owner}{func.__name__}")
    params = [p for p in parameters(func) if p not in dict(statics)]
    return base if tuple(wrt) == tuple(params[:1]) else f"{base}_wrt_{'_'.join(wrt)}"


def _strip_defaults(fdef):
    fdef.args.defaults = []
    fdef.args.kw_defaults = [None] * len(fdef.args.kwonlyargs)


def _static_key(statics):
    """What generated code depends on in static values: their types, and for a model its
    structure (`Module.structure`: classes, settings, parameter names), not its numbers."""
    key = []
    for param, value in statics:
        if models.is_model(value):
            key.append((param, models.layout(value).structure))
        else:
            key.append((param, type(value)))
    return tuple(key)


def cached(func, kind, wrt, containers=(), statics=(), signature=None):
    """`generate` once per (function, its code, kind, wrt, container parameters, the types
    of static parameters, and the argument shapes it is specialized to), and again when what
    the code relied on changed (`Generated.valid`)."""
    with _lock:
        try:
            per_function = _cache.setdefault(func, {})
        except TypeError:                       # not a Python function: generate() says why
            return generate(func, kind, wrt)
        code = getattr(func, "__code__", None)      # (a reload gives a new __code__)
        key = (kind, wrt, containers, _static_key(statics), signature, code)
        generated = per_function.get(key)
        if generated is None or not generated.valid():     # stale: regenerate
            generated = per_function[key] = generate(func, kind, wrt, containers, statics,
                                                     signature)
        return generated


def specializations(func, kind, wrt):
    """How many shape signatures of `func`'s derivative of `kind` wrt `wrt` are cached."""
    with _lock:
        per_function = _cache.get(func, {}) if _weakrefable(func) else {}
        code = getattr(func, "__code__", None)
        return sum(k[:2] == (kind, wrt) and k[4] is not None and k[5] is code
                   for k in per_function)


def _weakrefable(func):
    try:
        weakref.ref(func)
    except TypeError:
        return False
    return True


def _positional(func):
    """The parameters that positional arguments bind one to one (up to a `*args`)."""
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = []
    for param in inspect.signature(func).parameters.values():
        if param.kind not in kinds:
            break
        names.append(param.name)
    return names


def signature(args):
    """The shapes of positional arguments, as code specialized to them needs: a NumPy array's
    shape, a Dask array's as a `LazyShape` (where the sizes of all its chunks are known),
    `()` for a Python or NumPy scalar, for a model the pairs (parameter name, shape) of its
    parameters (`model_signature`), None for anything else."""
    return tuple(a.shape if type(a) is numpy.ndarray else
                 () if type(a) in _SCALAR_TYPES else
                 model_signature(a) if _is_module(a) else _lazy_shape(a) for a in args)


class LazyShape(tuple):
    """The shape of a Dask array argument. Code for Dask arrays differs from code for
    in-memory arrays of the same shapes (see `Job.lazy`), so a `LazyShape` is never equal to
    a plain tuple (nor hashed like one), and the cache keeps the two apart."""

    __slots__ = ()

    def __eq__(self, other):
        return type(other) is LazyShape and tuple.__eq__(self, other)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((LazyShape, tuple(self)))


def _lazy_shape(a):
    """A Dask array's shape as a `LazyShape` where the sizes of all its chunks are known
    (not after a boolean mask), else None."""
    if not backend.is_lazy(a):
        return None
    shape = tuple(a.shape)
    return LazyShape(shape) if all(isinstance(n, int) for n in shape) else None


def model_signature(model):
    """((name, shape), ...) of a model's parameters, in `named_parameters()` order, when all
    are NumPy arrays; else None."""
    named = models.layout(model).named
    if any(type(param.data) is not numpy.ndarray for _, param in named):
        return None
    return tuple((path, param.data.shape) for path, param in named)


_SCALAR_TYPES = (float, int, numpy.float64, numpy.float32)


def parameters(func):
    """The names of `func`'s parameters, in order."""
    return list(inspect.signature(func).parameters)


_is_module = models.is_model
