"""`srcad.explain(f, *example_args)`: what srcad did to each line of `f`, and why.

In: a user function, example arguments (their shapes choose the code, as a call would), `wrt`
and the mode. Out: an `Explanation` (its text is the report) listing, per line of `f`, each
value of the normal form: differentiated or constant and what made it so, the rule used for
each call, whether it was specialized away for these shapes or not kept by the optimizer; for
each loop, what reverse mode stores per trip and how many bytes that is at these shapes
(measured by running the generated code once on the example arguments); and what srcad
rejected. The facts come from running the pipeline (`generation.generate` with `on_stage`
hooks) and reading the annotations the passes leave; nothing here repeats a pass.
"""

import ast
import sys

import numpy

from . import annotations as anno
from . import ast_util, codegen, generation, models, rules
from .errors import SrcadError
from .explain_facts import Facts, collect_stage, pipeline_options
from .kinds import GRAD, JVP

_KINDS = {"reverse": GRAD, "forward": JVP}


class Explanation:
    """The report of `explain`: `text` (also its repr, so a notebook shows it), `facts` (the
    `srcad.explain_facts.Facts` it was written from) and `error` (the SrcadError that rejected the
    function, or None)."""

    def __init__(self, text, facts, error):
        self.text, self.facts, self.error = text, facts, error

    def __repr__(self):
        return self.text

    __str__ = __repr__


def explain(func, *example_args, wrt=0, mode="reverse"):
    """Explain the derivative of `func` with respect to `wrt` (as in `srcad.grad`) in `mode`
    ("reverse" or "forward"), generated for arguments like `example_args`."""
    from .api import resolve_wrt
    if mode not in _KINDS:
        raise ValueError(f"mode must be 'reverse' or 'forward', not {mode!r}")
    names, _ = resolve_wrt(func, wrt)
    kind = _KINDS[mode]
    facts = Facts(func, kind, names, example_args)
    error = None
    try:
        _run(facts, func, kind, names, example_args)
    except SrcadError as exc:
        error = exc
    return Explanation(_report(facts, error), facts, error)


def _run(facts, func, kind, wrt, args):
    """Run the pipeline on `func` with hooks that fill `facts`; for reverse mode, run the
    generated code once on `args` to measure what its loops store."""
    containers, statics, signature = pipeline_options(func, kind, args)
    facts.specialized = signature is not None
    generated = generation.generate(
        func, kind, wrt, containers=containers, statics=statics, signature=signature,
        on_stage=lambda stage, fdef, info: collect_stage(facts, stage, fdef, info))
    facts.text = generated.text
    if kind == GRAD and facts.stacks:
        facts.measured = _measure(generated.function, args)


def _measure(function, args):
    """{stack name: (most items it held, the bytes they own, the bytes of views they hold
    into other arrays)} over one call of the generated `function` on `args` (a trace of its
    own frame only)."""
    code, seen = function.__code__, {}

    def tracer(frame, event, arg):
        if frame.f_code is not code:
            return None
        for name, value in frame.f_locals.items():
            if name.endswith("_stack") and type(value) is list:
                owned = sum(_nbytes(item, False) for item in value)
                viewed = sum(_nbytes(item, True) for item in value)
                old = seen.get(name, (0, 0, 0))
                seen[name] = (max(old[0], len(value)), max(old[1], owned), max(old[2], viewed))
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        function(*args)
    finally:
        sys.settrace(previous)
    return seen


def _nbytes(value, views):
    """The bytes of `value` (lists and tuples: of their items) that are views into other
    arrays (`views`) or that it owns (not `views`)."""
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v, views) for v in value)
    is_view = isinstance(value, numpy.ndarray) and value.base is not None
    if is_view != views:
        return 0
    return getattr(value, "nbytes", None) or numpy.asarray(value).nbytes


def _report(facts, error):
    """The text of the report."""
    head = (f"explain: {facts.kind} of {facts.func.__name__} with respect to "
            f"{', '.join(facts.wrt)}, for {_arguments(facts)}")
    lines = [head, "code specialized to these shapes" if facts.specialized else
             "generic code (not specialized to shapes)", ""]
    for lineno in sorted(facts.lines):
        lines.append(f"line {facts.info.label(lineno) if facts.info else lineno}: "
                     f"{facts.info.text(lineno) if facts.info else ''}")
        for entry in facts.lines[lineno]:
            lines.extend("    " + part for part in _entry(facts, entry))
        lines.extend("    " + part for part in _loop(facts, lineno))
    lines.append("")
    lines.extend(_rejections(facts, error))
    return "\n".join(lines)


def _arguments(facts):
    parts = []
    for name, value in zip(generation.parameters(facts.func), facts.args):
        shape = numpy.shape(value) if isinstance(value, (numpy.ndarray, float, int)) else None
        if models.is_model(value):
            parts.append(f"{name}: a {type(value).__name__} model")
        elif shape is None:
            parts.append(f"{name}: {type(value).__name__}")
        else:
            dims = "x".join(map(str, shape)) or "scalar"
            parts.append(f"{name}[{dims} {numpy.asarray(value).dtype}]")
    return ", ".join(parts) or "no arguments"


