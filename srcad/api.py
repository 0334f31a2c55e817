"""The public entry points and the one place that knows the order of the passes.

In: a user's Python function and options (`wrt`, the kind of derivative). Out: a callable
(`Derivative`) that generates, on first use, the derivative's Python source, compiles it, and
then calls it; `source()` returns that text. Generation is cached per function and options.

Calls of `grad` and `value_and_grad` with NumPy arrays, scalars and models run code
specialized to the argument shapes, a model's parameter shapes included (`passes.shapes`: no
`unbroadcast` where shapes match, ...; `passes.specialize`: branches on `np.ndim` taken),
generated once per shape signature (at most `_SPECIALIZATIONS` of them; further ones run the
generic code); the derivatives of the user functions and layers that code calls are
specialized to the shapes of their arguments in turn. A call finds its code by the arguments'
types, shapes and dtypes (for a model, its cached `structure()` and parameter shapes), and
checks its inputs only the first time it meets them (`fastcall`).
"""

import ast
import builtins
import inspect
import threading
import weakref

import numpy

from . import annotations as anno
from . import ast_util, codegen, fastcall, rules, runtime
from .errors import NonScalarOutputError, ShapeMismatchError, SrcadError, WrtError
from .naming import FreeNames, Namer
from .passes import (
    activity,
    alias,
    fence,
    forward,
    normalize,
    optimize,
    resolve,
    reverse,
    shapes,
    specialize,
)
from .sparse import RowGrad

GRAD, VALUE_AND_GRAD, VJP, JVP = "grad", "value_and_grad", "vjp", "jvp"
_CONTAINERS = (list, tuple, dict)

_cache = weakref.WeakKeyDictionary()      # user function -> {(kind, wrt): Generated}
_lock = threading.RLock()


class Generated:
    """A generated function, its source text, where the user's return statement is, and the
    derivatives of the user functions it calls."""

    __slots__ = ("function", "text", "return_location", "callees")

    def __init__(self, function, text, return_location, callees):
        self.function = function
        self.text = text
        self.return_location = return_location
        self.callees = callees

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


class Callee:
    """The derivative of a user function called from generated code, generated on first call
    (so a function may call itself); specialized to the shapes of its arguments (`signature`)
    where the calling code knows them."""

    __slots__ = ("func", "kind", "wrt", "statics", "signature", "function")

    def __init__(self, func, kind, wrt, statics=(), signature=None):
        self.func, self.kind, self.wrt, self.statics = func, kind, wrt, statics
        self.signature = signature
        self.function = None

    def generated(self):
        return cached(self.func, self.kind, self.wrt, statics=self.statics,
                      signature=self.signature)

    def generated_function(self):
        """The generated function itself (what a further derivative transforms)."""
        return self.generated().function

    def __call__(self, *args, **kwargs):
        function = self.function
        if function is None:
            function = self.function = self.generated().function
        return function(*args, **kwargs)


def generate(func, kind, wrt, containers=(), statics=(), signature=None, on_stage=None):
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
    free = FreeNames(namer, names, {**vars(builtins), **func.__globals__})
    _bind_runtime_calls(tree, free)
    on_stage("normalize", tree, info)
    static = None
    if kind != JVP and signature is not None:
        static = _infer_shapes(tree, func, statics, signature)
    active = activity.run(tree, wrt)
    for var, cell in zip(func.__code__.co_freevars, func.__closure__ or ()):
        try:
            free.bind(var, cell.cell_contents)   # closure values, under their own names
        except ValueError:
            pass
    callees = {}

    def bind_callee(callee, callee_kind, callee_wrt, callee_statics, callee_signature):
        key = (callee, callee_kind, callee_wrt, _static_key(callee_statics), callee_signature)
        if key not in callees:
            callees[key] = Callee(callee, callee_kind, callee_wrt, callee_statics,
                                  callee_signature)
        return free.bind(function_name(callee, callee_kind, callee_wrt, callee_statics),
                         callees[key])

    def derive(callee, callee_kind, callee_wrt, callee_statics=(), argument_shapes=None):
        return bind_callee(callee, callee_kind, callee_wrt, callee_statics,
                           _callee_signature(callee, callee_statics, argument_shapes))

    def pullback_only(ident):
        callee = free.bound.get(ident)
        if not isinstance(callee, Callee) or callee.kind != VJP:
            return None
        return bind_callee(callee.func, reverse.PULLBACK, callee.wrt, callee.statics,
                           callee.signature)

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
                     [c for c in callees.values() if free.name_of(c) in used])


