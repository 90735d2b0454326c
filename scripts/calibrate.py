"""Calibrate the citizens' conditional-cooperation parameters to Herrmann, Thoeni & Gaechter (2008).

One command reruns the whole calibration and rewrites ``configs/calibration/lab_fit.json``::

    .venv/bin/python scripts/calibrate.py                   # the shipped calibration (fixed seeds)
    .venv/bin/python scripts/calibrate.py --check           # do the shipped defaults match lab_fit.json?
    .venv/bin/python scripts/calibrate.py --check-rerun     # does the whole search still give it? (minutes)
    .venv/bin/python scripts/calibrate.py --types fgf_2001  # the documented alternative type shares

The cooperation-type shares are *inputs*, not fitted: they are fixed from the literature
(:data:`TYPE_SHARES`; default :data:`DEFAULT_TYPES`, Thoeni & Volk 2018; alternative Fischbacher,
Gaechter & Fehr 2001) and only the remaining parameters in :data:`SPACE` are searched with them
held fixed. Fitting the shares let the optimiser trade free riders for a lower conditional
cooperators' intercept and landed at 6.7% free riders, far below every published classification
(issue 13, item 5).

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
values, and both are written to the JSON file with the fixed shares and their sources. The
shipped defaults in ``sim/config.py`` are the default file's shares and rounded values
(``--check`` verifies it and that they reproduce the reported RMSE).

Not fitted here: the type shares (fixed, above), ``citizens.motivation_weight``,
``citizens.free_rider_base`` and the population's motivation distribution (kept at their
documented defaults), and ``citizens.antisocial_pressure`` (0: the antisocial pools are an
out-of-sample test).
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
# The search's first trials (past the random start-up) are kept in the calibration file: the test
# suite reruns this prefix, the full search is rechecked by ``--check-rerun``.
PREFIX_TRIALS = 120
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

# Cooperation-type shares fixed from the literature (not fitted). Each preset: the two config keys
# (the rest of the population are 'other': hump-shaped, unconditional and unclassified
# contributors) and where the numbers come from. Both come from the same elicitation (the
# strategy method of FGF 2001), so they classify the same behaviour the lab rule models.
TYPE_KEYS: tuple[str, str] = ("population.share_conditional", "population.share_free_rider")
TYPE_SHARES: dict[str, dict[str, Any]] = {
    "thoni_volk_2018": {
        "population.share_conditional": 0.61,
        "population.share_free_rider": 0.19,
        "source": (
            "Thoeni & Volk 2018, 'Conditional cooperation: Review and refinement', Economics Letters 171: 37-40: "
            "pooled over the replications of the FGF (2001) design they review, about 61% conditional cooperators "
            "and 19% free riders; the remaining 20% (hump-shaped and others) are 'other'"
        ),
    },
    "fgf_2001": {
        "population.share_conditional": 0.50,
        "population.share_free_rider": 0.30,
        "source": (
            "Fischbacher, Gaechter & Fehr 2001, 'Are people conditionally cooperative?', Economics Letters 71: "
            "397-404: 50% conditional cooperators, 30% free riders, 14% hump-shaped and 6% other "
            "(44 subjects, Zurich); hump-shaped and other are 'other' here"
        ),
    },
}
# The default: the pooled evidence of many subject pools (thousands of subjects) rather than the one
# original session of 44 students, which it replicates; FGF 2001 stays the documented alternative.
DEFAULT_TYPES = "thoni_volk_2018"
OUTPUTS: dict[str, Path] = {
    "thoni_volk_2018": OUTPUT,
    "fgf_2001": ROOT / "configs" / "calibration" / "lab_fit_fgf_2001.json",
}
# The calibration shipped before the shares were fixed (they were fitted: 6.7% free riders), kept
# for the before/after comparison in docs/validation.md.
PREVIOUS = ROOT / "configs" / "calibration" / "lab_fit_fitted_shares.json"

# (dotted key, low, high, why these bounds). Bounds are inclusive and inside the config's own.
SPACE: tuple[tuple[str, float, float, str], ...] = (
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


def _get(cfg: SimConfig, key: str) -> Any:
    section, name = key.split(".")
    return getattr(getattr(cfg, section), name)


def shipped_values(cfg: SimConfig | None = None) -> dict[str, float]:
    """The current defaults of the fitted parameters (those in :data:`SPACE`)."""
    cfg = cfg or SimConfig()
    return {key: _get(cfg, key) for key, *_ in SPACE}


def shipped_shares(cfg: SimConfig | None = None) -> dict[str, float]:
    """The current defaults of the fixed cooperation-type shares."""
    cfg = cfg or SimConfig()
    return {key: _get(cfg, key) for key in TYPE_KEYS}


def fixed_shares(types: str = DEFAULT_TYPES) -> dict[str, float]:
    """The type shares of one literature preset of :data:`TYPE_SHARES`, as dotted config keys.

    Raises:
        KeyError: ``types`` is not a preset (the message lists the presets).

    """
    if types not in TYPE_SHARES:
        raise KeyError(f"type shares {types!r} unknown; allowed: {', '.join(TYPE_SHARES)}")
    return {key: float(TYPE_SHARES[types][key]) for key in TYPE_KEYS}


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
    """The fit at the given parameter values: pooled and per-treatment RMSE, curves, first/last shares.

    Keys not in ``values`` keep their shipped defaults, so pass the type shares too when they
    are not the shipped ones.
    """
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


def search(n_trials: int = N_TRIALS, sampler_seed: int = SAMPLER_SEED, types: str = DEFAULT_TYPES) -> Any:
    """Run the Optuna search (constrained TPE) with the type shares held fixed and return the study.

    Args:
        n_trials: number of Optuna trials.
        sampler_seed: seed of the TPE sampler.
        types: which literature preset of :data:`TYPE_SHARES` fixes the type shares.

    Returns:
        The ``optuna.Study`` with every trial, its loss and its constraint values.

    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=sampler_seed, multivariate=True, n_startup_trials=N_STARTUP)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    data = data_targets()
    endowment = SimConfig().lab.endowment
    shares = fixed_shares(types)

    def objective(trial: optuna.Trial) -> float:
        values = {key: trial.suggest_float(key, lo, hi) for key, lo, hi, _ in SPACE}
        cfg = apply(SimConfig(), {**shares, **values})
        model = curves(cfg)
        for name, value in zip(CONSTRAINT_NAMES, constraints(model, endowment), strict=True):
            trial.set_constraint(name, value)
        return loss(model, data)

    study.optimize(objective, n_trials=n_trials)
    return study


