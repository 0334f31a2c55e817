"""Rules for the helpers that generated code calls, so generated code can be differentiated
again (grad of grad, forward-over-reverse Hessian-vector products).

Each helper is linear in its derivative argument (`g`, `t`), so its tangent applies the helper
to the tangent, and its adjoint is the transposed map: `unbroadcast` and `broadcast_as` are each
other's transpose, `unreduce` transposes to a sum, `scatter_add` to indexing. The matmul adjoints
are bilinear: `matmul_adjoint_left(g, x, y)` is `J^T g` for `J v = v @ y`, so its adjoint in `g`
is `d_out @ y`, and in `y` it is `matmul_adjoint_right(g, d_out, y)`.
"""

import numpy

from srcad import runtime, runtime_exact
from srcad.rules import (
    adjoint,
    d,
    linear,
    nondifferentiable,
    returns_sequence,
    tangent,
    without_derivative,
)
from srcad.runtime import (
    add_popped,
    array_adjoint,
    broadcast_as,
    cast_like,
    extremum_adjoint,
    extremum_tangent,
    matmul_adjoint_left,
    matmul_adjoint_right,
    merge_grads,
    prefix_grads,
    set_item,
    unbroadcast,
    zeros_like,
)
from srcad.runtime_exact import (
    last_writes,
    power_exponent_slope,
    power_slope,
    scan,
    scan_back,
    shifted,
    shifted_back,
    spread_counts,
    stack_like,
    summable,
    values_of,
)

nondifferentiable(runtime.grad_seed, runtime.zeros_like, runtime.shape_of,
                  reason="it builds constants (seeds, zeros, shapes)")
nondifferentiable(runtime.keys_of, reason="a dict's keys are not differentiated")
nondifferentiable(runtime.shape_only, reason="a loop keeps it for a value's shape and dtype only")
returns_sequence(runtime.split_like, runtime.unstack, runtime.item_adjoint,
                 runtime.add_sequences, runtime_exact.values_of, runtime.array_adjoint)

# ---- broadcasting and reductions --------------------------------------------------------------


without_derivative(runtime.unbroadcast, "x")


@linear(runtime.unbroadcast)
def unbroadcast_(out, g, x):
    return broadcast_as(d[out], g)


without_derivative(runtime.broadcast_as, "y")


@linear(runtime.broadcast_as)
def broadcast_as_(out, t, y):
    return unbroadcast(d[out], t)


without_derivative(runtime.unreduce, "x", "axis", "keepdims")


@linear(runtime.unreduce)
def unreduce_(out, g, x, axis=None, keepdims=False):
    return numpy.sum(d[out], axis=axis, keepdims=keepdims)


without_derivative(runtime.extremum_adjoint, "x", "y", "axis", "keepdims")


@linear(runtime.extremum_adjoint)
def extremum_adjoint_(out, g, x, y, axis=None, keepdims=False):
    return extremum_tangent(d[out], x, y, axis, keepdims)


without_derivative(runtime.extremum_tangent, "x", "y", "axis", "keepdims")


@linear(runtime.extremum_tangent)
def extremum_tangent_(out, t, x, y, axis=None, keepdims=False):
    return extremum_adjoint(d[out], x, y, axis, keepdims)


without_derivative(runtime.cast_like, "x")


@adjoint(runtime.add_popped)
def add_popped_(out, a, b):
    d[a] += d[out]
    d[b] += d[out]


@tangent(runtime.add_popped)
def add_popped_(out, a, b):
    d[out] = add_popped(d.full[a], d.full[b])     # (None counts as zero)


# a model's gradient dicts (forward over reverse: Hessian-vector products of a model)
@tangent(runtime.merge_grads)
def merge_grads_(out, a, b):
    d[out] = merge_grads(d.full[a], d.full[b])


@tangent(runtime.prefix_grads)
def prefix_grads_(out, prefix, grads):
    d[out] = prefix_grads(prefix, d[grads])


without_derivative(runtime.prefix_grads, "prefix")           # a submodule's name


@linear(runtime.cast_like)
def cast_like_(out, g, x):
    return cast_like(d[out], g)


# ---- matrix products ----------------------------------------------------------------------


without_derivative(runtime.matmul_adjoint_left, "x")


@adjoint(runtime.matmul_adjoint_left)
def matmul_adjoint_left_(out, g, x, y):
    d[g] += d[out] @ y
    d[y] += matmul_adjoint_right(g, d[out], y)


@tangent(runtime.matmul_adjoint_left)
def matmul_adjoint_left_(out, g, x, y):
    d[out] = matmul_adjoint_left(d[g], x, y) + matmul_adjoint_left(g, x, d[y])


without_derivative(runtime.matmul_adjoint_right, "y")


@adjoint(runtime.matmul_adjoint_right)
def matmul_adjoint_right_(out, g, x, y):
    d[g] += x @ d[out]
    d[x] += matmul_adjoint_left(g, x, d[out])


@tangent(runtime.matmul_adjoint_right)
def matmul_adjoint_right_(out, g, x, y):
    d[out] = matmul_adjoint_right(d[g], x, y) + matmul_adjoint_right(g, d[x], y)


# ---- indexing and pieces ------------------------------------------------------------------


without_derivative(runtime.scatter_add, "x", "index")


@linear(runtime.scatter_add)
def scatter_add_(out, g, x, index):
    return d[out][index]


