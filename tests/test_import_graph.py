"""The architecture's import rules, checked on the source: imports point downward only (no
circle among srcad's modules, in-function imports included), and the transformer core never
imports `srcad.nn`."""

import ast
import pathlib

import srcad

PACKAGE = pathlib.Path(srcad.__file__).parent
CORE = ("srcad.passes", "srcad.generation", "srcad.calls", "srcad.guards", "srcad.dispatch",
        "srcad.callee", "srcad.job", "srcad.kinds", "srcad.codegen",
        "srcad.models", "srcad.rules", "srcad.template", "srcad.primitive", "srcad.runtime")


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path, module):
    """The srcad modules that the file at `path` (module `module`) imports, anywhere in it."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("srcad"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                root = package.split(".")
                root = root[:len(root) - node.level + 1]
                base = ".".join(root + ([base] if base else []))
            if not base.startswith("srcad"):
                continue
            for alias in node.names:        # `from . import nn` imports a module
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in GRAPH_NAMES else base)
    return {name for name in found if name in GRAPH_NAMES and name != module}


FILES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH_NAMES = set(FILES)
GRAPH = {name: _imports(path, name) for name, path in FILES.items()}


def _cycle():
    """One import circle as a list of module names, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if nxt.startswith(node + "."):      # a package importing its own submodules
                continue
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(GRAPH):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_graph_sees_the_package():
    assert "srcad.passes.reverse" in GRAPH and "srcad.nn.module" in GRAPH
    assert "srcad.models" in GRAPH["srcad.nn.module"]


def test_no_import_circle():
    assert _cycle() is None, " -> ".join(_cycle())


def test_the_core_never_imports_nn():
    bad = {name: sorted(n for n in GRAPH[name] if n == "srcad.nn" or n.startswith("srcad.nn."))
           for name in GRAPH if name.startswith(CORE)}
    assert not {k: v for k, v in bad.items() if v}


def test_codegen_is_the_one_unparser():
    """astor is imported by `srcad.codegen` only, and nothing else calls `ast.unparse`."""
    offenders = []
    for name, path in FILES.items():
        if name == "srcad.codegen":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and any(a.name == "astor" for a in node.names) \
                    or isinstance(node, ast.ImportFrom) and node.module == "astor" \
                    or isinstance(node, ast.Attribute) and node.attr == "unparse" \
                    and isinstance(node.value, ast.Name) and node.value.id == "ast":
                offenders.append(name)
    assert offenders == []
