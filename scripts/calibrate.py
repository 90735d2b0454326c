"""Calibrate the citizens' conditional-cooperation parameters to Herrmann, Thoeni & Gaechter (2008).

One command reruns the whole calibration and rewrites ``configs/calibration/lab_fit.json``::

    .venv/bin/python scripts/calibrate.py            # the shipped calibration (fixed seeds)
    .venv/bin/python scripts/calibrate.py --check    # do the shipped defaults match lab_fit.json?

What it does: Optuna's TPE sampler (fixed sampler seed, fixed number of trials) searches the
parameters in :data:`SPACE` within bounds taken from the literature. Each trial plays the
public-goods laboratory (``sim.lab``: groups of 4, 20 tokens, MPCR 0.4, 10 periods, fixed
groups) without and with peer punishment, on the same :data:`CALIBRATION_SEEDS` (common random
numbers; ``lab.groups`` groups each), and scores the mean contribution per period against the
mean across the 16 cities of each treatment: the loss is the RMSE over all 20 points (tokens),
minimised subject to the published stylised facts (:data:`FIRST_SHARE`, :data:`LAST_SHARE`,
:data:`PUNISHMENT_RISE`; Optuna's constrained TPE). Without the constraints the best pure-RMSE
fit keeps period 10 near 36-45% of the endowment: the rule decays geometrically, the data stay
flat for three periods and then fall ever faster, ending in a last-period (end-game) drop that
a rule with no horizon cannot produce; the constraints make the fit keep the decay.
The best values are rounded to :data:`DECIMALS` decimals, the fit is recomputed at the rounded
values, and both are written to the JSON file. The shipped defaults in ``sim/config.py`` are
those rounded values (``--check`` verifies it and that they reproduce the reported RMSE).

Not fitted here: ``citizens.motivation_weight``, ``citizens.free_rider_base`` and the
population's motivation distribution (kept at their documented defaults), and
``citizens.antisocial_pressure`` (0: the antisocial pools are an out-of-sample test).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from sim import lab  # noqa: E402
from sim.config import SimConfig, validate  # noqa: E402

OUTPUT = ROOT / "configs" / "calibration" / "lab_fit.json"
SAMPLER_SEED = 0
N_TRIALS = 2500
N_STARTUP = 100
CALIBRATION_SEEDS: tuple[int, ...] = (101, 102, 103, 104, 105)
DECIMALS = 3
# The published stylised facts the fit must keep (HTG 2008; data/README.md), as constraints on
# the calibration seeds: without punishment the mean starts near 53% of the endowment and decays
# to about 22% by period 10; with punishment it does not fall. The accepted ranges (45-60% and
# 15-30%) are narrowed by 2 percentage points so that they also hold on other seeds, and the
# punishment curve must rise by at least half a token (the data rise by 2.2 tokens).
FIRST_SHARE = (0.47, 0.58)  # no punishment, period 1, share of the endowment
LAST_SHARE = (0.17, 0.28)  # no punishment, period 10
PUNISHMENT_RISE = 0.5  # punishment, period 10 minus period 1, tokens (at least)
CONSTRAINT_NAMES = ("first_share_low", "first_share_high", "last_share_low", "last_share_high", "punishment_rise")

# (dotted key, low, high, why these bounds). Bounds are inclusive and inside the config's own.
SPACE: tuple[tuple[str, float, float, str], ...] = (
    (
        "population.share_conditional",
        0.35,
        0.70,
        "conditional cooperators: 50% (Fischbacher, Gaechter & Fehr 2001), 55% (Fischbacher & Gaechter 2010), "
        "61% (Thoeni & Volk 2018 meta-analysis)",
    ),
    (
        "population.share_free_rider",
        0.05,
        0.35,
        "free riders: 30% (FGF 2001), 23% (FG 2010), 19% (Thoeni & Volk 2018); shares vary widely across "
        "subject pools (Kocher et al. 2008)",
    ),
    (
        "citizens.cc_slope",
        0.40,
        1.00,
        "conditional cooperators match others less than one-for-one (FG 2010: self-serving bias)",
    ),
    ("citizens.cc_base", -0.10, 0.20, "intercept of the contribution schedule (FGF 2001)"),
    ("citizens.other_base", 0.00, 0.60, "hump-shaped and unconditional contributors (FGF 2001)"),
    ("citizens.contribution_noise", 0.00, 0.25, "decision noise, a share of the endowment"),
    (
        "citizens.initial_belief",
        0.30,
        0.70,
        "first-period beliefs near half the endowment (FG 2010)",
    ),
    (
        "citizens.belief_persistence",
        0.00,
        0.80,
        "beliefs follow last period's partners with some inertia (FG 2010)",
    ),
    ("lab.punishment_strength", 0.00, 1.00, "pressure from peer punishment (Fehr & Gaechter 2000)"),
    ("citizens.norm_premium", 0.00, 0.30, "how far above the norm the punished aim (Fehr & Gaechter 2000)"),
)
TREATMENTS: tuple[str, ...] = ("no_punishment", "punishment")


def apply(cfg: SimConfig, values: dict[str, float]) -> SimConfig:
    """A copy of ``cfg`` with dotted keys (``section.field``) set to the given values."""
    sections: dict[str, dict[str, float]] = {}
    for key, value in values.items():
        section, name = key.split(".")
        sections.setdefault(section, {})[name] = value
    changes = {s: dataclasses.replace(getattr(cfg, s), **v) for s, v in sections.items()}
    return dataclasses.replace(cfg, **changes)


def shipped_values(cfg: SimConfig | None = None) -> dict[str, float]:
    """The current defaults of the calibrated parameters."""
    cfg = cfg or SimConfig()
    return {key: getattr(getattr(cfg, key.split(".")[0]), key.split(".")[1]) for key, *_ in SPACE}


def data_targets() -> dict[str, np.ndarray]:
    """Mean across the 16 cities, per period, of each treatment (tokens)."""
    data = lab.load_data()
    return {t: lab.data_curve(data, t)["mean"].to_numpy() for t in TREATMENTS}


def curves(cfg: SimConfig, seeds: tuple[int, ...] = CALIBRATION_SEEDS) -> dict[str, np.ndarray]:
    """Model mean contribution per period of each treatment, averaged over the seeds (tokens)."""
    return {
        t: lab.mean_curve(
            cfg.citizens, cfg.population, dataclasses.replace(cfg.lab, punishment=(t == "punishment")), list(seeds)
        )
        for t in TREATMENTS
    }


def evaluate(values: dict[str, float], seeds: tuple[int, ...] = CALIBRATION_SEEDS) -> dict[str, Any]:
    """The fit at the given parameter values: pooled and per-treatment RMSE, curves, first/last shares."""
    cfg = apply(SimConfig(), values)
    validate(cfg)
    model, data = curves(cfg, seeds), data_targets()
    endowment = cfg.lab.endowment
    out: dict[str, Any] = {
        "rmse_pooled_tokens": float(np.sqrt(np.mean([(model[t] - data[t]) ** 2 for t in TREATMENTS]))),
    }
    for t in TREATMENTS:
        out[t] = {
            "rmse_tokens": lab.rmse(model[t], data[t]),
            "model_curve_tokens": [round(float(x), 4) for x in model[t]],
            "data_curve_tokens": [round(float(x), 4) for x in data[t]],
            "model_first_share": float(model[t][0] / endowment),
            "model_last_share": float(model[t][-1] / endowment),
            "data_first_share": float(data[t][0] / endowment),
            "data_last_share": float(data[t][-1] / endowment),
        }
    return out


def loss(model: dict[str, np.ndarray], data: dict[str, np.ndarray]) -> float:
    """RMSE (tokens) over the 10 periods of both treatments."""
    return float(np.sqrt(np.mean([(model[t] - data[t]) ** 2 for t in TREATMENTS])))


def constraints(model: dict[str, np.ndarray], endowment: float) -> list[float]:
    """The stylised facts as constraints, each satisfied when its value is at most 0 (see :data:`FIRST_SHARE`)."""
    first, last = model["no_punishment"][0] / endowment, model["no_punishment"][-1] / endowment
    rise = model["punishment"][-1] - model["punishment"][0]
    return [
        FIRST_SHARE[0] - first,
        first - FIRST_SHARE[1],
        LAST_SHARE[0] - last,
        last - LAST_SHARE[1],
        PUNISHMENT_RISE - rise,
    ]


def search(n_trials: int = N_TRIALS, sampler_seed: int = SAMPLER_SEED) -> Any:
    """Run the Optuna search (constrained TPE) and return the study.

    Args:
        n_trials: number of Optuna trials.
        sampler_seed: seed of the TPE sampler.

    Returns:
        The ``optuna.Study`` with every trial, its loss and its constraint values.

    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=sampler_seed, multivariate=True, n_startup_trials=N_STARTUP)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    data = data_targets()
    endowment = SimConfig().lab.endowment

    def objective(trial: optuna.Trial) -> float:
        values = {key: trial.suggest_float(key, lo, hi) for key, lo, hi, _ in SPACE}
        cfg = apply(SimConfig(), values)
        if cfg.population.share_conditional + cfg.population.share_free_rider > 1:
            trial.set_constraint("shares", 1.0)
            return float("inf")
        model = curves(cfg)
        for name, value in zip(CONSTRAINT_NAMES, constraints(model, endowment), strict=True):
            trial.set_constraint(name, value)
        return loss(model, data)

    study.optimize(objective, n_trials=n_trials)
    return study


