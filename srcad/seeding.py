"""The process-wide random generator behind initialization, dropout and shuffling.

In: an integer seed (`manual_seed`). Out: `generator()`, one `numpy.random.Generator` object
for the whole process; seeding rewinds that same object, so every holder of it (an init
function, a Dropout layer, a DataLoader) sees the reseeded stream. Unseeded, it starts from
fresh OS entropy, like `numpy.random.default_rng()`. `generator_like(x)` is the generator that
draws arrays of `x`'s library: `generator()` for NumPy, and for a device library (CuPy) one
generator per library, seeded from `generator()` on first use, so `manual_seed` fixes it too.

    >>> import srcad.seeding as seeding
    >>> a = seeding.manual_seed(0).random(); b = seeding.manual_seed(0).random()
    >>> a == b
    True
"""

import operator

import numpy

from . import backend

_GENERATOR = numpy.random.default_rng()
_DEVICE_GENERATORS = {}     # array library module -> its generator, since the last seeding


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
    _DEVICE_GENERATORS.clear()
    return _GENERATOR


def generator():
    """The process-wide `numpy.random.Generator` (the same object on every call).

        >>> generator().standard_normal(2).shape
        (2,)
    """
    return _GENERATOR


def generator_like(x):
    """The generator whose draws are arrays of `x`'s library (`generator()` for NumPy); its
    `random(shape)` and `standard_normal(shape)` follow `numpy.random.Generator`.

        >>> generator_like(numpy.zeros(2)) is generator()
        True
    """
    xp = backend.array_module(x)
    if xp is numpy:
        return _GENERATOR
    gen = _DEVICE_GENERATORS.get(xp)
    if gen is None:
        seed = int(_GENERATOR.integers(2 ** 63))
        gen = _DEVICE_GENERATORS[xp] = xp.random.default_rng(seed)
    return gen
