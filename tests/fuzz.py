"""Long-running random-program differential testing (the nightly-style command).

    python -m tests.fuzz --minutes 10 [--report findings.txt]
    python -m tests.fuzz --wide --minutes 10 [--families ufunc,numpy,...] [--no-sweep]

Draws fresh random programs (tests/support/program_strategy.py) for the given time and checks
each one (tests/support/differential.py), second order (hvp) included. A failing program does not
stop the run: it is recorded with its error, and the run ends with counts and the failures (the
first of each kind in full).
With `--wide`, the programs come from the wider grammar instead (tests/support/wide_fuzz.py):
NumPy's whole namespace, in-place writes, literals given to helpers, models with shared parameters,
several shapes and redefinitions between calls; before them every entry of the NumPy catalogue
is checked in its smallest program (unless `--no-sweep`).
Exit status 1 when anything failed. `HYPOTHESIS_PROFILE=long pytest
tests/test_random_programs.py` is the same check as a pytest run (3000 programs, shrinking
the first failure to a small program).
"""

import argparse
import sys
import time
import traceback

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.support.differential import check_program
from tests.support.program_strategy import programs


def run(minutes, batch=200, second_order=True):
    """Check programs for `minutes`; returns (tried, checked, failures)."""
    deadline = time.monotonic() + 60 * minutes
    counts = {"tried": 0, "checked": 0}
    failures = []

    @settings(max_examples=batch, deadline=None, database=None, derandomize=False,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(programs(), st.integers(0, 2**32 - 1))
    def one(program, seed):
        if time.monotonic() > deadline:
            return
        counts["tried"] += 1
        try:
            counts["checked"] += bool(check_program(program, seed, second_order))
        except Exception as exc:                    # a finding: keep it, keep going
            failures.append((_kind(exc), program, seed, traceback.format_exc()))

    while time.monotonic() < deadline:
        one()
    return counts["tried"], counts["checked"], failures


def _kind(exc):
    """A short key grouping failures by cause: the exception type and first message line."""
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first[:100]}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--report", help="write every failure (program, seed, traceback) here")
    parser.add_argument("--wide", action="store_true", help="the wider grammar")
    parser.add_argument("--families", help="with --wide: comma-separated families (default all)")
    parser.add_argument("--no-sweep", dest="sweep", action="store_false",
                        help="with --wide: skip the sweep of the NumPy catalogue (about 30 s)")
    options = parser.parse_args(argv)
    if options.wide:
        return _main_wide(options)
    started = time.monotonic()
    tried, checked, failures = run(options.minutes)
    elapsed = time.monotonic() - started
    skipped = tried - checked - len(failures)
    print(f"{tried} programs in {elapsed:.0f} s: {checked} checked, {skipped} "
          f"skipped (no derivative or non-finite at the drawn point), {len(failures)} failed")
    kinds = {}
    for failure in failures:
        kinds.setdefault(failure[0], []).append(failure)
    for kind, group in sorted(kinds.items(), key=lambda item: -len(item[1])):
        print(f"\n{len(group)} x {kind}")
        _, program, seed, trace = group[0]
        print(f"seed {seed}\n{program.source}\n{trace}")
    if options.report:
        with open(options.report, "w") as handle:
            for kind, program, seed, trace in failures:
                handle.write(f"=== {kind}\nseed {seed}\n{program!r}\n{trace}\n")
    return 1 if failures else 0


def _main_wide(options):
    from tests.support import wide_fuzz
    from tests.support.wide_strategy import FAMILIES
    families = set(options.families.split(",")) if options.families else FAMILIES
    unknown = families - FAMILIES
    if unknown:
        raise SystemExit(f"unknown families {sorted(unknown)}; known: {sorted(FAMILIES)}")
    failures = []
    if options.sweep:
        counts, swept = wide_fuzz.run_sweep()
        print("catalogue sweep:")
        wide_fuzz.summary(counts, swept)
        failures += swept
    counts, found, refusals = wide_fuzz.run(options.minutes, families)
    print(f"\nwide programs ({', '.join(sorted(families))}):")
    print("commonest refusals:\n" + "\n".join(f"  {n} x {message}"
                                             for message, n in refusals.most_common(8)))
    wide_fuzz.summary(counts, found)
    failures += found
    if options.report:
        wide_fuzz.write_report(options.report, failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