def calibrate(n_trials: int = N_TRIALS, sampler_seed: int = SAMPLER_SEED) -> dict[str, Any]:
    """Run the search and return the best feasible (rounded) values with their fit and provenance.

    Args:
        n_trials: number of Optuna trials.
        sampler_seed: seed of the TPE sampler.

    Returns:
        The content of ``lab_fit.json``.

    Raises:
        RuntimeError: no trial met the stylised-fact constraints (too few trials).

    """
    import optuna

    start = time.perf_counter()
    study = search(n_trials, sampler_seed)
    seconds = time.perf_counter() - start
    try:
        best_trial = study.best_trial
    except ValueError as exc:
        raise RuntimeError(f"no trial of {n_trials} met the stylised-fact constraints; run more trials") from exc
    best = {key: round(float(best_trial.params[key]), DECIMALS) for key, *_ in SPACE}
    data_sha = hashlib.sha256(lab.DATA_FILE.read_bytes()).hexdigest()
    return {
        "description": (
            "Citizens' conditional-cooperation parameters calibrated to the cross-city mean contribution "
            "curves of Herrmann, Thoeni & Gaechter (2008), without and with punishment, by scripts/calibrate.py"
        ),
        "values": best,
        "fit": evaluate(best),
        "best_trial": {"number": best_trial.number, "loss_unrounded": float(best_trial.value)},
        "bounds": {key: {"low": lo, "high": hi, "why": why} for key, lo, hi, why in SPACE},
        "method": {
            "sampler": f"optuna.samplers.TPESampler(multivariate=True, n_startup_trials={N_STARTUP}), "
            "constraints via Trial.set_constraint",
            "constraints": {
                "no_punishment_first_share": FIRST_SHARE,
                "no_punishment_last_share": LAST_SHARE,
                "punishment_rise_tokens_at_least": PUNISHMENT_RISE,
            },
            "sampler_seed": sampler_seed,
            "n_trials": n_trials,
            "loss": "RMSE over periods 1-10 of both treatments against the mean across 16 cities (tokens)",
            "calibration_seeds": list(CALIBRATION_SEEDS),
            "groups_per_treatment_and_seed": SimConfig().lab.groups,
            "rounding_decimals": DECIMALS,
            "optuna_version": optuna.__version__,
            "numpy_version": np.__version__,
            "seconds": round(seconds, 1),
        },
        "data": {"file": str(lab.DATA_FILE.relative_to(ROOT)), "sha256": data_sha},
    }


