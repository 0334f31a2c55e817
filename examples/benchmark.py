"""srcad's generated gradients against a hand-written NumPy gradient of the same function, and
against HIPS autograd, PyTorch (eager, CPU) and JAX (`jit(grad)`), each when installed.

Run: pip install ".[bench]" && python examples/benchmark.py   (under a minute)
     python examples/benchmark.py --quick                     (seconds: a smoke run)
     python examples/benchmark.py --cases "mlp nn,rnn"        (only the cases named so)

One process, one BLAS thread, float64, the same data for every contender. Within a case the
contenders are timed interleaved, round-robin over 151 rounds of short samples; a time is the
median over the rounds, a ratio the median of the ratios within each round, so the drifting load
of a shared machine hits both sides of a ratio alike. Every gradient is checked against the
hand-written one before it is timed.

Columns: `srcad` is a call of `srcad.grad(f)` (the API wrapper: argument checks, the cached
lookup of the code for these argument shapes, the gradient's final form); `raw` calls the
generated function itself; `jit` is `srcad.grad(f, jit=True)`, the compiled mode (numba, when
installed), timed after its compilation, whose cost is reported apart. The `mlp nn` rows are
the MLP as a model (`nn.Linear`, `nn.Tanh`, `nn.CrossEntropyLoss`),
`srcad.grad(loss, wrt="model")`, against torch.nn's same layers; they
have no autograd or JAX version ("-"). Codegen is the time to generate and compile a case's
gradient once warm (templates loaded; for a model, every function it takes). Peak memory is what
`tracemalloc` sees NumPy allocate in one call. The bandwidth line divides the least memory
traffic of the largest elementwise case by each contender's time and sets it against this
machine's own limits, measured in the same run. The last lines read the performance issue's
targets off this run.
"""

import os
import sys

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"                      # before numpy (or torch, jax) is imported
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("JAX_ENABLE_X64", "1")

import argparse  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import types  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

import srcad  # noqa: E402
from srcad import api, dispatch, generation, nn  # noqa: E402
from srcad.errors import JitFallbackWarning  # noqa: E402

stop_gradient = srcad.stop_gradient

# ---- the functions: written once in NumPy; autograd and JAX run the same code ---------------


def tanh_sum(x):
    return np.sum(np.tanh(x * x))


def mlp_loss(W1, b1, W2, b2, X, Y):
    """A 64-128-10 tanh network, softmax cross-entropy averaged over the batch."""
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    z = z - stop_gradient(np.max(z, axis=1, keepdims=True))
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * logp) / X.shape[0]


def rnn_loss(Wh, Wx, b, xs):
    """An Elman RNN, hidden size 32, over a sequence; loss on the last state."""
    h = np.zeros(Wh.shape[0])
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t] + b)
    return np.sum(h * h)


def logreg_loss(w, b, X, y):
    """Logistic regression, labels in {0, 1}, mean negative log-likelihood."""
    z = X @ w + b
    return np.mean(np.logaddexp(0.0, z) - y * z)


class MLP(nn.Module):
    """`mlp_loss`'s network as a model, in PyTorch's layers (weights are (out, in))."""

    def __init__(self):
        super().__init__()
        self.V = nn.Linear(64, 128)
        self.g = nn.Tanh()
        self.W = nn.Linear(128, 10)

    def forward(self, x):
        return self.W(self.g(self.V(x)))


criterion = nn.CrossEntropyLoss()


def mlp_model_loss(model, X, Y):
    return criterion(model(X), Y)


# ---- hand-written gradients, as a person would write them in NumPy ---------------------------


def tanh_sum_hand(x):
    t = np.tanh(x * x)
    return 2 * x * (1 - t * t)


def mlp_hand(W1, b1, W2, b2, X, Y):
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    e = np.exp(z - z.max(axis=1, keepdims=True))
    dz = (e / e.sum(axis=1, keepdims=True) - Y) / X.shape[0]
    da = (dz @ W2.T) * (1 - h * h)
    return X.T @ da, da.sum(axis=0), h.T @ dz, dz.sum(axis=0)


