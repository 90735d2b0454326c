"""Parameter sweeps: experiments of arms x sweep points x replications, resumable, on any backend.

The pieces, in the order a sweep uses them:

- :mod:`sim.sweep.spec`: the sweep block (grid, list, LHS, Sobol', Morris), validated against
  the parameters' declared bounds, expanded into points, applied with cheap merges;
- :mod:`sim.sweep.plan`: arms composed once, points and common replication seeds, run keys;
- :mod:`sim.sweep.engine` and :mod:`sim.sweep.backends`: resume, progress, failures; serial,
  process pool or dask;
- :mod:`sim.sweep.store`: one Parquet file per run, written atomically; :func:`read_sweep`;
- :mod:`sim.sweep.analysis` and :mod:`sim.sweep.report`: bands, paired differences, replicate
  sufficiency, Sobol'/Morris sensitivity, PRIM scenario discovery, figures.

See ``docs/sweeps.md``.
"""

from sim.sweep.engine import SweepStats, dry_run_table, run_sweep
from sim.sweep.plan import Plan, build_plan, default_folder, replication_seeds, run_key
from sim.sweep.spec import SweepSpec, parse_sweep
from sim.sweep.store import Store, SweepError, read_details, read_sweep

__all__ = [
    "Plan",
    "Store",
    "SweepError",
    "SweepSpec",
    "SweepStats",
    "build_plan",
    "default_folder",
    "dry_run_table",
    "parse_sweep",
    "read_details",
    "read_sweep",
    "replication_seeds",
    "run_key",
    "run_sweep",
]