without_derivative(runtime.item_adjoint, "sequence", "index")


@linear(runtime.item_adjoint)
def item_adjoint_(out, g, sequence, index):
    return d[out][index]


without_derivative(runtime.split_like, "arrays", "axis")


@linear(runtime.split_like)
def split_like_(out, g, arrays, axis=0):
    return numpy.concatenate(d[out], axis)


without_derivative(runtime.unstack, "axis")


@linear(runtime.unstack)
def unstack_(out, g, axis=0, arrays=None):
    return numpy.stack(d[out], axis)


# ---- adjoints of lists, tuples and dicts -------------------------------------------------


@adjoint(runtime.add_sequences)
def add_sequences_(out, a, b):
    d[a] += d[out]
    d[b] += d[out]


@tangent(runtime.add_sequences)
def add_sequences_(out, a, b):
    d[out] = summable(d[a]) + summable(d[b])


# ---- exact limits (srcad/runtime_exact.py) -------------------------------------------------

nondifferentiable(runtime_exact.spread_counts, reason="it reads shapes only")
nondifferentiable(runtime_exact.clip_source, reason="it gives integer codes")


@adjoint(runtime_exact.power_slope)
def power_slope_(out, x, y, scale=1):
    d[x] += unbroadcast(d[out] * power_slope(x, y - 1, scale * y), x)
    d[y] += unbroadcast(d[out] * power_exponent_slope(x, y, scale), y)
    d[scale] += unbroadcast(d[out] * power_slope(x, y), scale)


@tangent(runtime_exact.power_slope)
def power_slope_(out, x, y, scale=1):
    d[out] = power_slope(x, y - 1, scale * y) * d[x] + power_exponent_slope(x, y, scale) * d[y] \
        + power_slope(x, y) * d[scale]


without_derivative(runtime_exact.std_divisor, "a")


@adjoint(runtime_exact.std_divisor)
def std_divisor_(out, y, a, count):
    d[y] += d[out] * count * spread_counts(y, a)
    d[count] += unbroadcast(d[out] * y * spread_counts(y, a), count)


@tangent(runtime_exact.std_divisor)
def std_divisor_(out, y, a, count):
    d[out] = d[y] * count * spread_counts(y, a) + y * d[count] * spread_counts(y, a)


without_derivative(runtime_exact.last_writes, "index")


@adjoint(runtime_exact.last_writes)
def last_writes_(out, g, index):
    d[g] += set_item(zeros_like(g), index, d[out])


@tangent(runtime_exact.last_writes)
def last_writes_(out, g, index):
    d[out] = last_writes(d[g], index)


without_derivative(runtime.array_adjoint, "a")


@adjoint(runtime.array_adjoint)              # g back in the form of `a` (a list, ...): its
def array_adjoint_(out, g, a):              # transpose stacks that form back into g's shape
    d[g] += stack_like(d[out], g)


@tangent(runtime.array_adjoint)
def array_adjoint_(out, g, a):
    d[out] = array_adjoint(d[g], a)


without_derivative(runtime_exact.values_of, "keys")


@adjoint(runtime_exact.values_of)
def values_of_(out, g, keys):
    d[g] += dict(zip(keys, d[out]))


@tangent(runtime_exact.values_of)
def values_of_(out, g, keys):
    d[out] = values_of(d[g], keys)



@adjoint(runtime_exact.scan)                # z[k] = a[k] z[k-1] + b[k]: the transpose runs back
def scan_(z, a, b, axis=None):
    back = scan_back(a, d[z], axis)
    d[b] += unbroadcast(back, b)
    d[a] += unbroadcast(back * shifted(z, axis), a)


@tangent(runtime_exact.scan)
def scan_(z, a, b, axis=None):
    d[z] = scan(a, d[b] + d[a] * shifted(z, axis), axis)


@adjoint(runtime_exact.scan_back)           # z[k] = a[k+1] z[k+1] + b[k]
def scan_back_(z, a, b, axis=None):
    ahead = scan(a, d[z], axis)
    d[b] += unbroadcast(ahead, b)
    d[a] += unbroadcast(shifted(ahead, axis) * z, a)


@tangent(runtime_exact.scan_back)
def scan_back_(z, a, b, axis=None):
    d[z] = scan_back(a, d[b] + shifted_back(d[a] * z, axis), axis)


@adjoint(runtime_exact.shifted)             # `fill` is a constant
def shifted_(out, y, axis=None, fill=0.0):
    d[y] += shifted_back(d[out], axis)


@tangent(runtime_exact.shifted)
def shifted_(out, y, axis=None, fill=0.0):
    d[out] = shifted(d[y], axis)


@adjoint(runtime_exact.shifted_back)
def shifted_back_(out, y, axis=None, fill=0.0):
    d[y] += shifted(d[out], axis)


@tangent(runtime_exact.shifted_back)
def shifted_back_(out, y, axis=None, fill=0.0):
    d[out] = shifted_back(d[y], axis)


# settings of the helpers above: the axis, the form of a stack's arguments, and the number a
# shift fills in (srcad's rules pass it only as a literal, 0.0 or 1.0)
without_derivative(runtime.unstack, "arrays")
for helper in (runtime_exact.scan, runtime_exact.scan_back):
    without_derivative(helper, "axis")
for helper in (runtime_exact.shifted, runtime_exact.shifted_back):
    without_derivative(helper, "axis", "fill")