def rnn_hand(Wh, Wx, b, xs):
    hs = [np.zeros(Wh.shape[0])]
    for t in range(xs.shape[0]):
        hs.append(np.tanh(Wh @ hs[-1] + Wx @ xs[t] + b))
    dWh, dWx, db = np.zeros_like(Wh), np.zeros_like(Wx), np.zeros_like(b)
    dh = 2 * hs[-1]
    for t in reversed(range(xs.shape[0])):
        da = dh * (1 - hs[t + 1] * hs[t + 1])
        dWh += np.multiply.outer(da, hs[t])
        dWx += np.multiply.outer(da, xs[t])
        db += da
        dh = Wh.T @ da
    return dWh, dWx, db


def mlp_nn_hand(V_weight, V_bias, W_weight, W_bias, X, Y):
    """`mlp_hand` for weights in PyTorch's (out, in) layout."""
    h = np.tanh(X @ V_weight.T + V_bias)
    z = h @ W_weight.T + W_bias
    e = np.exp(z - z.max(axis=1, keepdims=True))
    dz = (e / e.sum(axis=1, keepdims=True) - Y) / X.shape[0]
    da = (dz @ W_weight) * (1 - h * h)
    return da.T @ X, da.sum(axis=0), dz.T @ h, dz.sum(axis=0)


def logreg_hand(w, b, X, y):
    z = X @ w + b
    dz = (1 / (1 + np.exp(-z)) - y) / X.shape[0]
    return X.T @ dz, dz.sum()


# ---- the same functions for PyTorch (its own names for the NumPy calls) ----------------------


def torch_functions(torch):
    def tanh_sum_t(x):
        return torch.sum(torch.tanh(x * x))

    def mlp_t(W1, b1, W2, b2, X, Y):
        h = torch.tanh(X @ W1 + b1)
        z = h @ W2 + b2
        z = z - torch.amax(z, dim=1, keepdim=True).detach()
        logp = z - torch.log(torch.sum(torch.exp(z), dim=1, keepdim=True))
        return -torch.sum(Y * logp) / X.shape[0]

    def rnn_t(Wh, Wx, b, xs):
        h = torch.zeros(Wh.shape[0], dtype=Wh.dtype)
        for t in range(xs.shape[0]):
            h = torch.tanh(Wh @ h + Wx @ xs[t] + b)
        return torch.sum(h * h)

    def logreg_t(w, b, X, y):
        z = X @ w + b
        return torch.mean(torch.logaddexp(torch.zeros((), dtype=z.dtype), z) - y * z)

    return {"tanh_sum": tanh_sum_t, "mlp_loss": mlp_t, "rnn_loss": rnn_t,
            "logreg_loss": logreg_t}


# ---- cases -----------------------------------------------------------------------------------


class Case:
    jit = None                  # the compiled-mode gradient, once made

    def __init__(self, label, func, hand, wrt, args, hand_args=None):
        self.label, self.func, self.hand, self.wrt, self.args = label, func, hand, wrt, args
        self.hand_args = args if hand_args is None else hand_args
        self.model = next((a for a in args if isinstance(a, nn.Module)), None)


def model_case(batch, params, X, Y):
    """The MLP as `MLP` with `nn.CrossEntropyLoss`, holding the same numbers as `params`."""
    model = MLP()
    W1, b1, W2, b2 = params
    for param, value in zip(model.parameters(), (W1.T.copy(), b1, W2.T.copy(), b2)):
        param.data = value.copy()
    weights = tuple(p.data for p in model.parameters())
    return Case(f"mlp nn batch={batch}", mlp_model_loss, mlp_nn_hand, "model", (model, X, Y),
                weights + (X, Y))


