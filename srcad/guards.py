"""Guards: the facts beyond its arguments that generated code relies on, checked on entry.

In: a user function, the values known while generating it (`statics`), and its normal-form
tree after `resolve` (every call annotated with the object it calls). Out: `Guards`, whose
`holds()` is True while every fact still holds and whose `conditions(bind)` gives the same
checks as Python expressions, for an entry compiled around the generated code.

The facts (each an identity test, so a check costs tens of nanoseconds):
- every call target reached from a global, builtin or closure name (`np.tanh`, `act`,
  `helper`, `p.func` of a `functools.partial`) is still the object resolved: re-running a
  notebook cell that redefines a helper, or `act = np.sin` after `act = np.tanh`, regenerates;
- every closure value the generated code holds is still the cell's value;
- the function itself and every user function it calls still have the code they had;
- the class of every model (and submodule) called still has the `forward` it had;
- every model whose class's `forward` was inlined (`passes/inline`) still has it, and the
  globals that code reads still have their values;
- every model a module-level name held while generating (`criterion = nn.MSELoss()`, known
  like a model argument) is still that name's value, with the structure and parameter shapes
  it had (its structure's key, `models.layout`, and `model_state`);
- the rule registry is unchanged since generation (`rules.epoch`).
What a model's code depends on besides these (classes, settings, parameter paths and sharing)
is its structure, which is in the cache key; shapes and dtypes are in the entry's key.
"""

import ast
import builtins
import re
import types

from . import annotations as anno
from . import calls, codegen, models, rules
from .ast_util import walk


class Guards:
    """Facts as (expression over the user's globals, {name: object} it refers to besides)."""

    __slots__ = ("facts", "_check")

    def __init__(self, facts, user_globals):
        self.facts = tuple(facts)
        self._check = _compile(self.facts, user_globals)

    def holds(self):
        """True while every fact holds (a missing global counts as changed)."""
        try:
            return self._check()
        except Exception:       # a global deleted, an attribute gone: the code is stale
            return False

    def conditions(self, bind):
        """The facts as expressions, the objects they name bound through `bind(obj, hint)`."""
        out = []
        for text, objects in self.facts:
            names = {ident: bind(obj, ident) for ident, obj in objects.items()}
            out.append(_PLACEHOLDER.sub(lambda m, names=names: names.get(m.group(), m.group()),
                                        text))
        return out


_PLACEHOLDER = re.compile(r"\bsrcad_guard_[a-z]+_[0-9]+\b")


def collect(tree, func, statics=(), inlined=None, global_models=()):
    """The `Guards` of code generated from `tree`, the normal form of `func` (see the module
    docstring); `statics` pairs (parameter, value) known while generating; `inlined`, what
    `passes/inline` copied into the tree (`Inlined`: the models whose class's forward it
    copied, the globals that code reads, the names it binds them under); `global_models`
    pairs (global name, model) that were known too (see `model_state`)."""
    facts = _Facts()
    facts.code(func)
    for ident, model in global_models:
        facts.add(f"{{space}}[{ident!r}] is {{value}}", space=func.__globals__, value=model)
        facts.add("{layout}({value}).key == {key}", layout=models.layout, value=model,
                  key=models.layout(model).key)
        if models.has_parameters(model):
            facts.add("{state}({value}) == {expected}", state=model_state, value=model,
                      expected=model_state(model))
    statics = tuple(statics) + tuple(global_models)
    foreign = {}
    if inlined is not None:
        facts.inlined(inlined)
        foreign = inlined.names
    cells = dict(zip(func.__code__.co_freevars, func.__closure__ or ()))
    for cell in cells.values():
        try:
            facts.add("{cell}.cell_contents is {value}", cell=cell,
                      value=cell.cell_contents)
        except ValueError:      # an empty cell: the code reads it at run time
            pass
    known = dict(statics)
    locals_ = _locals(tree) - set(known)
    for node in walk(tree):
        if not isinstance(node, ast.Call) or anno.get(node, anno.METHOD):
            continue
        obj = anno.get(node, anno.FUNC)
        chain = _chain(node.func)
        if chain is None or obj is None:
            continue
        root, rest = chain
        rest = rest.replace("{", "{{").replace("}", "}}")
        if root in known:
            facts.model_call(obj)
        elif root in cells:         # the cell's value is a fact already; what is read in it:
            if rest:
                facts.add(f"{{cell}}.cell_contents{rest} is {{value}}", cell=cells[root],
                          value=_read(cells[root], node.func))
        elif root in foreign:       # a global of inlined code: its value is a fact already
            if rest:
                facts.add(f"{{root}}{rest} is {{value}}", root=foreign[root], value=obj)
        elif root not in locals_ and (root in func.__globals__ or hasattr(builtins, root)):
            same = "==" if isinstance(obj, _BOUND) else "is"      # (a bound method is new
            facts.add(f"{root}{rest} {same} {{value}}", value=obj)  # at each read)
        derivative = calls.derivative_code(obj)
        if derivative is not None:               # a srcad derivative: its generated code
            facts.add("{generated}.valid()", generated=derivative[1])
        elif not rules.has_rule(obj):            # a user function, transformed too
            facts.code(getattr(obj, "__func__", obj))
    rules.load()
    facts.add("{rules}.epoch == {epoch}", rules=rules, epoch=rules.epoch)
    return Guards(facts.items, func.__globals__)


