"""Activity analysis: which values depend on the inputs being differentiated and reach the
output.

In: a normal-form `FunctionDef` and the names of the active parameters (the job's `wrt`). Out:
the same tree where each assignment whose value depends differentiably on an active input *and*
flows differentiably into the returned value carries annotation ACTIVE=True, and the function
carries ACTIVE_NAMES, the set of names that carry a derivative (`wrt` included). Comparisons,
shapes, `len`, integer casts and primitives registered as non-differentiable cut the
dependence, so a value computed only for a test (`while np.max(np.abs(step)) > tol`) gets no
derivative code and no stack.

Deny by default: what would cut the dependence without being truly constant (an index builder
`np.r_[x, x]`, `x.flat`, `x[0] or 1.0`, a non-differentiable primitive given a differentiated
value its result depends on) and every call given a differentiated value that writes into an
argument is kept active and marked DENY with the reason; `deny.run` reports it. A `dtype=` that
generation cannot read is marked for a check at run time. A write (`x[i] = v`, `set_item`)
into an array of integers or booleans cuts the derivative of the value written (NumPy stores
it truncated); one into an array whose dtype generation cannot tell is marked for a check at
run time (`srcad.write_targets`).
"""

import ast
import inspect
import math
import types

import numpy

from .. import annotations as anno
from .. import rules, runtime, runtime_checks, write_targets
from ..ast_util import stored, walk
from ..codegen import expression
from ..job import Job
from ..primitive import is_number
from ..write_targets import FLOAT, INTEGER
from . import deny

_DIFFERENTIABLE_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult, ast.USub,
                       ast.UAdd, ast.Mod)
_VALUE_ATTRS = {"T", "real", "imag", "mT"}
_SHAPE_ATTRS = {"shape", "ndim", "size", "dtype", "itemsize", "nbytes", "strides", "flags"}


def run(tree: ast.FunctionDef, job: Job) -> ast.FunctionDef:
    """Annotate `tree` (see the module docstring)."""
    wrt = job.wrt
    write_targets.annotate(tree, job)
    active = set(wrt)
    _block(tree.body, active)
    needed = set()
    if tree.body and isinstance(tree.body[-1], ast.Return) and tree.body[-1].value is not None:
        needed = _names(tree.body[-1].value)
    _needed(tree.body, needed)
    for stmt in walk(tree):
        if anno.get(stmt, anno.ACTIVE) and not stored(stmt) & needed:
            anno.set_(stmt, anno.ACTIVE, False)
    return anno.set_(tree, anno.ACTIVE_NAMES, (active & needed) | set(wrt))


def _needed(stmts, needed, memo=None):
    """Add to `needed` the names whose derivative the names in `needed` (after `stmts`) need:
    walking backwards, an active assignment to a needed name needs the names it reads.
    `memo`: id of a statement -> (it, the names it assigns, the names it reads), kept for
    the fixed points of a loop nest."""
    memo = {} if memo is None else memo
    for stmt in reversed(stmts):
        if isinstance(stmt, ast.If):
            _needed(stmt.body, needed, memo)
            _needed(stmt.orelse, needed, memo)
        elif isinstance(stmt, (ast.For, ast.While)):
            _fixed_point(stmt, needed, memo, _needed)
        elif anno.get(stmt, anno.ACTIVE):
            kept = memo.get(id(stmt))
            if kept is None or kept[0] is not stmt:
                kept = memo[id(stmt)] = (stmt, stored(stmt), _names(stmt.value))
            if kept[1] & needed:
                needed |= kept[2]
        elif pushed(stmt) and pushed(stmt) in needed:
            needed |= _names(stmt.value.args[0])


def _names(node):
    """Names read by `node`, counting the model a parameter read or a module call refers to."""
    names = set()
    for n in walk(node):
        if isinstance(n, ast.Name):
            names.add(n.id)
        for key in (anno.PARAM, anno.MODULE):
            ref = anno.get(n, key)
            if ref:
                names.add(ref[0])
    return names


def _fixed_point(loop, names, memo, sweep):
    """Sweep the body of `loop` (`sweep(body, names, memo)`) until the set `names`, which only
    grows, stops growing: values flow around a loop. `memo[("done", id(loop))]` keeps the size
    `names` had when a sweep last added nothing: an outer loop's next sweep that finds it
    unchanged skips the inner loop (each level sweeping its inner loops again would repeat
    the innermost body a power of the depth of the nest times)."""
    key = ("done", id(loop))
    kept = memo.get(key)
    if kept is not None and kept[0] is loop and kept[1] == len(names):
        return
    size = -1
    while size != len(names):                      # to a fixed point: values flow around
        size = len(names)
        sweep(loop.body, names, memo)
    memo[key] = (loop, size)


