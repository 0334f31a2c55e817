"""Points where a `numpy.linalg` function has no derivative, read off its own primal values.

In: a call of the program (`watching()` is a context manager around it). Out: the reasons,
one per decomposition the call ran at such a point: repeated eigenvalues (`eigh`, `eigvalsh`,
`eig`, `eigvals`: their eigenvectors, and the sorted eigenvalues themselves, have no
derivative there), repeated or zero singular values (`svd`, `svdvals`, `norm` and `cond` of
the orders that take singular values, `pinv`, `lstsq`, `matrix_rank`: singular vectors, the
sorted values, |s| at 0, the pseudo-inverse's jump in rank), and a rank-deficient `qr` (its Q
is not unique). The oracle (tests/support/wide_check.py) counts a call there as "no
derivative here" instead of comparing numbers that do not exist.

"Repeated" is relative: closer than `TIE` times the largest magnitude, far above rounding and
below what central differences of step 1e-6 resolve.
"""

import contextlib
import warnings

import numpy as np

TIE = 1e-6
_SPECTRAL = ("eigh", "eigvalsh", "eig", "eigvals")
_SINGULAR = ("svd", "svdvals", "pinv", "lstsq", "matrix_rank", "cond")
_ORIGINAL = {name: getattr(np.linalg, name) for name in _SPECTRAL + _SINGULAR + ("qr", "norm")}


@contextlib.contextmanager
def watching():
    """Within it, NumPy's linalg functions record in the yielded list why the point they are
    called at has no derivative (nothing at an ordinary point)."""
    reasons = []
    saved = {name: getattr(np.linalg, name) for name in _ORIGINAL}

    def watched(name, check):
        def call(*args, **kwargs):
            result = saved[name](*args, **kwargs)
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    reason = check(name, args, kwargs)
            except Exception:           # a form the check does not read: no claim
                reason = None
            if reason:
                reasons.append(f"np.linalg.{name}: {reason}")
            return result
        return call

    checks = {**{n: _spectral for n in _SPECTRAL}, **{n: _singular for n in _SINGULAR},
              "qr": _qr, "norm": _norm}
    try:
        for name, check in checks.items():
            setattr(np.linalg, name, watched(name, check))
        yield reasons
    finally:
        for name, function in saved.items():
            setattr(np.linalg, name, function)


def _values(a, hermitian):
    a = np.asarray(a)
    if a.ndim < 2:
        return None
    return _ORIGINAL["eigvalsh"](a) if hermitian else _ORIGINAL["eigvals"](a)


def _spectral(name, args, kwargs):
    """Repeated eigenvalues of the matrix (or any matrix of the stack)."""
    a = np.asarray(args[0])
    hermitian = name in ("eigh", "eigvalsh")
    if hermitian:
        uplo = kwargs.get("UPLO", args[1] if len(args) > 1 else "L")
        a = np.tril(a) + np.swapaxes(np.tril(a, -1), -1, -2) if uplo == "L" else \
            np.triu(a) + np.swapaxes(np.triu(a, 1), -1, -2)
    return _repeated(np.asarray(_values(a, hermitian)), "eigenvalues")


def _singular(name, args, kwargs):
    """Repeated or zero singular values (`lstsq`, `pinv`, `matrix_rank`: zero ones only)."""
    a = np.asarray(args[0])
    if a.ndim < 2 or min(a.shape[-2:]) == 0:
        return None
    s = _ORIGINAL["svd"](a, compute_uv=False)
    top = np.max(np.abs(s), axis=-1, keepdims=True)
    if np.any(s <= TIE * np.maximum(top, 1e-300)):
        return "a zero singular value (rank-deficient)"
    if name in ("pinv", "lstsq", "matrix_rank"):
        return None
    if name == "cond" and kwargs.get("p", args[1] if len(args) > 1 else None) not in (
            None, 2, -2):
        return None
    return _repeated(s, "singular values")


def _qr(name, args, kwargs):
    return _singular("pinv", args, kwargs)


def _norm(name, args, kwargs):
    """The matrix norms that read singular values (ord 2, -2, 'nuc')."""
    x = np.asarray(args[0])
    ord_ = kwargs.get("ord", args[1] if len(args) > 1 else None)
    axis = kwargs.get("axis", args[2] if len(args) > 2 else None)
    if ord_ not in (2, -2, "nuc") or x.ndim < 2:
        return None
    if axis is not None:
        x = np.moveaxis(x, tuple(axis), (-2, -1))
    return _singular("norm", (x,), {})


def _repeated(values, what):
    """A reason when two of `values` (along the last axis) are within TIE of each other."""
    if values.ndim == 0 or values.shape[-1] < 2:
        return None
    gaps = np.abs(values[..., :, None] - values[..., None, :])
    gaps = np.where(np.eye(values.shape[-1], dtype=bool), np.inf, gaps)
    scale = np.maximum(np.max(np.abs(values), axis=-1), 1e-300)[..., None, None]
    if np.any(gaps <= TIE * scale):
        return f"repeated {what}"
    return None
