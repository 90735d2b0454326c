"""The fused driver against the numpy path in distribution: 20 configurations x 10 seeds (issue 15).

Run from the repository root::

    .venv/bin/python benchmarks/fused_equivalence.py            # about 5 minutes on 2 cores
    .venv/bin/python benchmarks/fused_equivalence.py --seeds 3  # a quicker look

For each configuration, every metric's end-of-run mean (the last 12 months) on each seed under
``driver=fused`` and ``driver=vectorised`` (same seeds: common random numbers); the paired
differences must lie within the numpy path's seed-to-seed standard deviation by a two one-sided
t-test (``sim.fused_check.equivalence``). ``tests/test_fused.py`` runs two of these configurations
at a smaller size. Writes ``benchmarks/fused_equivalence.json`` and exits 1 if any metric fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from sim.fused_check import equivalence  # noqa: E402

REGIMES = ("none", "targets", "negotiated", "functioning")
VARIANTS = (
    [],
    ["regime.payment_per_hour=2"],
    ["regime.recognition=0.3"],
    ["population.n_communities=10"],
    ["regime.audit_rate=0.5", "regime.league_table=true"],
)
CONFIGS = [[f"regime={r}", *v] for r in REGIMES for v in VARIANTS]


def main(argv: list[str] | None = None) -> int:
    """Run every configuration; print one line each; return 1 if any metric is not equivalent."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=10, help="seeds per configuration and driver (default 10)")
    ap.add_argument("--citizens", type=int, default=1000, help="citizens per run (default 1000)")
    ap.add_argument("--steps", type=int, default=60, help="recorded months per run (default 60)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "fused_equivalence.json")
    args = ap.parse_args(argv)
    base = [f"population.n_citizens={args.citizens}", f"steps={args.steps}", "output.save=false"]
    rows, failures = [], 0
    t0 = time.perf_counter()
    for extra in CONFIGS:
        results = equivalence([*base, *extra], seeds=list(range(args.seeds)))
        bad = [r.metric for r in results if not r.equivalent]
        failures += bool(bad)
        rows.append({"config": extra, "metrics": len(results), "not_equivalent": bad})
        print(f"{' '.join(extra):55s} {len(results) - len(bad)}/{len(results)} equivalent {bad or ''}", flush=True)
    out = {"seeds": args.seeds, "citizens": args.citizens, "steps": args.steps, "configs": rows}
    out["seconds"] = time.perf_counter() - t0
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(CONFIGS) - failures} of {len(CONFIGS)} configurations equivalent on every metric; wrote {args.out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
