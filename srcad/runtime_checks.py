"""Run-time checks that generated code makes where generation could not decide (see
`srcad.passes.deny`), called like the helpers in `srcad.runtime`.

In: a value the derivative depends on and where in the user's source it is used. Out: the
value unchanged, or a `MissingRuleError` naming the user's file, line and text.
"""

import linecache

import numpy


def float_dtype(dtype, filename, lineno, function):
    """Check that `dtype` (a cast's `dtype=` that generation could not read) is a floating
    type, through which the generated derivative passes; an integer or boolean dtype would cut
    it. Returns `dtype`."""
    if numpy.dtype(dtype).kind in "fc":
        return dtype
    from srcad.errors import Location, MissingRuleError
    text = linecache.getline(filename, lineno)
    raise MissingRuleError(
        f"srcad differentiated this cast as one to a floating type, but its dtype is {dtype!r} "
        "(an integer or boolean result has no derivative); write the dtype itself "
        "(dtype=float, dtype=numpy.int64, ...)", Location(filename, lineno, text, function))


def float_target(x, filename, lineno, function):
    """Check that `x`, an array that generated code writes a differentiated value into and
    whose dtype generation could not tell, keeps a float written into it (a float array, a
    list, a dict). An integer or boolean array stores the value truncated: a
    `MissingRuleError` at the user's line, since the code passes the derivative through."""
    dtype = getattr(x, "dtype", None)
    if dtype is None or dtype.kind not in "biu":
        return
    from srcad.errors import Location, MissingRuleError
    text = linecache.getline(filename, lineno)
    raise MissingRuleError(
        f"srcad differentiated this write as one into a float array, but the array's dtype is "
        f"{dtype} (NumPy stores the value truncated, so its derivative is zero); make the "
        "dtype known where the array is made (numpy.zeros(n, dtype=int), x.astype(float), "
        "an argument srcad differentiates)", Location(filename, lineno, text, function))


def augmented_write(x, index, value, filename, lineno, function):
    """Raise where NumPy raises for `x[index] op= v` (`value` is `x[index] op v`): the part
    written is an array (not one number) and `value`'s dtype cannot be cast to `x`'s by
    NumPy's rule "same_kind" (a float into an integer array). A `TypeError` as NumPy's own,
    naming the user's line."""
    dtype = getattr(x, "dtype", None)
    if dtype is None or dtype.kind not in "biu" or not isinstance(x[index], numpy.ndarray):
        return
    _same_kind(value, dtype, filename, lineno, function)


def augmented_assign(x, result, filename, lineno, function):
    """Raise where NumPy raises for `x op= v` (`result` is `x op v`): `x` is an array of
    integers or booleans and `result`'s dtype cannot be cast to it by NumPy's rule
    "same_kind" (NumPy operates in place there). A Python or NumPy number passes: `op=`
    rebinds it."""
    if not isinstance(x, numpy.ndarray) or x.dtype.kind not in "biu":
        return
    _same_kind(result, x.dtype, filename, lineno, function)


def augmented_shape(x, result, filename, lineno, function):
    """Raise where NumPy raises for `x op= v` on an array `x` (`result` is `x op v`): NumPy
    writes the result into `x` itself, so `v` may not broadcast it to another shape. A Python
    or NumPy number passes (`op=` rebinds it), and so do shapes not known yet (a Dask array's
    unknown chunks)."""
    shape = getattr(x, "shape", None)
    if shape is None or isinstance(x, numpy.generic):
        return
    shapes = tuple(shape), tuple(getattr(result, "shape", ()))
    if shapes[0] == shapes[1] or not all(isinstance(n, (int, numpy.integer))
                                         for n in shapes[0] + shapes[1]):
        return
    from srcad.errors import Location, ShapeMismatchError
    raise ShapeMismatchError(
        f"NumPy cannot write a result of shape {shapes[1]} into this array of shape "
        f"{shapes[0]} in place (it raises here, and so does srcad)",
        Location(filename, lineno, linecache.getline(filename, lineno), function))


def _same_kind(value, dtype, filename, lineno, function):
    """An `IntegerWriteError` at the user's line unless `value` casts to `dtype` by "same_kind"."""
    result = numpy.result_type(value)
    if numpy.can_cast(result, dtype, "same_kind"):
        return
    from srcad.errors import IntegerWriteError, Location
    text = linecache.getline(filename, lineno)
    raise IntegerWriteError(
        f"NumPy cannot cast the result of this in-place operation from {result} to {dtype} "
        "with casting rule 'same_kind' (it raises here, and so does srcad)",
        Location(filename, lineno, text, function))
