"""The quarterly review cycle: compare a review with the previous one and check the agreed actions.

``compare_runs(previous_run, run_dir)`` returns a :class:`RunComparison` and writes
``<run_dir>/diff/``; ``load_actions``/``check_actions`` read and check an actions file
(the grammar is in :mod:`kpilab.quarterly.actions`).
"""

from kpilab.quarterly.actions import ACTION_KINDS, Action, check_actions, known_indicators, load_actions
from kpilab.quarterly.diff import DIFF_TABLES, RunComparison, compare_runs
from kpilab.quarterly.runs import RunFolder, open_run

__all__ = [
    "ACTION_KINDS",
    "Action",
    "DIFF_TABLES",
    "RunComparison",
    "RunFolder",
    "check_actions",
    "compare_runs",
    "known_indicators",
    "load_actions",
    "open_run",
]
