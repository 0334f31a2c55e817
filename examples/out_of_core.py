"""Logistic and Poisson regression on more rows than one worker holds, on a Dask cluster.

The data set is synthetic and made chunk by chunk where it is used: `dask.array`'s random
generator draws each chunk of features on the worker that needs it, and the responses follow
from known coefficients. Nothing is persisted, so every pass over the data draws the chunks
again and a worker holds a few chunks at a time, never the data set: with `--rows 8000000`
the features take 640 MB, more than the 512 MiB each worker may use (a worker process
itself takes about 100 MiB of it), and the fit completes.

The fit is Newton's method. The loss is five lines of NumPy; srcad generates its gradient and
its Hessian-vector product (printed below). Each iteration takes the gradient and the products
of the Hessian with the unit vectors (its columns, all pushed at once as one batch of tangents)
as one task graph, which the cluster reduces over the chunks in one pass; the driver solves
the small Newton system. A progress bar shows each iteration's loss and gradient norm.

Run on a local cluster (two worker processes):

    pip install ".[distributed,examples]"
    python examples/out_of_core.py --rows 8000000 --chunk-rows 200000 --workers 2 \
        --memory-limit 512MiB

or on a running cluster: `python examples/out_of_core.py --scheduler tcp://HOST:8786`.
"""

import argparse
import os
import time

import numpy as np

import srcad

QUICK = os.environ.get("SRCAD_EXAMPLE_QUICK") == "1"


def logistic(b, X, y):
    """Negative log-likelihood of logistic regression."""
    z = X @ b
    return np.sum(np.logaddexp(0.0, z) - y * z)


def poisson(b, X, y):
    """Negative log-likelihood of Poisson regression (log link), without the constant."""
    z = X @ b
    return np.sum(np.exp(z) - y * z)


def synthetic(model, rows, features, chunk_rows, seed=0):
    """Lazy features (standard normal, scaled) and responses of `model` with coefficients
    spread over [-1, 1]; each chunk is drawn where it is computed."""
    import dask.array as da
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((rows, features), chunks=(chunk_rows, features)) \
        / np.sqrt(features)
    truth = np.linspace(-1.0, 1.0, features)
    z = X @ truth
    if model == "logistic":
        y = (rng.random(rows, chunks=chunk_rows) < 1.0 / (1.0 + np.exp(-z))).astype(float)
    else:
        y = rng.poisson(np.exp(z)).astype(float)
    return X, y, truth


def newton(loss, X, y, iterations, progress=True):
    """Newton's method from zero: per iteration, one pass over the data computes the loss,
    srcad's gradient and its Hessian (the Hessian-vector products with all the unit vectors,
    pushed through the generated gradient as one batch of tangents)."""
    import dask
    value_and_grad, hessian = srcad.value_and_grad(loss), srcad.hessian(loss)
    b = np.zeros(X.shape[1])
    steps = range(iterations)
    bar = _bar(steps, loss.__name__) if progress else None
    for _ in bar if bar is not None else steps:
        with srcad.lazy():                     # task graphs, computed together below
            value, g = value_and_grad(b, X, y)
            H = hessian(b, X, y)
        value, g, H = dask.compute(value, g, H)
        b = b - np.linalg.solve(H, g)
        if bar is not None:
            bar.set_postfix(loss=f"{float(value):.6g}", grad=f"{np.linalg.norm(g):.2e}")
    return b, float(value), float(np.linalg.norm(g))


def _bar(steps, name):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(steps, desc=f"newton {name}", leave=True)


def parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000 if QUICK else 400_000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--chunk-rows", type=int, default=10_000 if QUICK else 50_000)
    parser.add_argument("--iterations", type=int, default=5 if QUICK else 8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="512MiB", help="per worker process")
    parser.add_argument("--scheduler", default=None,
                        help="address of a running scheduler (tcp://HOST:8786) instead of "
                             "a local cluster")
    return parser.parse_args()


def main():
    from distributed import Client, LocalCluster
    args = parse()
    if args.scheduler:
        cluster, client = None, Client(args.scheduler)
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               memory_limit=args.memory_limit, host="127.0.0.1",
                               dashboard_address=":0", silence_logs=40)
        client = Client(cluster)
    try:
        print(f"dashboard: {client.dashboard_link}")
        print(f"workers: {len(client.scheduler_info()['workers'])}, memory limit "
              f"{args.memory_limit} each; features: {args.rows} x {args.features} floats = "
              f"{args.rows * args.features * 8 / 1e6:.0f} MB in chunks of {args.chunk_rows} "
              "rows")
        X, y, _ = synthetic("logistic", args.rows, args.features, args.chunk_rows)
        b = np.zeros(args.features)
        print("\nthe generated gradient:\n" + srcad.source(srcad.grad(logistic), b, X, y))
        print("the generated Hessian-vector product (forward over reverse):\n"
              + srcad.source(srcad.hvp(logistic), b, X, y, b))
        for loss in (logistic, poisson):
            X, y, truth = synthetic(loss.__name__, args.rows, args.features, args.chunk_rows)
            start = time.perf_counter()
            b, value, gnorm = newton(loss, X, y, args.iterations)
            seconds = time.perf_counter() - start
            print(f"{loss.__name__}: loss {value:.6g}, |gradient| {gnorm:.1e}, "
                  f"{seconds / args.iterations:.2f} s per iteration; largest error of the "
                  f"coefficients against the truth {np.abs(b - truth).max():.3f}")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
