"""Long run: many months at a large population, streamed to disk, checked for NaN, overflow and drift.

    .venv/bin/python scripts/long_run.py                      # 10,000 months at 10,000 citizens
    .venv/bin/python scripts/long_run.py --citizens 2000 --steps 10000

The months are recorded by the model's recorder and drained to a Parquet file every ``--chunk``
months (as a sweep does, :func:`sim.sweep.worker.simulate_chunks`), so memory stays flat. After every
chunk the state invariants are checked (capacity shares sum to 1, citizens' shares in [0, 1], time
used within each budget, no non-finite state) and every streamed row is checked (rates in [0, 1]
or their documented NaN, no NaN in the always-defined columns). Numpy floating-point errors
(overflow, invalid, divide by zero) are raised, not ignored. Prints the figures quoted in
docs/reliability.md as JSON. ``tests/reliability/test_long_run.py`` runs the same function at a
smaller population.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Rates and shares: in [0, 1] when defined (docs/ODD.md, 'Observation').
RATES = (
    "prosocial_rate", "volunteering_rate", "caring_rate", "self_reliance", "motivation_mean", "trust_mean",
    "social_capital", "gaming_share", "functioning_share", "partnership_share", "outcome_work_share",
    "reported_outcome", "true_outcome", "participation_rate", "service_commitment_kept",
    "citizen_commitment_kept", "volunteering_rate_motivated", "slack_share", "measured_work_share",
    "unmeasured_work_share", "true_measured_outcome", "true_unmeasured_outcome", "skimmed_share", "target_level",
)  # fmt: skip
# NaN is their documented value in months with no cases (no commitments, no targets, no motivated citizens).
SOMETIMES_UNDEFINED = (
    "service_commitment_kept",
    "citizen_commitment_kept",
    "target_level",
    "volunteering_rate_motivated",
)


def rss_mb() -> float:
    """Current resident memory of this process in MB (Linux /proc; peak RSS elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def check_state(model: Any) -> None:
    """The model's state invariants; raises AssertionError naming the one broken."""
    cit, svc = model.citizens, model.services
    shares = svc.shares
    assert np.isfinite(shares).all() and (shares >= 0).all(), "capacity shares not finite or negative"
    assert np.allclose(shares.sum(axis=1), 1.0, atol=1e-9), f"capacity shares drift: {shares.sum(axis=1).max()}"
    used = cit.volunteering + cit.caring + cit.self_reliance
    assert (used <= cit.budget + 1e-9).all(), "time used exceeds a citizen's budget"
    for name in ("motivation", "trust", "efficacy", "share", "belief", "realised"):
        v = getattr(cit, name)
        assert np.isfinite(v).all() and ((v >= 0) & (v <= 1)).all(), f"citizens' {name} outside [0, 1]"


def check_rows(frame: pd.DataFrame) -> None:
    """Every streamed month: rates in [0, 1] or documented NaN; nothing else NaN; costs finite."""
    always = [c for c in frame.columns if c not in ("regime", *SOMETIMES_UNDEFINED)]
    nan = frame[always].isna().sum()
    assert not nan.any(), f"NaN in always-defined columns: {nan[nan > 0].to_dict()}"
    for col in RATES:
        v = frame[col].dropna()
        assert ((v >= 0) & (v <= 1)).all(), f"{col} outside [0, 1]"
    assert np.isfinite(frame["public_cost"]).all(), "public_cost not finite"


def long_run(
    n_citizens: int,
    steps: int,
    out: Path,
    chunk: int = 500,
    checkpoints: tuple[int, ...] = (1_000, 2_000, 5_000, 10_000),
    extra: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Run, stream to ``out`` (a Parquet file), check everything; return the figures."""
    import sim
    from sim.model import SocialProductivityModel
    from sim.sweep.store import RunWriter

    cfg = sim.load_config(
        [f"population.n_citizens={n_citizens}", f"steps={steps}", "output.save=false", "regime=targets", *extra]
    )
    model = SocialProductivityModel(cfg)
    writer = RunWriter(out, {"seed": cfg.seed}, fsync=False)
    start = time.perf_counter()
    rss: dict[int, float] = {}
    done = 0
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        while done < steps:
            n = min(chunk, steps - done)
            model.run(steps=n)
            done += n
            frame = model.recorder.drain()
            check_rows(frame)
            writer.write(frame)
            check_state(model)
            for cp in checkpoints:
                if done - n < cp <= done:
                    rss[cp] = round(rss_mb(), 1)
    writer.commit()
    seconds = time.perf_counter() - start
    ts = pd.read_parquet(out)
    rates = {c: [float(ts[c].min()), float(ts[c].max())] for c in RATES}
    return {
        "n_citizens": n_citizens,
        "steps": steps,
        "rows": len(ts),
        "seconds": round(seconds, 1),
        "ms_per_step": round(1000 * seconds / steps, 2),
        "rss_mb_at": rss,
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "nan_counts": {c: int(ts[c].isna().sum()) for c in ts.columns if ts[c].isna().any()},
        "rate_min_max": rates,
        "recorder_rows_in_memory": len(model.recorder),
    }


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Parse arguments, run, print the figures as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--citizens", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--chunk", type=int, default=500)
    ap.add_argument("--out", type=Path, default=None, help="Parquet file (default: a temporary one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "long_run.parquet"
        figures = long_run(args.citizens, args.steps, out, chunk=args.chunk)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
