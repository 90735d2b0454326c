"""Issue 13 acceptance figures: every preset at the defaults, 10 seeds, 120 months after the burn-in.

Usage: python scripts/acceptance_instruments.py [--seeds 10] [--workers 2] [--out FILE] [--doc docs/patterns.md]
       [override ...]
Prints per preset: formal volunteering and pro-social rates (mean of the last 12 months),
slopes of motivation and pro-social rate over the last 24 months (pp a year), unmeasured work
share, true outcome (lived and measured dimension), gaming, bunching ratio over months 12-23,
public and social cost; then the checks of the acceptance list. ``--doc`` writes them as
``docs/patterns.md`` (generated; every figure there comes from this run).
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np

import sim
from sim.config import REGIMES
from sim.model import SocialProductivityModel


def one(args: tuple[str, int, list[str]]) -> dict[str, float]:
    """End-of-run figures of one preset on one seed."""
    preset, seed, extra = args
    cfg = sim.load_config([f"regime={preset}", f"seed={seed}", "output.save=false", *extra])
    model = SocialProductivityModel(cfg)
    model.run()
    ts = model.timeseries()
    last12, last24 = ts.tail(12), ts.tail(24)
    months = np.arange(len(last24))

    def slope(col: str) -> float:  # percentage points a year
        return float(np.polyfit(months, last24[col].to_numpy(), 1)[0] * 12 * 100)

    early = ts[(ts["step"] >= 12) & (ts["step"] < 24)]
    return {
        "volunteering_rate": float(last12["volunteering_rate"].mean()),
        "prosocial_rate": float(last12["prosocial_rate"].mean()),
        "motivation_mean": float(last12["motivation_mean"].mean()),
        "trust_mean": float(last12["trust_mean"].mean()),
        "motivation_slope_pp_yr": slope("motivation_mean"),
        "prosocial_slope_pp_yr": slope("prosocial_rate"),
        "unmeasured_work_share": float(last12["unmeasured_work_share"].mean()),
        "measured_work_share": float(last12["measured_work_share"].mean()),
        "gaming_share": float(last12["gaming_share"].mean()),
        "true_outcome": float(last12["true_outcome"].mean()),
        "true_measured_outcome": float(last12["true_measured_outcome"].mean()),
        "bunching_ratio_m12_23": float(early["bunching_ratio"].replace(np.inf, np.nan).mean()),
        "public_cost": float(last12["public_cost"].mean()),
        "social_cost": float(last12["social_cost"].mean()),
        "participation_rate": float(last12["participation_rate"].mean()),
    }


def main() -> None:
    """Run every preset on every seed and print the table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--presets", default=",".join(REGIMES))
    ap.add_argument("--out", default="")
    ap.add_argument("--doc", default="", help="write the checks as a Markdown page (docs/patterns.md)")
    ap.add_argument("overrides", nargs="*")
    a = ap.parse_args()
    presets = a.presets.split(",")
    jobs = [(p, s, a.overrides) for p in presets for s in range(a.seeds)]
    with ProcessPoolExecutor(a.workers) as pool:
        rows = list(pool.map(one, jobs))
    table: dict[str, dict[str, dict[str, float]]] = {}
    for (p, _, _), r in zip(jobs, rows, strict=True):
        table.setdefault(p, {})
        for k, v in r.items():
            table[p].setdefault(k, []).append(v)  # type: ignore[arg-type]
    summary = {
        p: {k: (float(np.mean(v)), float(np.std(v, ddof=1) / np.sqrt(len(v)) * 2.262)) for k, v in cols.items()}
        for p, cols in table.items()
    }
    keys = list(rows[0])
    print("overrides:", a.overrides, "seeds:", a.seeds)
    for k in keys:
        print(f"{k:28s}" + " ".join(f"{p[:12]:>12s}={summary[p][k][0]:.4f}±{summary[p][k][1]:.4f}" for p in presets))
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"overrides": a.overrides, "seeds": a.seeds, "summary": summary, "runs": table}, f, indent=1)
    if a.doc:
        with open(a.doc, "w") as f:
            f.write(patterns_page(summary, a.seeds, a.overrides))
        print("wrote", a.doc)


def pct(x: float) -> str:
    """A share as a percentage with one decimal."""
    return f"{100 * x:.1f}%"