def cases(quick):
    rng = np.random.default_rng(0)
    out = []
    for n in ((10, 1000) if quick else (10, 1000, 100_000)):
        out.append(Case(f"tanh n={n:g}", tanh_sum, tanh_sum_hand, 0, (rng.standard_normal(n),)))
    for batch in ((8,) if quick else (32, 512)):
        X = rng.standard_normal((batch, 64))
        Y = np.eye(10)[rng.integers(0, 10, batch)]
        params = (rng.standard_normal((64, 128)) / 8, np.zeros(128),
                  rng.standard_normal((128, 10)) / 11, np.zeros(10))
        out.append(Case(f"mlp batch={batch}", mlp_loss, mlp_hand, (0, 1, 2, 3),
                        params + (X, Y)))
        out.append(model_case(batch, params, X, Y))
    steps = 4 if quick else 20
    out.append(Case(f"rnn {steps} steps", rnn_loss, rnn_hand, (0, 1, 2),
                    (rng.standard_normal((32, 32)) / 6, rng.standard_normal((32, 16)) / 4,
                     np.zeros(32), rng.standard_normal((steps, 16)))))
    rows = 50 if quick else 1000
    X = rng.standard_normal((rows, 100))
    out.append(Case(f"logreg {rows}x100", logreg_loss, logreg_hand, (0, 1),
                    (rng.standard_normal(100) / 10, 0.1, X, (rng.random(rows) < 0.5) * 1.0)))
    return out


# ---- contenders: each gives (name, call) with call() -> gradients as NumPy arrays -------------


def with_numpy(func, module, **names):
    """`func` re-bound so that its `np` (and the names given) are another library's."""
    namespace = dict(func.__globals__, np=module, **names)
    return types.FunctionType(func.__code__, namespace, func.__name__, func.__defaults__)


def contenders(case, peers):
    """{name: call} for the hand-written gradient, srcad (wrapper and raw) and each peer."""
    df = srcad.grad(case.func, wrt=case.wrt)
    raw = df.specialized_function(*case.args)
    calls = {"hand": lambda: case.hand(*case.hand_args), "srcad": lambda: df(*case.args),
             "raw": lambda: raw(*case.args)}
    if "jit" in peers:
        dj = case.jit = srcad.grad(case.func, wrt=case.wrt, jit=True)
        calls["jit"] = lambda: dj(*case.args)
    makers = (("torch", _torch_model_call),) if case.model else (
        ("autograd", _autograd_call), ("torch", _torch_call), ("jax", _jax_call))
    for peer, make in makers:
        if peer in peers:
            calls[peer] = make(case, *peers[peer])
    return calls


def _torch_model_call(case, torch, table):
    """torch.nn's version of `MLP` and `nn.CrossEntropyLoss` (probability targets)."""
    layers = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.Tanh(),
                                 torch.nn.Linear(128, 10)).double()
    with torch.no_grad():
        for param, value in zip(layers.parameters(), case.model.parameters()):
            param.copy_(torch.tensor(value.data))
    loss = torch.nn.CrossEntropyLoss()
    X, Y = (torch.tensor(a) for a in case.args[1:])
    params = list(layers.parameters())
    return lambda: torch.autograd.grad(loss(layers(X), Y), params)


def _autograd_call(case, autograd, anp, getval):
    f = with_numpy(case.func, anp, stop_gradient=getval)
    if not isinstance(case.wrt, tuple):
        g = autograd.grad(f, case.wrt)
    else:
        g = _autograd_multi(autograd, f, case.wrt)
    return lambda: g(*case.args)


def _jax_call(case, jax, jnp):
    f = with_numpy(case.func, jnp, stop_gradient=jax.lax.stop_gradient)
    g = jax.jit(jax.grad(f, case.wrt))
    args = tuple(jnp.asarray(a) for a in case.args)

    def call():
        out = g(*args)
        jax.block_until_ready(out)
        return out
    return call