def model_state(model):
    """What code generated with a model known relies on, besides its structure, when the model
    is no argument (whose key would hold it): each parameter's array type, shape and dtype."""
    return tuple((type(p.data), getattr(p.data, "shape", None), getattr(p.data, "dtype", None))
                 for _, p in models.layout(model).named)


_BOUND = (types.MethodType, types.BuiltinMethodType)
_ABSENT = object()


class _Facts:
    """Facts being gathered, each once; the objects they name get numbered placeholders."""

    def __init__(self):
        self.items, self._seen = [], set()

    def add(self, template, **objects):
        key = (template, tuple(id(v) for v in objects.values()))
        if key in self._seen:
            return
        self._seen.add(key)
        n = len(self.items)
        names = {k: f"srcad_guard_{k}_{n}" for k in objects}
        self.items.append((template.format(**names), {names[k]: v for k, v in objects.items()}))

    def code(self, func):
        """`func` (a Python function) keeps its code."""
        if isinstance(func, types.FunctionType):
            self.add("{func}.__code__ is {code}", func=func, code=func.__code__)

    def inlined(self, inlined):
        """Each model whose forward was inlined keeps it; each global or closure value that
        inlined code reads keeps its value."""
        for model in inlined.models:
            self.model_call(model)
        for forward, ident, obj in inlined.reads:
            cells = dict(zip(forward.__code__.co_freevars, forward.__closure__ or ()))
            if ident in cells:
                self.add("{cell}.cell_contents is {value}", cell=cells[ident], value=obj)
            elif ident in forward.__globals__:      # (a missing key: changed, stale)
                self.add(f"{{space}}[{ident!r}] is {{value}}", space=forward.__globals__,
                         value=obj)
            else:
                self.add(f"{{space}}.get({ident!r}, {{fallback}}) is {{value}}",
                         space=forward.__globals__, value=obj,
                         fallback=getattr(builtins, ident, _ABSENT))

    def model_call(self, obj):
        """A call of a model runs its class's `forward`: the class keeps it, with its code."""
        if models.is_model(obj):
            forward = models.forward(obj)
            self.add("{cls}.forward is {forward}", cls=type(obj), forward=forward)
            self.code(forward)
        elif isinstance(obj, types.MethodType):
            owner = type(obj.__self__)
            self.add(f"{{cls}}.{obj.__func__.__name__} is {{method}}", cls=owner,
                     method=obj.__func__)


def _chain(expr):
    """(root name, the rest as text) of a dotted chain `a.b.c` or `a[0].b`, else None."""
    parts = []
    while isinstance(expr, (ast.Attribute, ast.Subscript)):
        if isinstance(expr, ast.Attribute):
            parts.append(f".{expr.attr}")
        elif isinstance(expr.slice, ast.Constant):
            parts.append(f"[{expr.slice.value!r}]")
        else:
            return None
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    return expr.id, "".join(reversed(parts))


def _read(cell, node):
    """The object the chain `node` (rooted at the closure variable of `cell`) denotes now."""
    parts = []
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        parts.append(node.attr if isinstance(node, ast.Attribute) else node.slice.value)
        node = node.value
    obj = cell.cell_contents
    for part in reversed(parts):
        obj = getattr(obj, part) if isinstance(part, str) else obj[part]
    return obj


def _locals(tree):
    args = tree.args
    names = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
    names |= {n.id for n in walk(tree) if isinstance(n, ast.Name)
              and isinstance(n.ctx, ast.Store)}
    return names


def _compile(facts, user_globals):
    """One function of no arguments that tests every fact."""
    bound = {}
    conditions = []
    for text, objects in facts:
        bound.update(objects)
        conditions.append(f"({text})")
    test = " and ".join(conditions) or "True"
    text = f"def srcad_guard():\n    return {test}\n"
    return codegen.compile_function(text, "srcad_guard", user_globals, bound)
