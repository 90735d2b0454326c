"""The public-goods laboratory: citizens' own decision rule in the repeated public-goods game.

This is the validation bench of DESIGN.md mechanism 3 (conditional cooperation). Citizens, with
no services, no community and no network, play the repeated linear public-goods game of
Herrmann, Thoeni & Gaechter (2008): groups of ``lab.group_size`` (4) fixed for ``lab.periods``
(10) periods, an endowment of ``lab.endowment`` (20) tokens a period and a marginal per-capita
return of ``lab.mpcr`` (0.4), with and without peer punishment.

Each subject is a citizen drawn exactly as in the full model (cooperation type from
``population.share_conditional`` / ``share_free_rider``, intrinsic motivation from
``population.motivation_mean`` / ``motivation_sd``) and decides with the same functions of
:mod:`sim.rules.cooperation` and the same ``citizens.*`` parameters:

* period 1: the belief about the others' contribution share is ``citizens.initial_belief``;
* period t > 1: a subject observes the mean share its 3 group partners contributed in t - 1
  (:func:`~sim.rules.cooperation.observed_contribution`) and updates its belief with
  ``citizens.belief_persistence`` (:func:`~sim.rules.cooperation.update_belief`);
* it contributes ``endowment x`` :func:`~sim.rules.cooperation.contribution_share`, with the
  belief as the norm, noise of sd ``citizens.contribution_noise``, and a peer pressure of
  ``lab.punishment_strength`` when punishment is available and 0 when it is not (anonymous
  partners: the community peer pressure of the full model does not apply). Punishment is felt
  from period 2 on, after the first punishment stage: in the data, first-period contributions
  are the same with and without punishment. Antisocial punishment enters through
  ``citizens.antisocial_pressure`` (it pulls contributions above the norm down).

Decisions within a period are simultaneous (synchronous), as in the laboratory and in the full
model. All draws come from child streams of one ``numpy.random.SeedSequence(seed)`` (traits, then
noise), so the two treatments of one replication see the same subjects and the same noise
(common random numbers). Everything is vectorised over all groups at once; no Mesa here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import CitizensConfig, LabConfig, PopulationConfig, SimConfig
from sim.rules import cooperation
from sim.rules._types import FloatArray, IntArray

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "herrmann_thoni_gachter_2008_mean_contrib.csv"
# Subject pools where HTG (2008) found much antisocial punishment, the lab's second test.
ANTISOCIAL_POOLS: tuple[str, ...] = ("Athens", "Riyadh", "Muscat")
# Which data curve each arm of the `public_goods_lab` experiment is compared with:
# (treatment in the data file, pools: None = all 16 cities).
ARM_DATA: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "no_punishment": ("no_punishment", None),
    "punishment": ("punishment", None),
    "antisocial": ("punishment", ANTISOCIAL_POOLS),
}
TYPE_NAMES: tuple[str, ...] = ("conditional", "free_rider", "other")


@dataclass(frozen=True)
class LabRun:
    """One treatment played by every group of one replication.

    Attributes:
        contribution: tokens contributed, shape (periods, subjects).
        belief: belief about partners' contribution share when deciding, shape (periods, subjects).
        payoff: tokens earned in the period (before any punishment costs), shape (periods, subjects).
        coop_type: cooperation type of each subject (0 conditional, 1 free rider, 2 other).
        group: group of each subject.

    """

    contribution: FloatArray
    belief: FloatArray
    payoff: FloatArray
    coop_type: IntArray
    group: IntArray


def lab_streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Two child generators of one seed: subjects' traits, then contribution noise."""
    traits, noise = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(traits), np.random.default_rng(noise)


def draw_subjects(pop: PopulationConfig, n: int, rng: np.random.Generator) -> tuple[IntArray, FloatArray]:
    """Cooperation types and intrinsic motivation of ``n`` subjects, drawn as in the full model.

    Args:
        pop: population parameters (type shares, motivation mean and sd).
        n: number of subjects.
        rng: the traits stream.

    Returns:
        (coop_type, motivation), each of shape (n,).

    """
    u_type = rng.random(n)
    coop_type = np.where(
        u_type < pop.share_conditional,
        cooperation.CONDITIONAL,
        np.where(u_type < pop.share_conditional + pop.share_free_rider, cooperation.FREE_RIDER, cooperation.OTHER),
    ).astype(np.int64)
    motivation = np.clip(pop.motivation_mean + pop.motivation_sd * rng.standard_normal(n), 0.0, 1.0)
    return coop_type, motivation


