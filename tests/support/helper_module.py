"""Helpers called from tests/test_calls.py: a user function in another module."""

import numpy as np

SCALE = 3.0


def scaled_tanh(x, scale=SCALE):
    return np.tanh(x) * scale
