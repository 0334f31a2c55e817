"""What primitive a normal-form assignment applies, and the rule that differentiates it.

In: the value of a normal-form assignment (`a * b`, `np.tanh(a)`, `x[i, 1:3]`, `x.T`, `a`).
Out: `Primitive(key, args, keywords)`: the rule key (the real object, or an `ast` operator
class), and the argument nodes to bind to the rule's parameters after the result. Indices become
ordinary expressions (`1:3` -> `slice(1, 3, None)`) so a template can pass them on.
"""

import ast
import functools
import math
import types

import numpy

from . import annotations as anno
from . import libraries, rules
from .ast_util import copy_node
from .errors import MissingRuleError, TemplateError, UnsupportedSyntaxError
from .template import is_derivative

SEQUENCE_ITEM = (ast.Subscript, "sequence")     # key of `t[i]` where t is a list of arrays
PARAMETER_ROWS = (ast.Subscript, "rows")         # key of `w[i]` where w is a model parameter
SAME_OPERANDS = "same"                           # variant key of `x * x`
CONSTANT_EXPONENT = "constant"                   # variant key of `x ** 2`, `x ** -0.5`
_POWERS = (numpy.power, math.pow)                # whose exponent may be CONSTANT_EXPONENT
AGAINST_NUMBER = "number"                        # variant key of `np.maximum(x, 0)`, `min(1.0, x)`
_EXTREMES = (numpy.maximum, numpy.minimum, max, min)  # which may be AGAINST_NUMBER


class Primitive:
    __slots__ = ("key", "args", "keywords")

    def __init__(self, key, args, keywords=None):
        self.key = key
        self.args = args
        self.keywords = keywords or {}


def decompose(value, sequences=(), parameters=()):
    """The `Primitive` a normal-form expression applies (None for a constant). `sequences`
    name lists of arrays, `parameters` the values read from model parameters."""
    if isinstance(value, ast.Name):
        return Primitive(ast.Name, [value])
    if isinstance(value, ast.BinOp):
        key = type(value.op)
        if (isinstance(value.op, ast.Mult) and isinstance(value.left, ast.Name)
                and isinstance(value.right, ast.Name) and value.left.id == value.right.id):
            key = (ast.Mult, SAME_OPERANDS)
        if isinstance(value.op, ast.Pow) and is_number(value.right):
            key = (ast.Pow, CONSTANT_EXPONENT)
        return Primitive(key, [value.left, value.right])
    if isinstance(value, ast.UnaryOp):
        return Primitive(type(value.op), [value.operand])
    if isinstance(value, ast.Subscript):
        base = value.value
        name_ = base.id if isinstance(base, ast.Name) else None
        key = (SEQUENCE_ITEM if name_ in sequences else
               PARAMETER_ROWS if name_ in parameters else ast.Subscript)
        return Primitive(key, [base, index_value(value.slice)])
    if isinstance(value, ast.Attribute):
        return Primitive(getattr(numpy.ndarray, value.attr, value.attr), [value.value])
    if isinstance(value, (ast.Tuple, ast.List)):
        return Primitive(ast.Tuple, [ast.List(elts=value.elts, ctx=ast.Load())])
    if isinstance(value, ast.Dict):
        return Primitive(ast.Dict, [ast.Tuple(elts=value.keys, ctx=ast.Load()),
                                    ast.List(elts=value.values, ctx=ast.Load())])
    if isinstance(value, ast.Call):
        args = list(value.args)
        if anno.get(value, anno.METHOD):
            args.insert(0, value.func.value)
        keywords = {k.arg: k.value for k in value.keywords}
        key = anno.get(value, anno.FUNC)
        if key in _POWERS and len(args) == 2 and is_number(args[1]):
            key = (key, CONSTANT_EXPONENT)
        elif key in _EXTREMES and len(args) == 2 and not keywords \
                and is_number(args[0]) != is_number(args[1]):
            key = (key, AGAINST_NUMBER)
        return Primitive(key, args, keywords)
    return None


