"""Validation: the model's figure beside the empirical one for each published finding.

One command writes ``docs/validation.md`` (and ``docs/figures/``) from numbers computed now::

    .venv/bin/python scripts/validate.py

It runs the packaged defaults (the calibrated citizens) on 10 common seeds: the full model under
``none``, ``targets`` and ``none`` with a small payment for volunteering, and the public-goods
laboratory (``experiment=public_goods_lab``, 10 replications). Each finding is a
:class:`Finding`: its source, the empirical figure, the model's statistic with a 95% t-interval
over seeds, the pass criterion and the verdict. ``tests/validation/`` asserts the same findings
with the same functions, so the report and the tests cannot disagree.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from sim import lab  # noqa: E402
from sim.config import SimConfig, compose, to_sim_config  # noqa: E402
from sim.runner import arm_configs, replication_seeds, simulate  # noqa: E402

DOCS = ROOT / "docs"
REPORT = DOCS / "validation.md"
FIGURES = DOCS / "figures"
CALIBRATION = ROOT / "configs" / "calibration" / "lab_fit.json"
# The documented alternative type shares (FGF 2001) and the calibration before the shares were fixed.
CALIBRATION_ALTERNATIVE = ROOT / "configs" / "calibration" / "lab_fit_fgf_2001.json"
CALIBRATION_PREVIOUS = ROOT / "configs" / "calibration" / "lab_fit_fitted_shares.json"
# Rows of the before/after fit table in docs/validation.md: label -> calibration file.
FIT_ROWS: dict[str, Path] = {
    "before: shares fitted": CALIBRATION_PREVIOUS,
    "default: shares of Thoeni & Volk 2018": CALIBRATION,
    "alternative: shares of FGF 2001": CALIBRATION_ALTERNATIVE,
}
SHARE_KEYS = ("population.share_conditional", "population.share_free_rider")
SEEDS: tuple[int, ...] = tuple(range(10))
STEPS = 120
PAYMENT_STEPS = 36
SMALL_PAYMENT = 1.0  # GBP an hour
LAB_EXPERIMENT = "public_goods_lab"
LAB_ROOT_SEED = 0  # the experiment's root seed (its default `seed`)
LAB_REPLICATIONS = 10

# Full-model arms on common seeds: (overrides, steps).
ARMS: dict[str, tuple[list[str], int]] = {
    "none": (["regime=none"], STEPS),
    "targets": (["regime=targets"], STEPS),
    "paid": (["regime=none", f"regime.payment_per_hour={SMALL_PAYMENT:g}"], PAYMENT_STEPS),
    # The survey mapping's sensitivity: the activity threshold before it was set for the survey.
    "none_2h": (["regime=none", "citizens.activity_threshold_hours=2"], STEPS),
}
# Community Life Survey (DCMS), England, 2013/14-2023/24: share of adults taking part at least once a month.
CLS_FORMAL = (0.16, 0.27)
CLS_INFORMAL = (0.26, 0.34)
CLS_WINDOW = 60  # last months averaged
# Acceptance of the laboratory (issue #4).
LAB_FIRST = (0.45, 0.60)
LAB_LAST = (0.15, 0.30)
LAB_MAX_RMSE = 2.0


# ---------------------------------------------------------------------- statistics
def t_interval(values: np.ndarray | pd.Series) -> tuple[float, float, float]:
    """Mean and 95% t-interval of per-seed values."""
    from scipy import stats

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    mean = float(v.mean())
    if len(v) < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return mean, mean - half, mean + half


def window(panel: pd.DataFrame, column: str, first: int, last: int) -> pd.Series:
    """Per seed: the mean of ``column`` over months ``first`` to ``last`` (inclusive)."""
    rows = panel[(panel["step"] >= first) & (panel["step"] <= last)]
    return rows.groupby("seed")[column].mean()


@dataclass
class Finding:
    """One published finding and the model's figure for it.

    Attributes:
        key: short identifier.
        title: the finding in words.
        source: where it is published.
        empirical: the empirical figure (or direction) reported there.
        statistic: what the model figure is.
        mean: the model figure (mean over seeds).
        ci_low: lower end of its 95% interval over seeds.
        ci_high: upper end.
        n_seeds: seeds behind it.
        seeds_holding: seeds on which the criterion holds seed by seed.
        criterion: the pass rule.
        passed: whether the model meets it.
        unit: unit of the figure.
        detail: further figures for the report.

    """

    key: str
    title: str
    source: str
    empirical: str
    statistic: str
    mean: float
    ci_low: float
    ci_high: float
    n_seeds: int
    seeds_holding: int
    criterion: str
    passed: bool
    unit: str = ""
    detail: str = ""


def _finding(per_seed: pd.Series, holds: Callable[[float], bool], passed_ci: bool, **kw: Any) -> Finding:
    mean, lo, hi = t_interval(per_seed)
    holding = int(sum(holds(float(v)) for v in per_seed))
    return Finding(mean=mean, ci_low=lo, ci_high=hi, n_seeds=len(per_seed), seeds_holding=holding,
                   passed=bool(passed_ci and holding == len(per_seed)), **kw)  # fmt: skip


# ---------------------------------------------------------------------- runs
def seed_configs(overrides: list[str] | tuple[str, ...], steps: int, seeds: tuple[int, ...]) -> list[SimConfig]:
    """The validated config of one arm on each seed, composed once and re-seeded.

    Composing with Hydra costs more than a 120-month run, and the arms differ between seeds only in
    ``seed``. That holds only while no config value is derived from the seed (an interpolation such as
    ``${seed}``), so the arm is also composed at the last seed and must equal the re-seeded copy.
    """

    def composed(seed: int) -> SimConfig:
        return to_sim_config(compose(["output.save=false", f"seed={seed}", f"steps={steps}", *overrides]))

    base = composed(seeds[0])
    out = [dataclasses.replace(copy.deepcopy(base), seed=seed) for seed in seeds]
    if len(seeds) > 1 and composed(seeds[-1]) != out[-1]:
        raise RuntimeError(f"{list(overrides)}: the config depends on the seed beyond `seed`; compose every seed")
    return out


@cache
def _arm_panel(overrides: tuple[str, ...], steps: int, seeds: tuple[int, ...]) -> pd.DataFrame:
    """One arm's time series on the seeds, stacked with a ``seed`` column (computed once per process)."""
    frames = []
    for cfg in seed_configs(overrides, steps, seeds):
        ts = simulate(cfg)
        ts.insert(0, "seed", cfg.seed)
        frames.append(ts)
    return pd.concat(frames, ignore_index=True)


def arm_panel(overrides: list[str], steps: int, seeds: tuple[int, ...] = SEEDS) -> pd.DataFrame:
    """One arm's time series on the common seeds; an arm shared by the report's sections runs once."""
    return _arm_panel(tuple(overrides), steps, tuple(seeds)).copy()


def full_model_panels(seeds: tuple[int, ...] = SEEDS, arms: tuple[str, ...] | None = None) -> dict[str, pd.DataFrame]:
    """Time series of the full-model arms (all of :data:`ARMS` unless ``arms``) on the common seeds."""
    return {arm: arm_panel(*ARMS[arm], seeds) for arm in (arms or tuple(ARMS))}


def lab_panel(replications: int = LAB_REPLICATIONS) -> pd.DataFrame:
    """The ``public_goods_lab`` experiment's arms x replications, as the experiment runs them."""
    from omegaconf import OmegaConf

    overrides = [f"experiment={LAB_EXPERIMENT}"]
    cfg = compose(overrides)
    exp = OmegaConf.to_object(cfg.experiment)
    seeds = replication_seeds(LAB_ROOT_SEED, replications)
    return lab.play_arms(arm_configs(overrides, exp), seeds)  # type: ignore[arg-type]


