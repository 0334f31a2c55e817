"""The computation graph of y = sigmoid(W x + b), forward and backward, step by step.

srcad's normal form is the computation graph written as code: one node per line. This example
prints that graph, then runs the generated forward mode (jvp) and reverse mode (grad) of a
squared-error loss on y line by line, printing the value each line computes, and checks the
result against the backpropagation formulas derived by hand:

    z = W x + b,  y = sigmoid(z),  L = 1/2 |y - t|^2
    dL/dy = y - t,  dL/dz = dL/dy * y (1 - y),  dL/dW = dL/dz x^T,  dL/db = dL/dz,
    dL/dx = W^T dL/dz

Last, it draws both graphs with `srcad.graph` (one node per operation, each annotated with its
value and reverse-mode adjoint in a run): this loss, and the network of the lectures,
softmax(W g(V f(x))) under a cross-entropy loss, saved as PNG files.

Run: python examples/computation_graph.py
"""

import argparse
import linecache
import sys

import numpy as np

import srcad
from srcad.cli import stage_source


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def loss(x, W, b, t):
    z = W @ x + b
    y = sigmoid(z)
    return 0.5 * np.sum((y - t) ** 2)


def f(x):
    return np.tanh(x)


def g(u):
    return sigmoid(u)


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def lecture_network(x, V, W, t):
    """The lectures' network: y = softmax(W g(V f(x))), with cross-entropy against t."""
    y = softmax(W @ g(V @ f(x)))
    return -np.sum(t * np.log(y))


def trace_lines(function, *args):
    """Call `function`, printing each line of generated source as it runs (with the comment
    naming the line of `loss` it comes from) and the values it assigns; returns the result."""
    shown = {}                                     # frame -> {name: value already printed}

    def show_changes(frame, indent):
        seen = shown.setdefault(frame, {})
        for name, value in frame.f_locals.items():
            if callable(value) or isinstance(value, list):
                continue                            # pullbacks and stacks
            if name not in seen or not _same(seen[name], value):
                seen[name] = value
                print(f"{indent}{'':12}=> {name} = {_short(value)}")

    def tracer(frame, event, arg):
        filename = frame.f_code.co_filename
        if not filename.startswith("<srcad ") or frame.f_code.co_name.startswith("<"):
            return None                             # only generated functions
        lines = linecache.getlines(filename)
        indent = "    " * _depth(frame)
        if event == "call":
            print(f"{indent}[{frame.f_code.co_name}]")
        if event in ("line", "return"):
            show_changes(frame, indent)
        if event == "line":
            first = frame.f_lineno - 1
            while first > 0 and lines[first - 1].strip().startswith("#"):
                first -= 1
            for text in lines[first:frame.f_lineno]:
                print(f"{indent}{text.strip()}")
        return tracer

    function(*args)               # once untraced: srcad generates the functions it calls
    sys.settrace(tracer)
    try:
        return function(*args)
    finally:
        sys.settrace(None)


def _depth(frame):
    """How many generated functions are running below this one."""
    depth = 0
    while frame.f_back is not None:
        frame = frame.f_back
        depth += frame.f_code.co_filename.startswith("<srcad ")
    return depth


def _short(value):
    return str(np.round(np.asarray(value, dtype=float), 4).tolist())


def _same(a, b):
    try:
        return np.array_equal(np.asarray(a), np.asarray(b))
    except (TypeError, ValueError):
        return False


def main():
    rng = np.random.default_rng(0)
    x, W, b, t = rng.standard_normal(3), rng.standard_normal((2, 3)), np.zeros(2), np.ones(2)

    grad = srcad.grad(loss, wrt=("x", "W", "b"))
    print("1. The computation graph: srcad's normal form of the loss, one node per line\n")
    print(stage_source(grad, "normalize"))

    print("2. Forward mode: each node's tangent follows it (direction dx, with dW = db = 0)\n")
    jvp = srcad.jvp(loss, wrt="x")
    dx = np.array([1.0, 0.0, 0.0])
    value, tangent = trace_lines(jvp.generated.function, x, W, b, t, dx)
    print(f"\n   L = {value:.6f}, dL/dx . dx = {tangent:.6f}\n")

    print("3. Reverse mode: the forward sweep, then the adjoints in reverse order\n")
    gx, gW, gb = trace_lines(grad.generated.function, x, W, b, t)

    z = W @ x + b
    y = 1 / (1 + np.exp(-z))
    dz = (y - t) * y * (1 - y)
    print("\n4. Against backpropagation by hand:")
    for name, got, want in (("dL/dx = W^T dz", gx, W.T @ dz), ("dL/dW = dz x^T", gW,
                            np.outer(dz, x)), ("dL/db = dz", gb, dz)):
        print(f"   {name:16} matches: {np.allclose(got, want)}")
        assert np.allclose(got, want)
    assert np.isclose(tangent, gx[0])
    print(f"   forward mode dL/dx[0] = {tangent:.6f} equals reverse mode {gx[0]:.6f}")
    draw(x, W, b, t, rng)


def draw(x, W, b, t, rng):
    """5. The graphs drawn, values and adjoints on the nodes, checked against srcad.grad."""
    print("\n5. The graphs, drawn (value v and adjoint adj of each node):")
    drawn = srcad.graph(loss, x, W, b, t, wrt=("x", "W", "b"), path="computation_graph.png")
    gx, gW, gb = srcad.grad(loss, wrt=("x", "W", "b"))(x, W, b, t)
    assert np.allclose(drawn.nodes["W"].adjoint, gW) and np.allclose(drawn.nodes["b"].adjoint, gb)
    print(f"   {drawn}: saved to computation_graph.png")
    args = (rng.standard_normal(3), rng.standard_normal((4, 3)), rng.standard_normal((2, 4)),
            np.array([1.0, 0.0]))
    drawn = srcad.graph(lecture_network, *args, wrt=("V", "W"), path="lecture_network.png")
    gV, gW = srcad.grad(lecture_network, wrt=("V", "W"))(*args)
    assert np.allclose(drawn.nodes["V"].adjoint, gV) and np.allclose(drawn.nodes["W"].adjoint, gW)
    print(f"   softmax(W g(V f(x))), {drawn}: saved to lecture_network.png")


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    main()