def is_number(node):
    """True for a number written in the code (`2`, `-0.5`), not a bool."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
            and not isinstance(node.value, bool))


def index_value(node):
    """An index as an expression usable outside brackets (slices become slice(...) calls)."""
    if isinstance(node, ast.Slice):
        parts = [p if p is not None else ast.Constant(None)
                 for p in (node.lower, node.upper, node.step)]
        return ast.Call(func=ast.Name(id="slice", ctx=ast.Load()),
                        args=[copy_node(p) for p in parts], keywords=[])
    if isinstance(node, ast.Tuple):
        return ast.Tuple(elts=[index_value(e) for e in node.elts], ctx=ast.Load())
    return copy_node(node)


def rule(primitive, mode, info, stmt):
    """The template of `primitive` in `mode`; a clear MissingRuleError when there is none."""
    template = rules.lookup(primitive.key, mode)
    if template is None and isinstance(primitive.key, tuple):
        template = rules.lookup(primitive.key[0], mode)
    if template is not None:
        return template
    what = key = rules.key_name(primitive.key)
    if isinstance(primitive.key, str):
        what, key = f"the attribute .{primitive.key}", f"<its type>.{primitive.key}"
    elif primitive.key is None and anno.get(stmt.value, anno.METHOD):
        method = anno.get(stmt.value, anno.METHOD)
        what, key = f"the method .{method}", f"<its type>.{method}"
    register = "register_adjoint" if mode == rules.ADJOINT else "register_tangent"
    if _is_library(primitive.key):
        raise MissingRuleError(
            f"no rule for {key}, called here on a differentiated value: it is a library "
            "function, and srcad transforms only your own code. Register one with "
            f"@srcad.{register}({key}), or let srcad transform that library's code with "
            f"srcad.transform_library({key.partition('.')[0]!r})",
            info.location(anno.get(stmt, anno.ORIGIN)))
    raise MissingRuleError(
        f"srcad has no {'reverse' if mode == rules.ADJOINT else 'forward'}-mode rule for "
        f"{what}, which is applied here to a differentiated value. Register one with "
        f"@srcad.{register}({key}), or mark it with srcad.nondifferentiable({key}) if its "
        "derivative is zero.", info.location(anno.get(stmt, anno.ORIGIN)))


def _is_library(key):
    """True for a Python function of an installed package or the standard library."""
    plain = getattr(key, "__func__", key)
    return isinstance(plain, types.FunctionType) and libraries.is_library_function(plain)


def bind(template, target, primitive, info, stmt):
    """The template's parameters bound to `target = primitive(...)`; a call the rule does not
    take (an argument it has no parameter for) is an error at the user's line."""
    try:
        return template.bind(copy_node(target), primitive.args, primitive.keywords)
    except TemplateError as exc:
        raise UnsupportedSyntaxError(
            f"srcad cannot differentiate this call of {rules.key_name(primitive.key)}: "
            f"{exc.message}", info.location(anno.get(stmt, anno.ORIGIN))) from None


# what to write instead, for the forms users reach for
_HINTS = {(numpy.einsum, "subscripts"): " (the sublist form `einsum(x, [0, 1], ...)` is not "
          "supported: write the subscripts as a string, `einsum('ij->ji', x)`)"}


def check_covered(template, binding, derivative_of, info, stmt):
    """Deny by default inside rules: a differentiated argument given for a parameter that
    `template` gives no derivative for (`numpy.einsum(x, [0, 1])` binds `x` to `subscripts`,
    `numpy.max(x, initial=v)`) is an error at the user's line, not a dropped derivative.
    Parameters declared with `rules.without_derivative` (shapes, settings, masks: srcad's
    run-time helpers take them by design) are the only exceptions."""
    declared = rules.parameters_without_derivative(template.key)
    params = list(template.signature.parameters)[1:]
    covered = _covered(template)
    same = isinstance(template.key, tuple) and template.key[-1] == SAME_OPERANDS
    through = {n.id for p in covered if p in binding for n in _nodes(binding[p])} if same \
        else set()          # (a rule for `x * x` covers both operands through one parameter)
    for param in params:
        if param in covered or param in declared:
            continue
        missed = [n.id for n in _nodes(binding.get(param)) if n.id not in through
                  and derivative_of(n.id) is not None]
        if missed:
            raise MissingRuleError(
                f"srcad's rule for {rules.key_name(template.key)} gives no derivative for its "
                f"argument `{param}`, which is given a differentiated value here; srcad "
                "differentiates this call only with constants there"
                + _HINTS.get((template.key, param), ""),
                info.location(anno.get(stmt, anno.ORIGIN)))


def _nodes(node):
    """The names in a bound argument: the name itself, or the names in a list or tuple."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return [n for e in node.elts for n in _nodes(e)]
    return [node] if isinstance(node, ast.Name) else []


@functools.cache
def _covered(template):
    """The parameters whose derivative the body of `template` reads or defines (`d[p]`)."""
    return frozenset(n.slice.id for stmt in template.body for n in ast.walk(stmt)
                     if is_derivative(n) and isinstance(n.slice, ast.Name))