def _normal_form(func, statics, own_name):
    """(tree, info, namespace, namer) of `func` in normal form: parsed, fenced, resolved with
    the values of `statics` known, normalized; the namer reserves `own_name`."""
    tree, info = ast_util.parse_function(func)
    names = resolve.namespace(func)
    fence.run(tree, info)
    alias.run(tree, info)
    resolve.run(tree, info, names, dict(statics))
    locals_ = resolve.local_names(tree)
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
    base = f"{GRAD if kind == reverse.GRAD_NESTED else kind}_{owner}{func.__name__}"
    params = [p for p in parameters(func) if p not in dict(statics)]
    return base if tuple(wrt) == tuple(params[:1]) else f"{base}_wrt_{'_'.join(wrt)}"


def _strip_defaults(fdef):
    fdef.args.defaults = []
    fdef.args.kw_defaults = [None] * len(fdef.args.kwonlyargs)


def _static_key(statics):
    """What generated code depends on in static values: their types, and for a model its
    structure (`Module.structure`: classes, settings, parameter names), not its numbers."""
    from .nn import Module
    key = []
    for param, value in statics:
        if isinstance(value, Module):
            key.append((param, value.structure()))
        else:
            key.append((param, type(value)))
    return tuple(key)


def cached(func, kind, wrt, containers=(), statics=(), signature=None):
    """`generate` once per (function, its code, kind, wrt, container parameters, the types
    of static parameters, and the argument shapes it is specialized to; past
    `_SPECIALIZATIONS` shape signatures, the generic code)."""
    with _lock:
        try:
            per_function = _cache.setdefault(func, {})
        except TypeError:                       # not a Python function: generate() says why
            return generate(func, kind, wrt)
        code = getattr(func, "__code__", None)      # (a reload gives a new __code__)
        key = (kind, wrt, containers, _static_key(statics), signature, code)
        if key not in per_function and signature is not None and sum(
                k[:4] == key[:4] and k[4] is not None and k[5] is code
                for k in per_function) >= _SPECIALIZATIONS:
            return cached(func, kind, wrt, containers, statics)   # enough shapes: generic
        if key not in per_function:
            per_function[key] = generate(func, kind, wrt, containers, statics, signature)
        return per_function[key]


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
    named = model._layout()[2]
    if any(type(param.data) is not numpy.ndarray for _, param in named):
        return None
    return tuple((path, param.data.shape) for path, param in named)


_SCALAR_TYPES = (float, int, numpy.float64, numpy.float32)


def parameters(func):
    """The names of `func`'s parameters, in order."""
    return list(inspect.signature(func).parameters)


def resolve_wrt(func, wrt):
    """`wrt` (an index, a name, or a tuple of those) as (tuple of names, single?)."""
    single = not isinstance(wrt, (tuple, list))
    items = [wrt] if single else list(wrt)
    params = parameters(func)
    names = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            if not -len(params) <= item < len(params):
                raise WrtError(f"wrt={item!r} is out of range: {func.__name__} has "
                               f"{len(params)} parameter(s) {params}", _def_location(func))
            names.append(params[item])
        elif isinstance(item, str) and item in params:
            names.append(item)
        else:
            raise WrtError(f"wrt={item!r} names no parameter of {func.__name__}; its "
                           f"parameters are {params}", _def_location(func))
    if len(set(names)) != len(names):
        raise WrtError(f"wrt={wrt!r} names a parameter twice", _def_location(func))
    return tuple(names), single


def _def_location(func):
    try:
        return ast_util.parse_function(func)[1].location(func.__code__.co_firstlineno)
    except SrcadError:
        return None