def patterns_page(summary: dict[str, dict[str, tuple[float, float]]], seeds: int, overrides: list[str]) -> str:
    """The acceptance checks of the instruments issue as Markdown, every figure from ``summary``."""

    def m(preset: str, key: str) -> float:
        return summary[preset][key][0]

    presets = list(summary)
    vol = {p: m(p, "volunteering_rate") for p in presets}
    hi, lo = max(vol, key=vol.__getitem__), min(vol, key=vol.__getitem__)
    spread = vol[hi] - vol[lo]
    slopes = [(p, k, m(p, k)) for p in presets for k in ("prosocial_slope_pp_yr", "motivation_slope_pp_yr")]
    worst = max(slopes, key=lambda t: abs(t[2]))
    um_ratio = m("targets", "unmeasured_work_share") / m("none", "unmeasured_work_share")
    checks = [
        (
            "Formal volunteering after ten years differs by at most 5 points between any two presets "
            "(DESIGN.md fairness rules: monthly formal volunteering in England stayed within a few points for decades)",
            f"{pct(vol[lo])} (`{lo}`) to {pct(vol[hi])} (`{hi}`): {100 * spread:.1f} points",
            spread <= 0.05,
        ),
        (
            "Pro-social rate and motivation level off by month 120 (slope over the last 24 months within "
            "±0.5 points a year, mean over seeds)",
            f"largest: {worst[2]:+.2f} points a year (`{worst[0]}`, {worst[1].split('_slope')[0]})",
            abs(worst[2]) <= 0.5,
        ),
        (
            "Under `targets`, unmeasured work keeps at least half its `none` share (Kelman & Friedman 2009)",
            f"{pct(m('targets', 'unmeasured_work_share'))} against {pct(m('none', 'unmeasured_work_share'))} "
            f"of capacity ({100 * um_ratio:.0f}% of it)",
            um_ratio >= 0.5,
        ),
        (
            "Gaming still emerges under `targets`: bunching ratio at least 2 within two years (Bevan & Hood 2006)",
            f"{m('targets', 'bunching_ratio_m12_23'):.1f} in months 12-23 (`none`: "
            f"{m('none', 'bunching_ratio_m12_23'):.1f})",
            m("targets", "bunching_ratio_m12_23") >= 2,
        ),
        (
            "True outcome on the measured dimension is higher under `targets` than under `none` "
            "(Kelman & Friedman 2009; Propper et al. 2010)",
            f"{pct(m('targets', 'true_measured_outcome'))} against {pct(m('none', 'true_measured_outcome'))}",
            m("targets", "true_measured_outcome") > m("none", "true_measured_outcome"),
        ),
    ]
    lines = [
        "# Patterns the defaults must keep",
        "",
        "<!-- Generated by scripts/acceptance_instruments.py --doc docs/patterns.md. Do not edit by hand. -->",
        "",
        f"Every preset at the packaged defaults{' with ' + ' '.join(overrides) if overrides else ''}, {seeds} "
        "common seeds, 120 months after the burn-in; figures are means over seeds of the last 12 months "
        "(slopes: of the last 24). The defaults marked 'pattern' in [parameters.md](parameters.md) were "
        "chosen so that the model keeps these patterns from the evidence; a pattern that still fails is "
        "reported here, not tuned away.",
        "",
        "| pattern | model | holds |",
        "|---|---|---|",
        *[f"| {c} | {fig} | {'yes' if ok else '**no**'} |" for c, fig, ok in checks],
        "",
        "| preset | formal volunteering | pro-social rate | motivation | trust | unmeasured work | true outcome |",
        "|---|---|---|---|---|---|---|",
        *[
            f"| `{p}` | {pct(vol[p])} | {pct(m(p, 'prosocial_rate'))} | {m(p, 'motivation_mean'):.3f} | "
            f"{m(p, 'trust_mean'):.3f} | {pct(m(p, 'unmeasured_work_share'))} | {pct(m(p, 'true_outcome'))} |"
            for p in presets
        ],
        "",
        "Reproduce: `.venv/bin/python scripts/acceptance_instruments.py --seeds 10 --doc docs/patterns.md` "
        "(about 5 minutes on 2 cores).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
