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