class Derivative:
    """A derivative of a user function: call it like the function (see `grad`, `jvp`...)."""

    def __init__(self, func, kind, wrt):
        if not callable(func):
            raise TypeError(f"srcad.{kind} expects a function, got {type(func).__name__}")
        func = _differentiable(func, kind)
        self.wrt, self.single = resolve_wrt(func, wrt)
        self._receiver, self._statics = None, ()
        if inspect.ismethod(func):              # a bound method: `self` is known
            self._receiver = func.__self__
            func = func.__func__
            self._statics = ((parameters(func)[0], self._receiver),)
        self.func = func
        self.kind = kind
        params = self._params = parameters(func)
        self._positions = [params.index(n) for n in self.wrt]
        self._arity = len(params)
        self.keep_rows = False                  # row-sparse gradients stay sparse (nn.backward)
        self._generated = None
        self._call_impl = None
        self._fast = {}                         # argument types and shapes -> call path
        self._entries = {}                      # the same -> `fastcall.entry`, where it has one
        self._entry = None                      # the entry of the latest call's key
        if kind not in (GRAD, VALUE_AND_GRAD) or self._receiver is not None:
            self._fast = None                   # (code specialized to shapes: grad only)
        self.__name__ = f"{kind}_{func.__name__}"
        self.__qualname__ = f"{kind}_{getattr(func, '__qualname__', self.__name__)}"
        self.__module__ = getattr(func, "__module__", None)
        self.__doc__ = f"srcad {kind} of {func.__name__} with respect to {', '.join(self.wrt)}"

    @property
    def generated(self):
        if self._generated is None:
            self._generated = cached(self.func, self.kind, self.wrt, statics=self._statics)
        return self._generated

    @property
    def __wrapped__(self):
        """The generated function (so `inspect.getsource` and `inspect.signature` show it)."""
        return self.generated.function

    def specialized_function(self, *args, **kwargs):
        """The generated function that a call with these arguments runs, without the API
        wrapper around it (for benchmarks and debugging)."""
        if self._receiver is not None:
            args = (self._receiver,) + args
        return self._specialized(args, kwargs).function

    def source(self, *args, **kwargs):
        """The generated source; with example arguments, the code for calls like that one
        (models and lists/tuples/dicts of arrays get code specialized to their structure;
        grad and value_and_grad of arrays and scalars, code specialized to their shapes)."""
        if not args and not kwargs:
            return self.generated.full_text()
        if self._receiver is not None:
            args = (self._receiver,) + args
        return self._specialized(args, kwargs).full_text()

    def __repr__(self):
        return f"<srcad {self.kind} of {self.func.__qualname__} wrt {', '.join(self.wrt)}>"

    def __call__(self, *args, **kwargs):
        entry = self._entry
        if entry is not None and not kwargs:    # guarded: falls back to `_dispatch`
            return entry(*args)
        if self._fast is not None and not kwargs:
            return self._dispatch(args)
        return self._call(args, kwargs)

    def _dispatch(self, args):
        """The fast path: the call path for argument types and shapes seen before."""
        key = ()
        for a in args:
            key += (a.shape, a.dtype) if type(a) is _ndarray else (type(a),)
        fast = self._fast.get(key)
        if fast is None:
            return self._first_call(key, args)
        self._entry = self._entries.get(key)
        return fast(args)

    def _call(self, args, kwargs):
        if self._receiver is not None:
            args = (self._receiver,) + args
        if self.kind != JVP and (_special(args) or (kwargs and _special(kwargs.values()))):
            return self._special_call(args, kwargs)
        call = self._call_impl
        if call is None:
            call = self._call_impl = self._make_call(self.generated)
        return call(args, kwargs)

    def _first_call(self, key, args):
        """A call with argument types and shapes not seen before: from now on, calls like it
        go straight to code specialized to those shapes, their inputs checked once."""
        if max(self._positions) >= len(args) or len(self._fast) >= _SPECIALIZATIONS:
            return self._call(args, {})
        if any(type(a) not in _PLAIN for a in args):             # CuPy, containers, models
            if not all(type(a) in _PLAIN or _is_module(a) for a in args):
                return self._call(args, {})
            fast = self._fast[key] = self._model_call(args)
            return fast(args)
        self._check_inputs(args, {})
        generated = cached(self.func, self.kind, self.wrt, signature=signature(args))
        fast = self._fast[key] = fastcall.make(generated, self.kind == GRAD, self._positions,
                                               self.single, args)
        if self.kind == GRAD:
            self._entry = self._entries[key] = fastcall.entry(
                generated, self._positions, self.single, args, self._dispatch)
        return fast(args)

    def _model_call(self, args):
        """The call path for calls with models (and arrays and scalars) of these types: code
        found by the models' structure and parameter shapes (models with CuPy parameters take
        the general path)."""
        models = [i for i, a in enumerate(args) if _is_module(a)]
        table = {}

        def call(args):
            key = (self.keep_rows,)
            for i in models:
                _, structure, named = args[i]._layout()
                key += (structure,)
                for _, param in named:
                    data = param.data
                    if type(data) is not _ndarray:
                        return self._call(args, {})
                    key += (data.shape, data.dtype)
            fast = table.get(key)
            if fast is None:
                if len(table) >= _SPECIALIZATIONS:
                    return self._call(args, {})
                self._check_inputs(args, {})
                fast = table[key] = fastcall.make(self._specialized(args, {}),
                                                  self.kind == GRAD, self._positions,
                                                  self.single, args, self.keep_rows)
            return fast(args)
        return call

    def _special_call(self, args, kwargs):
        return self._make_call(self._specialized(args, kwargs))(args, kwargs)

    def _specialized(self, args, kwargs):
        """Calls with lists, tuples or dicts of arrays, or with models, get code specialized
        to them (to which parameters are containers; to the structure of each model); calls
        of grad and value_and_grad with arrays and scalars, code specialized to their shapes."""
        if not (_special(args) or _special(kwargs.values())):
            if self.kind in (GRAD, VALUE_AND_GRAD) and self._receiver is None and not kwargs:
                return cached(self.func, self.kind, self.wrt, signature=signature(args))
            return self.generated
        params = self._params
        names = {params[i] for i, a in enumerate(args) if type(a) in _CONTAINERS}
        names |= {k for k, v in kwargs.items() if type(v) in _CONTAINERS}
        models = tuple((params[i], a) for i, a in enumerate(args) if _is_module(a))
        shaped = (self.kind in (GRAD, VALUE_AND_GRAD) and self._receiver is None and not kwargs
                  and not names)
        return cached(self.func, self.kind, self.wrt, tuple(sorted(names)),
                      self._statics + models, signature(args) if shaped else None)

    def _make_call(self, generated):
        """The call path for this kind, with the generated function looked up once."""
        function = generated.function
        gradients = self._gradients

        def run(args, kwargs):
            self._check_inputs(args, kwargs)
            try:
                return function(*args, **kwargs)
            except NonScalarOutputError as exc:
                raise NonScalarOutputError(exc.message, generated.return_location) from None

        if self.kind == GRAD:
            return lambda args, kwargs: gradients(run(args, kwargs), args, kwargs)
        if self.kind == VALUE_AND_GRAD:
            def value_and_grad_call(args, kwargs):
                value, grads = run(args, kwargs)
                return value, gradients(grads, args, kwargs)
            return value_and_grad_call
        if self.kind == VJP:
            def vjp_call(args, kwargs):
                value, pullback = run(args, kwargs)

                def checked_pullback(cotangent):
                    self._check_cotangent(cotangent, value, generated.return_location)
                    return gradients(pullback(cotangent), args, kwargs)
                return value, checked_pullback
            return vjp_call
        return self._jvp

    def _gradients(self, grads, args, kwargs):
        """Gradients in the shape and dtype of their inputs (one, or a tuple), each owning its
        memory (`runtime.owned`)."""
        xs = [args[p] if p < len(args) else self._keyword(i, kwargs)
              for i, p in enumerate(self._positions)]
        seen = fastcall.inputs(list(args) + list(kwargs.values()))
        out = []
        for g, x in zip((grads,) if len(xs) == 1 else grads, xs):
            g = _as_gradient(g, x, self.keep_rows)
            out.append({k: runtime.owned(v, seen) for k, v in g.items()} if _is_module(x)
                       else runtime.owned(g, seen))
        return out[0] if self.single else tuple(out)

    def _check_inputs(self, args, kwargs):
        """A clear error when a `wrt` argument cannot carry a derivative (None, an integer,
        a boolean or integer array, a string)."""
        for i, position in enumerate(self._positions):
            x = args[position] if position < len(args) else self._keyword(i, kwargs)
            if type(x) is float or (type(x) is numpy.ndarray and x.dtype.kind in "fc"):
                continue
            problem = _not_differentiable(x)
            if problem:
                raise WrtError(f"cannot differentiate {self.func.__name__} with respect to "
                               f"`{self.wrt[i]}`: it is {problem}; pass a float or a float "
                               f"array, or leave it out of wrt", _def_location(self.func))

    def _check_cotangent(self, cotangent, value, location, path=""):
        """A clear error when a pullback's cotangent is not shaped like the output."""
        if isinstance(value, (tuple, list)):
            if not isinstance(cotangent, (tuple, list)) or len(cotangent) != len(value):
                raise ShapeMismatchError(
                    f"the pullback of {self.func.__name__} takes a cotangent shaped like its "
                    f"output{path}: a {type(value).__name__} of {len(value)}, not "
                    f"{_describe(cotangent)}", location)
            for i, (c, v) in enumerate(zip(cotangent, value)):
                self._check_cotangent(c, v, location, f"{path}[{i}]")
            return
        if isinstance(value, dict) or isinstance(cotangent, (tuple, list, dict)):
            return
        shape, expected = numpy.shape(cotangent), numpy.shape(value)
        if shape != expected:
            raise ShapeMismatchError(
                f"the pullback of {self.func.__name__} takes a cotangent shaped like its "
                f"output{path}, {expected}, not {shape}", location)

    def _keyword(self, i, kwargs):
        name = self.wrt[i]
        if name in kwargs:
            return kwargs[name]
        return inspect.signature(self.func).parameters[name].default

    def _jvp(self, args, kwargs):
        k = len(self.wrt)
        primals, tangents = args[:-k], args[-k:]
        if kwargs or len(primals) != self._arity:
            try:
                bound = inspect.signature(self.func).bind(*primals, **kwargs)
            except TypeError:
                bound = None
            if len(args) < k or bound is None:
                raise TypeError(f"{self.__name__} takes the arguments of {self.func.__name__} "
                                f"followed by {k} tangent(s), for {', '.join(self.wrt)}; got "
                                f"{len(args)} positional argument(s)") from None
            bound.apply_defaults()
            primals, kwargs = bound.args, bound.kwargs
        self._check_inputs(primals, kwargs)
        for name_, position, tangent in zip(self.wrt, self._positions, tangents):
            x = primals[position]
            if isinstance(x, (list, tuple, dict)) or isinstance(tangent, (list, tuple, dict)):
                continue
            if numpy.shape(tangent) != numpy.shape(x):
                raise ShapeMismatchError(
                    f"the tangent for `{name_}` has shape {numpy.shape(tangent)}, but "
                    f"`{name_}` has shape {numpy.shape(x)}: {self.__name__} takes one tangent "
                    f"per wrt argument, shaped like it, after the arguments",
                    _def_location(self.func))
        return self.generated.function(*primals, *tangents, **kwargs)


