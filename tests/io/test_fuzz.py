"""Ingest fuzzing, bounded (issue 14): seeded malformed files through ``shopseg.io.ingest`` and ``shopseg ingest``.

60 files (every mutation and whole-file oddity of :mod:`tests.io.fuzz_corpus` at least once, every
ingest kind) must each load cleanly or be refused with a clear error, exit 1 and an unchanged
workspace, never an internal error; :mod:`tests.io.fuzz_check` states the rules. The count tried is
printed in pytest's summary. ``make fuzz`` runs a bigger corpus.
"""

from __future__ import annotations

from tests.io.fuzz_check import REPORTED, run_corpus

SEED = 14
N_FILES = 60


def test_malformed_files_load_cleanly_or_are_refused_with_a_clear_error(tmp_path):
    summary = run_corpus(SEED, N_FILES, tmp_path)
    REPORTED.append(summary.line())
    assert summary.tried == N_FILES
    assert summary.loaded >= 5 and summary.refused >= 30, summary.line()  # both outcomes are exercised
    assert not summary.failures, "\n".join(summary.failures)
