"""Generating derivative code: the one place that knows the order of the passes, and the
cache of what was generated.

In: a user function, the kind of derivative (`GRAD`, `VALUE_AND_GRAD`, `VJP`, `JVP`, and the
internal kinds of `passes.reverse`), `wrt`, and what the code may depend on besides the source:
which parameters hold containers, the values known while generating (`statics`: the `self` of
a method, a model) and the argument shapes to specialize to (`signature`). Out: `Generated`
(the compiled function, its source text, the derivatives of the user functions it calls, as
lazily generated `Callee`s), built once per key by `cached`.
"""

import ast
import builtins
import gc
import inspect
import threading
import weakref

import numpy

from . import annotations as anno
from . import ast_util, codegen, guards, models, runtime
from .callee import Callee
from .errors import SrcadError
from .naming import FreeNames, Namer, identifier
from .passes import (
    activity,
    alias,
    deny,
    fence,
    forward,
    normalize,
    optimize,
    resolve,
    reverse,
    shapes,
    specialize,
)

GRAD, VALUE_AND_GRAD, VJP, JVP = "grad", "value_and_grad", "vjp", "jvp"
_CONTAINERS = (list, tuple, dict)

_cache = weakref.WeakKeyDictionary()      # user function -> {(kind, wrt): Generated}
_lock = threading.RLock()


class Generated:
    """A generated function, its source text, where the user's return statement is, and the
    derivatives of the user functions it calls."""

    __slots__ = ("function", "text", "return_location", "callees", "guards")

    def __init__(self, function, text, return_location, callees, guards=None):
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

    def full_text(self):
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