def _autograd_multi(autograd, f, wrt):
    """autograd's gradient in several arguments: one pass, through a tuple argument."""
    def packed(params, *rest):
        args = list(rest)
        for i, p in zip(wrt, params):
            args.insert(i, p)
        return f(*args)
    g = autograd.grad(packed)

    def call(*args):
        params = tuple(args[i] for i in wrt)
        rest = [a for i, a in enumerate(args) if i not in wrt]
        return g(params, *rest)
    return call


def _torch_call(case, torch, table):
    func = table[case.func.__name__]
    wrt = case.wrt if isinstance(case.wrt, tuple) else (case.wrt,)
    args = [torch.tensor(a, dtype=torch.float64) for a in case.args]

    def call():
        leaves = [args[i].detach().requires_grad_() for i in wrt]
        full = list(args)
        for i, leaf in zip(wrt, leaves):
            full[i] = leaf
        grads = torch.autograd.grad(func(*full), leaves)
        return grads[0] if not isinstance(case.wrt, tuple) else grads
    return call


def load_peers(skip):
    peers = {}
    if "jit" not in skip:
        try:
            import numba  # noqa: F401
            peers["jit"] = ()
        except ImportError:
            pass
    if "autograd" not in skip:
        try:
            import autograd
            import autograd.numpy as anp
            from autograd.tracer import getval
            peers["autograd"] = (autograd, anp, getval)
        except ImportError:
            pass
    if "torch" not in skip:
        try:
            import torch
            torch.set_num_threads(1)
            peers["torch"] = (torch, torch_functions(torch))
        except ImportError:
            pass
    if "jax" not in skip:
        try:
            import jax
            import jax.numpy as jnp
            jax.config.update("jax_enable_x64", True)
            peers["jax"] = (jax, jnp)
        except ImportError:
            pass
    return peers


# ---- measuring -------------------------------------------------------------------------------


def check(name, got, want, case):
    if isinstance(got, dict):                   # a model's gradients, by parameter name
        got = tuple(got[key] for key, _ in case.model.named_parameters())
    got = got if isinstance(got, (tuple, list)) else (got,)
    want = want if isinstance(want, (tuple, list)) else (want,)
    for g, w in zip(got, want):
        if not np.allclose(np.asarray(g), w, rtol=1e-6, atol=1e-9):
            raise AssertionError(f"{case.label}: {name}'s gradient differs from the "
                                 "hand-written one")


def time_interleaved(calls, repeats, sample_s):
    """Seconds per call of each callable: {name: [one figure per round]}, timed round-robin
    over `repeats` rounds of samples of about `sample_s` seconds each."""
    numbers = {}
    for name, fn in calls.items():
        fn()                                               # warm up (jit compiles here)
        start = time.perf_counter()
        fn()
        once = max(time.perf_counter() - start, 1e-7)
        numbers[name] = max(1, int(sample_s / once))
    samples = {name: [] for name in calls}
    for _ in range(repeats):
        for name, fn in calls.items():
            number = numbers[name]
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples[name].append((time.perf_counter() - start) / number)
    return samples


class Timing:
    """The samples of one case: medians, and ratios as the median of the ratios within each
    round (so that the load of a shared machine, which drifts, cancels out)."""

    def __init__(self, samples):
        self.samples = samples

    def __getitem__(self, name):
        return statistics.median(self.samples[name]) if name in self.samples else None

    def ratio(self, a, b):
        """The median ratio, or None where a contender did not run this case."""
        if a not in self.samples or b not in self.samples:
            return None
        return statistics.median(x / y for x, y in zip(self.samples[a], self.samples[b]))


def codegen_ms(case, repeats):
    """(milliseconds to generate a case's gradient once warm, how many functions that is)."""
    if case.model:
        return model_codegen_ms(case, repeats)
    wrt = api.resolve_wrt(case.func, case.wrt)[0]
    shapes = generation.signature(case.args)
    generation.generate(case.func, "grad", wrt, signature=shapes)            # warm
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        generation.generate(case.func, "grad", wrt, signature=shapes)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, 1


