"""Row-sparse gradients: the gradient of a lookup `W[indices]` into a parameter `W` (an
embedding table) without touching the rows nobody used.

In: the adjoint `g` of `W[indices]` and the indices. Out: a `RowGrad` holding only the rows used,
which costs O(rows used), not O(vocabulary): it adds to another RowGrad by concatenation, to a
dense array by scatter-adding (repeated indices accumulate), gives its dense form on request,
and updates a parameter in place (`apply_to`), which plain SGD uses.
"""

import numpy

from . import backend


class RowGrad:
    """`values[k]` added at row `index[k]` of an array shaped `shape`."""

    __slots__ = ("index", "values", "shape", "dtype")

    def __init__(self, index, values, shape, dtype):
        self.index = index
        self.values = values
        self.shape = tuple(shape)
        self.dtype = dtype

    @property
    def ndim(self):
        return len(self.shape)

    def dense(self):
        """The gradient as an ordinary array (zeros where no row was used)."""
        out = numpy.zeros_like(self.values, shape=self.shape, dtype=self.dtype)
        return backend.add_at(out, self.index, self.values)

    def __array__(self, dtype=None, copy=None):
        dense = self.dense()
        return dense if dtype is None else dense.astype(dtype)

    def __add__(self, other):
        if isinstance(other, RowGrad):
            return RowGrad(numpy.concatenate([self.index, other.index]),
                           numpy.concatenate([self.values, other.values]), self.shape,
                           self.dtype)
        dtype = numpy.result_type(getattr(other, "dtype", other), self.values.dtype)
        out = (other.astype(dtype, copy=True) if hasattr(other, "astype")
               else numpy.array(other, dtype=dtype))
        return backend.add_at(out, self.index, self.values)

    __radd__ = __add__

    def __mul__(self, scale):
        return RowGrad(self.index, self.values * scale, self.shape, self.dtype)

    __rmul__ = __mul__

    def apply_to(self, data, scale):
        """`data += scale * gradient`, touching only the rows used."""
        backend.add_at(data, self.index, scale * self.values)

    def __repr__(self):
        return f"RowGrad({len(self.index)} rows of {self.shape})"


def row_grad(g, x, index):
    """The adjoint of `x[index]` for a parameter `x`: a RowGrad when `index` picks rows with an
    integer array, the dense scatter otherwise (slices, scalars, masks, Dask arrays)."""
    if (isinstance(index, tuple) or isinstance(index, (int, slice)) or index is None
            or getattr(index, "dtype", None) is None or index.dtype.kind not in "iu"
            or backend.is_lazy(index) or backend.is_lazy(g)):
        from .runtime import scatter_add
        return scatter_add(g, x, index)
    rows = numpy.shape(x)[1:]
    return RowGrad(index.reshape(-1), numpy.reshape(g, (-1,) + rows), numpy.shape(x),
                   getattr(g, "dtype", x.dtype))


def densify(grad):
    """An ordinary array for a gradient that may be a RowGrad."""
    return grad.dense() if isinstance(grad, RowGrad) else grad