def partners(n_groups: int, group_size: int) -> IntArray:
    """Indices of each subject's group partners (everyone in its group but itself), shape (n, size - 1)."""
    n = n_groups * group_size
    idx = np.arange(n).reshape(n_groups, group_size)
    others = np.array([[j for j in range(group_size) if j != i] for i in range(group_size)], dtype=np.int64)
    return idx[:, others].reshape(n, group_size - 1)


def play(cit: CitizensConfig, pop: PopulationConfig, lab: LabConfig, seed: int) -> LabRun:
    """Play one treatment of the game with every group of one replication.

    Args:
        cit: the citizens' decision-rule parameters (the same as in the full model).
        pop: type shares and motivation of the population subjects are drawn from.
        lab: the game (group size, endowment, MPCR, periods, groups, punishment).
        seed: the replication's seed.

    Returns:
        Contributions, beliefs and payoffs per period and subject.

    """
    traits_rng, noise_rng = lab_streams(seed)
    n = lab.groups * lab.group_size
    coop_type, motivation = draw_subjects(pop, n, traits_rng)
    noise = noise_rng.standard_normal((lab.periods, n))
    mates = partners(lab.groups, lab.group_size)
    group = np.repeat(np.arange(lab.groups, dtype=np.int64), lab.group_size)

    shares = np.empty((lab.periods, n))
    beliefs = np.empty((lab.periods, n))
    belief = np.full(n, cit.initial_belief)
    for t in range(lab.periods):
        if t > 0:
            observed = cooperation.observed_contribution(shares[t - 1], mates)
            belief = cooperation.update_belief(belief, observed, cit.belief_persistence)
        beliefs[t] = belief
        # Punishment is felt from the first punishment stage on, i.e. from period 2 (in HTG 2008
        # the first-period means of the two treatments are the same: 10.58 and 10.64 tokens).
        pressure = lab.punishment_strength if (lab.punishment and t > 0) else 0.0
        shares[t] = cooperation.contribution_share(
            coop_type,
            belief,
            motivation,
            belief,
            pressure,
            cit.contribution_noise * noise[t],
            **cooperation.constants(cit),
        )
    contribution = lab.endowment * shares
    group_total = contribution.reshape(lab.periods, lab.groups, lab.group_size).sum(axis=2)
    payoff = lab.endowment - contribution + lab.mpcr * np.repeat(group_total, lab.group_size, axis=1)
    return LabRun(contribution, beliefs, payoff, coop_type, group)


def mean_curve(cit: CitizensConfig, pop: PopulationConfig, lab: LabConfig, seeds: list[int]) -> FloatArray:
    """Mean contribution per period (tokens), averaged over all subjects of several seeds."""
    return np.mean([play(cit, pop, lab, s).contribution.mean(axis=1) for s in seeds], axis=0)


def belief_for_first_period(
    cit: CitizensConfig,
    pop: PopulationConfig,
    lab: LabConfig,
    target_tokens: float,
    seeds: list[int],
    decimals: int = 3,
) -> float:
    """The initial belief whose first-period mean contribution is closest to ``target_tokens``.

    This is how the ``antisocial`` arm's low trust is set a priori from those pools' own first
    period without punishment (which no punishment can have moved yet), not from their
    punishment curve. Period 1 rises with the belief, so a bisection on a grid of ``decimals``
    decimals finds it.

    Args:
        cit: the citizens' parameters (``initial_belief`` is replaced).
        pop: the population subjects are drawn from.
        lab: the game (``punishment`` is irrelevant to period 1).
        target_tokens: the first-period mean contribution to match (tokens).
        seeds: replication seeds averaged over.
        decimals: the belief's rounding.

    Returns:
        The belief in [0, 1], rounded to ``decimals`` decimals.

    """
    steps = 10**decimals

    def first(k: int) -> float:
        return float(mean_curve(replace(cit, initial_belief=k / steps), pop, replace(lab, periods=1), seeds)[0])

    lo, hi = 0, steps
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if first(mid) < target_tokens:
            lo = mid
        else:
            hi = mid
    best = min((lo, hi), key=lambda k: abs(first(k) - target_tokens))
    return best / steps


def period_table(run: LabRun, endowment: float) -> pd.DataFrame:
    """One row per period: mean contribution overall and by type, spread, belief, payoff."""
    periods = run.contribution.shape[0]
    out: dict[str, Any] = {
        "period": np.arange(1, periods + 1),
        "mean_contribution": run.contribution.mean(axis=1),
        "sd_contribution": run.contribution.std(axis=1),
        "share_zero": (run.contribution <= 0).mean(axis=1),
        "share_full": (run.contribution >= endowment * (1.0 - 1e-12)).mean(axis=1),
        "mean_belief": run.belief.mean(axis=1),
        "mean_payoff": run.payoff.mean(axis=1),
    }
    for code, name in enumerate(TYPE_NAMES):
        mask = run.coop_type == code
        out[f"mean_contribution_{name}"] = (
            run.contribution[:, mask].mean(axis=1) if mask.any() else np.full(periods, np.nan)
        )
    table = pd.DataFrame(out)
    table.insert(1, "step", table["period"] - 1)
    return table


