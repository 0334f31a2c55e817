"""mkdocs hooks: the site's pages are built from the repository, so they cannot go stale.

In: the Markdown pages of docs/, which hold markers on lines of their own; out: the pages with
each marker replaced, and generated files (the computation graph picture). Everything is made
on this machine while building (no download):

- `<!-- readme: Heading -->`: the README section `## Heading` (its text, without the heading),
  with links to repository files written as their paths (they are not pages of the site);
  `<!-- readme-optional: Heading -->` is the same, or nothing while the README lacks it.
- `<!-- file: PATH -->`: a Markdown file of the repository (ARCHITECTURE.md), its first heading
  dropped; `<!-- file-optional: PATH -->` is nothing while the file does not exist.
- `<!-- rules -->`: the table of the primitives srcad has rules for, from `srcad.rules`.
- `<!-- gallery -->`: each example's function and the derivative srcad generates for it.
- `<!-- explain: FILE:FUNC wrt shapes -->`: the report of `srcad.explain` at random inputs.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"^<!-- (readme|readme-optional|file|file-optional|rules|gallery|explain)"
                    r"(?:: (.*?))? -->$", re.M)
GRAPH = "images/lecture_network.png"


def on_page_markdown(markdown, page, config, files):
    """Replace the markers of a page (see the module docstring)."""
    return MARKER.sub(lambda m: _expand(m.group(1), (m.group(2) or "").strip()), markdown)


def on_files(files, config):
    """Add the picture of the lectures' network, drawn now by `srcad.graph`."""
    from mkdocs.structure.files import File
    files.append(File.generated(config, GRAPH, content=_lecture_graph()))
    return files


def _expand(kind, argument):
    if kind.startswith("readme"):
        return _readme_section(argument, optional=kind.endswith("optional"))
    if kind.startswith("file"):
        path = ROOT / argument
        if not path.exists() and kind.endswith("optional"):
            return ""
        text = path.read_text()
        return _local_links(re.sub(r"\A# .*\n", "", text))
    if kind == "rules":
        return _rules_table()
    if kind == "gallery":
        return _gallery()
    return _explain(argument)


def _readme_section(heading, optional=False):
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if match is None:
        if optional:
            return ""
        raise ValueError(f"README.md has no section '## {heading}'")
    return _local_links(match.group(1).strip() + "\n")


def _local_links(text):
    """`[label](path)` to a repository file (not a page, not a URL, not an anchor) as text:
    the label, then the path if the label does not already say it."""
    def link(match):
        label, target = match.group(1), match.group(2)
        if re.match(r"[a-z]+:|#", target):
            return match.group(0)
        return label if target in label else f"{label} (`{target}`)"
    return re.sub(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)", link, text)


def _rules_table():
    from srcad import rules
    rules.load()
    adjoints, tangents = rules.registered(rules.ADJOINT), rules.registered(rules.TANGENT)
    keys = {rules.key_name(k): k for k in list(adjoints) + list(tangents)}
    lines = [f"srcad has derivative rules for {len(keys)} primitives "
             "(reverse mode: adjoint; forward mode: tangent):", "",
             "| primitive | adjoint | tangent | template |", "|---|---|---|---|"]
    for name in sorted(keys):
        key = keys[name]
        template = adjoints.get(key) or tangents.get(key)
        module = template.func.__module__.rsplit(".", 1)[-1]
        lines.append(f"| `{name}` | {'yes' if key in adjoints else ''} | "
                     f"{'yes' if key in tangents else ''} | `templates/{module}.py` |")
    return "\n".join(lines) + "\n"


GALLERY = [
    ("examples/quickstart.py", "network", "x,W", "A small network (the README's tour)"),
    ("examples/computation_graph.py", "loss", "x,W,b", "sigmoid(W x + b), squared error"),
    ("examples/computation_graph.py", "lecture_network", "V,W",
     "The lectures' softmax(W g(V f(x))), cross-entropy (the functions it calls follow it)"),
    ("examples/logistic_regression.py", "cross_entropy", "W,b", "Softmax regression"),
    ("examples/synthetic_recovery.py", "negative_log_likelihood", "w,b",
     "Logistic regression's negative log-likelihood"),
    ("examples/custom_backward.py", "energy_by_newton", "x",
     "Lambert's W by Newton's method: srcad through the loop"),
    ("examples/benchmark.py", "rnn_loss", "Wh,Wx,b", "An Elman RNN over a sequence"),
    ("examples/benchmark.py", "mlp_loss", "W1,b1,W2,b2", "A two-layer MLP, cross-entropy"),
]


def _gallery():
    """Each example function with the reverse-mode derivative srcad generates for it."""
    import inspect

    from srcad import api, cli
    parts = []
    for path, name, wrt, title in GALLERY:
        func = cli.load_function(f"{ROOT / path}:{name}")
        derivative = api.Derivative(func, "grad", tuple(wrt.split(",")))
        parts += [f"## {title}", "", f"`{path}`, function `{name}`, gradient with respect to "
                  f"{', '.join(f'`{w}`' for w in wrt.split(','))}:", "", "```python",
                  inspect.getsource(func).rstrip(), "```", "", "srcad generates:", "",
                  "```python", derivative.source().rstrip(), "```", ""]
    return "\n".join(parts)


def _explain(argument):
    import numpy

    from srcad import cli, explain
    target, wrt, shapes = argument.split()
    func = cli.load_function(str(ROOT / target))
    values = cli.random_arguments(func, cli.parse_shapes(shapes), numpy.random.default_rng(0))
    report = explain(func, *values, wrt=tuple(wrt.split(",")))
    return f"```text\n{report.text.replace(str(ROOT) + '/', '')}\n```\n"


def _lecture_graph():
    import io

    import numpy

    from srcad import cli, graph
    func = cli.load_function(f"{ROOT / 'examples/computation_graph.py'}:lecture_network")
    rng = numpy.random.default_rng(0)
    drawn = graph(func, rng.standard_normal(3), rng.standard_normal((4, 3)),
                  rng.standard_normal((2, 4)), numpy.array([1.0, 0.0]), wrt=("V", "W"))
    buffer = io.BytesIO()
    drawn.figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return buffer.getvalue()
