"""The one pass interface: every module of `srcad.passes` is a pass `run(tree: ast.FunctionDef,
job: Job) -> ast.FunctionDef` whose docstring says the form it takes in and gives out; the
pipeline (`srcad.generation`) runs every one, and the package docstring names each; passes that
find facts about the whole function give them as annotations on it."""

import ast
import importlib
import inspect
import pkgutil
import typing

import numpy as np
import pytest

import srcad.passes
from srcad import annotations as anno
from srcad import generation, kinds
from srcad.job import Job
from srcad.passes import activity


def _pipeline_passes():
    """The modules of `srcad.passes` that `srcad.generation` imports (the pipeline's passes)."""
    tree = ast.parse(inspect.getsource(generation))
    return sorted(alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                  and node.module == "passes" for alias in node.names)


MODULES = sorted(m.name for m in pkgutil.iter_modules(srcad.passes.__path__))
NAMES = _pipeline_passes()
PASSES = [importlib.import_module(f"srcad.passes.{name}") for name in NAMES]


@pytest.mark.parametrize("module", PASSES, ids=NAMES)
def test_every_pass_is_run_of_a_tree_and_the_job(module):
    assert list(inspect.signature(module.run).parameters) == ["tree", "job"]
    assert typing.get_type_hints(module.run) == {
        "tree": ast.FunctionDef, "job": Job, "return": ast.FunctionDef}
    assert "In:" in module.__doc__ and "Out:" in module.__doc__


def test_the_pipeline_runs_every_pass_and_the_package_names_them():
    tree = ast.parse(inspect.getsource(generation))
    run = {node.value.id for node in ast.walk(tree) if isinstance(node, ast.Attribute)
           and node.attr == "run" and isinstance(node.value, ast.Name)}
    in_loop = {elt.id for node in ast.walk(tree) if isinstance(node, ast.For)
               and isinstance(node.iter, ast.Tuple) for elt in node.iter.elts}
    assert (run - {"pass_"}) | in_loop == set(NAMES)
    for name in MODULES:                 # a pass in the pipeline, or a helper the docstring names
        assert f" {name} " in srcad.passes.__doc__, name
    for name in set(MODULES) - set(NAMES):
        assert not hasattr(importlib.import_module(f"srcad.passes.{name}"), "run"), name


def _shaped(x, W):
    h = np.tanh(W @ x)
    if np.ndim(x) == 1:
        h = h * 2.0
    else:
        h = h * 3.0
    return np.sum(h)


def test_activity_and_shapes_give_their_facts_as_annotations_of_the_function():
    x, W = np.ones(3), np.ones((2, 3))
    tree, job = generation._job(_shaped, kinds.GRAD, ("W",), "grad_shaped",
                                signature=generation.signature((x, W)))
    tree = generation._normal_form(tree, job)
    assert anno.get(tree, anno.SHAPES) is None
    tree = generation._infer_shapes(tree, job)
    static = anno.get(tree, anno.SHAPES)
    assert static["x"] == (3,) and static["W"] == (2, 3)
    assert not any(isinstance(node, ast.If) for node in ast.walk(tree))    # np.ndim decided
    assert {s for s in static if s.startswith("h")} and all(
        static[s] == (2,) for s in static if s.startswith("h"))
    tree = activity.run(tree, job)
    active = anno.get(tree, anno.ACTIVE_NAMES)
    assert "W" in active and "x" not in active
