"""The long run of the wide grammar: `python -m tests.fuzz --wide --minutes 10`.

In: minutes, the families to draw from (tests/support/wide_strategy.py `FAMILIES`), and whether to
sweep the NumPy catalogue first (every entry in its smallest program, tests/support/wide_sweep.py).
Out: printed counts (scenarios, derivative calls agreed / refused with a SrcadError (and how
many of those name no line of the program) / skipped / disputed by autograd, calls at points
without a derivative (`degenerate`)), the commonest
SrcadError messages, and the failures grouped by kind, the first of each in full with its
program, plus, for each kind, the constructs that appear in most of its failing programs (the
likely cause); `--report FILE` writes every failure. Exit status 1 when anything failed.
"""

import collections
import time
import traceback

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.support.wide_check import check_scenario
from tests.support.wide_strategy import scenarios
from tests.support.wide_sweep import sweep


def run(minutes, families, batch=100):
    """Check scenarios for `minutes`; returns (counts, failures as (kind, scenario, seed,
    detail), a Counter of the SrcadError messages)."""
    deadline = time.monotonic() + 60 * minutes
    counts, refusals = collections.Counter(), collections.Counter()
    failures = []

    @settings(max_examples=batch, deadline=None, database=None, derandomize=False,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(scenarios(families), st.integers(0, 2**32 - 1))
    def one(scenario, seed):
        """Check one scenario, keeping its counts and failures."""
        if time.monotonic() > deadline:
            return
        report = check_scenario(scenario, seed)
        counts.update(scenarios=1, agreed=report.agreed, refused=report.rejected,
                      unlocated=report.unlocated, skipped=report.skipped,
                      disputed=report.disputed, degenerate=report.degenerate)
        refusals.update(r.split(": ", 1)[1][:100] for r in report.rejections)
        for failure in report.failures:
            failures.append((failure.kind, scenario, seed, failure.detail))

    while time.monotonic() < deadline:
        try:
            one()
        except Exception as exc:          # the generator's own bug: keep it, keep going
            failures.append((f"tester {type(exc).__name__}: {str(exc)[:80]}", None, None,
                             traceback.format_exc()))
    return counts, failures, refusals


def run_sweep():
    """The catalogue sweep; returns (counts, failures) as `run` does."""
    counts = collections.Counter()
    failures = []
    for _, scenario, report in sweep():
        counts.update(entries=1, agreed=report.agreed, refused=report.rejected,
                      skipped=report.skipped, disputed=report.disputed,
                      degenerate=report.degenerate)
        for failure in report.failures:
            failures.append((failure.kind, scenario, 0, failure.detail))
    return counts, failures


def summary(counts, failures, out=print):
    """Print the counts and the failures grouped by kind (see the module docstring)."""
    out(", ".join(f"{value} {key}" for key, value in counts.items())
        + f", {len(failures)} failures")
    groups = collections.defaultdict(list)
    for failure in failures:
        groups[failure[0]].append(failure)
    for kind, group in sorted(groups.items(), key=lambda item: -len(item[1])):
        common = collections.Counter(c for _, scenario, _, _ in group if scenario
                                     for c in set(scenario.constructs))
        likely = ", ".join(f"{c} ({n})" for c, n in common.most_common(4))
        out(f"\n{len(group)} x {kind}\n  constructs most often in them: {likely}")
        _, scenario, seed, detail = group[0]
        out(f"seed {seed}\n{scenario!r}\n{detail}")


def write_report(path, failures):
    with open(path, "w") as handle:
        for kind, scenario, seed, detail in failures:
            handle.write(f"=== {kind}\nseed {seed}\n{scenario!r}\n{detail}\n")
