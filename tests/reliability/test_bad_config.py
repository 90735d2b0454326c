"""Bad configuration fails before any work with one line naming the key, the value and what is allowed.

The table below is the figure quoted in docs/reliability.md (``len(BAD_INPUTS)`` bad inputs); most go
through ``sim.load_config`` (what every command composes first), experiment options through
``experiment_of`` and sweep specs through ``parse_sweep`` (what ``python -m sim experiment`` checks), and
a handful through the real command line for exit code 2, one line and no traceback.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.config import AppConfig, ConfigError, SimConfig, compose
from sim.model import SocialProductivityModel
from sim.sweep.plan import experiment_of
from sim.sweep.spec import parse_sweep
from tests.conftest import sim_cli

# (overrides, the key the message must name, a fragment it must contain)
BAD_INPUTS: list[tuple[list[str], str, str]] = [
    # unknown keys
    (["nosuch=1"], "nosuch", "allowed keys"),
    (["population.nosuch=1"], "population.nosuch", "n_citizens"),
    (["population.n_citizen=10"], "population.n_citizen", "did you mean 'n_citizens'"),
    (["+foo=1"], "foo", "allowed keys"),
    (["regime.switches=[{step:5,xx:1}]"], "regime.switches.xx", "allowed keys in regime.switches: step, to, set"),
    # wrong types and malformed overrides
    (["steps=abc"], "steps", "not a whole number; allowed: a whole number from 1 to"),
    (["seed=1.5"], "seed", "not a whole number; allowed"),
    (["steps="], "steps", "steps='' is not a whole number"),
    (["steps=[1,2]"], "steps", "not a whole number"),
    (["population.n_citizens=1e3"], "population.n_citizens", "not a whole number"),
    (["population.within_community_share=abc"], "population.within_community_share", "is not a number; allowed"),
    (["regime.ratchet=maybe"], "regime.ratchet", "allowed: true or false"),
    (["regime.measured_domains=abc"], "regime.measured_domains", "allowed"),
    (["regime.switches=[{step:x,to:none}]"], "regime.switches", "step='x' is not a whole number"),
    (["steps==3"], "steps==3", "malformed override"),
    # out of range
    (["population.n_citizens=0"], "population.n_citizens", "allowed: 1 to"),
    (["population.n_citizens=-5"], "population.n_citizens", "allowed: 1 to"),
    (["population.n_communities=0"], "population.n_communities", "allowed: 1 to"),
    (["steps=0"], "steps", "allowed: 1 to"),
    (["seed=-1"], "seed", "allowed: 0 to"),
    (["burn_in=-1"], "burn_in", "allowed: 0 to"),
    (["population.within_community_share=1.5"], "population.within_community_share", "allowed: 0 to 1"),
    (["regime.audit_rate=-0.1"], "regime.audit_rate", "allowed: 0 to 1"),
    (["regime.audit_detection=1.01"], "regime.audit_detection", "allowed: 0 to 1"),
    (["services.large_shock_prob=2"], "services.large_shock_prob", "allowed: 0 to 1"),
    (["citizens.engagement_exit=-1"], "citizens.engagement_exit", "allowed: 0 to 1"),
    (["population.time_budget_median=-1"], "population.time_budget_median", "allowed: 0 to 400"),
    (["regime.negotiation_interval=0"], "regime.negotiation_interval", "allowed: 1 to"),
    (["population.within_community_share=nan"], "population.within_community_share", "finite number"),
    (["services.ces_rho=inf"], "services.ces_rho", "finite number"),
    (["services.ces_rho=0"], "services.ces_rho", "allowed: -20 to -0.01"),
    (
        ["population.share_conditional=0.9", "population.share_free_rider=0.2"],
        "population.share_free_rider",
        "at most 1",
    ),
    (["services.initial_shares=[0.5,0.5]"], "services.initial_shares", "six positive shares"),
    # unknown choices
    (["regime=bogus"], "regime", "allowed: functioning, local_targets, negotiated, negotiated_unpaid, none, targets"),
    (["regime.name=bogus"], "regime.name", "allowed values: targets, negotiated, functioning, none"),
    (["status_quo=bogus"], "status_quo", "allowed values"),
    (["driver=gpu"], "driver", "allowed values: vectorised, agent, fused"),
    (["population=bogus"], "population", "allowed: default"),
    (["regime.switches=[{step:5,to:bogus}]"], "regime.switches[0].to", "allowed values"),
    (["regime.measured_domains=[bogus]"], "regime.measured_domains", "allowed values: education, safety, health"),
    # the instruments (issue 13)
    (["regime.objective_setter=mayor"], "regime.objective_setter", "allowed values: centre, forum, none"),
    (["regime.observation=gossip"], "regime.observation", "allowed values: indicator, forum, none"),
    (["regime.league_table=sometimes"], "regime.league_table", "allowed: true or false"),
    (["regime.guarantee_monitoring_rate=1.5"], "regime.guarantee_monitoring_rate", "allowed: 0 to 1"),
    (["regime.guarantee_monitoring_error=-0.1"], "regime.guarantee_monitoring_error", "allowed: 0 to 1"),
    (["regime.partnership_standard=optional"], "regime.partnership_standard", "allowed values: none, required, paid"),
    (["regime.commitment_enforcement=-1"], "regime.commitment_enforcement", "allowed: 0 to 100"),
    (["regime.partnership_pay=101"], "regime.partnership_pay", "allowed: 0 to 100"),
    (["regime.commitment_reward=-1"], "regime.commitment_reward", "allowed: 0 to 100"),
    (["costs.audit_cost_per_case=-1"], "costs.audit_cost_per_case", "allowed: 0 to"),
    (["costs.shadow_wage=nan"], "costs.shadow_wage", "finite number"),
    (["citizens.voice_weight=2"], "citizens.voice_weight", "allowed: 0 to 1"),
    (["citizens.motivation_reversion=-0.1"], "citizens.motivation_reversion", "allowed: 0 to 1"),
    (["citizens.join_current_trust=1.5"], "citizens.join_current_trust", "allowed: 0 to 1"),
    # switches: where they go, one a month, keys and values of 'set'
    (["regime.switches=[{step:5}]"], "regime.switches[0]", "does not say where it goes"),
    (["regime.switches=[{step:5,to:none,set:{recognition:1}}]"], "regime.switches[0]", "allowed: exactly one"),
    (["regime.switches=[{step:5,set:{}}]"], "regime.switches[0]", "does not say where it goes"),
    (["regime.switches=[{step:5,to:none},{step:5,to:targets}]"], "regime.switches[1].step", "at most one switch"),
    (["regime.switches=[{step:5,set:{bogus:1}}]"], "regime.switches[0].set.bogus", "allowed keys: objective_setter"),
    (["regime.switches=[{step:5,set:{name:targets}}]"], "regime.switches[0].set.name", "allowed keys"),
    (["regime.switches=[{step:5,set:{recognition:2}}]"], "regime.switches[0].set.recognition", "allowed: 0 to 1"),
    (["regime.switches=[{step:5,set:{observation:x}}]"], "regime.switches[0].set.observation", "allowed values"),
    (["regime.switches=[{step:5,set:{league_table:3}}]"], "regime.switches[0].set.league_table", "allowed: true"),
    (["regime.switches=[{step:5,set:{negotiation_interval:1.5}}]"], "set.negotiation_interval", "allowed: a whole"),
    (["regime.switches=[{step:5,set:{measured_domains:[x]}}]"], "set.measured_domains", "allowed: a list"),
    # a regime switch after the horizon
    (["steps=10", "regime.switches=[{step:10,to:targets}]"], "regime.switches[0].step", "allowed: 0 to steps-1 = 9"),
    (["steps=10", "regime.switches=[{step:500,to:none}]"], "regime.switches[0].step", "at or after the horizon"),
    # a switch must say when and where it goes; one month holds at most one switch (issue 12)
    (["regime.switches=[{step:4}]"], "regime.switches[0]", "does not say where it goes"),
    (["regime.switches=[{to:targets}]"], "regime.switches[0]", "does not say when"),
    (
        ["regime.switches=[{step:4,to:targets},{step:4,to:negotiated}]"],
        "regime.switches[1].step=4",
        "at most one switch per month",
    ),
    (["regime.switches={step:3,to:targets}"], "regime.switches", "is not a list; allowed: a list of switches"),
    # initial shares must be finite (NaN, inf, and values whose sum overflows)
    (["services.initial_shares=[nan,0.2,0.2,0.08,0.01,0.21]"], "services.initial_shares", "must be finite"),
    (["services.initial_shares=[inf,0.2,0.2,0.08,0.01,0.21]"], "services.initial_shares", "must be finite"),
    (["services.initial_shares=[1e308,1e308,0.2,0.08,0.01,0.21]"], "services.initial_shares", "must be finite"),
    (["services.initial_shares=[a,b,c,d,e,f]"], "services.initial_shares", "not a number"),
    # list- and dict-valued overrides are checked like scalar ones
    (["population={n_citizens:0}"], "population.n_citizens", "allowed: 1 to"),
    (["regime={name:bogus}"], "regime.name", "allowed values"),
    (["citizens={cc_slope:9}"], "citizens.cc_slope", "allowed: 0 to 2"),
    (["regime.measured_domains=[education,bogus]"], "regime.measured_domains", "allowed values"),
    (["population=[1]"], "population", "allowed: one of default"),
    # interpolations that cannot be resolved
    (["steps=${nosuch}"], "steps", "cannot be resolved: there is no key 'nosuch'"),
    (["steps=${oc.env:SIM_TEST_SURELY_UNSET}"], "steps", "environment variable 'SIM_TEST_SURELY_UNSET' is not set"),
    # null where a value is required: no OmegaConf wording ("is not Optional")
    (["regime.audit_rate=null"], "regime.audit_rate", "allowed: a number from 0 to 1"),
    (["steps=null"], "steps", "allowed: a whole number from 1 to"),
    # an empty output.dir (an unset shell variable) would write runs at the file-system root
    (["output.dir="], "output.dir", "is empty"),
    (["output.dir= "], "output.dir", "is empty"),
]

# Fragments of library internals that no message may carry.
INTERNALS = ("Optional", "full_key", "object_type", "reference_type", "typing.", "ConfigKeyError", "ValidationError")

# Experiment options, checked by experiment_of (what `python -m sim experiment` composes first).
BAD_EXPERIMENT: list[tuple[list[str], str, str]] = [
    (["experiment.replications=0"], "experiment.replications", "allowed: 1 to"),
    (["experiment.replications=-3"], "experiment.replications", "allowed: 1 to"),
    (["experiment.backend=gpu"], "experiment.backend", "allowed values: serial, processes, dask"),
    (["experiment.workers=-1"], "experiment.workers", "allowed: 0 to"),
    (["experiment.chunk_steps=0"], "experiment.chunk_steps", "allowed: 1 to"),
    # names that become folders stay inside output.dir
    (["experiment.name=../../x"], "experiment.name", "not a safe name for a folder"),
    (["experiment.name=/tmp/x"], "experiment.name", "not a safe name"),
    (["experiment.name="], "experiment.name", "not a safe name"),
    (["experiment.name=.hidden"], "experiment.name", "not starting with '.'"),
    (["++experiment.arms={..:[]}"], "experiment.arms...", "not a safe name"),
    # meaningless analysis options
    (["experiment.metrics_to_plot=[nosuch]"], "experiment.metrics_to_plot[0]", "is not a metric"),
    (["experiment.metrics_to_plot=[prosocial_rat]"], "experiment.metrics_to_plot[0]", "did you mean 'prosocial_rate'"),
    # a dask address that cannot be one, refused before any connection is tried
    (["++experiment.dask={address:notaurl}"], "experiment.dask.address", "not a scheduler address"),
    (["++experiment.dask={address:'tcp://127.0.0.1'}"], "experiment.dask.address", "host:port"),
    (["++experiment.dask={address:'http://127.0.0.1:8786'}"], "experiment.dask.address", "scheme one of tcp"),
]

# Sweep specifications, checked by parse_sweep before any run.
BAD_SWEEPS: list[tuple[dict[str, Any], str, str]] = [
    (
        {"design": "grid", "parameters": {"regime.audit_rate": {"lo": 0.5, "hi": 0.5, "num": 3}}},
        "regime.audit_rate",
        "empty range",
    ),
    ({"design": "grid", "parameters": {"regime.audit_rate": []}}, "regime.audit_rate", "empty list"),
    (
        {"design": "lhs", "samples": 4, "parameters": {"regime.audit_rate": [0.6, 0.2]}},
        "regime.audit_rate",
        "empty range",
    ),
    ({"design": "grid", "parameters": {"regime.audit_rate": [0.1, 1.5]}}, "regime.audit_rate", "allowed: 0 to 1"),
    ({"design": "grid", "parameters": {"regime.nosuch": [1, 2]}}, "regime.nosuch", "unknown parameter"),
    ({"design": "bogus", "parameters": {"regime.audit_rate": [0.1]}}, "experiment.sweep.design", "choose one of"),
    ({"design": "grid", "parameters": {"regime.name": ["targets", "bogus"]}}, "regime.name", "not allowed"),
    ({"design": "grid", "parameters": {}}, "experiment.sweep.parameters", "at least one parameter"),
]

N_BAD_INPUTS = len(BAD_INPUTS) + len(BAD_EXPERIMENT) + len(BAD_SWEEPS)


def test_the_table_has_at_least_30_bad_inputs() -> None:
    assert N_BAD_INPUTS >= 30


def _one_line(message: str) -> None:
    assert message and "\n" not in message and "Traceback" not in message


@pytest.mark.parametrize(("overrides", "key", "fragment"), BAD_INPUTS, ids=[" ".join(o) for o, _, _ in BAD_INPUTS])
def test_bad_config_names_key_value_and_what_is_allowed(overrides: list[str], key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        sim.load_config(overrides)
    message = str(info.value)
    _one_line(message)
    assert key in message, message
    assert fragment in message, message
    assert "allowed" in message or "at most" in message or "horizon" in message, message
    assert not any(x in message for x in INTERNALS), message


@pytest.mark.parametrize(("overrides", "key", "fragment"), BAD_EXPERIMENT, ids=[o[0] for o, _, _ in BAD_EXPERIMENT])
def test_bad_experiment_option(overrides: list[str], key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        experiment_of(compose(overrides))
    message = str(info.value)
    _one_line(message)
    assert f"{key}=" in message and fragment in message, message
    assert not any(x in message for x in INTERNALS), message


def test_a_good_dask_address_is_accepted() -> None:
    for address in ("tcp://127.0.0.1:8786", "127.0.0.1:8786", "tls://[::1]:8786", "inproc://x"):
        experiment_of(compose([f"++experiment.dask={{address:'{address}'}}"]))


@pytest.mark.parametrize(("spec", "key", "fragment"), BAD_SWEEPS, ids=[str(s)[:60] for s, _, _ in BAD_SWEEPS])
def test_bad_sweep_spec(spec: dict[str, Any], key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_sweep(spec)
    message = str(info.value)
    _one_line(message)
    assert key in message and fragment in message, message


# ------------------------------------------------------------------ the command line
CLI_CASES = [
    (("run", "steps=abc"), "steps='abc' is not a whole number; allowed"),
    (("run", "population.nosuch=1"), "unknown key 'population.nosuch'"),
    (("run", "regime=bogus"), "allowed: functioning, local_targets, negotiated"),
    (("run", "steps="), "steps='' is not a whole number"),
    (("experiment.backend=gpu",), "experiment.backend='gpu' is not allowed; allowed values"),
    (("experiment.replications=0",), "experiment.replications=0 is out of range; allowed: 1 to"),
    # list- and dict-valued overrides, checked before Hydra starts the job (issue 12: 8 of 8 reached it)
    (("run", "steps=[1,2]"), "steps='[1,2]' is not a whole number"),
    (("run", "services.initial_shares=[nan,0.2,0.2,0.08,0.01,0.21]"), "must be finite"),
    (("run", "services.initial_shares=[1,2]"), "six positive shares"),
    (("run", "regime.switches=[{step:4,to:targets},{step:4,to:none}]"), "at most one switch per month"),
    (("run", "regime.switches=[{step:4}]"), "does not say where it goes"),
    (("run", "regime.measured_domains=[education,bogus]"), "contains 'bogus'"),
    (("run", "population={n_citizens:0,n_communities:2}"), "population.n_citizens=0 is out of range"),
    (("run", "regime={name:bogus,audit_rate:0.1}"), "regime.name='bogus' is not allowed"),
    # other gaps found by issue 12
    (("run", "steps=${nosuch}"), "cannot be resolved"),
    (("run", "regime.audit_rate=null"), "regime.audit_rate=null is not allowed"),
    (("run", "steps"), "argument 'steps' is not key=value"),
    (("run", "steps=3", "seed"), "argument 'seed' is not key=value"),
    (("run", "experiment.replications=-3"), "experiment.replications=-3 is out of range"),
    (("experiment.dask.address=notaurl", "experiment.backend=dask"), "experiment.dask.address"),
    (("++experiment.dask={address:notaurl}", "experiment.backend=dask"), "is not a scheduler address"),
    (("experiment.name=../../x",), "not a safe name for a folder"),
    (("experiment.metrics_to_plot=[nosuch]",), "is not a metric"),
]


@pytest.mark.parametrize(("args", "expected"), CLI_CASES, ids=[" ".join(a) for a, _ in CLI_CASES])
def test_cli_bad_input_exits_2_with_one_line(args: tuple[str, ...], expected: str, tmp_path: Path) -> None:
    out = sim_cli(*args, f"output.dir={tmp_path}", cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().splitlines() == [f"error: {out.stderr.strip()[len('error: ') :]}"]
    assert expected in out.stderr and "Traceback" not in out.stderr
    assert not any(x in out.stderr for x in INTERNALS), out.stderr
    left = [p for p in tmp_path.rglob("*")]
    assert left == [], f"nothing may be written on bad input: {left}"


@pytest.mark.parametrize("how", ["--debug", "SIM_DEBUG=1"])
def test_debug_shows_the_traceback(how: str, tmp_path: Path) -> None:
    args = ["run", "steps=abc", f"output.dir={tmp_path}"] + (["--debug"] if how == "--debug" else [])
    out = sim_cli(*args, cwd=tmp_path, debug_env=how != "--debug")
    assert out.returncode != 0
    assert "Traceback" in out.stderr and "ConfigError: steps='abc' is not a whole number" in out.stderr


# ------------------------------------------------------------------ Hypothesis: every numeric parameter
def _numeric_params() -> list[tuple[str, type, float | None, float | None]]:
    """(dotted key, int or float, lo, hi) of every numeric field declared with param()."""
    import typing

    out = []

    def walk(cls: Any, prefix: str) -> None:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            kind = hints[f.name]
            if dataclasses.is_dataclass(kind):
                walk(kind, f"{prefix}{f.name}.")
            elif kind in (int, float):
                out.append((f"{prefix}{f.name}", kind, f.metadata.get("lo"), f.metadata.get("hi")))

    walk(SimConfig, "")
    return out


NUMERIC = _numeric_params()
# Parameters that set the size of the work: in-range values are drawn small so each example stays fast
# (their out-of-range values are still drawn from the whole line).
SIZE_CAPS = {
    "steps": 4,
    "burn_in": 2,
    "population.n_citizens": 120,
    "population.n_communities": 12,
    "population.contacts_per_citizen": 20,
    "services.max_cases_per_service": 400,
    "lab.groups": 3,
    "lab.periods": 3,
    "lab.group_size": 5,
}
TINY = ["population.n_citizens=60", "population.n_communities=3", "steps=3", "burn_in=1", "output.save=false"]
RATES = [
    "prosocial_rate", "volunteering_rate", "caring_rate", "self_reliance", "motivation_mean", "trust_mean",
    "social_capital", "gaming_share", "functioning_share", "partnership_share", "outcome_work_share",
    "reported_outcome", "true_outcome", "participation_rate", "service_commitment_kept",
    "citizen_commitment_kept", "volunteering_rate_motivated", "slack_share", "measured_work_share",
    "unmeasured_work_share", "true_measured_outcome", "true_unmeasured_outcome", "skimmed_share", "target_level",
]  # fmt: skip


@st.composite
def numeric_override(draw: st.DrawFn) -> tuple[str, Any]:
    key, kind, lo, hi = draw(st.sampled_from(NUMERIC))
    cap = SIZE_CAPS.get(key)
    top = min(hi, cap) if hi is not None and cap is not None else cap if cap is not None else hi
    if kind is int:
        inside = st.integers(int(lo if lo is not None else -(10**6)), int(top if top is not None else 10**6))
        anywhere = st.one_of(st.integers(-(10**12), -1), st.integers(10**7, 10**25), st.integers(-3, 3))
    else:
        inside = st.floats(lo if lo is not None else -1e6, top if top is not None else 1e6)
        anywhere = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(-2.0, 2.0))
    return key, draw(st.one_of(inside, anywhere))


def _literal(value: Any) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(numeric_override())
def test_random_numeric_values_run_cleanly_or_fail_with_a_clear_error(case: tuple[str, Any]) -> None:
    key, value = case
    # The given key comes last so it overrides the tiny sizes.
    overrides = [o for o in TINY if not o.startswith(f"{key}=")] + [f"{key}={_literal(value)}"]
    try:
        cfg = sim.load_config(overrides)
    except ConfigError as exc:
        message = str(exc)
        _one_line(message)
        assert key in message or key.rsplit(".", 1)[-1] in message, message
        assert "allowed" in message or "finite number" in message or "horizon" in message, message
        return
    model = SocialProductivityModel(cfg)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # a failure, not a silent NaN
        model.run()
    ts = model.timeseries()
    assert len(ts) == cfg.steps
    for col in RATES:
        v = ts[col].dropna()  # NaN is the documented value of a rate with no cases this month
        assert ((v >= 0) & (v <= 1)).all(), f"{key}={value}: {col} outside [0, 1]: {v.tolist()}"
    assert np.isfinite(ts["public_cost"]).all() and (ts["public_cost"] >= 0).all()
    assert np.isfinite(model.services.shares).all() and np.allclose(model.services.shares.sum(axis=1), 1.0)


# ------------------------------------------------------------------ every choice and true/false parameter
def _choice_params() -> list[tuple[str, tuple[str, ...] | None]]:
    """(dotted key, choices or None for true/false) of every string-choice and boolean field declared with param()."""
    import typing

    out: list[tuple[str, tuple[str, ...] | None]] = []

    def walk(cls: Any, prefix: str) -> None:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            kind = hints[f.name]
            kinds = [k for k in typing.get_args(kind) if k is not type(None)] or [kind]
            if dataclasses.is_dataclass(kind):
                walk(kind, f"{prefix}{f.name}.")
            elif f.metadata.get("choices"):
                out.append((f"{prefix}{f.name}", tuple(f.metadata["choices"])))
            elif kinds == [bool]:
                out.append((f"{prefix}{f.name}", None))

    walk(SimConfig, "")
    return out


CHOICES = _choice_params()


def test_every_instrument_choice_is_covered() -> None:
    keys = {k for k, _ in CHOICES}
    assert {
        "regime.name",
        "regime.objective_setter",
        "regime.observation",
        "regime.partnership_standard",
        "regime.league_table",
    } <= keys


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(CHOICES), data=st.data())
def test_random_choice_values_run_cleanly_or_fail_with_a_clear_error(case: tuple[str, Any], data: Any) -> None:
    key, choices = case
    valid = list(choices) if choices is not None else ["true", "false"]
    text = st.text(alphabet="abcxz_", min_size=1, max_size=8)  # no y/n/digits, which OmegaConf reads as booleans
    value = data.draw(st.one_of(st.sampled_from(valid), text))
    overrides = [*TINY, "regime=negotiated", f"{key}={value}"]
    try:
        cfg = sim.load_config(overrides)
    except ConfigError as exc:
        message = str(exc)
        _one_line(message)
        assert value not in valid, message
        assert key in message and "allowed" in message, message
        return
    assert value in valid or key in ("output.dir",), (key, value)
    if key.startswith(("lab.", "output.")) or key == "driver":
        return
    model = SocialProductivityModel(cfg)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        model.run()
    assert len(model.timeseries()) == cfg.steps


def test_every_numeric_parameter_is_covered() -> None:
    keys = {k for k, *_ in NUMERIC}
    assert {"steps", "population.n_citizens", "regime.audit_rate", "services.ces_rho"} <= keys
    assert all(isinstance(AppConfig, type) for _ in keys)