def trace(study: Any, n_trials: int = PREFIX_TRIALS) -> list[dict[str, Any]]:
    """The first ``n_trials`` trials of a search: the sampled values and their loss (exact floats)."""
    return [{"params": dict(t.params), "loss": float(t.value)} for t in study.trials[:n_trials]]


def best_loss(params: dict[str, float], types: str = DEFAULT_TYPES) -> float:
    """The search's loss at (unrounded) searched values, computed as a trial computes it."""
    cfg = apply(SimConfig(), {**fixed_shares(types), **params})
    return loss(curves(cfg), data_targets())


def constraints_at(values: dict[str, float]) -> dict[str, float]:
    """The stylised-fact constraint values (met when at most 0) at the given values, on the calibration seeds."""
    cfg = apply(SimConfig(), values)
    return {k: float(v) for k, v in zip(CONSTRAINT_NAMES, constraints(curves(cfg), cfg.lab.endowment), strict=True)}


def violation(trial: Any) -> float:
    """Total violation of the stylised-fact constraints by an Optuna trial (0 when it meets them all)."""
    values = trial.constraints.values() if trial.constraints else (float("inf"),)
    return float(sum(max(0.0, c) for c in values))


def calibrate(n_trials: int = N_TRIALS, sampler_seed: int = SAMPLER_SEED, types: str = DEFAULT_TYPES) -> dict[str, Any]:
    """Run the search and return the best feasible (rounded) values with their fit and provenance.

    Args:
        n_trials: number of Optuna trials.
        sampler_seed: seed of the TPE sampler.
        types: which literature preset of :data:`TYPE_SHARES` fixes the type shares.

    Returns:
        The content of ``lab_fit.json``. If no trial met the stylised-fact constraints (the fixed
        shares may make them unreachable within the bounds), the trial with the smallest total
        violation (then the smallest loss) is returned instead, with ``"feasible": false`` and
        its violations, so that the failure is reported rather than hidden.

    """
    import optuna

    start = time.perf_counter()
    shares = fixed_shares(types)
    study = search(n_trials, sampler_seed, types)
    seconds = time.perf_counter() - start
    violations = {t.number: violation(t) for t in study.trials}
    feasible = any(v == 0 for v in violations.values())
    if feasible:
        best_trial = study.best_trial
    else:
        best_trial = min(study.trials, key=lambda t: (violations[t.number], t.value))
    best = {key: round(float(best_trial.params[key]), DECIMALS) for key, *_ in SPACE}
    data_sha = hashlib.sha256(lab.DATA_FILE.read_bytes()).hexdigest()
    return {
        "description": (
            "Citizens' conditional-cooperation parameters calibrated to the cross-city mean contribution "
            "curves of Herrmann, Thoeni & Gaechter (2008), without and with punishment, by scripts/calibrate.py, "
            f"with the cooperation-type shares fixed from the literature ({types})"
        ),
        "fixed": {"types": types, "values": shares, "source": TYPE_SHARES[types]["source"]},
        "values": best,
        "fit": evaluate({**shares, **best}),
        "antisocial_arm": antisocial_arm({**shares, **best}),
        "feasible": feasible,
        "constraints_at_values": constraints_at({**shares, **best}),
        "best_trial": {
            "number": best_trial.number,
            "loss_unrounded": float(best_trial.value),
            "params": dict(best_trial.params),
        },
        "search_prefix": trace(study),
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


def antisocial_arm(values: dict[str, float]) -> dict[str, float]:
    """The a-priori settings of the lab's ``antisocial`` arm at the given (fixed and fitted) values.

    Antisocial pressure equals the calibrated punishment strength (in Athens, Riyadh and Muscat
    antisocial punishment was about as common as punishment of free riders, HTG 2008), and the
    first belief (low trust) is the one that gives these pools' first-period mean *without*
    punishment (:func:`sim.lab.belief_for_first_period`, on the calibration seeds). Neither looks at
    their punishment curve, which is the test.
    """
    cfg = apply(SimConfig(), values)
    first = float(lab.data_curve(lab.load_data(), "no_punishment", lab.ANTISOCIAL_POOLS)["mean"].iloc[0])
    belief = lab.belief_for_first_period(cfg.citizens, cfg.population, cfg.lab, first, list(CALIBRATION_SEEDS))
    return {"citizens.antisocial_pressure": cfg.lab.punishment_strength, "citizens.initial_belief": belief}


def check(path: Path = OUTPUT) -> list[str]:
    """Problems with the shipped defaults against the calibration file (empty if none)."""
    saved = json.loads(path.read_text())
    problems = []
    shipped = shipped_values()
    for key, value in saved["values"].items():
        if shipped[key] != value:
            problems.append(f"{key}: shipped default {shipped[key]!r} != calibrated {value!r}")
    shares = shipped_shares()
    for key, value in saved["fixed"]["values"].items():
        if shares[key] != value:
            problems.append(f"{key}: shipped default {shares[key]!r} != fixed share {value!r} of the calibration")
    fit = evaluate({**shares, **shipped})
    if abs(fit["rmse_pooled_tokens"] - saved["fit"]["rmse_pooled_tokens"]) > 1e-9:
        problems.append(
            f"pooled RMSE at the shipped defaults {fit['rmse_pooled_tokens']:.6f} != reported "
            f"{saved['fit']['rmse_pooled_tokens']:.6f}"
        )
    return problems


def _same_trials(a: Any, b: Any, exact: bool) -> bool:
    """Equal, or (not ``exact``) the same structure with every float within 1e-12 (relative)."""
    if exact or isinstance(a, bool) or not isinstance(a, (dict, list, float)):
        return bool(a == b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same_trials(a[k], b[k], exact) for k in a)
    if isinstance(a, list):
        return (
            isinstance(b, list)
            and len(a) == len(b)
            and all(_same_trials(x, y, exact) for x, y in zip(a, b, strict=True))
        )
    return isinstance(b, float) and abs(a - b) <= 1e-12 * max(abs(a), abs(b), 1e-3)


def check_rerun(path: Path = OUTPUT, types: str = DEFAULT_TYPES) -> list[str]:
    """Rerun the whole search as recorded in the calibration file; differences from it (empty if none).

    The full-size check behind the test suite's reduced one (the recorded first trials and best
    trial): that every trial after them still leads to the same best values and fit. The values,
    the fit and the random start-up's trials must be equal; the TPE trials' sampled points and
    losses too where numpy's SIMD paths are those of the machine that made the file, or with
    ``SIM_REPRO_EXACT=1``; elsewhere they must agree to 1e-12 (Optuna's TPE computes with numpy:
    on an AVX-512 machine the best trial of the shipped search is the same trial with the same
    loss, its points moved in the last bit).
    """
    from sim.reproducibility import exact_comparison

    saved = json.loads(path.read_text())
    method = saved["method"]
    exact = exact_comparison(method.get("cpu"))
    rerun = calibrate(method["n_trials"], method["sampler_seed"], saved.get("fixed", {}).get("types", types))
    # Only what the file records (older files have no first trials or best trial's values).
    rerun["best_trial"] = {k: rerun["best_trial"][k] for k in saved.get("best_trial", {})}
    problems = [
        f"{key}: rerun gives {rerun[key]!r}, {path.name} has {saved[key]!r}"
        for key in ("values", "fit")
        if key in saved and rerun[key] != saved[key]
    ]
    if "best_trial" in saved and not _same_trials(rerun["best_trial"], saved["best_trial"], exact):
        problems.append(f"best_trial: rerun gives {rerun['best_trial']!r}, {path.name} has {saved['best_trial']!r}")
    if "search_prefix" in saved:
        new, old = rerun["search_prefix"], saved["search_prefix"]
        # The random start-up's trials are exact on any CPU (the model's arithmetic is portable).
        differing = (
            i for i, (a, b) in enumerate(zip(new, old, strict=False)) if not _same_trials(a, b, exact or i < N_STARTUP)
        )
        first = next(differing, None)
        if first is None and len(new) != len(old):
            first = min(len(new), len(old))  # one is longer: the first trial only one has
        if first is not None:
            problems.append(f"search_prefix: the rerun's trial {first} differs from {path.name}'s")
    return problems


def report(result: dict[str, Any]) -> str:
    """A short text summary of a calibration result."""
    fit = result["fit"]
    lines = [
        f"type shares fixed ({result['fixed']['types']}): "
        + ", ".join(f"{k} = {v}" for k, v in result["fixed"]["values"].items()),
        f"pooled RMSE {fit['rmse_pooled_tokens']:.3f} tokens",
    ]
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
    parser.add_argument(
        "--types",
        choices=tuple(TYPE_SHARES),
        default=DEFAULT_TYPES,
        help=f"literature source of the fixed cooperation-type shares (default {DEFAULT_TYPES})",
    )
    parser.add_argument("--out", type=Path, default=None, help="where to write the JSON result (default per --types)")
    parser.add_argument("--check", action="store_true", help="only check the shipped defaults against --out")
    parser.add_argument(
        "--check-rerun",
        action="store_true",
        help="rerun the whole search recorded in --out (minutes) and check it gives the same values and fit",
    )
    args = parser.parse_args(argv)
    out = args.out or OUTPUTS[args.types]
    if args.check_rerun:
        problems = check_rerun(out, args.types)
        for p in problems:
            print(p, file=sys.stderr)
        if not problems:
            print(f"the rerun search reproduces {out}: same values, fit, best trial and first trials")
        return 1 if problems else 0
    if args.check:
        problems = check(args.out or OUTPUT)
        for p in problems:
            print(p, file=sys.stderr)
        if not problems:
            print(f"shipped defaults match {args.out or OUTPUT} and reproduce its fit")
        return 1 if problems else 0
    if args.trials < 1:
        parser.error(f"--trials {args.trials}: allowed: a whole number of at least 1")
    result = calibrate(args.trials, args.sampler_seed, args.types)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(report(result))
    print(f"wrote {out} ({result['method']['seconds']} s)")
    if not result["feasible"]:
        print(
            f"calibrate.py: no trial of {args.trials} met the stylised-fact constraints with the {args.types} "
            "shares; wrote the least-violating trial, marked feasible: false",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