def _describe(value):
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a value of shape {numpy.shape(value)}"


def _not_differentiable(x):
    """Why `x` cannot carry a derivative, or None when it can."""
    if x is None or isinstance(x, (str, bytes)):
        return f"{x!r}"
    if isinstance(x, (bool, int)) and not isinstance(x, float):
        return f"an integer ({x!r})"
    dtype = getattr(x, "dtype", None)
    if dtype is not None and getattr(dtype, "kind", "f") in "biu":
        return f"an array of {dtype}"
    if isinstance(x, (list, tuple)):
        return next((p for p in map(_not_differentiable, x) if p), None)
    if isinstance(x, dict):
        return next((p for p in map(_not_differentiable, x.values()) if p), None)
    return None


_ndarray = numpy.ndarray
_PLAIN = (numpy.ndarray, float, int, numpy.float64, numpy.float32, type(None))
_SPECIALIZATIONS = 8        # shape signatures per derivative; further ones run generic code


def _special(values):
    """True when a call has lists, tuples or dicts, or models, among its arguments."""
    for value in values:
        kind = type(value)
        if kind not in _PLAIN and (kind in _CONTAINERS or _is_module(value)):
            return True
    return False


def _is_module(value):
    from .nn import Module
    return isinstance(value, Module)


def _as_gradient(g, x, keep_rows=False):
    """A gradient in the form of its input; for a model, a dict keyed like its
    `named_parameters()`, with zeros for parameters the output does not depend on (and, with
    `keep_rows`, row-sparse gradients of embedding lookups left sparse)."""
    if type(x) is numpy.ndarray:
        return runtime.as_gradient(g, x)
    if _is_module(x):
        return {name: (g[name] if keep_rows and isinstance(g.get(name), RowGrad)
                       else runtime.as_gradient(g[name], p.data)) if name in g
                else runtime.zeros_like(p.data) for name, p in x.named_parameters()}
    return runtime.as_gradient(g, x)