def _block(stmts, active, memo=None):
    """Add to `active` the names assigned a value that carries a derivative (`memo`: for the
    fixed points of a loop nest, see `_fixed_point`), and annotate the statements ACTIVE."""
    memo = {} if memo is None else memo
    for stmt in stmts:
        if isinstance(stmt, ast.If):
            _block(stmt.body, active, memo)
            _block(stmt.orelse, active, memo)
        elif isinstance(stmt, (ast.For, ast.While)):
            _fixed_point(stmt, active, memo, _block)
        elif isinstance(stmt, ast.Assign) and is_active_value(stmt.value, active):
            anno.set_(stmt, anno.ACTIVE, True)
            active.add(stmt.targets[0].id)
        elif pushed(stmt):                          # (a loop stack of generated code)
            if _uses(active, stmt.value.args[0]):
                active.add(pushed(stmt))
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            _effect(stmt.value, active)


def _effect(call, active):
    """A call kept for its effect (`np.copyto(y, x)`, `rng.shuffle(x)`): DENY when it may
    change a differentiated value: a write, or something srcad knows nothing of (no rule,
    not a function of the user's, not `print`)."""
    func = anno.get(call, anno.FUNC)
    if not _is_active_call(call, active) or anno.get(call, anno.DENY):
        return
    if func is print or rules.has_rule(func) or _is_python_function(func):
        return
    _deny(call, f"srcad cannot tell whether {_called(call)} changes the differentiated value "
          "it is given (it has no derivative rule); compute a new value and assign it "
          "instead", always=True)


def _is_python_function(func):
    """A function, method or model the user wrote (srcad transforms those it calls)."""
    from ..calls import is_user_function  # calls builds on the passes: import when needed
    return is_user_function(func, rules.ADJOINT) or is_user_function(func, rules.TANGENT) \
        or isinstance(func, (types.FunctionType, types.MethodType))


def pushed(stmt):
    """The list a statement `stack.append(value)` pushes onto (generated loop code), or None."""
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return None
    func = stmt.value.func
    if (isinstance(func, ast.Attribute) and func.attr == "append"
            and isinstance(func.value, ast.Name) and len(stmt.value.args) == 1):
        return func.value.id
    return None


def is_active_value(node, active):
    """True when the normal-form expression `node` carries a derivative of `active` names."""
    if any(isinstance(sub, ast.BoolOp) and not _is_truth(sub) and _reads(active, sub)
           for sub in walk(node)):
        return _deny(node, "srcad cannot differentiate `and`/`or` applied to a differentiated "
                     "value (the result is one of the operands); write `a if a else b`")
    if isinstance(node, ast.Name):
        return node.id in active
    if anno.get(node, anno.PARAM):
        return anno.get(node, anno.PARAM)[0] in active
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Pow) and _is_zero(node.right):
            return False                           # `x ** 0` is 1, whatever x is
        return isinstance(node.op, _DIFFERENTIABLE_OPS) and _uses(active, node.left, node.right)
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, _DIFFERENTIABLE_OPS) and _uses(active, node.operand)
    if isinstance(node, ast.Subscript):
        if _uses(active, *_index_parts(node.slice)):
            return _deny(node, "srcad cannot differentiate a differentiated value used inside "
                         "an index (an index builder such as numpy.r_, numpy.c_, numpy.mgrid "
                         "or numpy.ogrid, or a float index); build the array with "
                         "numpy.concatenate, numpy.stack or numpy.column_stack instead")
        if anno.get(node.value, anno.MODULE) is not None:
            return False                     # a model's submodel (`self.layers[1]`), as `self.V`
        return _uses(active, node.value)
    if isinstance(node, ast.Attribute):
        if node.attr in _VALUE_ATTRS or not _uses(active, node.value):
            return _uses(active, node.value)
        if anno.get(node.value, anno.MODULE) is not None:
            return False                     # a model's setting (`self.axes`)
        if node.attr in _SHAPE_ATTRS:
            return False
        return _deny(node, f"srcad has no derivative rule for the attribute .{node.attr} of a "
                     "differentiated value")
    if isinstance(node, (ast.Tuple, ast.List)):
        return _uses(active, *node.elts)
    if isinstance(node, ast.Dict):
        return _uses(active, *node.values)
    if isinstance(node, ast.Call):
        return _is_active_call(node, active)
    return False


def _is_active_call(node, active):
    func = anno.get(node, anno.FUNC)
    if anno.get(node, anno.STORES, FLOAT) != FLOAT:
        return _write(node, active)
    if func in (numpy.power, math.pow) and len(node.args) == 2 and _is_zero(node.args[1]):
        return False                               # `numpy.power(x, 0)` is 1
    parts = list(node.args) + [k.value for k in node.keywords]
    if anno.get(node, anno.METHOD):
        parts.append(node.func.value)
    module = anno.get(node.func, anno.MODULE)
    uses = _uses(active, *parts) or (module is not None and module[0] in active)
    if anno.get(node, anno.WRITES) and uses:
        return _deny(node, f"srcad cannot differentiate this call of {_called(node)}: it "
                     f"writes into {anno.get(node, anno.WRITES)} in place, which srcad does "
                     "not track; compute a new array and assign it instead", always=True)
    if anno.get(node, anno.RESULT_KIND) == "integer" or _is_integer_cast(node):
        return False                     # an integer or boolean result: truly no derivative
    if uses and deny.unsupported_form(node):
        return _deny(node, deny.unsupported_form(node))
    if rules.is_nondifferentiable(func):
        return _false_claim(node, func, active)
    if uses and anno.get(node, anno.RESULT_KIND) == "other":
        return _deny(node, f"srcad cannot differentiate {_called(node)} with a dtype that is "
                     "neither a number nor a boolean")
    if uses and anno.get(node, anno.RESULT_KIND) == "unknown" and not deny.dtype_is_float(
            node, active):               # checked at run time (deny.run puts the check)
        anno.set_(node, anno.DENY, ("", False, deny.dtype_node(node)))
    return uses


