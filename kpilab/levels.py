"""The panel's unit levels and period lengths: plain names, importable without pandas.

The command line builds its parsers from them before any analysis library is imported
(:mod:`kpilab.panel` re-exports both).
"""

from __future__ import annotations

#: unit levels of a panel, finest first; ``centre`` is the whole centre
UNIT_LEVELS = ("agent", "team", "role", "site", "queue", "channel", "centre")
#: period lengths (weeks start on Monday)
PERIODS = ("day", "week", "month", "quarter")
