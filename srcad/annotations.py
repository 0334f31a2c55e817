"""Per-node annotations: the only channel through which passes share facts about the AST.

In: any `ast.AST` node. Out: a small dict stored on the node under one attribute.
Keys are the constants below; no pass invents its own key.
"""

import ast
from typing import Any, TypeVar

FUNC = "func"          # ast.Call: the Python object called (numpy.tanh, a user function, ...)
METHOD = "method"      # ast.Call: name of an array method when the receiver is a local array
ORIGIN = "origin"      # statement: line number in the user's file it was derived from
ACTIVE = "active"      # statement: its target depends on a differentiated input
ACCUMULATE = "accum"   # AugAssign made by a template `d[x] += ...`: adjoint accumulation
DERIVATIVE = "deriv"   # statement that computes a derivative (not part of the primal)
PARAM = "param"        # expression reading a Parameter of a static module: (root, "V.weight")
MODULE = "module"      # expression denoting a static module: (root, "V"), "" for the root
WRITES = "writes"      # ast.Call that writes into an argument: what it writes into (a phrase)
RESULT_KIND = "kind"   # ast.Call: "integer" (integer or boolean result), "float" (a float
#                        dtype= given), "unknown" (dtype unknown), "other" (neither)
AUGMENTED = "augmented"  # ast.Call of runtime.set_item made from `x[i] op= v`, ast.BinOp
#                        made from `x op= v` (normalize); False where NumPy's casting cannot
#                        fail there (write_targets)
STORES = "stores"      # ast.Call of runtime.set_item: what its target keeps of a float written
#                        into it: "float" (the value), "integer" (truncated: no derivative),
#                        None (unknown while generating: checked at run time)
DENY = "deny"          # expression srcad cannot differentiate: (reason, raised even if unused)
ACTIVE_NAMES = "active names"   # FunctionDef: the names that carry a derivative (activity)
SHAPES = "shapes"      # FunctionDef: {name: static shape} (shapes); None: to infer (again)
INLINED = "inlined"    # FunctionDef: what `inline` added (`passes.inline.Inlined`)
BUILTIN = "builtin"    # ast.Call of a builtin srcad wrote (`range(len(x))`): no local hides it
SIZE = "size"          # expression reading a size (`x.shape[0]`, `x.size`, `len(x)`) in code
#                        specialized to shapes: the int it reads (optimize writes it where
#                        the read alone would keep `x` alive)

_ATTR = "_srcad"
Node = TypeVar("Node", bound=ast.AST)


def get(node: ast.AST, key: str, default: Any = None) -> Any:
    """The annotation `key` of `node`, or `default`."""
    return getattr(node, _ATTR, _NONE).get(key, default)


_NONE: dict = {}        # the annotations of a node without any (never written)


def set_(node: Node, key: str, value: Any) -> Node:
    """Store annotation `key` on `node`; returns the node for chaining."""
    anno = getattr(node, _ATTR, None)
    if anno is None:
        anno = {}
        setattr(node, _ATTR, anno)
    anno[key] = value
    return node


def copy(source: ast.AST, target: Node) -> Node:
    """Give `target` the annotations of `source` (a shallow copy of the dict)."""
    anno = getattr(source, _ATTR, None)
    if anno is not None:
        setattr(target, _ATTR, dict(anno))
    return target