def generate(func, kind, wrt, containers=(), statics=(), signature=None, on_stage=None):
    """See `_generate`; Python's cycle collector is paused meanwhile (the passes make many
    short-lived nodes and no cycles worth collecting: a fifth of the time of long functions)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate(func, kind, wrt, containers, statics, signature, on_stage)
    finally:
        if enabled:
            gc.enable()


def _generate(func, kind, wrt, containers=(), statics=(), signature=None, on_stage=None):
    """Run the pipeline on `func`: the `Generated` derivative of `kind` with respect to `wrt`
    (a tuple of parameter names); `containers` names the parameters that hold lists, tuples
    or dicts of arrays in the calls this code is for; `statics` pairs (parameter, value) for
    parameters known while generating, such as the `self` of a method; `signature` gives
    the shapes of the positional arguments (see `signature`) for reverse-mode code
    specialized to them (no `unbroadcast` where shapes match, ...; a model's entry gives the
    shapes of its parameters, see `signature`). `on_stage(stage, fdef,
    info)`, if given, sees the function after "normalize", after the derivative pass ("raw")
    and after "optimized" (it must not keep or change `fdef`)."""
    on_stage = on_stage or (lambda stage, fdef, info: None)
    own_name = function_name(func, kind, wrt, statics)
    tree, info, names, namer = _normal_form(func, statics, own_name)
    assumed = guards.collect(tree, func, statics)
    free = FreeNames(namer, names, {**vars(builtins), **func.__globals__})
    _bind_runtime_calls(tree, free)
    on_stage("normalize", tree, info)
    static = None
    if kind != JVP and signature is not None:
        static = _infer_shapes(tree, func, statics, signature)
    active = activity.run(tree, wrt)
    deny.run(tree, info, free)
    for var, cell in zip(func.__code__.co_freevars, func.__closure__ or ()):
        try:
            free.bind(var, cell.cell_contents)   # closure values, under their own names
        except ValueError:
            pass
    callees = {}

    def bind_callee(callee, callee_kind, callee_wrt, callee_statics, callee_signature,
                    containers=()):
        key = (callee, callee_kind, callee_wrt, _static_key(callee_statics), callee_signature,
               containers)
        if key not in callees:
            callees[key] = Callee(cached, callee, callee_kind, callee_wrt, callee_statics,
                                  callee_signature, containers)
        return free.bind(function_name(callee, callee_kind, callee_wrt, callee_statics),
                         callees[key])

    def derive(callee, callee_kind, callee_wrt, callee_statics=(), argument_shapes=None,
               containers=()):
        return bind_callee(callee, callee_kind, callee_wrt, callee_statics,
                           _callee_signature(callee, callee_statics, argument_shapes),
                           containers)

    def pullback_only(ident):
        callee = free.bound.get(ident)
        if not isinstance(callee, Callee) or callee.kind != VJP:
            return None
        return bind_callee(callee.func, reverse.PULLBACK, callee.wrt, callee.statics,
                           callee.signature, callee.containers)

    modules = tuple(param for param, value in statics if _is_module(value) and param in wrt)
    if kind == JVP:
        if modules:
            raise SrcadError("forward mode with respect to a model's parameters is not "
                             "supported yet: use grad, value_and_grad or vjp",
                             info.location(tree))
        fdef = forward.run(tree, wrt, active, namer, free, info, derive)
    else:
        fdef = reverse.run(tree, wrt, active, namer, free, info, kind, derive, containers,
                           modules, static)
    fdef.name = own_name
    on_stage("raw", fdef, info)
    optimize.run(fdef, pullback_only)
    _strip_defaults(fdef)
    on_stage("optimized", fdef, info)
    text = codegen.emit(fdef, info, None if kind == JVP else "grad of")
    function = codegen.compile_function(text, fdef.name, func.__globals__, free.bound)
    if kind != JVP:
        function.__defaults__ = func.__defaults__
        function.__kwdefaults__ = func.__kwdefaults__
    function.__srcad_source__ = text
    last = tree.body[-1] if tree.body else tree
    used = ast_util.names_in(fdef)
    return Generated(function, text, info.location(last),
                     [c for c in callees.values() if free.name_of(c) in used], assumed)


def _normal_form(func, statics, own_name):
    """(tree, info, namespace, namer) of `func` in normal form: parsed, fenced, resolved with
    the values of `statics` known, normalized; the namer reserves `own_name`."""
    tree, info = ast_util.parse_function(func)
    names = resolve.namespace(func)
    fence.run(tree, info)
    alias.run(tree, info)
    resolve.run(tree, info, names, dict(statics))
    locals_ = resolve.local_names(tree)
    deny.annotate(tree, {**names, **dict(statics)}, locals_ - set(dict(statics)))
    namer = Namer(ast_util.names_in(tree) | locals_ | {own_name})
    normalize.run(tree, namer, locals_, info)
    return tree, info, names, namer


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


def _return_shape(func, statics, signature_):
    try:
        tree = _normal_form(func, statics, func.__name__)[0]
    except SrcadError:          # not code srcad transforms (then nothing derives it either)
        return None
    last = tree.body[-1] if tree.body else None
    if not (isinstance(last, ast.Return) and isinstance(last.value, ast.Name)):
        return None
    return _infer_shapes(tree, func, statics, signature_).get(last.value.id)


def _infer_shapes(tree, func, statics, signature_):
    """The static shapes of the normal form `tree` of `func` for arguments of these shapes
    (`shapes.infer`), after specializing `tree` to them (`specialize`: branches on `np.ndim`
    ...)."""
    given = dict(zip(_positional(func), signature_))
    parameters = {(param, path): shape for param, value in statics
                  if _is_module(value) for path, shape in given.pop(param, None) or ()}
    static = shapes.infer(tree, given, parameters, _result_shape)
    if specialize.run(tree, static):
        static = shapes.infer(tree, given, parameters, _result_shape)
    return static


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


def _bind_runtime_calls(tree, free):
    """Calls that normal form introduced (`set_item`) name their helper in generated code."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and getattr(anno.get(node, anno.FUNC), "__module__", None) == runtime.__name__):
            node.func.id = free.bind(node.func.id, anno.get(node, anno.FUNC))


def function_name(func, kind, wrt, statics=()):
    """`grad_f`, or `grad_f_wrt_W_b` when not with respect to the first parameter alone (the
    first after `self` for a method, named after its class: `vjp_Linear_forward`)."""
    owner = f"{type(statics[0][1]).__name__}_" if statics else ""
    base = identifier(f"{GRAD if kind == reverse.GRAD_NESTED else kind}_{owner}{func.__name__}")
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
    shape, `()` for a Python or NumPy scalar, for a model the pairs (parameter name, shape) of
    its parameters (`model_signature`), None for anything else."""
    return tuple(a.shape if type(a) is numpy.ndarray else
                 () if type(a) in _SCALAR_TYPES else
                 model_signature(a) if _is_module(a) else None for a in args)


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
