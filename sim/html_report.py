"""Old home of the reader's report: now :mod:`sim.present.report` (kept for imports)."""

from sim.present.report import *  # noqa: F403
from sim.present.report import __all__  # noqa: F401
