"""How srcad scales: code generation time against function length, and reverse-mode memory
against the number of loop trips.

Run: python examples/scaling.py   (under a minute; --full adds functions of 1000 statements,
several minutes; --help)

Table 1 generates reverse mode (grad) and forward mode (jvp) for straight-line functions of
10, 100 and 300 statements (and 1000 with --full) and for a loop nest of the same sizes; time
per statement should stay flat (linear growth). Table 2 runs the gradient of a loop of T trips
over vectors of N floats and measures, with tracemalloc, the peak memory above the arguments:
it should grow by a fixed amount per trip, the arrays the adjoint reads (here 2 of the 5
values each trip makes: the state `h` and `a`, whose cosine the adjoint needs), not all of
them.

Importable: `codegen_table()` and `memory_table()` return rows; `main()` prints both.
"""

import argparse
import importlib.util
import os
import sys
import tempfile
import time
import tracemalloc

import numpy as np

from srcad import api, generation

LOOP_BODY = """\
        a = W @ h
        b = np.sin(a)
        c = b * 2.0 + a
        h = np.tanh(c)
"""


def _straight_line(n):
    lines = ["def f(x, y):", "    h = x * y"]
    for i in range(n - 2):
        op = ("h = np.tanh(h) * y", "h = h + 0.5 * x", "h = np.sin(h) - h * h")[i % 3]
        lines.append(f"    {op}")
    lines.append("    return np.sum(h)")
    return "\n".join(lines)


def _loop_nest(n):
    """Three nested loops whose innermost body holds the statements, `n` in all."""
    lines = ["def f(x, y):", "    h = x * y", "    for i in range(2):",
             "        for j in range(2):", "            for k in range(2):"]
    for i in range(n - 6):
        op = ("h = np.tanh(h) * y", "h = h + 0.5 * x", "h = np.sin(h) - h * h")[i % 3]
        lines.append(f"                {op}")
    lines.append("    return np.sum(h)")
    return "\n".join(lines)


def _loop(name="loop"):
    return (f"def {name}(h, W, T):\n    for t in range(T):\n{LOOP_BODY}"
            "    return np.sum(h)\n")


def _load(source, directory, name):
    path = os.path.join(directory, f"{name}.py")
    with open(path, "w") as handle:
        handle.write("import numpy as np\n\n\n" + source + "\n")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _generate_ms(func, kind, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        generation.generate(func, kind, ("x", "y"))
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2] * 1e3


def codegen_table(sizes=(10, 100, 1000), repeat=3):
    """Rows (shape, statements, kind, milliseconds, microseconds per statement): the median
    of `repeat` generations for functions of up to 100 statements, one for longer ones."""
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        generation.generate(_load(_straight_line(10), directory, "warm").f, "grad", ("x", "y"))
        for shape, make in (("straight line", _straight_line), ("loop nest", _loop_nest)):
            for n in sizes:
                func = _load(make(n), directory, f"scaling_{shape[:4]}_{n}").f
                for kind in ("grad", "jvp"):
                    ms = _generate_ms(func, kind, repeat=repeat if n <= 100 else 1)
                    rows.append((shape, n, kind, ms, ms * 1e3 / n))
    return rows


def _peak_bytes(df, h, W, T):
    df(h, W, T)                                          # warm: code generated
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    df(h, W, T)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - before


def memory_table(trips=(10, 100, 1000), n=1000):
    """Rows (T, peak bytes above the arguments, bytes per trip, arrays kept per trip) for the
    gradient of the loop in LOOP_BODY over vectors of `n` floats."""
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        loop = _load(_loop(), directory, "scaling_loop").loop
        df = api.grad(loop)
        rng = np.random.default_rng(0)
        h, W = rng.standard_normal(n), rng.standard_normal((n, n)) / np.sqrt(n)
        array = h.nbytes
        for T in trips:
            peak = _peak_bytes(df, h, W, T)
            rows.append((T, peak, peak / T, peak / T / array))
    return rows


QUICK = os.environ.get("SRCAD_EXAMPLE_QUICK") == "1"      # the smoke test: small sizes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true",
                        help="also functions of 1000 statements (several minutes)")
    args = parser.parse_args(argv)
    sizes = (10, 100, 300, 1000) if args.full else (10, 100, 300)
    sizes, trips, n = ((10, 100), (10, 100), 200) if QUICK else (sizes, (10, 100, 1000), 1000)
    print("codegen time (median of runs, after a warm-up)")
    print(f"{'function':<14} {'statements':>10} {'mode':>5} {'ms':>9} {'us/statement':>13}")
    for shape, n_statements, kind, ms, per in codegen_table(sizes, 1 if QUICK else 3):
        print(f"{shape:<14} {n_statements:>10} {kind:>5} {ms:>9.1f} {per:>13.1f}")
    print(f"\nreverse-mode memory of a loop of T trips (vectors of {n} floats, {n * 8 / 1e3:g} kB"
          " each; the adjoint reads 2 of the 5 values made per trip)")
    print(f"{'T':>6} {'peak MB':>9} {'kB/trip':>9} {'arrays/trip':>12}")
    for T, peak, per_trip, arrays in memory_table(trips, n):
        print(f"{T:>6} {peak / 1e6:>9.2f} {per_trip / 1e3:>9.1f} {arrays:>12.2f}")


if __name__ == "__main__":
    main()