def model_codegen_ms(case, repeats):
    """Code generation for the whole model: the loss, the model's forward, each layer's and the
    criterion's (the code cache emptied first; templates stay loaded)."""
    times = []
    for _ in range(repeats + 1):
        generation._cache.clear()
        start = time.perf_counter()
        text = srcad.grad(case.func, wrt=case.wrt).source(*case.args)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:]) * 1e3, text.count("\ndef ") + 1


def peak_bytes(fn):
    fn()
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


# ---- report ----------------------------------------------------------------------------------


def microseconds(seconds):
    if seconds is None:
        return "-"
    return f"{seconds * 1e6:,.1f}" if seconds < 1e-3 else f"{seconds * 1e6:,.0f}"


def ratio_text(value):
    return "-" if value is None else f"{value:.2f}"


def run(quick=False, skip=(), only=()):
    """Time every case (those whose label contains one of the strings `only`, when given)."""
    peers = load_peers(skip)
    repeats, sample_s = (3, 0.002) if quick else (151, 0.005)
    names = ["hand", "srcad", "raw"] + [p for p in ("jit", "autograd", "torch", "jax")
                                        if p in peers]
    rows, extras = [], []
    for case in cases(quick):
        if only and not any(part in case.label for part in only):
            continue
        calls = contenders(case, peers)
        want = calls["hand"]()
        with warnings.catch_warnings():         # a model's code runs with NumPy (said below)
            warnings.simplefilter("ignore", JitFallbackWarning)
            for name, fn in calls.items():
                check(name, fn(), want, case)
                check(name, fn(), want, case)       # compiled mode: the compiled code
        times = Timing(time_interleaved(calls, repeats, sample_s))
        hand_peak = peak_bytes(calls["hand"])
        memory = (peak_bytes(calls["srcad"]) / max(hand_peak, 1), hand_peak)
        rows.append((case.label, times))
        extras.append((case.label, codegen_ms(case, 3 if quick else 9), memory,
                       _compiled(case)))
        print(f"  timed {case.label}", file=sys.stderr, flush=True)
    print_table(rows, names, extras, quick)
    return rows, extras


def _compiled(case):
    """(compile seconds, what numba compiled) of the case's compiled-mode gradient."""
    if case.jit is None:
        return None
    head = case.jit.source().split("\ndef ")[0]
    if "runs with NumPy" in head:
        return case.jit.compile_seconds, "runs with NumPy (fused loops compiled)"
    if "compiled nothing" in head:
        return case.jit.compile_seconds, "nothing compiled (no chain to fuse)"
    if "has no loop" in head:
        return case.jit.compile_seconds, "fused loops compiled"
    return case.jit.compile_seconds, "whole function compiled"