def _differentiable(func, kind):
    """The function to transform: a srcad derivative is itself generated Python, so higher
    orders differentiate its generated function (raw gradients, the same parameters)."""
    if not isinstance(func, Derivative):
        return func
    if func.kind not in (GRAD, JVP) or func._receiver is not None:
        raise SrcadError(f"srcad differentiates again the results of grad and jvp (and of "
                         f"functions of plain parameters), not of {func.kind}; use grad, jvp, "
                         "hvp, jacobian or hessian")
    generated = func.generated
    if func.kind == GRAD and generated.callees:
        # pullback closures are not differentiated again: take the variant whose adjoint calls
        # each callee's closure-free `backward_` function
        generated = cached(func.func, reverse.GRAD_NESTED, func.wrt, statics=func._statics)
    if kind != JVP and func.kind == GRAD and any(
            isinstance(node, (ast.For, ast.While))
            for node in ast.walk(ast.parse(generated.full_text()))):
        raise SrcadError(
            f"srcad runs reverse mode over the gradient of {func.func.__name__} only when that "
            "gradient has no loops, in it or in the functions it calls (their adjoints replay "
            "stacks, which reverse mode does not differentiate again); take the second "
            "derivative in forward mode instead: srcad.hessian(f), srcad.hvp(f), or "
            "srcad.jvp(srcad.grad(f))", generated.return_location)
    return generated.function