def _write(node, active):
    """`set_item(x, index, value)` (or `numpy.full_like(x, value)`) into an array that does
    not keep a float written into it (see `srcad.write_targets`): one of integers or
    booleans stores the value truncated, which is piecewise constant in it, so the result
    carries no derivative (zero, the convention of `x.astype(int)`); where generation cannot
    tell the dtype, the derivative passes after a check at run time (DENY with the target to
    check; `deny.run` puts the check)."""
    target, value = write_targets.stored(node)
    if anno.get(node, anno.STORES) == INTEGER:
        return False
    if _uses(active, value):
        anno.set_(node, anno.DENY, ("", False, target, runtime_checks.float_target))
    carried = [target] if anno.get(node, anno.FUNC) is runtime.set_item else []
    return _uses(active, value, *carried)


def _false_claim(node, func, active):
    """For a call of a non-differentiable primitive: True (and DENY) when a differentiated
    value reaches a parameter its result depends on (see `rules.nondifferentiable`)."""
    values = rules.value_parameters(func)
    if not values:
        return False
    try:
        bound = inspect.signature(func).bind(
            *([node.func.value] if anno.get(node, anno.METHOD) else []), *node.args,
            **{k.arg: k.value for k in node.keywords}).arguments
    except (TypeError, ValueError):
        bound = None
    if bound is None:
        carrying = list(node.args) + [k.value for k in node.keywords]
    else:
        names = values(bound) if callable(values) else values
        carrying = [node for n in names if n in bound   # (a `*args` parameter: a tuple)
                    for node in (bound[n] if isinstance(bound[n], tuple) else (bound[n],))]
    if not _uses(active, *carrying):
        return False
    return _deny(node, f"srcad has no derivative rule for {rules.key_name(func)} with a "
                 "differentiated value given for an argument its result depends on (its "
                 "derivative is zero only with constants there)")


def _called(node):
    """A readable name of what a call calls: `numpy.copyto`, `the method .sort`."""
    func = anno.get(node, anno.FUNC)
    if func is None:
        return f"the method .{anno.get(node, anno.METHOD)}"
    owner = getattr(func, "__self__", None)
    if isinstance(owner, numpy.ufunc):
        return f"numpy.{owner.__name__}.{func.__name__}"
    try:
        return rules.key_name(func)
    except Exception:                     # noqa: BLE001 (an object without a usable name)
        return "this function"


def _is_truth(node):
    """True for a test whose value is a bool whatever it reads (`a > 0 and not b < 1`)."""
    if isinstance(node, ast.BoolOp):
        return all(_is_truth(v) for v in node.values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return True
    return isinstance(node, ast.Compare) or (isinstance(node, ast.Constant)
                                             and isinstance(node.value, bool))


def _reads(active, node):
    """True when `node` reads an active name anywhere inside it."""
    return any(isinstance(n, ast.Name) and n.id in active for n in walk(node))


def _deny(node, reason, always=False):
    """Mark `node` as something srcad cannot differentiate; True (its value stays active, so
    the error is raised where the result needs it)."""
    anno.set_(node, anno.DENY, (reason, always))
    return True


def _index_parts(index):
    """The atoms of an index: the parts of a tuple, the bounds of a slice."""
    if isinstance(index, ast.Tuple):
        return [p for e in index.elts for p in _index_parts(e)]
    if isinstance(index, ast.Slice):
        return [p for p in (index.lower, index.upper, index.step) if p is not None]
    return [index]


def _is_integer_cast(node):
    if anno.get(node, anno.METHOD) != "astype" or not node.args:
        return False
    dtype = node.args[0]
    label = expression(dtype).split(".")[-1].strip("'\"")
    try:
        return numpy.dtype(label).kind in "biu"
    except TypeError:
        return False


def _is_zero(node):
    """True for the number 0 written in the code (`0`, `0.0`, `-0`)."""
    return is_number(node) and ast.literal_eval(node) == 0


def _uses(active, *nodes):
    """True when an atom (or an element of a list atom) is an active name."""
    for node in nodes:
        if isinstance(node, ast.Name) and node.id in active:
            return True
        if isinstance(node, (ast.Tuple, ast.List)) and _uses(active, *node.elts):
            return True
    return False
