"""The stored PyTorch results (tests/fixtures/torch_reference.npz) match the parity cases.

The parity tests themselves are in tests/test_optim.py, tests/test_layers.py and
tests/test_init.py; this checks that the file holds exactly the cases of
tests/support/torch_parity.py, so a case added there without rerunning
tests/fixtures/make_torch_reference.py fails here by name, and that the file stays small.
"""

from tests.support import torch_parity


def test_the_stored_reference_holds_exactly_the_parity_cases():
    stored = torch_parity.stored_arrays()
    cases = {key.split(torch_parity.SEPARATOR)[0] for key in stored if key != "torch_version"}
    assert sorted(cases) == sorted(torch_parity.CASES)
    assert str(stored["torch_version"]).startswith("2.")


def test_the_stored_reference_is_small_and_plain():
    assert torch_parity.FIXTURE.stat().st_size < 1_000_000
    assert all(a.dtype.kind in "fiU" for a in torch_parity.stored_arrays().values())
