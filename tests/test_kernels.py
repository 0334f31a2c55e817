"""The optimizer kernels generated from the update rules (srcad.optim.kernels).

For every rule and every combination of its flags: the generated in-place NumPy code equals the
rule run as a plain function (its reference meaning), in float64 and float32, on shapes and
values drawn by hypothesis, never writes the gradient, and needs at most three scratch buffers
(plain Adam: one); the generated CUDA kernel body, read as Python over NumPy arrays, equals the
rule too (the body's statements are C whose meaning for these operations is the same), and,
where nvcc is installed, every kernel compiles (no GPU is needed for that).
"""

import ast
import inspect
import itertools
import os
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from srcad import errors
from srcad.optim import adadelta_rule, adagrad_rule, adam_rule, kernels, rmsprop_rule, sgd_rule

RULES = [sgd_rule, adam_rule, adagrad_rule, adadelta_rule, rmsprop_rule]
POSITIVE = {"eps", "bias2_sqrt", "step_size", "clr", "lr"}
# state arrays that must stay positive (square averages): drawn from [0, 1) plus a margin
SQUARES = {"exp_avg_sq", "max_exp_avg_sq", "state_sum", "square_avg", "acc_delta"}


def parameters(rule):
    signature = inspect.signature(rule).parameters.values()
    arrays = [p.name for p in signature if p.kind == p.POSITIONAL_OR_KEYWORD]
    keywords = [p.name for p in signature if p.kind == p.KEYWORD_ONLY]
    flags = sorted({n.test.id if isinstance(n.test, ast.Name) else n.test.operand.id
                    for n in ast.walk(ast.parse(inspect.getsource(rule))) if isinstance(n, ast.If)})
    return arrays, [k for k in keywords if k not in flags], flags


def flag_sets(rule):
    _, _, flags = parameters(rule)
    for values in itertools.product([False, True], repeat=len(flags)):
        yield dict(zip(flags, values))


CASES = [(rule, flags) for rule in RULES for flags in flag_sets(rule)]


def draw_inputs(data, rule, dtype):
    arrays, scalars, _ = parameters(rule)
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=5), label="shape")
    values = {}
    for name in arrays:
        low = 0.0 if name in SQUARES else -2.0
        values[name] = data.draw(hnp.arrays(dtype, shape, elements=st.floats(
            low, 2.0, width=32 if dtype == np.float32 else 64)), label=name)
        if name in SQUARES:
            values[name] += dtype(0.5)
    if "grad_avg" in values:                 # centered RMSprop: |grad_avg| below sqrt(square)
        values["grad_avg"] *= dtype(0.1)
    numbers = {name: data.draw(st.floats(0.1, 0.9) if name in POSITIVE or name in (
        "beta1", "beta2", "rho", "alpha", "momentum") else st.floats(0.0, 0.5), label=name)
        for name in scalars}
    return values, numbers


def reference(rule, values, numbers, flags):
    """The rule run as a plain function on copies: the new values of the returned arrays."""
    copies = {k: v.copy() for k, v in values.items()}
    results = rule(**copies, **numbers, **flags)
    names = [n.id for n in ast.parse(inspect.getsource(rule)).body[0].body[-1].value.elts]
    return dict(zip(names, results))


def draw_flags(data, rule):
    _, _, names = parameters(rule)
    return data.draw(st.fixed_dictionaries({name: st.booleans() for name in names}),
                     label="flags")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
@settings(max_examples=40, deadline=None)
@given(data=st.data(), dtype=st.sampled_from([np.float64, np.float32]))
def test_in_place_numpy_code_equals_the_rule(rule, data, dtype):
    flags = draw_flags(data, rule)
    values, numbers = draw_inputs(data, rule, dtype)
    expected = reference(rule, values, numbers, flags)
    grad = values["grad"].copy()
    kernels.apply(rule, values, numbers, flags)
    np.testing.assert_array_equal(values["grad"], grad)          # the gradient is never written
    plan = kernels._Plan(rule, flags)
    for name in plan.outputs:
        assert values[name].dtype == dtype
        rtol = 1e-5 if dtype == np.float32 else 1e-13
        np.testing.assert_allclose(values[name], expected[name], rtol=rtol, atol=rtol,
                                   err_msg=name)
    assert set(plan.outputs) == {name for name, value in expected.items()
                                 if value is not None and name in dict(plan.assigns)}


def test_scratch_buffers_stay_few():
    for rule, flags in CASES:
        text = kernels.source(rule, flags)
        assert text.count("numpy.empty_like") <= 3, text
    plain_adam = kernels.source(adam_rule, dict(maximize=False, l2=False, decoupled=False,
                                                amsgrad=False))
    assert plain_adam.count("numpy.empty_like") == 1


