"""Social productivity: an agent-based model of citizens, public services and communities.

Quick use::

    import sim
    cfg = sim.load_config(["regime=negotiated", "steps=240", "seed=7"])
    result = sim.run(cfg)
    result.timeseries  # pandas DataFrame, one row per month
    result.summary     # dict of end-of-run figures
"""

from sim.config import ConfigError, SimConfig, load_config
from sim.runner import RunResult, run

__version__ = "0.1.0"

__all__ = ["ConfigError", "RunResult", "SimConfig", "__version__", "load_config", "run"]