def print_table(rows, names, extras, quick=False):
    peers = [n for n in names if n not in ("hand", "srcad", "raw")]
    against_jit = [p for p in ("jax", "torch") if "jit" in peers and p in peers]
    header = ["case"] + [f"{n} us" for n in names] + ["srcad/hand", "raw/hand"] + [
        f"{p}/srcad" for p in peers] + [f"{p}/jit" for p in against_jit]
    table = []
    for label, times in rows:
        line = [label] + [microseconds(times[n]) for n in names]
        line += [ratio_text(times.ratio(key, "hand")) for key in ("srcad", "raw")]
        line += [ratio_text(times.ratio(p, "srcad")) for p in peers]
        line += [ratio_text(times.ratio(p, "jit")) for p in against_jit]
        table.append(line)
    geo = ["geomean", *[""] * len(names)]
    for key in ["srcad", "raw"]:
        geo.append(ratio_text(_geomean([t.ratio(key, "hand") for _, t in rows])))
    geo += [ratio_text(_geomean([t.ratio(p, "srcad") for _, t in rows])) for p in peers]
    geo += [ratio_text(_geomean([t.ratio(p, "jit") for _, t in rows])) for p in against_jit]
    table.append(geo)
    widths = [max(len(r[i]) for r in table + [header]) for i in range(len(header))]
    print("median time per gradient call (one BLAS thread, float64)")
    for line in [header] + table:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(line, widths))))
    print("\ncodegen (warm, ms) and peak memory of one call (srcad / hand, tracemalloc)")
    for label, (ms, functions), (memory, hand_peak), jit in extras:
        each = f" ({functions} functions)" if functions > 1 else ""
        compiled = f"; jit: compiled in {jit[0]:.1f} s, {jit[1]}" if jit else ""
        print(f"{label:18s} {ms:6.1f} ms{each:14s} memory x{memory:.2f} of "
              f"{hand_peak / 1024:,.0f} KiB{compiled}")
    print_guards(rows)
    print_bandwidth(rows, names)
    if quick:
        print("\ntargets: not judged in a --quick run (its cases are too small and its "
              "repeats too few to time); run without --quick")
    else:
        print_targets(rows, peers, extras)


def _empty():
    return True


def copy_bandwidth(elements, repeats=51, ufunc=None):
    """Bytes per second `numpy.copyto` moves between two float64 arrays of `elements` each
    (read plus write), the median over `repeats` samples: this machine's own limit for a
    pass over memory of that size (caches for small arrays, main memory for large ones).
    With `ufunc`, the same for `ufunc(src, out=dst)`: one pass that also computes."""
    src, dst = np.full(elements, 0.5), np.empty(elements)
    call = (lambda: np.copyto(dst, src)) if ufunc is None else (lambda: ufunc(src, out=dst))
    times = time_interleaved({"pass": call}, repeats, 0.005)
    return 16 * elements / statistics.median(times["pass"])


def print_bandwidth(rows, names):
    """Memory bandwidth in the largest elementwise case: the least traffic its gradient needs
    (read x, write the gradient: 16 bytes an element) over each contender's time, against the
    copy bandwidth of arrays of the same size and of arrays far larger than the caches."""
    elementwise = [(label, t) for label, t in rows if label.startswith("tanh ")]
    if not elementwise:                         # (--cases without one)
        return
    label, times = max(elementwise, key=lambda row: float(row[0].split("=")[1]))
    n = int(float(label.split("=")[1]))
    same, memory = copy_bandwidth(n), copy_bandwidth(1 << 24, repeats=9)
    tanh = copy_bandwidth(n, ufunc=np.tanh)
    achieved = "  ".join(f"{name} {16 * n / times[name] / 1e9:.1f}" for name in names
                         if times[name] is not None)
    print(f"\nbandwidth ({label}, at least 16 bytes an element: read x, write the gradient), "
          f"GB/s: {achieved}\n  limits: numpy.copyto of two arrays of {n:g}: "
          f"{same / 1e9:.1f} (caches), of two arrays of 2**24: {memory / 1e9:.1f} (main "
          f"memory); numpy.tanh(x, out=y) alone, one pass that computes: {tanh / 1e9:.1f}")


def print_guards(rows):
    """What checking the facts generated code relies on costs per call (srcad.guards): the
    facts of the first case's code, timed alone; they run inline in the compiled entry."""
    case = cases(True)[0]
    df = srcad.grad(case.func, wrt=case.wrt)
    df(*case.args)
    generated = df._path.routes[dispatch._key(case.args)].generated
    holds, facts = generated.guards.holds, generated.guards.facts
    times = time_interleaved({"guard": holds, "empty": _empty}, 51, 0.002)
    cost = max(0.0, statistics.median(times["guard"]) - statistics.median(times["empty"]))
    print(f"\nguards ({case.label.split()[0]}, no helpers): {len(facts)} facts checked on each "
          f"call, {cost * 1e6:.2f} us (target <= 0.5 us)")


