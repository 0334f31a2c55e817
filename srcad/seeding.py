"""The process-wide random generator behind initialization, dropout and shuffling.

In: an integer seed (`manual_seed`). Out: `generator()`, one `numpy.random.Generator` object
for the whole process; seeding rewinds that same object, so every holder of it (an init
function, a Dropout layer, a DataLoader) sees the reseeded stream. Unseeded, it starts from
fresh OS entropy, like `numpy.random.default_rng()`.

    >>> import srcad.seeding as seeding
    >>> a = seeding.manual_seed(0).random(); b = seeding.manual_seed(0).random()
    >>> a == b
    True
"""

import operator

import numpy

_GENERATOR = numpy.random.default_rng()


def manual_seed(seed):
    """Reseed the process-wide generator (in place) and return it.

    After `manual_seed(s)` the generator draws what `numpy.random.default_rng(s)` draws.

        >>> g = manual_seed(42)
        >>> g is generator()
        True
    """
    if isinstance(seed, bool):
        raise TypeError(f"seed must be an integer, but got {seed!r}")
    try:
        seed = operator.index(seed)
    except TypeError:
        raise TypeError(f"seed must be an integer, but got {seed!r}") from None
    if seed < 0:
        raise ValueError(f"seed must be non-negative, but got {seed}")
    _GENERATOR.bit_generator.state = numpy.random.PCG64(seed).state
    return _GENERATOR


def generator():
    """The process-wide `numpy.random.Generator` (the same object on every call).

        >>> generator().standard_normal(2).shape
        (2,)
    """
    return _GENERATOR
