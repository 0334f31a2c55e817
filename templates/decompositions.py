"""Rules for numpy.linalg beyond templates/linalg.py: matrix_power (any integer power), eigh
and eigvalsh (the lower triangle by default, or the upper one), svd (reduced: square matrices,
or `full_matrices=False`) and svdvals, qr (reduced, at least as many rows as columns), pinv
(full rank), on matrices and stacks of matrices.

Derivatives of eigenvectors and singular vectors exist where the eigenvalues (squared singular
values) are distinct and, for singular vectors, nonzero; at a repeated or zero one (closer than
`TIE` relative to the largest: rounding, not a gap) they are inf or NaN, never a finite wrong
number; a function of the eigenvalues (singular values) alone keeps its derivative there.
Arguments a rule does not list (`compute_uv=False`, `mode="r"`, `rcond=`) make the call an
error at the user's line, not a wrong derivative.

Formulas: eigh dV = V (F o V^T dA V), F_ij = 1/(w_j - w_i); svd from dP = U^T dA V (dU = U
(F o (dP S + S dP^T)) + (dA V - U dP) S^-1, likewise dV), F_ij = 1/(s_j^2 - s_i^2); qr from
C = Q^T dA R^-1, Omega = tril(C, -1) - tril(C, -1)^T (dQ = Q Omega + dA R^-1 - Q C, dR = (C -
Omega) R); pinv from Golub and Pereyra. Each adjoint is its tangent's transpose.
"""

import numpy

from srcad.rules import adjoint, d, returns_sequence, tangent
from srcad.runtime_linalg import power_tangent, symmetrize_lower, unsymmetrize_lower

returns_sequence(numpy.linalg.eigh, numpy.linalg.svd, numpy.linalg.qr)
TIE = 1e-12    # eigenvalues (squared singular values) closer than this, relative to the largest,
#                are one repeated value: no derivative of their vectors (inf or NaN, not 1e16)

# ---- matrix powers ------------------------------------------------------------------------


@adjoint(numpy.linalg.matrix_power)
def matrix_power(y, a, n):
    d[a] += power_tangent(d[y], numpy.swapaxes(a, -1, -2), n)


@tangent(numpy.linalg.matrix_power)
def matrix_power(y, a, n):
    d[y] = power_tangent(d[a], a, n)


# ---- symmetric eigendecomposition ----------------------------------------------------------


@adjoint(numpy.linalg.eigh)
def eigh(y, a, UPLO="L"):
    w = y[0]
    v = y[1]
    eye = numpy.eye(numpy.shape(w)[-1], dtype=bool, like=w)
    gaps = numpy.expand_dims(w, -2) - numpy.expand_dims(w, -1)
    level = TIE * numpy.expand_dims(numpy.max(numpy.abs(w), axis=-1, keepdims=True), -1)
    gaps = numpy.where(eye, 1.0, numpy.where(numpy.abs(gaps) <= level, 0.0, gaps))
    m = numpy.swapaxes(v, -1, -2) @ d[y][1]
    inner = numpy.where(eye | (m == 0.0), 0.0, m / gaps)
    full = v @ (inner + numpy.expand_dims(d[y][0], -1) * eye) @ numpy.swapaxes(v, -1, -2)
    lower = unsymmetrize_lower(full if UPLO == "L" else numpy.swapaxes(full, -1, -2))
    d[a] += lower if UPLO == "L" else numpy.swapaxes(lower, -1, -2)


@tangent(numpy.linalg.eigh)
def eigh(y, a, UPLO="L"):
    w = y[0]
    v = y[1]
    eye = numpy.eye(numpy.shape(w)[-1], dtype=bool, like=w)
    gaps = numpy.expand_dims(w, -2) - numpy.expand_dims(w, -1)
    level = TIE * numpy.expand_dims(numpy.max(numpy.abs(w), axis=-1, keepdims=True), -1)
    gaps = numpy.where(eye, 1.0, numpy.where(numpy.abs(gaps) <= level, 0.0, gaps))
    da = symmetrize_lower(d[a] if UPLO == "L" else numpy.swapaxes(d[a], -1, -2))
    p = numpy.swapaxes(v, -1, -2) @ da @ v
    d[y] = [numpy.diagonal(p, 0, -2, -1), v @ numpy.where(eye | (p == 0.0), 0.0, p / gaps)]


@adjoint(numpy.linalg.eigvalsh)
def eigvalsh(y, a, UPLO="L"):
    v = numpy.linalg.eigh(a, UPLO)[1]
    full = (v * numpy.expand_dims(d[y], -2)) @ numpy.swapaxes(v, -1, -2)
    lower = unsymmetrize_lower(full if UPLO == "L" else numpy.swapaxes(full, -1, -2))
    d[a] += lower if UPLO == "L" else numpy.swapaxes(lower, -1, -2)


@tangent(numpy.linalg.eigvalsh)
def eigvalsh(y, a, UPLO="L"):
    v = numpy.linalg.eigh(a, UPLO)[1]
    da = symmetrize_lower(d[a] if UPLO == "L" else numpy.swapaxes(d[a], -1, -2))
    d[y] = numpy.diagonal(numpy.swapaxes(v, -1, -2) @ da @ v, 0, -2, -1)


# ---- singular value decomposition ---------------------------------------------------------