def lab_curves(ts: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per arm: mean contribution per period and replication, wide (rows: replications, columns: periods)."""
    return {
        str(arm): g.pivot(index="replication", columns="period", values="mean_contribution")
        for arm, g in ts.groupby("arm", sort=False)
    }


# ---------------------------------------------------------------------- the findings
def bunching(p: dict[str, pd.DataFrame]) -> Finding:
    """Sanctioned targets bunch recorded values on the passing side of the standard."""
    t = window(p["targets"], "bunching_ratio", 12, STEPS - 1)
    n_mean, n_lo, n_hi = t_interval(window(p["none"], "bunching_ratio", 12, STEPS - 1))
    ok_none = 0.7 <= n_mean <= 1.4
    _, lo, _ = t_interval(t)
    return _finding(
        t,
        lambda v: v >= 2,
        lo >= 2 and ok_none,
        key="bunching",
        title="Sanctioned targets produce bunching of recorded values on the passing side of the standard",
        source="Bevan & Hood 2006 (English ambulance response times bunched just under the 8-minute standard)",
        empirical="a spike of records just inside the standard, none outside it; criterion ratio >= 2",
        statistic="records just passing / just failing under `targets`, months 12-119",
        criterion="95% CI lower bound >= 2 and every seed >= 2; under `none` the mean ratio within 0.7-1.4",
        unit="ratio",
        detail=f"under `none`: {n_mean:.2f} [{n_lo:.2f}, {n_hi:.2f}]",
    )


def campbell(p: dict[str, pd.DataFrame]) -> Finding:
    """Campbell's law: the indicator tracks the true outcome less once it is sanctioned."""
    d = window(p["targets"], "indicator_true_corr", 60, STEPS - 1) - window(p["none"], "indicator_true_corr", 60, 119)
    _, _, hi = t_interval(d)
    start = float(p["targets"].loc[p["targets"]["step"] == 0, "indicator_true_corr"].mean())
    late = float(window(p["targets"], "indicator_true_corr", 60, STEPS - 1).mean())
    return _finding(
        d,
        lambda v: v < 0,
        hi < 0,
        key="campbell",
        title="The indicator's correlation with the true outcome falls once it is sanctioned (Campbell's law)",
        source="Campbell 1979; Bevan & Hood 2006",
        empirical="direction: correlation lower under sanctioned targets",
        statistic="correlation across services of recorded and true outcome, `targets` minus `none`, months 60-119",
        criterion="paired difference < 0: 95% CI upper bound < 0 and every seed < 0",
        unit="correlation",
        detail=f"under `targets` it falls from {start:.2f} at month 0 to {late:.2f} in months 60-119",
    )


def targets_work(p: dict[str, pd.DataFrame]) -> Finding:
    """Targets raise true performance on the measured dimension compared with no management."""
    d = window(p["targets"], "true_measured_outcome", 0, STEPS - 1) - window(p["none"], "true_measured_outcome", 0, 119)
    first_year = window(p["targets"], "true_measured_outcome", 0, 11) - window(
        p["none"], "true_measured_outcome", 0, 11
    )
    fy, fy_lo, fy_hi = t_interval(first_year)
    _, lo, _ = t_interval(d)
    return _finding(
        d,
        lambda v: v > 0,
        lo > 0,
        key="targets_work",
        title="Targets raise true performance on the measured dimension compared with no performance management",
        source="Kelman & Friedman 2009 (English A&E 4-hour target); Propper et al. 2010 (England vs Scotland waits)",
        empirical="direction: real improvement on the targeted measure, not only in the records",
        statistic="true pass rate on the measured dimension, `targets` minus `none`, months 0-119",
        criterion="paired difference > 0: 95% CI lower bound > 0 and every seed > 0",
        unit="share of cases",
        detail=f"first year alone: {100 * fy:+.1f} pp [{100 * fy_lo:+.1f}, {100 * fy_hi:+.1f}]",
    )


def displacement(p: dict[str, pd.DataFrame]) -> Finding:
    """With fixed capacity, improving a measured domain worsens an unmeasured one."""
    d = window(p["targets"], "true_unmeasured_outcome", 0, STEPS - 1) - window(
        p["none"], "true_unmeasured_outcome", 0, STEPS - 1
    )
    m = window(p["targets"], "true_measured_outcome", 0, STEPS - 1) - window(
        p["none"], "true_measured_outcome", 0, STEPS - 1
    )
    _, _, hi = t_interval(d)
    _, m_lo, _ = t_interval(m)
    both = (d < 0) & (m > 0)
    f = _finding(
        d,
        lambda v: v < 0,
        hi < 0 and m_lo > 0,
        key="displacement",
        title="With fixed capacity, improving a measured domain worsens an unmeasured one (displacement)",
        source="Holmstrom & Milgrom 1991; Bevan & Hood 2006 (effort moved from unmeasured to measured work)",
        empirical="direction: unmeasured outcome falls while the measured one rises",
        statistic="true unmeasured outcome, `targets` minus `none` (same capacity, same seeds), months 0-119",
        criterion="unmeasured difference < 0 (95% CI upper bound < 0) while measured difference > 0, on every seed",
        unit="share of cases",
        detail=f"measured dimension at the same time: {100 * m.mean():+.1f} pp",
    )
    f.seeds_holding = int(both.sum())
    f.passed = f.passed and bool(both.all())
    return f


def crowding_out(p: dict[str, pd.DataFrame]) -> Finding:
    """A small payment for volunteering crowds out participation among the intrinsically motivated."""
    months = PAYMENT_STEPS - 1
    d = window(p["paid"], "volunteering_rate_motivated", 0, months) - window(
        p["none"], "volunteering_rate_motivated", 0, months
    )
    _, _, hi = t_interval(d)
    return _finding(
        d,
        lambda v: v < 0,
        hi < 0,
        key="crowding_out",
        title="A small payment for volunteering crowds out participation among the intrinsically motivated",
        source="Frey & Jegen 2001 (review); Gneezy & Rustichini 2000; Frey & Goette 1999",
        empirical="direction: a small payment lowers participation below unpaid",
        statistic=(
            f"monthly volunteering rate of the motivated (motivation >= 0.6), GBP {SMALL_PAYMENT:g}/hour minus "
            f"unpaid, months 0-{months}"
        ),
        criterion="paired difference < 0: 95% CI upper bound < 0 and every seed < 0",
        unit="share of citizens",
    )


def lab_decay(curves: dict[str, pd.DataFrame], endowment: float = 20.0) -> Finding:
    """Contributions decay without support and are held up by peer sanction (the laboratory)."""
    data = lab.load_data()
    npun, pun = curves["no_punishment"], curves["punishment"]
    first, last = npun.iloc[:, 0] / endowment, npun.iloc[:, -1] / endowment
    rise = pun.iloc[:, -1] - pun.iloc[:, 0]
    rmse_n = lab.rmse(npun.mean().to_numpy(), lab.data_curve(data, "no_punishment")["mean"].to_numpy())
    rmse_p = lab.rmse(pun.mean().to_numpy(), lab.data_curve(data, "punishment")["mean"].to_numpy())
    f_mean, f_lo, f_hi = t_interval(first)
    l_mean, l_lo, l_hi = t_interval(last)
    r_mean, r_lo, r_hi = t_interval(rise)
    ok = (
        LAB_FIRST[0] <= f_lo
        and f_hi <= LAB_FIRST[1]
        and LAB_LAST[0] <= l_lo
        and l_hi <= LAB_LAST[1]
        and r_lo >= 0
        and rmse_n <= LAB_MAX_RMSE
        and rmse_p <= LAB_MAX_RMSE
    )
    d = lab.data_curve(data, "no_punishment")["mean"].to_numpy()
    dp = lab.data_curve(data, "punishment")["mean"].to_numpy()
    f = _finding(
        last,
        lambda v: LAB_LAST[0] <= v <= LAB_LAST[1],
        ok,
        key="lab",
        title="Contributions decay without support and are held up by peer sanction (public-goods laboratory)",
        source="Herrmann, Thoeni & Gaechter 2008 (16 cities); Fehr & Gaechter 2000",
        empirical=(
            f"no punishment: {d[0] / endowment:.0%} of the endowment in period 1, {d[-1] / endowment:.0%} in "
            f"period 10; punishment: {dp[0] / endowment:.0%} rising to {dp[-1] / endowment:.0%}"
        ),
        statistic="no punishment: period-10 mean contribution, share of the endowment",
        criterion=(
            f"no punishment: period 1 in {LAB_FIRST[0]:.0%}-{LAB_FIRST[1]:.0%} and period 10 in "
            f"{LAB_LAST[0]:.0%}-{LAB_LAST[1]:.0%} (95% CIs inside); punishment: period 10 - period 1 >= 0 "
            f"(CI lower bound); RMSE against the cross-city mean <= {LAB_MAX_RMSE:g} tokens in each treatment"
        ),
        unit="share of endowment",
        detail=(
            f"period 1: {f_mean:.1%} [{f_lo:.1%}, {f_hi:.1%}]; period 10: {l_mean:.1%} [{l_lo:.1%}, {l_hi:.1%}]; "
            f"punishment rise: {r_mean:+.2f} [{r_lo:+.2f}, {r_hi:+.2f}] tokens; "
            f"RMSE {rmse_n:.2f} (no punishment) and {rmse_p:.2f} (punishment) tokens"
        ),
    )
    return f


def antisocial(curves: dict[str, pd.DataFrame]) -> Finding:
    """Low trust and much antisocial punishment flatten the punishment curve (HTG 2008's second finding)."""
    data = lab.load_data()
    d = lab.data_curve(data, "punishment", lab.ANTISOCIAL_POOLS)["mean"].to_numpy()
    others = lab.load_data()
    others = others[~others["city"].isin(lab.ANTISOCIAL_POOLS)]
    o = lab.data_curve(others, "punishment")["mean"].to_numpy()
    anti, pun = curves["antisocial"], curves["punishment"]
    rise = anti.iloc[:, -1] - anti.iloc[:, 0]
    rise_p = pun.iloc[:, -1] - pun.iloc[:, 0]
    # Flattened: the change is within a third of the punishment arm's rise either way, as in the
    # data (+0.25 vs +2.7 tokens). A curve that falls instead is not flat.
    ratio = rise / rise_p
    _, lo, hi = t_interval(ratio)
    return _finding(
        rise,
        lambda v: abs(v - (d[-1] - d[0])) <= 1.0,
        lo >= -1 / 3 and hi <= 1 / 3,
        key="antisocial",
        title="Low trust and much antisocial punishment flatten the punishment curve",
        source="Herrmann, Thoeni & Gaechter 2008 (Athens, Riyadh, Muscat)",
        empirical=(
            f"punishment curve, period 10 minus period 1: {d[-1] - d[0]:+.2f} tokens in the three antisocial pools "
            f"vs {o[-1] - o[0]:+.2f} in the other 13"
        ),
        statistic="arm `antisocial` (a priori: antisocial pressure = punishment strength, low first beliefs): "
        "period 10 minus period 1, tokens",
        criterion=(
            "change within a third of the `punishment` arm's rise either way (95% CI of the ratio in [-1/3, 1/3])"
        ),
        unit="tokens",
        detail=f"`punishment` arm: {rise_p.mean():+.2f} tokens; ratio {ratio.mean():.2f}",
    )


def cls_baseline(p: dict[str, pd.DataFrame]) -> list[Finding]:
    """Monthly formal volunteering and informal helping at default settings under `none`."""
    out = []
    for column, (lo_r, hi_r), what, question in (
        (
            "volunteering_rate",
            CLS_FORMAL,
            "formal volunteering",
            "formal volunteering (unpaid help through groups, clubs or organisations) at least once a month",
        ),
        (
            "caring_rate",
            CLS_INFORMAL,
            "informal helping",
            "informal volunteering (unpaid help as an individual to people who are not relatives) "
            "at least once a month",
        ),
    ):
        v = window(p["none"], column, STEPS - CLS_WINDOW, STEPS - 1)
        _, lo, hi = t_interval(v)
        out.append(
            _finding(
                v,
                lambda x, lo_r=lo_r, hi_r=hi_r: lo_r <= x <= hi_r,
                lo_r <= lo and hi <= hi_r,
                key=f"cls_{column}",
                title=f"Baseline: monthly {what} in England",
                source="Community Life Survey 2013/14-2023/24 (DCMS), England: " + question,
                empirical=f"{lo_r:.0%}-{hi_r:.0%} of adults over 2013-2024",
                statistic=f"`{column}` under `none` at the defaults, mean of months {STEPS - CLS_WINDOW}-{STEPS - 1}",
                criterion=f"95% CI inside {lo_r:.0%}-{hi_r:.0%} and every seed inside",
                unit="share of citizens",
            )
        )
    return out


FULL_MODEL_FINDINGS: tuple[Callable[[dict[str, pd.DataFrame]], Finding], ...] = (
    bunching,
    campbell,
    targets_work,
    displacement,
    crowding_out,
)


# ---------------------------------------------------------------------- patterns (issue 14)
# Places where targets should work best (little ethos, much slack; DESIGN.md section 3.7) and
# where gaming is costly; the presets at the defaults; payments small and large.
LOW_ETHOS = ["services.ethos_mean=0.3", "services.slack_value=1.2"]
COSTLY_GAMING = ["services.manipulation_cost=1.0"]
LARGE_PAYMENT = 30.0  # GBP an hour, the top of the payment experiment's grid
PRESETS = ("targets", "negotiated", "functioning", "none", "targets_guarantee", "targets_partnership",
           "local_targets", "negotiated_unpaid")  # fmt: skip
PATTERN_ARMS: dict[str, tuple[list[str], int]] = {
    **{p: ([f"regime={p}"], STEPS) for p in PRESETS},
    "targets_low": (["regime=targets", *LOW_ETHOS], STEPS),
    "none_low": (["regime=none", *LOW_ETHOS], STEPS),
    "targets_costly": (["regime=targets", *COSTLY_GAMING], STEPS),
    "none_costly": (["regime=none", *COSTLY_GAMING], STEPS),
    "paid_small": (["regime=none", f"regime.payment_per_hour={SMALL_PAYMENT:g}"], STEPS),
    "paid_large": (["regime=none", f"regime.payment_per_hour={LARGE_PAYMENT:g}"], STEPS),
}
TOP_BOTTOM_RATIO = 2.0  # Verba, Schlozman & Brady 1995: the best-off take part several times as often


def pattern_panels(seeds: tuple[int, ...] = SEEDS) -> dict[str, pd.DataFrame]:
    """Time series of the pattern arms on the common seeds; ``forum``: per seed and forum round, who attended.

    The negotiated runs are stepped month by month so that each forum round's attendance can be read
    from the citizens' state (``participated``) beside their resources and needs.
    """
    from sim.model import SocialProductivityModel
    from sim.rules import forum

    out: dict[str, pd.DataFrame] = {}
    for arm, (overrides, steps) in PATTERN_ARMS.items():
        if arm != "negotiated":
            out[arm] = arm_panel(overrides, steps, seeds)
    frames, rounds = [], []
    for cfg in seed_configs(["regime=negotiated"], STEPS, seeds):
        seed = cfg.seed
        m = SocialProductivityModel(cfg)
        for _ in range(STEPS):
            m.step()
            cit, comm = m.citizens, m.communities_state
            met = comm.last_round[cit.community] == m.month - 1  # a round was held this month
            if not met.any():
                continue
            res = forum.resources_index(
                cit.budget, comm.deprivation[cit.community], cit.own_need, float(np.median(cit.budget))
            )[met]
            attended = cit.participated[met].astype(float)
            quint = pd.qcut(res, 5, labels=False, duplicates="drop")
            by_q = pd.Series(attended).groupby(quint).mean()
            need = cit.need[met].mean(axis=1)
            rounds.append(
                {
                    "seed": seed,
                    "month": m.month - 1,
                    "turnout": float(attended.mean()),
                    "top_fifth": float(by_q.iloc[-1]),
                    "bottom_fifth": float(by_q.iloc[0]),
                    "need_attenders": float(need[attended > 0].mean()) if attended.any() else float("nan"),
                    "need_residents": float(need.mean()),
                }
            )
        ts = m.timeseries()
        ts.insert(0, "seed", seed)
        frames.append(ts)
    out["negotiated"] = pd.concat(frames, ignore_index=True)
    out["forum"] = pd.DataFrame(rounds)
    return out


def targets_work_low_ethos(p: dict[str, pd.DataFrame]) -> Finding:
    """Targets raise real measured performance most in low-ethos, high-slack services, alongside gaming."""
    col = "true_measured_outcome"
    low = window(p["targets_low"], col, 0, STEPS - 1) - window(p["none_low"], col, 0, STEPS - 1)
    default = window(p["targets"], col, 0, STEPS - 1) - window(p["none"], col, 0, STEPS - 1)
    more = low - default
    bunch = window(p["targets_low"], "bunching_ratio", 12, STEPS - 1)
    _, lo, _ = t_interval(low)
    _, m_lo, _ = t_interval(more)
    _, b_lo, _ = t_interval(bunch)
    d_mean, d_lo, d_hi = t_interval(default)
    b_mean = float(bunch.mean())
    f = _finding(
        low,
        lambda v: v > 0,
        lo > 0 and m_lo > 0 and b_lo >= 2,
        key="targets_low_ethos",
        title="Targets raise real performance on the measured dimension, most in low-ethos, high-slack services, "
        "alongside gaming",
        source="Propper et al. 2008, 2010 (England's waiting-time targets against Scotland); Bevan & Hood 2006 "
        "(gaming alongside)",
        empirical="direction: real gains on the targeted waits in England, with gaming of the recorded figures",
        statistic="true pass rate on the measured dimension, `targets` minus `none`, months 0-119, at "
        f"{', '.join(LOW_ETHOS)}",
        criterion="difference > 0 (95% CI lower bound, every seed), larger than at the defaults (paired, CI "
        "lower bound > 0), and bunching ratio >= 2 under targets there (CI lower bound)",
        unit="share of cases",
        detail=f"at the defaults: {100 * d_mean:+.1f} pp [{100 * d_lo:+.1f}, {100 * d_hi:+.1f}]; bunching ratio "
        f"{b_mean:.2f} (lower bound {b_lo:.2f})",
    )
    f.seeds_holding = int(((low > 0) & (more > 0) & (bunch >= 2)).sum())
    f.passed = f.passed and f.seeds_holding == len(low)
    return f


def unmeasured_intact(p: dict[str, pd.DataFrame]) -> Finding:
    """Where gaming is costly, targets leave unmeasured work largely intact."""
    col = "unmeasured_work_share"
    last = (STEPS - 12, STEPS - 1)
    ratio = window(p["targets_costly"], col, *last) / window(p["none_costly"], col, *last)
    _, lo, _ = t_interval(ratio)
    default = window(p["targets"], col, *last) / window(p["none"], col, *last)
    return _finding(
        ratio,
        lambda v: v >= 0.5,
        lo >= 0.5,
        key="unmeasured_intact",
        title="Where gaming is costly, targets leave unmeasured work largely intact",
        source="Kelman & Friedman 2009 (English A&E four-hour target: no sign of effort taken from other care)",
        empirical="direction: little displacement of effort from unmeasured work",
        statistic="share of capacity on unmeasured work, `targets` over `none`, last 12 months, at "
        f"{', '.join(COSTLY_GAMING)}",
        criterion="ratio >= 0.5 (at least half kept: 95% CI lower bound and every seed)",
        unit="ratio",
        detail=f"at the defaults (cheap gaming): {default.mean():.2f}",
    )


def forum_skew(p: dict[str, pd.DataFrame]) -> Finding:
    """Forum attendance follows resources: the best-off fifth attends more than the worst-off."""
    r = p["forum"]
    per_seed = r.groupby("seed")["top_fifth"].mean() / r.groupby("seed")["bottom_fifth"].mean()
    _, lo, _ = t_interval(per_seed)
    need_gap = (r["need_attenders"] - r["need_residents"]).groupby(r["seed"]).mean()
    g_mean, g_lo, g_hi = t_interval(need_gap)
    turnout = float(r["turnout"].mean())
    return _finding(
        per_seed,
        lambda v: v >= TOP_BOTTOM_RATIO,
        lo >= TOP_BOTTOM_RATIO and g_hi < 0,
        key="forum_skew",
        title="Forum participation is skewed to the better-off and more confident, so deals weigh attenders' "
        "(lower) needs",
        source="Verba, Schlozman & Brady 1995 (participation follows resources); Fung 2006 (self-selection)",
        empirical="the best-off take part several times as often as the worst-off",
        statistic="attendance of the best-off fifth of residents (resources index) over the worst-off fifth, "
        "forum rounds under `negotiated` at the defaults",
        criterion=f"ratio >= {TOP_BOTTOM_RATIO:g} (95% CI lower bound, every seed) and attenders' mean need below "
        "residents' (95% CI upper bound < 0)",
        unit="ratio",
        detail=f"attenders' need minus residents': {g_mean:+.3f} [{g_lo:+.3f}, {g_hi:+.3f}]; mean turnout "
        f"{turnout:.1%}",
    )


def forum_outcome_skew(p: dict[str, pd.DataFrame]) -> Finding:
    """Negotiated outcomes skew towards attenders: the gap between deprived and affluent places widens."""
    d = window(p["negotiated"], "equity_gap", 0, STEPS - 1) - window(p["none"], "equity_gap", 0, STEPS - 1)
    _, lo, _ = t_interval(d)
    return _finding(
        d,
        lambda v: v > 0,
        lo > 0,
        key="forum_outcome_skew",
        title="Negotiated outcomes are skewed towards attenders' needs: the equity gap widens under negotiation",
        source="Verba, Schlozman & Brady 1995; Fung 2006",
        empirical="direction: outcomes follow those who take part, so the better-off gain more",
        statistic="equity gap (true outcome, least minus most deprived communities), `negotiated` minus `none`, "
        "months 0-119",
        criterion="paired difference > 0: 95% CI lower bound > 0 and every seed > 0",
        unit="share of cases",
    )


def price_effect(p: dict[str, pd.DataFrame]) -> Finding:
    """Small pay lowers volunteering; large pay raises it again (above unpaid)."""
    col = "volunteering_rate"
    last = (STEPS - 12, STEPS - 1)
    unpaid = window(p["none"], col, *last)
    small = window(p["paid_small"], col, *last) - unpaid
    large = window(p["paid_large"], col, *last) - unpaid
    _, s_lo, s_hi = t_interval(small)
    _, l_lo, _ = t_interval(large)
    s_mean = float(small.mean())
    f = _finding(
        large,
        lambda v: v > 0,
        s_hi < 0 and l_lo > 0,
        key="price_effect",
        title="Paying volunteers: small pay lowers participation, large pay raises it again",
        source="Gneezy & Rustichini 2000 ('pay enough or don't pay at all'); Frey & Jegen 2001; DESIGN.md 3.4",
        empirical="direction: a U-shape, below unpaid at small pay and above it at large pay",
        statistic=f"monthly formal volunteering under `none`, GBP {LARGE_PAYMENT:g}/hour minus unpaid, last 12 "
        "of 120 months",
        criterion=f"GBP {SMALL_PAYMENT:g}/hour minus unpaid < 0 and GBP {LARGE_PAYMENT:g}/hour minus unpaid > 0 "
        "(95% CIs and every seed)",
        unit="share of citizens",
        detail=f"GBP {SMALL_PAYMENT:g}/hour minus unpaid: {100 * s_mean:+.1f} pp [{100 * s_lo:+.1f}, "
        f"{100 * s_hi:+.1f}]",
    )
    f.seeds_holding = int(((small < 0) & (large > 0)).sum())
    f.passed = f.passed and f.seeds_holding == len(large)
    return f


def volunteering_every_preset(p: dict[str, pd.DataFrame]) -> list[Finding]:
    """Monthly formal volunteering stays within the surveys' range under every preset at the defaults."""
    out = []
    for preset in PRESETS:
        v = window(p[preset], "volunteering_rate", STEPS - CLS_WINDOW, STEPS - 1)
        _, lo, hi = t_interval(v)
        out.append(
            _finding(
                v,
                lambda x: CLS_FORMAL[0] <= x <= CLS_FORMAL[1],
                CLS_FORMAL[0] <= lo and hi <= CLS_FORMAL[1],
                key=f"volunteering_{preset}",
                title=f"Monthly formal volunteering within the national surveys' range under `{preset}`",
                source="Citizenship Survey 2001-2011 and Community Life Survey 2013/14-2023/24 (England)",
                empirical=f"{CLS_FORMAL[0]:.0%}-{CLS_FORMAL[1]:.0%} of adults at least once a month",
                statistic=f"`volunteering_rate` under `{preset}` at the defaults, mean of months "
                f"{STEPS - CLS_WINDOW}-{STEPS - 1}",
                criterion=f"95% CI inside {CLS_FORMAL[0]:.0%}-{CLS_FORMAL[1]:.0%} and every seed inside",
                unit="share of citizens",
            )
        )
    return out


def pattern_findings(p: dict[str, pd.DataFrame]) -> list[Finding]:
    """Every pattern of issue 14, from :func:`pattern_panels`."""
    return [
        targets_work_low_ethos(p),
        unmeasured_intact(p),
        forum_skew(p),
        forum_outcome_skew(p),
        price_effect(p),
        *volunteering_every_preset(p),
    ]


PATTERNS_BEGIN = "<!-- patterns:begin: written by scripts/validate.py --patterns -->"
PATTERNS_END = "<!-- patterns:end -->"
PRICE_EFFECT_REASON = (
    "**Why volunteering recovers so little at large pay** (the mechanism, not a bug; the `payment` experiment's "
    "question): in `sim/rules/time_use.py` the price effect (`citizens.payment_price_effect`, unsourced) raises only "
    "the share of an *engaged* citizen's pro-social time that goes to formal volunteering, and that share is capped "
    "at all of it (`volunteer_share` x willingness, clipped at 1, reached near GBP 25-30 an hour); payment changes "
    "neither who is asked to volunteer (the engaged share stays about 45% at every amount) nor how much pro-social "
    "time people have. Meanwhile the control felt from being paid (`citizens.control_payment` x any payment: the "
    "same at GBP 0.50 as at GBP 30) lowers motivation for as long as payment lasts, which lowers contribution "
    "shares. So large pay can only restore hours among those already engaged, against an erosion of motivation "
    "that does not shrink with the amount: at GBP 30 an hour volunteering ends barely above unpaid (row above). "
    "A diagnostic at 1,000 citizens, 3 seeds, last 12 months under `none`: unpaid 19.9% volunteering, motivation "
    "0.51, 45.5% engaged; GBP 0.50: 8.4%, motivation 0.41; GBP 30: 21.4%, motivation 0.41, still 45.6% engaged; "
    "GBP 30 with `citizens.control_payment=0`: 34.7%, motivation 0.51. Which reading is right (a price effect on "
    "who volunteers, or control that fades with generous pay) is a modelling choice, not a bug fixed here."
)


def patterns_section(findings: list[Finding]) -> str:
    """The generated section of docs/validation.md with the issue-14 patterns (markers included)."""
    header = "| finding | source | empirical figure | model figure [95% CI] | criterion | seeds holding | verdict |"

    def row(f: Finding) -> str:
        cells = [f.title, f.source, f.empirical, f"{fmt(f)}<br>{f.statistic}" + (f"<br>{f.detail}" if f.detail else ""),
                 f.criterion, f"{f.seeds_holding}/{f.n_seeds}", "**pass**" if f.passed else "**FAIL**"]  # fmt: skip
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    lines = [
        PATTERNS_BEGIN,
        "",
        "## Patterns the model must reproduce (issue 14)",
        "",
        f"Pattern-oriented validation: the same {len(SEEDS)} common seeds, defaults and pass rule as above. "
        f"Low-ethos, high-slack services: {', '.join(f'`{o}`' for o in LOW_ETHOS)}; costly gaming: "
        f"{', '.join(f'`{o}`' for o in COSTLY_GAMING)}. `tests/validation/test_patterns.py` asserts each row; a "
        "failing pattern is a strict expected failure there with its reason, reported here, not tuned away.",
        "",
        header,
        "|---|---|---|---|---|---|---|",
        *[row(f) for f in findings],
        "",
    ]
    if any(f.key == "price_effect" for f in findings):
        lines += [PRICE_EFFECT_REASON, ""]
    lines.append(PATTERNS_END)
    return "\n".join(lines)


def splice_patterns(text: str, section: str) -> str:
    """Put the patterns section into the text of docs/validation.md (replacing it, or before 'Reproduce')."""
    if PATTERNS_BEGIN in text and PATTERNS_END in text:
        start, end = text.index(PATTERNS_BEGIN), text.index(PATTERNS_END) + len(PATTERNS_END)
        return text[:start] + section + text[end:]
    return text.replace("## Reproduce", section + "\n\n## Reproduce", 1)


# ---------------------------------------------------------------------- the report
def load_calibrations() -> dict[str, dict[str, Any]]:
    """The calibration files of :data:`FIT_ROWS`, by row label."""
    return {label: json.loads(path.read_text()) for label, path in FIT_ROWS.items()}


def calibration_shares(calibration: dict[str, Any]) -> dict[str, float]:
    """The type shares a calibration used: fixed (``fixed``) or, before issue 13, fitted (``values``)."""
    source = calibration["fixed"]["values"] if "fixed" in calibration else calibration["values"]
    return {key: float(source[key]) for key in SHARE_KEYS}


def fit_table_lines(calibrations: dict[str, dict[str, Any]]) -> list[str]:
    """The before/after fit table: type shares, RMSE per condition, first and last period shares."""
    lines = [
        "| calibration | conditional / free riders / other | shares | stylised facts met | pooled RMSE | "
        "RMSE no punishment | RMSE punishment | no punishment: period 1 | period 10 | punishment: period 1 | "
        "period 10 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    data: dict[str, Any] = {}
    for label, cal in calibrations.items():
        sh = calibration_shares(cal)
        cc, fr = sh["population.share_conditional"], sh["population.share_free_rider"]
        fit = cal["fit"]
        n, p = fit["no_punishment"], fit["punishment"]
        data = fit
        lines.append(
            f"| {label} | {cc:.1%} / {fr:.1%} / {1 - cc - fr:.1%} | {'fixed' if 'fixed' in cal else 'fitted'} | "
            f"{'yes' if cal.get('feasible', True) else 'no'} | "
            f"{fit['rmse_pooled_tokens']:.2f} | {n['rmse_tokens']:.2f} | {p['rmse_tokens']:.2f} | "
            f"{n['model_first_share']:.1%} | {n['model_last_share']:.1%} | {p['model_first_share']:.1%} | "
            f"{p['model_last_share']:.1%} |"
        )
    if data:
        n, p = data["no_punishment"], data["punishment"]
        lines.append(
            "| data: mean of the 16 cities (HTG 2008) | | | | | | | "
            f"{n['data_first_share']:.1%} | {n['data_last_share']:.1%} | {p['data_first_share']:.1%} | "
            f"{p['data_last_share']:.1%} |"
        )
    return lines


# Findings whose model figure is a difference between arms (shown with a sign; shares in points).
DIFFERENCES = frozenset(
    {
        "campbell",
        "targets_work",
        "displacement",
        "crowding_out",
        "antisocial",
        "targets_low_ethos",
        "forum_outcome_skew",
        "price_effect",
    }
)


def fmt(f: Finding) -> str:
    """The model figure with its interval, formatted for the table."""
    difference = f.key in DIFFERENCES
    if f.unit.startswith("share") and difference:
        return f"{100 * f.mean:+.1f} pp [{100 * f.ci_low:+.1f}, {100 * f.ci_high:+.1f}]"
    if f.unit.startswith("share"):
        return f"{f.mean:.1%} [{f.ci_low:.1%}, {f.ci_high:.1%}]"
    sign = "+" if difference else ""
    return f"{f.mean:{sign}.3f} [{f.ci_low:{sign}.3f}, {f.ci_high:{sign}.3f}]"


def render(
    findings: list[Finding],
    calibrations: dict[str, dict[str, Any]],
    lab_fit: pd.DataFrame,
    panels: dict[str, pd.DataFrame],
    seconds: float,
) -> str:
    """The Markdown of ``docs/validation.md``."""
    two_hours = {
        c: float(window(panels["none_2h"], c, STEPS - CLS_WINDOW, STEPS - 1).mean())
        for c in ("volunteering_rate", "caring_rate")
    }
    anti_first = float(lab.data_curve(lab.load_data(), "no_punishment", lab.ANTISOCIAL_POOLS)["mean"].iloc[0])
    suite = [f for f in findings if f.key in {"bunching", "campbell", "targets_work", "displacement", "lab",
                                               "crowding_out"}]  # fmt: skip
    baseline = [f for f in findings if f.key.startswith("cls_")]
    extra = [f for f in findings if f.key == "antisocial"]
    lines = [
        "# Validation",
        "",
        "<!-- Generated by scripts/validate.py from runs made when it was run. Do not edit by hand. -->",
        "",
        "Each published finding the model should reproduce, with its source, the empirical figure, the model's "
        f"figure (mean over {len(SEEDS)} common seeds with its 95% t-interval) and the verdict. Model runs use the "
        f"packaged defaults (the calibrated citizens), {SimConfig().population.n_citizens:,} citizens, "
        f"{STEPS} months after the {SimConfig().burn_in}-month burn-in, paired on common seeds "
        "(replication r has the same citizens and shocks in every arm). A finding passes when its criterion holds "
        "for the interval and on every seed. `tests/validation/` asserts the same findings with the same code "
        "(`scripts/validate.py`). Regenerate with `.venv/bin/python scripts/validate.py` "
        f"(this run: {seconds:.0f} s).",
        "",
        "## Stylised facts",
        "",
        "| finding | source | empirical figure | model figure [95% CI] | criterion | seeds holding | verdict |",
        "|---|---|---|---|---|---|---|",
    ]

    def row(f: Finding) -> str:
        cells = [f.title, f.source, f.empirical, f"{fmt(f)}<br>{f.statistic}" + (f"<br>{f.detail}" if f.detail else ""),
                 f.criterion, f"{f.seeds_holding}/{f.n_seeds}", "**pass**" if f.passed else "**FAIL**"]  # fmt: skip
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    lines += [row(f) for f in suite]
    lines += [
        "",
        "## Baseline: the Community Life Survey",
        "",
        "At default settings under `none` (no performance management), the share of citizens active in a month, "
        "against the Community Life Survey for England.",
        "",
        "| finding | source | empirical figure | model figure [95% CI] | criterion | seeds holding | verdict |",
        "|---|---|---|---|---|---|---|",
        *[row(f) for f in baseline],
        "",
        "Mapping from model quantities to the survey questions:",
        "",
        "- *Formal volunteering at least once a month* (CLS: unpaid help through a group, club or organisation) is "
        "`volunteering_rate`: the share of citizens whose formal volunteering hours in the month (time given "
        "to others while engaged by an organisation or service, `citizens.volunteer_share` of their pro-social "
        "time) reach `citizens.activity_threshold_hours`.",
        "- *Informal volunteering at least once a month* (CLS: unpaid help as an individual to people who are not "
        "relatives) is `caring_rate`: the share whose informal caring hours in the month (pro-social time given "
        "directly to people in their network, scaled by how much care the network needs) reach the same "
        "threshold. The model's network holds neighbours, friends and acquaintances, not the household.",
        "- 'At least once a month' is read as at least one session of help in the month: "
        f"`citizens.activity_threshold_hours = {SimConfig().citizens.activity_threshold_hours:g}` hours. This is "
        "the one parameter set for the survey, and the laboratory does not identify it; the conditional-"
        "cooperation parameters come from the laboratory fit below and were not touched for the survey. "
        f"With the previous 2-hour threshold the calibrated citizens give {two_hours['volunteering_rate']:.1%} "
        f"and {two_hours['caring_rate']:.1%}.",
        "- Both are monthly rates averaged over the last "
        f"{CLS_WINDOW} months of the run, so they are compared with the survey's monthly (not annual) measure.",
    ]
    # ---- the laboratory
    calibration = calibrations["default: shares of Thoeni & Volk 2018"]
    alternative = calibrations["alternative: shares of FGF 2001"]
    previous = calibrations["before: shares fitted"]
    cal_fit = calibration["fit"]
    lines += [
        "",
        "## The public-goods laboratory and the calibration",
        "",
        "`python -m sim experiment=public_goods_lab` puts citizens, with no services, in the repeated public-goods "
        "game of Herrmann, Thöni & Gächter (2008): groups of 4 fixed for 10 periods, 20 tokens a period, a "
        "marginal per-capita return of 0.4, with and without peer punishment. They decide with the same rule "
        "and parameters as in the full model (`sim/rules/cooperation.py`, `sim/lab.py`): a conditional "
        "cooperator contributes `cc_base + cc_slope x belief` (plus motivation and noise), the belief follows "
        "what its three partners gave last period with persistence `belief_persistence`, and punishment is a "
        "peer pressure of `lab.punishment_strength` toward the belief plus `norm_premium`, felt from period 2 on.",
        "",
        "![Public-goods laboratory: model beside the data](figures/lab_fit.png)",
        "",
        "Grey lines: the 16 cities; grey band: their range; black: their mean; colour: the model's mean over "
        f"{LAB_REPLICATIONS} replications of 250 groups with its 95% interval. Numbers drawn: "
        "[`figures/lab_fit.csv`](figures/lab_fit.csv).",
        "",
        "| arm | RMSE (tokens) | model period 1 | data period 1 | model period 10 | data period 10 | "
        "model within the cities' range | model within 1 sd of the cities' mean |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for _, r in lab_fit.iterrows():
        lines.append(
            f"| {r['arm']} | {r['rmse_tokens']:.2f} | {r['model_first_share']:.1%} | {r['data_first_share']:.1%} | "
            f"{r['model_last_share']:.1%} | {r['data_last_share']:.1%} | {r['model_within_city_range']:.0%} of "
            f"periods | {r['model_within_city_sd']:.0%} of periods |"
        )
    lines += [
        "",
        "The `antisocial` arm is compared with the punishment curve of the three pools with much antisocial "
        "punishment (Athens, Riyadh, Muscat); the other two arms with the mean of all 16 cities.",
        "",
        "### Calibration",
        "",
        "The cooperation-type shares are not fitted: they are fixed from the literature, and "
        "`scripts/calibrate.py` (one command; `--check` verifies the shipped defaults) fits the remaining "
        f"parameters with the shares held fixed, with Optuna ({calibration['method']['sampler']}, sampler seed "
        f"{calibration['method']['sampler_seed']}, {calibration['method']['n_trials']} trials). Each trial plays "
        f"both treatments on the same {len(calibration['method']['calibration_seeds'])} seeds "
        f"({calibration['method']['groups_per_treatment_and_seed']} groups each) and scores the RMSE over the "
        "20 points of the two cross-city mean curves, subject to the published stylised facts (period 1 of "
        f"{calibration['method']['constraints']['no_punishment_first_share'][0]:.0%}-"
        f"{calibration['method']['constraints']['no_punishment_first_share'][1]:.0%} and period 10 of "
        f"{calibration['method']['constraints']['no_punishment_last_share'][0]:.0%}-"
        f"{calibration['method']['constraints']['no_punishment_last_share'][1]:.0%} without punishment, a rise "
        "with punishment). The values, rounded to 3 decimals, are the shipped defaults "
        "(`configs/calibration/lab_fit.json`).",
        "",
        "**Type shares.** Two published classifications of the same elicitation (the strategy method of "
        "Fischbacher, Gächter & Fehr 2001), with hump-shaped and unclassified contributors counted as 'other':",
        "",
        f"- default: {calibration['fixed']['source']};",
        f"- alternative: {alternative['fixed']['source']} "
        "(`scripts/calibrate.py --types fgf_2001`, `configs/calibration/lab_fit_fgf_2001.json`).",
        "",
        "The default is the pooled, more recent evidence: it summarises the many later replications of the design, "
        "where the original classification rests on one session of 44 students in Zurich; the replications find "
        "fewer free riders and more conditional cooperators than the original. The previous calibration fitted "
        f"the shares too and landed at {calibration_shares(previous)['population.share_free_rider']:.1%} free "
        "riders, below every published classification: the two mean curves identify the shares only weakly, and "
        "the optimiser traded free riders for a lower conditional cooperators' intercept (`cc_base` "
        f"{previous['values']['citizens.cc_base']:g} then, {calibration['values']['citizens.cc_base']:g} with the "
        "shares fixed).",
        "",
        "**Fit before and after** (calibration seeds; tokens of 20; shares of the endowment):",
        "",
        *fit_table_lines(calibrations),
        "",
        f"Fixing the shares moves the pooled RMSE from {previous['fit']['rmse_pooled_tokens']:.2f} to "
        f"{cal_fit['rmse_pooled_tokens']:.2f} tokens with the default shares "
        f"({alternative['fit']['rmse_pooled_tokens']:.2f} with those of FGF 2001). The experiment table above is "
        "the out-of-sample check of the default on the experiment's own seeds.",
        "",
        "| parameter | default (Thoeni & Volk 2018 shares) | alternative (FGF 2001 shares) | before (shares fitted) "
        "| bounds searched | why these bounds |",
        "|---|---|---|---|---|---|",
    ]
    for key in SHARE_KEYS:
        lines.append(
            f"| `{key}` | {calibration_shares(calibration)[key]:g} (fixed) | {calibration_shares(alternative)[key]:g} "
            f"(fixed) | {calibration_shares(previous)[key]:g} (fitted) | not searched | "
            f"{previous['bounds'][key]['why']} |"
        )
    at_bounds = []
    for key, value in calibration["values"].items():
        b = calibration["bounds"][key]
        at_bound = " (at a bound)" if abs(value - b["low"]) < 0.01 or abs(value - b["high"]) < 0.01 else ""
        if at_bound:
            at_bounds.append(f"`{key}`")
        alt, old = alternative["values"][key], previous["values"].get(key, float("nan"))
        lines.append(f"| `{key}` | {value:g}{at_bound} | {alt:g} | {old:g} | {b['low']:g}-{b['high']:g} | {b['why']} |")
    if not alternative.get("feasible", True):
        broken = [f"`{k}` by {v:.3g}" for k, v in alternative["constraints_at_values"].items() if v > 0]
        lines += [
            "",
            f"With the FGF 2001 shares no trial of {alternative['method']['n_trials']} met the stylised facts within "
            "the bounds (`calibrate.py` marks the file `feasible: false`), so its row is the trial that violates "
            "them least; at its rounded values the constraints broken are "
            + (", ".join(broken) if broken else "none (rounding moved it inside)")
            + " (shares of the endowment, or tokens for the punishment rise): it sits on both edges at once, "
            "starting no higher than the lowest first period allowed and ending no lower than the highest last "
            "period allowed. Its RMSE without punishment is "
            f"{alternative['fit']['no_punishment']['rmse_tokens']:.2f} tokens, against the {LAB_MAX_RMSE:g}-token "
            "criterion of the laboratory finding.",
        ]
    alt_overrides = " ".join(
        f"{k}={v:g}" for k, v in {**alternative["fixed"]["values"], **alternative["values"]}.items()
    )
    lines += [
        "",
        f"To run the full model with the alternative shares and their own refit: `python -m sim run {alt_overrides}`.",
        "",
        "Not fitted, kept at their documented defaults: the type shares (above), `citizens.free_rider_base`, "
        "`citizens.motivation_weight`, `population.motivation_mean` / `motivation_sd`; "
        "`citizens.antisocial_pressure` stays 0 (the antisocial pools are an out-of-sample test).",
        "",
        "What the fit cannot do: without punishment the data stay flat for three periods, then fall ever faster, "
        "with a final-period (end-game) drop; the rule, which has no horizon, decays geometrically. In exploratory "
        "runs, fitting the RMSE alone left period 10 well above 30% of the endowment; with the stylised facts as "
        "constraints the decay is kept at the price of under-predicting the middle periods and over-predicting "
        "the last one (the end-game drop). "
        + (
            f"At a bound of their search range with the default shares: {', '.join(at_bounds)}. "
            if at_bounds
            else "No fitted parameter is at a bound of its search range with the default shares. "
        )
        + "With the default shares the first period reaches "
        f"{cal_fit['no_punishment']['model_first_share']:.1%} of the endowment (data "
        f"{cal_fit['no_punishment']['data_first_share']:.1%}): with 19% free riders giving almost nothing, a "
        "higher start needs first beliefs above the searched range. "
        "The decay comes from conditional cooperators giving less than they believe others give "
        f"(`cc_base` = {calibration['values']['citizens.cc_base']:g} with slope "
        f"{calibration['values']['citizens.cc_slope']:g}, the self-serving bias of Fischbacher & Gächter 2010) "
        "and from free riders pulling their partners' beliefs down.",
    ]
    # ---- second test
    lines += [
        "",
        "## Second test: antisocial punishment",
        "",
        "| finding | source | empirical figure | model figure [95% CI] | criterion | seeds holding | verdict |",
        "|---|---|---|---|---|---|---|",
        *[row(f) for f in extra],
        "",
        "The `antisocial` arm is set a priori, not fitted: antisocial pressure equal to the calibrated "
        "punishment strength (in these pools antisocial punishment was about as common as punishment of free "
        "riders), and a lower first belief (low trust), chosen so that first-period contributions match these "
        f"pools' first period without punishment ({anti_first:.1f} tokens).",
    ]
    if extra and not extra[0].passed:
        f = extra[0]
        lines += [
            "",
            f"**It fails.** The curve changes by {f.mean:+.2f} tokens from period 1 to 10 where the data stay "
            f"about flat; {f.detail}, and {f.seeds_holding} of {f.n_seeds} seeds are within 1 token of the data's "
            "change. In `sim/rules/cooperation.py` antisocial pressure both weakens peer sanction "
            "(counter-punishment, Nikiforakis 2008) and pulls contributions above the norm down; with one strength "
            "set a priori equal to the punishment strength, the model's curve jumps in period 2 (the punishment "
            "pressure) and then declines period after period, where the data rise for three periods and then hold. "
            "How close the end points come depends on the calibrated punishment strength (with the previous "
            "calibration, 0.81, the curve fell by about 3.6 tokens), not on a mechanism that produces the "
            "flat curve.",
        ]
    lines += [
        "",
        "**Why the model cannot reproduce it (structural, not a matter of tuning).** In Herrmann, Thöni & "
        "Gächter (2008) antisocial punishment is an act: a subject spends tokens to punish a partner who "
        "contributed as much or more, mostly low contributors taking revenge for having been punished in the "
        "period before, and most where norms of civic cooperation and the rule of law are weak. What it does to "
        "contributions therefore depends on who punished whom last period, and the flat curve of Athens, Riyadh "
        "and Muscat is a balance between punishment of free riders and revenge on cooperators whose sizes are "
        "recorded in those pools' punishment data, not in the mean contributions this project holds "
        "(`data/` has the contribution curves only). The model has no punishment stage: punishment is one "
        "constant pressure on every subject from period 2 (`lab.punishment_strength`), and antisocial "
        "punishment one constant counter-pressure (`citizens.antisocial_pressure`) that acts whether or not "
        "anyone was punished. So it cannot represent revenge, and nothing the project holds identifies the "
        "counter-pressure except the test curve itself: set a priori it gives the decline above, and choosing "
        "the value that flattens the curve would fit the test. Reproducing the pattern needs (a) punishment "
        "acts between group members with a memory of who punished whom (a revenge rule), and (b) the per-pool "
        "frequencies of punishment of lower and of higher contributors from HTG (2008) to set both strengths "
        "out of sample. Until then `tests/validation/test_lab.py` keeps it a strict expected failure.",
    ]
    lines += [
        "",
        "## Reproduce",
        "",
        "```bash",
        ".venv/bin/python scripts/calibrate.py          # rerun the calibration (configs/calibration/lab_fit.json)",
        ".venv/bin/python scripts/calibrate.py --check  # the shipped defaults match it",
        ".venv/bin/python scripts/calibrate.py --check-rerun  # the whole search still gives them (minutes)",
        ".venv/bin/python scripts/calibrate.py --types fgf_2001  # the alternative shares (lab_fit_fgf_2001.json)",
        ".venv/bin/python scripts/validate.py           # this page and docs/figures/",
        ".venv/bin/python scripts/validate.py --patterns  # only the issue-14 patterns section",
        ".venv/bin/python -m pytest tests/validation    # the same findings as tests",
        ".venv/bin/python -m sim experiment=public_goods_lab",
        "```",
        "",
    ]
    return "\n".join(lines)


def run_all(
    seeds: tuple[int, ...] = SEEDS,
) -> tuple[list[Finding], pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
    """Every finding, the lab time series, the lab summary and the full-model panels."""
    panels = full_model_panels(seeds)
    lab_ts = lab_panel()
    curves = lab_curves(lab_ts)
    findings = [f(panels) for f in FULL_MODEL_FINDINGS]
    findings.insert(4, lab_decay(curves))
    findings += cls_baseline(panels)
    findings.append(antisocial(curves))
    summary = lab.summarise_lab(lab_ts, lab.load_data())
    return findings, lab_ts, summary, panels


def main(argv: list[str] | None = None) -> int:
    """Compute every finding and write the report and its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=REPORT, help="the Markdown report to write")
    parser.add_argument(
        "--patterns", action="store_true", help="only the issue-14 patterns: rewrite their section of the report"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.patterns:
        found = pattern_findings(pattern_panels())
        args.out.write_text(splice_patterns(args.out.read_text(), patterns_section(found)))
        for f in found:
            print(f"{'pass' if f.passed else 'FAIL'}  {f.key:<26} {fmt(f)}  ({f.seeds_holding}/{f.n_seeds} seeds)")
        print(f"wrote the patterns section of {args.out} ({time.perf_counter() - start:.0f} s)")
        return 0
    findings, lab_ts, summary, panels = run_all()
    out_dir = args.out.parent / "figures"
    out_dir.mkdir(parents=True, exist_ok=True)
    work = ROOT / "outputs" / "validation"
    work.mkdir(parents=True, exist_ok=True)
    lab_ts.to_parquet(work / "lab_timeseries.parquet", index=False)
    summary.to_csv(work / "lab_summary.csv", index=False)
    lab.plot_lab_fit(work / "lab_summary.csv", work)
    for suffix in ("png", "svg", "csv"):
        shutil.copyfile(work / f"lab_fit.{suffix}", out_dir / f"lab_fit.{suffix}")
    lab_fit = lab.fit_table(summary, SimConfig().lab.endowment)
    pd.DataFrame([asdict(f) for f in findings]).to_csv(out_dir / "validation_findings.csv", index=False)
    patterns = pattern_findings(pattern_panels())
    findings += patterns
    text = render(findings, load_calibrations(), lab_fit, panels, time.perf_counter() - start)
    args.out.write_text(splice_patterns(text, patterns_section(patterns)))
    for f in findings:
        print(f"{'pass' if f.passed else 'FAIL'}  {f.key:<26} {fmt(f)}  ({f.seeds_holding}/{f.n_seeds} seeds)")
    print(f"wrote {args.out} and {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