def check(path: Path = OUTPUT) -> list[str]:
    """Problems with the shipped defaults against the calibration file (empty if none)."""
    saved = json.loads(path.read_text())
    problems = []
    shipped = shipped_values()
    for key, value in saved["values"].items():
        if shipped[key] != value:
            problems.append(f"{key}: shipped default {shipped[key]!r} != calibrated {value!r}")
    fit = evaluate(shipped)
    if abs(fit["rmse_pooled_tokens"] - saved["fit"]["rmse_pooled_tokens"]) > 1e-9:
        problems.append(
            f"pooled RMSE at the shipped defaults {fit['rmse_pooled_tokens']:.6f} != reported "
            f"{saved['fit']['rmse_pooled_tokens']:.6f}"
        )
    return problems


def report(result: dict[str, Any]) -> str:
    """A short text summary of a calibration result."""
    fit = result["fit"]
    lines = [f"pooled RMSE {fit['rmse_pooled_tokens']:.3f} tokens"]
    for t in TREATMENTS:
        f = fit[t]
        lines.append(
            f"{t:>14}: RMSE {f['rmse_tokens']:.3f} tokens; period 1 {f['model_first_share']:.1%} "
            f"(data {f['data_first_share']:.1%}), period 10 {f['model_last_share']:.1%} "
            f"(data {f['data_last_share']:.1%})"
        )
    lines += [f"  {k} = {v}" for k, v in result["values"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the calibration (or ``--check`` the shipped defaults against it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--trials", type=int, default=N_TRIALS, help=f"Optuna trials (default {N_TRIALS})")
    parser.add_argument("--sampler-seed", type=int, default=SAMPLER_SEED, help="TPE sampler seed")
    parser.add_argument("--out", type=Path, default=OUTPUT, help="where to write the JSON result")
    parser.add_argument("--check", action="store_true", help="only check the shipped defaults against --out")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(args.out)
        for p in problems:
            print(p, file=sys.stderr)
        if not problems:
            print(f"shipped defaults match {args.out} and reproduce its fit")
        return 1 if problems else 0
    result = calibrate(args.trials, args.sampler_seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(report(result))
    print(f"wrote {args.out} ({result['method']['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
