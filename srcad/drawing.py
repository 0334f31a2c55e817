"""`srcad.graph(f, *example_args)`: the computation graph of `f`, drawn.

In: a user function, example arguments and `wrt`. Out: a `Graph`: one node per operation of
`f`'s normal form (the form srcad differentiates: one operation per line), an edge from each
value to the operations that read it, each node annotated with the value a run on the example
arguments computed and its reverse-mode adjoint (the derivative of the result with respect to
it, read from a run of the generated gradient). The picture is drawn with matplotlib, laid out
by networkx in layers (inputs on the left, the result on the right); `Graph.save` writes SVG or
PNG and a notebook shows it inline. matplotlib and networkx are optional for srcad: without
them `graph` raises an ImportError that says what to install.
"""

import ast
import io
import sys

import numpy

from . import annotations as anno
from . import ast_util, generation, models, runtime
from .explain_facts import pipeline_options

_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
        ast.MatMult: "@", ast.Mod: "%", ast.USub: "neg", ast.UAdd: "pos", ast.FloorDiv: "//"}


def libraries():
    """(networkx, matplotlib.pyplot's Figure class), or an ImportError saying what to install."""
    try:
        import networkx
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(f"srcad.graph needs networkx and matplotlib ({exc.name} is missing): "
                          "pip install networkx matplotlib") from None
    return networkx, Figure


class Graph:
    """A drawn computation graph: `nodes` ({name: Node}), `edges` ([(source, target)]), the
    networkx `digraph`, the matplotlib `figure`; `save(path)` writes it (the format from the
    suffix: .svg, .png, .pdf); in a notebook it shows itself as an image."""

    def __init__(self, nodes, edges, digraph, figure):
        self.nodes, self.edges, self.digraph, self.figure = nodes, edges, digraph, figure

    def save(self, path, dpi=150):
        """Write the picture to `path`; returns `path`."""
        self.figure.savefig(path, dpi=dpi, bbox_inches="tight")
        return path

    def _repr_png_(self):
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        return buffer.getvalue()

    def __repr__(self):
        return f"<srcad graph: {len(self.nodes)} nodes, {len(self.edges)} edges>"


class Node:
    """One value of the graph: `name`, `label` (the operation), `line` of the user's file,
    `value` and `adjoint` from a run (None when not known), `kind` ("input", "operation",
    "constant" or "output")."""

    def __init__(self, name, label, line, kind):
        self.name, self.label, self.line, self.kind = name, label, line, kind
        self.value = self.adjoint = None


def graph(func, *example_args, wrt=0, path=None):
    """The computation graph of `func` at `example_args`, adjoints with respect to `wrt` (as in
    `srcad.grad`); saved to `path` when given (SVG, PNG, ... by its suffix)."""
    from .api import resolve_wrt
    networkx, figure_class = libraries()
    names, _ = resolve_wrt(func, wrt)
    seen = {}

    def keep(stage, fdef, info):
        if stage == "normalize":
            seen["tree"] = ast_util.copy_node(fdef)

    containers, statics, _ = pipeline_options(func, generation.GRAD, example_args)
    generated = generation.generate(func, generation.GRAD, names, containers=containers,
                                    statics=statics, on_stage=keep)
    nodes, edges = _nodes_and_edges(seen["tree"], func)
    values = _run_normal_form(seen["tree"], func, example_args)
    adjoints = _last_locals(generated.function, example_args)
    for node in nodes.values():
        node.value = values.get(node.name)
        node.adjoint = 1.0 if node.kind == "output" else adjoints.get("d" + node.name)
    result = _draw(nodes, edges, networkx, figure_class)
    if path is not None:
        result.save(path)
    return result


def _nodes_and_edges(fdef, func):
    """Nodes and edges of the normal form `fdef` (straight-line statements, and those in loops
    and branches once each); a name assigned again is a new node (`h`, `h'`), annotated with
    the name's last value (a loop's nodes show its last trip)."""
    nodes, edges, current = {}, [], {}
    for param in generation.parameters(func):
        nodes[param] = Node(param, param, fdef.lineno, "input")
        current[param] = param
    for stmt in _flat(fdef.body):
        if isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Name) \
                and stmt.value.id in current:
            nodes[current[stmt.value.id]].kind = "output"
            continue
        if isinstance(stmt, ast.Return):
            target, value = "result", stmt.value
        elif isinstance(stmt, ast.Assign) and ast_util.assigned_name(stmt):
            target, value = ast_util.assigned_name(stmt), stmt.value
        else:
            continue
        reads = [current[n] for n in _reads(value) if n in current]
        node_id = target if target not in nodes else _fresh(target, nodes)
        kind = "output" if target == "result" else "operation" if reads else "constant"
        nodes[node_id] = Node(target, f"{target} = {_label(value)}",
                              anno.get(stmt, anno.ORIGIN), kind)
        edges.extend((source, node_id) for source in dict.fromkeys(reads))
        current[target] = node_id
    return nodes, edges


def _flat(body):
    for stmt in body:
        if isinstance(stmt, (ast.For, ast.While, ast.If)):
            yield from _flat(stmt.body)
            yield from _flat(stmt.orelse)
        else:
            yield stmt


def _reads(node):
    return list(dict.fromkeys(n.id for n in ast.walk(node)
                              if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)))