def _transform(kind, func, wrt):
    if func is None:
        return lambda f: Derivative(f, kind, wrt)
    return Derivative(func, kind, wrt)


def grad(func=None, wrt=0):
    """Reverse-mode gradient of a scalar-valued function.

    `grad(f)(x, W)` is d f / d x; `wrt` picks the argument(s) by index or name, and a tuple
    gives a tuple of gradients. Works as a decorator, with or without options::

        @srcad.grad(wrt="W")
        def loss(W, X): ...
    """
    return _transform(GRAD, func, wrt)


def value_and_grad(func=None, wrt=0):
    """Like `grad`, but the call returns `(value, gradient)` from one primal evaluation."""
    return _transform(VALUE_AND_GRAD, func, wrt)


def vjp(func=None, wrt=0):
    """`vjp(f)(x, W)` returns `(y, pullback)`; `pullback(ct)` gives the gradient(s) of
    `sum(ct * y)`. Any output shape; a tuple output takes a tuple cotangent."""
    return _transform(VJP, func, wrt)


def jvp(func=None, wrt=0):
    """Forward mode: `jvp(f)(x, W, dx)` returns `(y, dy)`, the tangents following the primal
    arguments, one per `wrt` argument."""
    return _transform(JVP, func, wrt)


def source(obj, *example_args, **example_kwargs):
    """The generated Python source of a srcad derivative, as a string. For a derivative whose
    code depends on the structure of its arguments (a model, lists of arrays), pass example
    arguments: `srcad.source(srcad.grad(loss, wrt="model"), model, X, y)`."""
    if isinstance(obj, Derivative):
        return obj.source(*example_args, **example_kwargs)
    from .higher_order import Composite  # built on this module: import when needed
    if isinstance(obj, Composite):
        return obj.source()
    text = getattr(obj, "__srcad_source__", None)
    if text is None:
        raise TypeError(f"{obj!r} was not made by srcad, so it has no generated source")
    return text


def stop_gradient(x):
    """`x` itself, but derivatives do not flow through it (it is a constant for srcad)."""
    return x


rules.nondifferentiable(stop_gradient, reason="stop_gradient blocks derivatives on purpose")


def register_adjoint(key):
    """Decorator: a reverse-mode rule for `key` (your function, or any third-party one).

    Write it like the rules in srcad's `templates/`: the result first, then the arguments;
    `d[x] += ...` accumulates the adjoint of argument `x`::

        from srcad import d

        @srcad.register_adjoint(scipy.special.expit)
        def expit(y, x):
            d[x] += d[y] * y * (1.0 - y)
    """
    rules.load()
    return rules.adjoint(key)


def register_tangent(key, broadcasts=False):
    """Decorator: a forward-mode rule for `key`; `d[y] = ...` defines the result's tangent::

        @srcad.register_tangent(scipy.special.expit)
        def expit(y, x):
            d[y] = d[x] * y * (1.0 - y)
    """
    rules.load()
    return rules.tangent(key, broadcasts=broadcasts)


def nondifferentiable(*keys):
    """Mark functions whose results srcad treats as constants (zero derivative)."""
    rules.load()
    rules.nondifferentiable(*keys, reason="registered as non-differentiable")