def simulate_lab(cfg: SimConfig) -> pd.DataFrame:
    """Play one replication of one treatment (``cfg.lab``) with seed ``cfg.seed``; one row per period."""
    return period_table(play(cfg.citizens, cfg.population, cfg.lab, cfg.seed), cfg.lab.endowment)


def play_arms(arms: dict[str, SimConfig], seeds: list[int]) -> pd.DataFrame:
    """Play every arm on every seed (replication r has the same seed in every arm).

    Args:
        arms: arm name -> its config (``lab.*``, ``citizens.*``, ``population.*``).
        seeds: one seed per replication.

    Returns:
        One row per arm, replication and period (columns ``arm``, ``replication``, ``seed``, then
        those of :func:`period_table`).

    """
    frames = []
    for arm, acfg in arms.items():
        for r, seed in enumerate(seeds):
            table = simulate_lab(replace(acfg, seed=seed))
            table.insert(0, "seed", seed)
            table.insert(0, "replication", r)
            table.insert(0, "arm", arm)
            frames.append(table)
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------- the data
def load_data(path: Path = DATA_FILE) -> pd.DataFrame:
    """The HTG (2008) mean contribution per period and city, long format (treatment, city, period, tokens)."""
    wide = pd.read_csv(path)
    long = wide.melt(id_vars=["treatment", "city"], var_name="period", value_name="contribution")
    long["period"] = long["period"].str.removeprefix("period").astype(int)
    return long.sort_values(["treatment", "city", "period"]).reset_index(drop=True)


