"""What primitive a normal-form assignment applies, and the rule that differentiates it.

In: the value of a normal-form assignment (`a * b`, `np.tanh(a)`, `x[i, 1:3]`, `x.T`, `a`).
Out: `Primitive(key, args, keywords)`: the rule key (the real object, or an `ast` operator
class), and the argument nodes to bind to the rule's parameters after the result. Indices become
ordinary expressions (`1:3` -> `slice(1, 3, None)`) so a template can pass them on.
"""

import ast

import numpy

from . import annotations as anno
from . import rules
from .ast_util import copy_node
from .errors import MissingRuleError, TemplateError, UnsupportedSyntaxError

SEQUENCE_ITEM = (ast.Subscript, "sequence")     # key of `t[i]` where t is a list of arrays
PARAMETER_ROWS = (ast.Subscript, "rows")         # key of `w[i]` where w is a model parameter
SAME_OPERANDS = "same"                           # variant key of `x * x`


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
        return Primitive(anno.get(value, anno.FUNC), args, keywords)
    return None


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
    raise MissingRuleError(
        f"srcad has no {'reverse' if mode == rules.ADJOINT else 'forward'}-mode rule for "
        f"{what}, which is applied here to a differentiated value. Register one with "
        f"@srcad.{register}({key}), or mark it with srcad.nondifferentiable({key}) if its "
        "derivative is zero.", info.location(anno.get(stmt, anno.ORIGIN)))


def bind(template, target, primitive, info, stmt):
    """The template's parameters bound to `target = primitive(...)`; a call the rule does not
    take (an argument it has no parameter for) is an error at the user's line."""
    try:
        return template.bind(copy_node(target), primitive.args, primitive.keywords)
    except TemplateError as exc:
        raise UnsupportedSyntaxError(
            f"srcad cannot differentiate this call of {rules.key_name(primitive.key)}: "
            f"{exc.message}", info.location(anno.get(stmt, anno.ORIGIN))) from None
