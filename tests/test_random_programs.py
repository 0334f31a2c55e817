"""Random-program differential testing: srcad's forward and reverse mode of generated NumPy
programs (tests/support/program_strategy.py) against finite differences and against each other
(tests/support/differential.py). The "ci" profile runs a fixed set of a few hundred programs; the
"long" profile, or `python -m tests.fuzz --minutes 10`, many more, freshly drawn."""

import os

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.support.differential import check_program
from tests.support.program_strategy import programs

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"


@settings(max_examples=3000 if LONG else 300, deadline=None, derandomize=not LONG,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.data_too_large])
@given(programs(), st.integers(0, 2**32 - 1))
def test_random_program_derivatives_agree(program, seed):
    assume(check_program(program, seed))