def _entry(facts, entry):
    """The lines describing one statement of the normal form."""
    text, target, node = entry.text, entry.target, entry.node
    if entry.control:
        return [f"{text}: control flow" + (" (decided at these shapes: "
                                           "specialized away)" if entry.gone else "")]
    if entry.gone:
        return [text, "  specialized away: not part of the code for these shapes"]
    out = [text, f"  {_status(facts, entry)}"]
    if entry.active:
        out.extend(f"  rule: {describe_rule(call, facts.kind)}" for call in _calls(node))
    if target is not None and not entry.kept:
        where = entry.inlined
        out.append(f"  not kept as a variable: written into `{where}`" if where else
                   "  not kept as a variable: folded into a later line, or not needed by "
                   "the derivative")
    return out


def _status(facts, entry):
    """`differentiated (...)` or `constant: why`."""
    if entry.active is None:
        return "not known to be differentiated (the derivative pass did not see it)"
    read = sorted(ast_util.names_in(entry.node.value) if entry.value else set())
    if entry.active:
        reads = [name for name in read if name in facts.active_names]
        return f"differentiated: depends on {', '.join(reads) or 'a differentiated value'}"
    for call in _calls(entry.node):
        key = anno.get(call, anno.FUNC)
        if key is not None and rules.is_nondifferentiable(key):
            return (f"constant: {rules.key_name(key)} has no derivative "
                    f"({rules.facts(key).nondifferentiable or 'registered so'})")
    if entry.value and (isinstance(entry.node.value, ast.Compare) or any(
            anno.get(n, anno.RESULT_KIND) == "integer" for n in ast.walk(entry.node.value))):
        return "constant: a comparison or integer value"
    inputs = [name for name in read if name not in facts.active_names]
    if not inputs:
        return "constant: computed from literals only"
    return (f"constant: computed only from {', '.join(inputs)}, which are not differentiated "
            f"(differentiated: {', '.join(facts.wrt)})")


def _calls(node):
    return [n for n in ast.walk(node) if isinstance(n, (ast.Call, ast.BinOp, ast.UnaryOp,
                                                        ast.Subscript))
            and not (isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store))]


def describe_rule(node, kind):
    """Which rule differentiates the operation `node` (a call, operator or indexing)."""
    mode = rules.TANGENT if kind == JVP else rules.ADJOINT
    if isinstance(node, ast.Call):
        key = anno.get(node, anno.FUNC)
        label = codegen.expression(node.func)
        if key is None:
            return f"{label}: a call of a derivative or helper srcad inserted"
    else:
        key = _operator_key(node)
        label = _symbol(node)
    facts = rules.facts(key)
    if facts.nondifferentiable:
        return f"{label}: no derivative ({facts.nondifferentiable})"
    template = facts.adjoint if mode == rules.ADJOINT else facts.tangent
    if template is not None:
        where = getattr(template.func, "__module__", "") or ""
        return f"{label}: {mode} rule {where.rsplit('.', 1)[-1]}.{template.name}"
    if models.is_model(key) or models.is_model(getattr(key, "__self__", None)):
        return f"{label}: your model's forward, differentiated by srcad into its own derivative"
    if callable(key) and hasattr(key, "__code__"):
        return f"{label}: your function, differentiated by srcad into its own derivative"
    return f"{label}: {rules.key_name(key)}"


def _operator_key(node):
    """The rule key of an operator or indexing, with the variants written in the code: `x * x`
    (the same operand twice) and `x ** c` (a constant exponent)."""
    if isinstance(node, ast.Subscript):
        return ast.Subscript
    key = type(node.op)
    if isinstance(node, ast.BinOp):
        if key is ast.Mult and ast.dump(node.left) == ast.dump(node.right):
            return (key, "same") if rules.facts((key, "same")).adjoint else key
        if key is ast.Pow and ast_util.is_constant(node.right):
            return (key, "constant") if rules.facts((key, "constant")).adjoint else key
    return key


def _symbol(node):
    if isinstance(node, ast.Subscript):
        return "indexing [...]"
    ops = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
           ast.MatMult: "@", ast.Mod: "%", ast.USub: "unary -", ast.UAdd: "unary +",
           ast.FloorDiv: "//", ast.Not: "not", ast.Invert: "~"}
    return f"operator {ops.get(type(node.op), type(node.op).__name__)}"


def _loop(facts, lineno):
    """What reverse mode stores per trip of the loop on `lineno`, and what it computes again
    instead."""
    stacks = facts.stacks.get(lineno)
    again = [f"reverse mode computes again in each reversed trip, instead of storing: {text}"
             for text in facts.recomputed.get(lineno, [])]
    if not stacks:
        return again
    out = again + ["reverse mode stores, per trip of this loop:"]
    total = 0
    for stack, value in stacks:
        items, size, viewed = facts.measured.get(stack, (0, 0, 0))
        total += size
        if not items:
            shown = "(not measured)"
        elif viewed and not size:
            shown = (f"a view into an array that exists anyway: no copy ({viewed // items} "
                     f"bytes seen through it per trip)")
        else:
            shown = f"{size // items} bytes per trip, {size} bytes over {items} trips"
        out.append(f"  {value} (in {stack}): {shown}")
    if facts.measured:
        out.append(f"  in all: {total} bytes at these shapes (views not counted)")
    return out


def _rejections(facts, error):
    out = []
    for lineno, text, reason in facts.denied:
        out.append(f"rejected if differentiated, line {lineno}: {text}: {reason}")
    if error is not None:
        out.append(f"rejected: {error}")
    return out or ["rejected: nothing"]