def _fresh(name, nodes):
    while name in nodes:
        name += "'"
    return name


def _label(value):
    """The operation of a normal-form right-hand side, briefly: `tanh`, `@`, `[...]`."""
    if isinstance(value, ast.Call):
        func = value.func
        return (func.attr if isinstance(func, ast.Attribute) else
                func.id if isinstance(func, ast.Name) else "call")
    if isinstance(value, (ast.BinOp, ast.UnaryOp)):
        return _OPS.get(type(value.op), type(value.op).__name__)
    if isinstance(value, ast.Subscript):
        return "[...]"
    if isinstance(value, ast.Name):
        return value.id
    return ast_util.names_in(value) and "expr" or "constant"


def _run_normal_form(fdef, func, args):
    """The last value of each local of the normal form `fdef` in a run on `args`."""
    inlined = getattr(anno.get(fdef, anno.INLINED), "names", {})   # (globals of inlined code)
    fdef = ast_util.copy_node(fdef)
    fdef.name = "_srcad_graph_run"
    for node in ast.walk(fdef):         # (inlined lines are numbered apart: no locations)
        for attr in ("lineno", "end_lineno", "col_offset", "end_col_offset"):
            if hasattr(node, attr):
                delattr(node, attr)
    module = ast.fix_missing_locations(ast.Module(body=[fdef], type_ignores=[]))
    closure = dict(zip(func.__code__.co_freevars,
                       (c.cell_contents for c in func.__closure__ or ())))
    namespace = {**vars(runtime), **func.__globals__, **closure, **inlined}
    exec(compile(module, f"<srcad graph of {func.__name__}>", "exec"), namespace)
    return _last_locals(namespace["_srcad_graph_run"], args)


def _last_locals(function, args):
    """{name: last value} of the locals of `function` over a call on `args` (its own frame
    traced); the result is stored under "result" (and "dresult" is 1 for a gradient)."""
    code, values = function.__code__, {}

    def tracer(frame, event, arg):
        if frame.f_code is not code:
            return None
        values.update({k: _copy(v) for k, v in frame.f_locals.items()})
        if event == "return":
            values["result"] = arg
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        function(*args)
    finally:
        sys.settrace(previous)
    return values


def _copy(value):
    return value.copy() if isinstance(value, numpy.ndarray) else value


def _draw(nodes, edges, networkx, figure_class):
    """Lay the graph out in layers (networkx) and draw it (matplotlib)."""
    digraph = networkx.DiGraph()
    digraph.add_nodes_from(nodes)
    digraph.add_edges_from(edges)
    for layer, names in enumerate(networkx.topological_generations(digraph)):
        for name in names:
            digraph.nodes[name]["layer"] = layer
    for name, node in nodes.items():         # an input just before its first use
        uses = [digraph.nodes[s]["layer"] for s in digraph.successors(name)]
        if node.kind in ("input", "constant") and uses:
            digraph.nodes[name]["layer"] = min(uses) - 1
    position = networkx.multipartite_layout(digraph, subset_key="layer", scale=1.0)
    layers = 1 + max((d["layer"] for _, d in digraph.nodes(data=True)), default=0)
    tallest = max((sum(1 for _, d in digraph.nodes(data=True) if d["layer"] == k)
                   for k in range(layers)), default=1)
    figure = figure_class(figsize=(3.2 * layers + 1, 1.2 * tallest + 1.5))
    axes = figure.add_subplot()
    axes.set_axis_off()
    networkx.draw_networkx_edges(digraph, position, ax=axes, arrows=True, arrowsize=14,
                                 node_size=3000, edge_color="#888888")
    colors = {"input": "#dbeafe", "operation": "#f3f4f6", "constant": "#fef9c3",
              "output": "#dcfce7"}
    for name, node in nodes.items():
        x, y = position[name]
        axes.text(x, y, _caption(node), ha="center", va="center", fontsize=8,
                  family="monospace", bbox={"boxstyle": "round", "facecolor": colors[node.kind],
                                            "edgecolor": "#555555"})
    axes.set_title("computation graph: value (v) and adjoint (adj) of each node", fontsize=10)
    axes.margins(0.15, 0.15)
    return Graph(nodes, edges, digraph, figure)


def _caption(node):
    lines = [node.label if node.kind != "input" else f"input {node.name}"]
    if node.value is not None:
        lines.append(f"v = {summary(node.value)}")
    if node.adjoint is not None:
        lines.append(f"adj = {summary(node.adjoint)}")
    return "\n".join(lines)


def summary(value):
    """A short text for a value: a number, a few rounded entries, or shape and norm; a dict
    of arrays (a model's gradient) by its count and norm."""
    if isinstance(value, dict) and value:
        norm = numpy.sqrt(sum(float(numpy.sum(numpy.square(v))) for v in value.values()))
        return f"{len(value)} arrays, |.|={norm:.3g}"
    if models.is_model(value):
        return type(value).__name__
    array = numpy.asarray(value)
    if array.dtype.kind not in "biuf":
        return type(value).__name__
    if array.ndim == 0:
        return f"{float(array):.4g}"
    if array.size <= 3:
        return "[" + ", ".join(f"{float(v):.3g}" for v in array.ravel()) + "]"
    return f"{'x'.join(map(str, array.shape))}, |.|={float(numpy.linalg.norm(array)):.3g}"
