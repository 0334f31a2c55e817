"""Test configuration: hypothesis profiles ("ci", bounded; "long", for long runs).

Choose with HYPOTHESIS_PROFILE=long (default: ci). Also the `torch_results` fixture of the
PyTorch-parity tests.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.support import torch_parity

settings.register_profile("ci", max_examples=12, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(params=["stored", "live"])
def torch_results(request):
    """A function case name -> torch's results for that PyTorch-parity case
    (tests/support/torch_parity.py): "stored" reads them from tests/fixtures/torch_reference.npz
    (every run), "live" computes them with torch now (skipped where torch is not installed)."""
    return torch_parity.results(request.param)