def data_curve(data: pd.DataFrame, treatment: str, pools: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Across the chosen cities, per period: mean, sd, min and max of the city means (tokens)."""
    d = data[data["treatment"] == treatment]
    if pools is not None:
        d = d[d["city"].isin(pools)]
    g = d.groupby("period")["contribution"]
    return pd.DataFrame(
        {"mean": g.mean(), "sd": g.std(ddof=1), "min": g.min(), "max": g.max(), "cities": g.count()}
    ).reset_index()


def rmse(model: FloatArray, data: FloatArray) -> float:
    """Root mean squared difference per period (tokens)."""
    diff = np.asarray(model, dtype=float) - np.asarray(data, dtype=float)
    return float(np.sqrt(np.mean(diff**2)))


def fit_table(summary: pd.DataFrame, endowment: float) -> pd.DataFrame:
    """Per arm: RMSE against its data curve, period-1 and last-period shares (model and data), rise."""
    rows = []
    for arm, g in summary.groupby("arm", sort=False):
        g = g.sort_values("period")
        m, d = g["mean"].to_numpy(), g["data_mean"].to_numpy()
        rows.append(
            {
                "arm": arm,
                "rmse_tokens": rmse(m, d) if np.isfinite(d).all() else float("nan"),
                "model_first_share": m[0] / endowment,
                "model_last_share": m[-1] / endowment,
                "data_first_share": d[0] / endowment,
                "data_last_share": d[-1] / endowment,
                "model_rise_tokens": m[-1] - m[0],
                "data_rise_tokens": d[-1] - d[0],
                "model_within_city_range": float(((m >= g["data_min"]) & (m <= g["data_max"])).mean()),
                "model_within_city_sd": float((np.abs(m - d) <= g["data_sd"]).mean()),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- the experiment
@dataclass
class LabExperimentResult:
    """Outputs of a laboratory experiment (the same shape as :class:`sim.runner.ExperimentResult`).

    Attributes:
        folder: where the outputs were written.
        timeseries: one row per arm, replication and period.
        summary: per arm and period: model mean with 95% interval across replications, and the data.
        figures: the files of the fit figure (PNG, SVG and the CSV of the numbers drawn).
        seconds: wall time.
        fit: per arm: RMSE against the data, first- and last-period shares.

    """

    folder: Path
    timeseries: pd.DataFrame
    summary: pd.DataFrame
    figures: list[Path]
    seconds: float
    fit: pd.DataFrame


def summarise_lab(ts: pd.DataFrame, data: pd.DataFrame) -> pd.DataFrame:
    """Per arm and period: model mean contribution with a 95% t-interval over replications, beside the data."""
    from scipy import stats

    rows = []
    for (arm, period), g in ts.groupby(["arm", "period"], sort=False):
        v = g["mean_contribution"].to_numpy()
        n = len(v)
        mean = float(v.mean())
        half = float(stats.t.ppf(0.975, n - 1) * v.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
        rows.append({"arm": arm, "period": int(period), "mean": mean, "ci_low": mean - half, "ci_high": mean + half})
    out = pd.DataFrame(rows)
    cols = {"mean": "data_mean", "sd": "data_sd", "min": "data_min", "max": "data_max", "cities": "data_cities"}
    frames = []
    for arm, g in out.groupby("arm", sort=False):
        treatment, pools = ARM_DATA.get(str(arm), (None, None))
        if treatment is None:
            d = pd.DataFrame({"period": g["period"], **{c: np.nan for c in cols.values()}})
        else:
            d = data_curve(data, treatment, pools).rename(columns=cols)
        frames.append(g.merge(d, on="period", how="left"))
    return pd.concat(frames, ignore_index=True)


def run_lab_experiment(cfg: Any, base_overrides: list[str], folder: Path) -> LabExperimentResult:
    """Run every arm x replication of a laboratory experiment and write its outputs into ``folder``.

    Writes ``timeseries.parquet`` (one row per arm, replication and period), ``summary.csv``
    (per arm and period: model mean with 95% interval beside the data's cross-city mean, sd and
    range), ``fit.csv`` (RMSE and first/last-period shares per arm), the figure ``lab_fit``
    (PNG, SVG, CSV), ``config.yaml``, ``provenance.json`` and the reader's ``report.html`` / ``report.md``.

    Args:
        cfg: the composed experiment config (``experiment.kind: lab``).
        base_overrides: the overrides that composed it; each arm adds its own.
        folder: the output folder.

    Returns:
        The time series, summary, figure paths, fit and wall time.

    """
    from omegaconf import OmegaConf

    from sim.config import ExperimentConfig, to_sim_config
    from sim.provenance import provenance, write_json
    from sim.runner import arm_configs, replication_seeds

    start = time.perf_counter()
    exp = cfg.experiment if isinstance(cfg.experiment, ExperimentConfig) else OmegaConf.to_object(cfg.experiment)
    assert isinstance(exp, ExperimentConfig)
    base = to_sim_config(cfg)
    seeds = replication_seeds(base.seed, exp.replications)
    arms = arm_configs(base_overrides, exp)
    ts = play_arms(arms, seeds)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "timeseries.parquet.tmp"
    ts.to_parquet(tmp, index=False)
    tmp.replace(folder / "timeseries.parquet")
    data = load_data()
    summary = summarise_lab(ts, data)
    summary.to_csv(folder / "summary.csv", index=False)
    fit = fit_table(summary, base.lab.endowment)
    fit.to_csv(folder / "fit.csv", index=False)
    text = OmegaConf.to_yaml(cfg)
    (folder / "config.yaml").write_text(text)
    write_json(
        folder / "provenance.json",
        {
            **provenance(base.seed, text),
            "replication_seeds": seeds,
            "arms": exp.arms,
            "base_overrides": base_overrides,
            "data": str(DATA_FILE.relative_to(DATA_FILE.parent.parent)),
        },
    )
    figures = plot_lab_fit(folder / "summary.csv", folder, DATA_FILE)
    from sim.present.report import build_report

    figures += [p for p in build_report(folder) if p.suffix != ".md"]
    return LabExperimentResult(folder, ts, summary, figures, time.perf_counter() - start, fit)


# ---------------------------------------------------------------------- the figure
ARM_TITLES: dict[str, str] = {
    "no_punishment": "Without punishment",
    "punishment": "With peer punishment",
    "antisocial": "With punishment, low trust and antisocial punishment",
}


def plot_lab_fit(summary_csv: Path, out_dir: Path, data_file: Path = DATA_FILE, stem: str = "lab_fit") -> list[Path]:
    """Model beside data, one panel per arm, drawn from a saved ``summary.csv`` and the data file.

    The drawing is :func:`sim.present.figures.plot_lab_fit` (all figures are drawn in
    :mod:`sim.present`); this reads the saved files it needs.

    Args:
        summary_csv: the ``summary.csv`` written by :func:`run_lab_experiment`.
        out_dir: where to write the figure.
        data_file: the HTG (2008) data file.
        stem: file name stem.

    Returns:
        The PNG, SVG and CSV (the numbers drawn) written.

    """
    from sim.present.figures import plot_lab_fit as draw

    summary = pd.read_csv(summary_csv)
    errors = {
        str(arm): rmse(s["mean"].to_numpy(), s["data_mean"].to_numpy())
        for arm, s in summary.sort_values("period").groupby("arm", sort=False)
        if s["data_mean"].notna().all()
    }
    return draw(summary, load_data(data_file), ARM_DATA, ARM_TITLES, errors, out_dir, stem)