def print_targets(rows, peers, extras):
    """The performance issue's targets, read off this run."""
    def verdict(ok):
        return "met   " if ok else "MISSED"

    print("\ntargets (this run)")
    for key in ("srcad", "raw"):
        ratios = [(t.ratio(key, "hand"), label) for label, t in rows]
        worst, where = max(ratios)
        geo = _geomean([r for r, _ in ratios])
        print(f"  {verdict(worst <= 1.10 and geo <= 1.05)} {key}/hand <= 1.10 each, geomean "
              f"<= 1.05: worst {worst:.2f} ({where}), geomean {geo:.2f}")
    for peer in (p for p in ("autograd", "torch") if p in peers):
        ran = [(t.ratio(peer, "srcad"), label) for label, t in rows
               if t.ratio(peer, "srcad") is not None]
        if not ran:                             # (--cases: none of its cases ran)
            continue
        slowest, where = min(ran)
        print(f"  {verdict(slowest > 1)} faster than {peer} on every case: lowest "
              f"{peer}/srcad {slowest:.2f} ({where})")
    if "jax" in peers and _geomean([t.ratio("jax", "srcad") for _, t in rows]) is not None:
        geo = _geomean([t.ratio("jax", "srcad") for _, t in rows])
        print(f"  {verdict(geo > 1)} faster than jax.jit(grad) on the geomean: {geo:.2f}")
    if "jit" in peers:
        print_jit_targets(rows, peers)
    slowest_ms, where = max((ms / functions, label) for label, (ms, functions), *_ in extras)
    print(f"  {verdict(slowest_ms < 20)} codegen < 20 ms per function: at most "
          f"{slowest_ms:.1f} ms ({where})")
    _, where, memory = max((hand_peak, label, m) for label, _, (m, hand_peak), _ in extras)
    print(f"  {verdict(memory <= 1.2)} peak memory <= 1.2x hand in the largest case: "
          f"x{memory:.2f} ({where})")


def print_jit_targets(rows, peers):
    """The compiled mode's targets: never slower than the NumPy mode once compiled; faster
    than `jax.jit(grad)` on arrays of up to 1e3 elements, the MLP at batch 32 and the RNN."""
    def verdict(ok):
        return "met   " if ok else "MISSED"

    worst, where = max((t.ratio("jit", "srcad"), label) for label, t in rows)
    print(f"  {verdict(worst <= 1.0)} jit never slower than srcad: worst jit/srcad "
          f"{worst:.2f} ({where})")
    if "jax" not in peers:
        print("  -      jit faster than jax.jit on the small cases: jax is not installed")
        return
    small = [(t.ratio("jax", "jit"), label) for label, t in rows
             if label in ("tanh n=10", "tanh n=1000", "mlp batch=32") or label.startswith("rnn")]
    if not small:
        print("  -      jit faster than jax.jit on the small cases: none of them ran")
        return
    slowest, where = min(small)
    print(f"  {verdict(slowest > 1)} jit faster than jax.jit on tanh n<=1e3, mlp batch=32 "
          f"and the rnn: lowest jax/jit {slowest:.2f} ({where})")


def _geomean(values):
    """The geometric mean of the values given (None: a contender that did not run a case), or
    None when there are none (`--cases` without one of its cases)."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small cases, few repeats: checks that everything runs")
    parser.add_argument("--skip", default="", help="peers to leave out, e.g. torch,jax")
    parser.add_argument("--cases", default="",
                        help="run only the cases whose label contains one of these, e.g. "
                             "'mlp nn' (the targets are then read off those cases alone)")
    options = parser.parse_args(argv)
    run(options.quick, tuple(filter(None, options.skip.split(","))),
        tuple(filter(None, options.cases.split(","))))


if __name__ == "__main__":
    main()