def run_cuda_body_as_python(rule, flags, values, numbers):
    """The CUDA kernel body, with C's syntax turned into Python's, run on NumPy arrays."""
    text = kernels.source(rule, flags, kind="cuda")
    body = [line[4:] for line in text.splitlines() if line.startswith("#   ")]
    plan = kernels._Plan(rule, flags)
    namespace = {"sqrt": np.sqrt, "max": np.maximum, "min": np.minimum, "abs": np.abs}
    namespace.update({k: v.copy() for k, v in values.items()})
    namespace.update(numbers)
    for name, expr in plan.hoisted:
        namespace[name] = eval(ast.unparse(expr), {}, dict(numbers))
    for line in body:
        assert line.endswith(";"), line
        exec(re.sub(r"^T ", "", line[:-1]), namespace)
    return {name: namespace[name] for name in plan.outputs}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_cuda_kernel_body_means_the_rule(rule, data):
    flags = draw_flags(data, rule)
    values, numbers = draw_inputs(data, rule, np.float64)
    expected = reference(rule, values, numbers, flags)
    got = run_cuda_body_as_python(rule, flags, values, numbers)
    for name, value in got.items():
        np.testing.assert_allclose(value, expected[name], rtol=1e-13, atol=1e-13, err_msg=name)
    text = kernels.source(rule, flags, kind="cuda")
    launch = next(line for line in text.splitlines() if "kernel(" in line)
    plan = kernels._Plan(rule, flags)
    assert launch.strip().endswith(", ".join(plan.outputs) + ")")     # outputs last, in place


def bad_statement(param, grad, *, lr):
    for _ in range(2):
        param = param - grad
    return param


def bad_call(param, grad, *, lr):
    param = np.exp(param) - grad * lr
    return param


def bad_branch(param, grad, *, lr):
    if lr > 0:
        param = param - grad
    return param


@pytest.mark.parametrize("rule, message", [
    (bad_statement, "only `name = expression` statements"),
    (bad_call, "calls only numpy.sqrt"),
    (bad_branch, "branches only on flags"),
])
def test_unsupported_rules_are_clear_errors(rule, message):
    with pytest.raises(errors.UnsupportedSyntaxError, match=re.escape(message)) as info:
        kernels.source(rule, {})
    assert "test_kernels.py" in str(info.value)


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="needs nvcc (the CUDA compiler)")
def test_every_cuda_kernel_compiles_with_nvcc(tmp_path):
    """Each generated kernel body, in a wrapper like CuPy's (inputs `const T`, outputs `T &`
    into the arrays), for every rule and flag combination, in float64 and float32."""
    units = []
    for rule in RULES:
        for flags in flag_sets(rule):
            in_params, out_params, operation = kernels.cuda_kernel(rule, flags)
            ins = [p.split()[1] for p in in_params.split(", ")]
            outs = [p.split()[1] for p in out_params.split(", ")]
            for ctype in ("double", "float"):
                params = [f"const {ctype}* p_{n}" for n in ins] + \
                    [f"{ctype}* p_{n}" for n in outs] + ["int size"]
                reads = [f"const T {n} = p_{n}[j];" for n in ins] + \
                    [f"T &{n} = p_{n}[j];" for n in outs]
                units.append(f"namespace k{len(units)} {{ typedef {ctype} T;\n"
                             f"__global__ void kernel({', '.join(params)}) {{\n"
                             "for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < size;"
                             " j += blockDim.x * gridDim.x) {\n"
                             + "\n".join(reads) + "\n" + operation + "\n}}}\n")
    source = tmp_path / "kernels.cu"
    source.write_text("\n".join(units))
    done = subprocess.run(["nvcc", "-c", str(source), "-o", str(tmp_path / "kernels.o")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def test_generated_kernels_do_not_depend_on_string_hashing():
    """Which scratch buffer a value went to once followed the order of a set of names, so a
    kernel's text changed with PYTHONHASHSEED (from one process to the next)."""
    script = ("from srcad.optim import kernels\nfrom tests.test_kernels import CASES\n"
              "for rule, flags in CASES:\n"
              "    print(kernels.source(rule, flags), kernels.source(rule, flags, 'cuda'))\n")
    root = pathlib.Path(__file__).resolve().parent.parent
    texts = {subprocess.run([sys.executable, "-c", script], cwd=root, check=True, text=True,
                            capture_output=True, timeout=120,
                            env={**os.environ, "PYTHONHASHSEED": str(seed),
                                 "PYTHONPATH": str(root)}).stdout
             for seed in range(4)}
    assert len(texts) == 1