@adjoint(numpy.linalg.svd)
def svd(y, a, full_matrices=True):
    u = y[0]
    s = y[1]
    v = numpy.swapaxes(y[2], -1, -2)
    eye = numpy.eye(numpy.shape(s)[-1], dtype=bool, like=s)
    top = numpy.max(s, axis=-1, keepdims=True)
    squares = numpy.expand_dims(s * s, -2) - numpy.expand_dims(s * s, -1)
    level = TIE * numpy.expand_dims(top * top, -1)
    squares = numpy.where(eye, 1.0, numpy.where(numpy.abs(squares) <= level, 0.0, squares))
    lone = numpy.expand_dims(numpy.where(s <= TIE * top, 0.0, s), -2)
    gu = d[y][0]
    gv = numpy.swapaxes(d[y][2], -1, -2)
    j = numpy.swapaxes(u, -1, -2) @ gu
    k = numpy.swapaxes(v, -1, -2) @ gv
    jj = j - numpy.swapaxes(j, -1, -2)
    kk = k - numpy.swapaxes(k, -1, -2)
    core = numpy.where(jj == 0.0, 0.0, jj / squares) * numpy.expand_dims(s, -2) \
        + numpy.expand_dims(d[y][1], -1) * eye \
        + numpy.expand_dims(s, -1) * numpy.where(kk == 0.0, 0.0, kk / squares)
    ru = gu - u @ j
    rv = gv - v @ k
    d[a] += u @ core @ numpy.swapaxes(v, -1, -2) \
        + numpy.where(ru == 0.0, 0.0, ru / lone) @ numpy.swapaxes(v, -1, -2) \
        + u @ numpy.swapaxes(numpy.where(rv == 0.0, 0.0, rv / lone), -1, -2)


@tangent(numpy.linalg.svd)
def svd(y, a, full_matrices=True):
    u = y[0]
    s = y[1]
    v = numpy.swapaxes(y[2], -1, -2)
    eye = numpy.eye(numpy.shape(s)[-1], dtype=bool, like=s)
    top = numpy.max(s, axis=-1, keepdims=True)
    squares = numpy.expand_dims(s * s, -2) - numpy.expand_dims(s * s, -1)
    level = TIE * numpy.expand_dims(top * top, -1)
    squares = numpy.where(eye, 1.0, numpy.where(numpy.abs(squares) <= level, 0.0, squares))
    lone = numpy.expand_dims(numpy.where(s <= TIE * top, 0.0, s), -2)
    p = numpy.swapaxes(u, -1, -2) @ d[a] @ v
    pt = numpy.swapaxes(p, -1, -2)
    mu = p * numpy.expand_dims(s, -2) + numpy.expand_dims(s, -1) * pt
    mv = numpy.expand_dims(s, -1) * p + pt * numpy.expand_dims(s, -2)
    ru = d[a] @ v - u @ p
    rv = numpy.swapaxes(d[a], -1, -2) @ u - v @ pt
    du = u @ numpy.where(eye | (mu == 0.0), 0.0, mu / squares) \
        + numpy.where(ru == 0.0, 0.0, ru / lone)
    dv = v @ numpy.where(eye | (mv == 0.0), 0.0, mv / squares) \
        + numpy.where(rv == 0.0, 0.0, rv / lone)
    d[y] = [du, numpy.diagonal(p, 0, -2, -1), numpy.swapaxes(dv, -1, -2)]


@adjoint(numpy.linalg.svdvals)
def svdvals(y, x):
    parts = numpy.linalg.svd(x, full_matrices=False)
    u = parts[0]
    vt = parts[2]
    d[x] += (u * numpy.expand_dims(d[y], -2)) @ vt


@tangent(numpy.linalg.svdvals)
def svdvals(y, x):
    parts = numpy.linalg.svd(x, full_matrices=False)
    u = parts[0]
    vt = parts[2]
    d[y] = numpy.diagonal(numpy.swapaxes(u, -1, -2) @ d[x] @ numpy.swapaxes(vt, -1, -2), 0, -2, -1)


# ---- QR -----------------------------------------------------------------------------------


@adjoint(numpy.linalg.qr)
def qr(y, a):
    q = y[0]
    r = y[1]
    w = numpy.swapaxes(q, -1, -2) @ d[y][0] - d[y][1] @ numpy.swapaxes(r, -1, -2)
    g = numpy.tril(w - numpy.swapaxes(w, -1, -2), -1) - w
    d[a] += numpy.swapaxes(numpy.linalg.solve(r, numpy.swapaxes(d[y][0] + q @ g, -1, -2)),
                           -1, -2)


@tangent(numpy.linalg.qr)
def qr(y, a):
    q = y[0]
    r = y[1]
    da_rinv = numpy.swapaxes(numpy.linalg.solve(numpy.swapaxes(r, -1, -2),
                                                numpy.swapaxes(d[a], -1, -2)), -1, -2)
    c = numpy.swapaxes(q, -1, -2) @ da_rinv
    omega = numpy.tril(c, -1) - numpy.swapaxes(numpy.tril(c, -1), -1, -2)
    d[y] = [q @ omega + da_rinv - q @ c, (c - omega) @ r]


# ---- pseudo-inverse -----------------------------------------------------------------------


@adjoint(numpy.linalg.pinv)
def pinv(y, a):
    pt = numpy.swapaxes(y, -1, -2)
    gt = numpy.swapaxes(d[y], -1, -2)
    left = numpy.eye(numpy.shape(y)[-1], like=y) - a @ y
    right = numpy.eye(numpy.shape(y)[-2], like=y) - y @ a
    d[a] += -(pt @ d[y] @ pt) + left @ gt @ y @ pt + pt @ y @ gt @ right


@tangent(numpy.linalg.pinv)
def pinv(y, a):
    dat = numpy.swapaxes(d[a], -1, -2)
    left = numpy.eye(numpy.shape(y)[-1], like=y) - a @ y
    right = numpy.eye(numpy.shape(y)[-2], like=y) - y @ a
    d[y] = -(y @ d[a] @ y) + y @ numpy.swapaxes(y, -1, -2) @ dat @ left \
        + right @ dat @ numpy.swapaxes(y, -1, -2) @ y
