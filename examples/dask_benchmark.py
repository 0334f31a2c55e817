"""srcad's generated derivatives against dask-glm's hand-written ones, on the same cluster.

For logistic, normal (least squares) and Poisson regression, on the same persisted Dask
arrays (same chunks), with 1, 2 and 4 worker processes of one thread each on this machine:
the time of one gradient and of one Hessian, per iteration (median of `--repeats`), for
dask-glm (`family.pointwise_gradient`, `family.hessian`: NumPy formulas written for Dask
arrays), for srcad on the Dask arrays (`srcad.grad` of the loss, and `srcad.hessian`: the
products of the Hessian with all the unit vectors pushed as one batch of tangents through the
generated gradient, one graph computed in one pass), and for srcad
chunk by chunk (`srcad.over_chunks(srcad.grad, loss)`, `srcad.over_chunks(srcad.hessian,
loss)`: the NumPy derivative on each chunk in one task, the results added), and, for the
Hessian, srcad's earlier way (one Hessian-vector product per unit vector, the p graphs computed
together); the ratios srcad/dask-glm (the calls take turns, so a change of load weighs on all);
the coefficients of Newton's method by each (dask-glm's `algorithms.newton`, srcad's gradient
and Hessian) and their largest difference; and the largest resident memory of a worker.

Run (needs the bench extra): pip install ".[bench,distributed]" && python examples/dask_benchmark.py
"""

import argparse
import statistics
import time

import numpy as np

import srcad


def logistic(b, X, y):
    z = X @ b
    return np.sum(np.logaddexp(0.0, z) - y * z)


def normal(b, X, y):
    r = y - X @ b
    return np.sum(r * r)


def poisson(b, X, y):
    z = X @ b
    return np.sum(np.exp(z) - y * z)


LOSSES = {"logistic": logistic, "normal": normal, "poisson": poisson}


def data(model, rows, features, chunk_rows, seed=0):
    """Persisted features and responses of `model` (known coefficients in [-1, 1])."""
    import dask.array as da
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((rows, features), chunks=(chunk_rows, features)) \
        / np.sqrt(features)
    z = X @ np.linspace(-1.0, 1.0, features)
    if model == "logistic":
        y = (rng.random(rows, chunks=chunk_rows) < 1.0 / (1.0 + np.exp(-z))).astype(float)
    elif model == "poisson":
        y = rng.poisson(np.exp(z)).astype(float)
    else:
        y = z + 0.1 * rng.standard_normal(rows, chunks=chunk_rows)
    return X.persist(), y.persist()


def dask_glm_derivatives(model):
    from dask_glm import families
    family = {"logistic": families.Logistic, "normal": families.Normal,
              "poisson": families.Poisson}[model]
    return (lambda b, X, y: family.pointwise_gradient(b, X, y).compute(),
            lambda b, X, y: family.hessian(X.dot(b), X).compute())


def timed(functions, repeats):
    """{name: median seconds of `f()` over `repeats` calls} for `functions` ({name: f}), after
    one warm-up call each; the calls take turns (one of each per round), so that a change of
    the machine's load during the run weighs on all of them alike."""
    times = {name: [] for name in functions}
    for f in functions.values():
        f()
    for _ in range(repeats):
        for name, f in functions.items():
            start = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def hessian_by_hvps(loss):
    """The Hessian as the products of `srcad.hvp` with the unit vectors one by one, computed
    together (what srcad did before its batch of tangents: one graph per direction)."""
    import dask
    hvp = srcad.hvp(loss)

    def hessian(b, X, y):
        with srcad.lazy():
            columns = [hvp(b, X, y, e) for e in np.eye(len(b))]
        return np.stack(dask.compute(*columns), axis=1)
    return hessian


def newton(grad, hessian, X, y, iterations):
    b = np.zeros(X.shape[1])
    for _ in range(iterations):
        b = b - np.linalg.solve(hessian(b, X, y), grad(b, X, y))
    return b


def measure(model, args):
    """Times (s) of gradient and Hessian for dask-glm and srcad, and the Newton fits."""
    from dask_glm import algorithms, families
    X, y = data(model, args.rows, args.features, args.chunk_rows)
    b = np.linspace(-0.2, 0.2, args.features)
    glm_grad, glm_hess = dask_glm_derivatives(model)
    loss = LOSSES[model]
    ours_grad, ours_hess = srcad.grad(loss), srcad.hessian(loss)
    chunk_grad = srcad.over_chunks(srcad.grad, loss)
    chunk_hess = srcad.over_chunks(srcad.hessian, loss)
    functions = (("glm_grad", glm_grad), ("srcad_grad", ours_grad), ("chunk_grad", chunk_grad),
                 ("glm_hess", glm_hess), ("srcad_hess", ours_hess), ("chunk_hess", chunk_hess),
                 ("hvps_hess", hessian_by_hvps(loss)))
    row = timed({name: lambda f=f: f(b, X, y) for name, f in functions}, args.repeats)
    family = getattr(families, model.capitalize())
    fitted_glm = algorithms.newton(X, y, family=family, max_iter=args.iterations, tol=1e-12)
    fitted_ours = newton(ours_grad, ours_hess, X, y, args.iterations)
    fitted_chunks = newton(chunk_grad, chunk_hess, X, y, args.iterations)
    row["coef_diff"] = max(float(np.abs(np.asarray(fitted_glm) - fitted).max())
                           for fitted in (fitted_ours, fitted_chunks))
    return row


def worker_memory(client):
    """The largest resident memory of a worker process, in MiB."""
    import psutil
    rss = client.run(lambda: psutil.Process().memory_info().rss)
    return max(rss.values()) / 2 ** 20


def main():
    from distributed import Client, LocalCluster
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--iterations", type=int, default=8)
    args = parser.parse_args()
    print(f"{args.rows} x {args.features} floats in chunks of {args.chunk_rows} rows; "
          f"median of {args.repeats}; seconds per gradient / Hessian")
    print("workers  model    | gradient: dask-glm  srcad (ratio)  per chunk (ratio) | "
          "Hessian: dask-glm  srcad (ratio)  per chunk (ratio)  p hvps (ratio) | coef diff | "
          "worker MiB")
    for workers in args.workers:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=None, silence_logs=40) as cluster, \
                Client(cluster) as client:
            for model in LOSSES:
                r = measure(model, args)
                print(f"{workers:7d}  {model:8s} | {_cells(r, 'grad')} | {_cells(r, 'hess')} | "
                      f"{r['coef_diff']:9.1e} | {worker_memory(client):10.0f}", flush=True)


def _cells(r, what):
    glm, ours, chunks = r[f"glm_{what}"], r[f"srcad_{what}"], r[f"chunk_{what}"]
    text = (f"{glm:8.3f}s {ours:7.3f}s ({ours / glm:5.2f}) {chunks:7.3f}s "
            f"({chunks / glm:5.2f})")
    if what == "hess":
        text += f" {r['hvps_hess']:7.3f}s ({r['hvps_hess'] / glm:5.2f})"
    return text


if __name__ == "__main__":
    main()
