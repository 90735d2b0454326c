"""Figures and pages a student can read: every figure of the catalogue, and every generated page.

For each experiment of the catalogue (``experiments/*/reference.yaml``), one test writes
small saved results shaped by that experiment's own configuration (its arms in their order, its
sweep, outputs and regime switches; 12 months, 2 replications; random values in each measure's
range), summarises them with the sweep's own analysis functions, and draws every figure the
experiment draws with :mod:`sim.present`, then builds its report pages. While each figure is
saved, its axes, legends and coloured artists are recorded, and the tests check that

- no axis label or legend entry is a config key or a column name;
- every arm keeps its colour across the figures of an experiment (and arms differ), and
  differences are drawn in neutral colours;
- panels of the same quantity share their limits;
- the pages have no scientific notation, no sentence comparing equal numbers, and no "clearly"
  applied to a difference below the smallest that matters; and each page opens with its answer.
"""

from __future__ import annotations

import ast
import dataclasses
import itertools
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import matplotlib
import matplotlib.figure
import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.colors import to_hex, to_rgba

from sim.config import ExperimentConfig, SimConfig
from sim.glossary import load_glossary
from sim.metrics import COLUMNS
from sim.present import details, figures
from sim.present.report import _flatten, build_report, collect
from sim.present.words import compare, measure, number, reading
from sim.sweep import analysis as an

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = sorted(p.parent.name for p in (ROOT / "experiments").glob("*/reference.yaml"))
STEPS, REPS = 12, 2
TABLE_COLUMNS = {"arm", "point", "replication", "step", "metric", "mean", "ci_low", "ci_high", "n", "se", "panel"}


CONFIG_KEYS = set(_flatten(dataclasses.asdict(SimConfig())))
FORBIDDEN = CONFIG_KEYS | {k.split(".")[-1] for k in CONFIG_KEYS if "_" in k.split(".")[-1]} | set(COLUMNS)
FORBIDDEN |= TABLE_COLUMNS


# --- small saved results shaped like each experiment --------------------------------------------


def _points(sweep: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    design = sweep.get("design", "none")
    params = _flatten(sweep.get("parameters") or {})
    if design == "none" or not params:
        return pd.DataFrame(index=[0])
    if design in ("grid", "list"):
        # The first two values and the last: enough for the small-value cliff and a log axis.
        values = [v if len(v) <= 3 else [v[0], v[1], v[-1]] for v in params.values()]
        combos = list(itertools.product(*values))
        return pd.DataFrame(combos, columns=list(params))
    # A sampled design: a few points inside the ranges.
    return pd.DataFrame({k: rng.uniform(float(lo), float(hi), 4) for k, (lo, hi) in params.items()})


def _timeseries(cfg: dict[str, Any], points: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    exp = cfg["experiment"]
    switches = (cfg.get("regime") or {}).get("switches") or []
    months = int(cfg.get("steps", 120))
    rows = []
    metrics = [c for c in COLUMNS if c not in ("step", "regime")]
    for (arm, overrides), p, rep in itertools.product(exp["arms"].items(), range(len(points)), range(REPS)):
        switching = switches and "regime.switches=[]" not in overrides
        for step in range(STEPS):
            regime = "none"
            for s in switches if switching else []:
                if step >= int(s["step"]) * STEPS // months:
                    regime = s["to"]
            row = {"arm": arm, "point": p, "replication": rep, "seed": rep, "key": f"{arm}-{p}-{rep}"}
            row |= {"step": step, "regime": regime, **points.iloc[p].dropna().to_dict()}
            row |= {m: rng.uniform(0, 60 if measure(m).kind == "money" else 1) for m in metrics}
            rows.append(row)
    return pd.DataFrame(rows)


def _details(ts: pd.DataFrame, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    runs = ts.drop_duplicates(["arm", "point", "replication"])[["arm", "point", "replication", "key"]]
    edges = np.round(np.arange(-2, 2, 0.1), 1)
    hist, services, communities = [], [], []
    for _, r in runs.iterrows():
        for regime in ts[ts["key"] == r["key"]]["regime"].unique():
            counts = rng.integers(5, 50, len(edges))
            true = rng.integers(5, 50, len(edges))
            hist.append(
                pd.DataFrame(
                    {**r.to_dict(), "regime": regime, "bin_low": edges, "bin_high": np.round(edges + 0.1, 1)}
                    | {"recorded": counts, "recorded_total": counts.sum(), "true": true, "true_total": true.sum()}
                )
            )
        services.append(
            pd.DataFrame(
                {**r.to_dict(), "service": np.arange(6), "measured": [True, False] * 3}
                | {"reported_rate": rng.uniform(0, 1, 6), "lived_outcome": rng.uniform(0, 1, 6)}
            )
        )
        communities.append(
            pd.DataFrame(
                {**r.to_dict(), "size": rng.integers(10, 50, 10), "deprivation": rng.uniform(0, 1, 10)}
                | {"lived_outcome": rng.uniform(0, 1, 10), "prosocial_rate": rng.uniform(0, 1, 10)}
            )
        )
    return {
        "indicator_histogram": pd.concat(hist, ignore_index=True),
        "services": pd.concat(services, ignore_index=True),
        "communities": pd.concat(communities, ignore_index=True),
    }


def _sensitivity(sweep: dict[str, Any], outputs: list[str], rng: np.random.Generator) -> pd.DataFrame:
    params = list(_flatten(sweep["parameters"]))
    rows = []
    for out, p in itertools.product(outputs, params):
        v = rng.uniform(0, 0.5, 4)
        if sweep["design"] == "sobol":
            rows.append(
                {"output": out, "parameter": p, "S1": v[0], "S1_conf": v[1] / 5, "ST": v[2], "ST_conf": v[3] / 5}
            )
        else:
            rows.append({"output": out, "parameter": p, "mu_star": v[0], "mu_star_conf": v[1] / 5, "sigma": v[2]})
    return pd.DataFrame(rows)


def _lab(cfg: dict[str, Any], folder: Path, rng: np.random.Generator) -> None:
    from sim.lab import ARM_DATA, ARM_TITLES, DATA_FILE, load_data

    rows = []
    for arm in cfg["experiment"]["arms"]:
        for period in range(1, 11):
            m = rng.uniform(2, 18)
            rows.append({"arm": arm, "period": period, "mean": m, "ci_low": m - 1, "ci_high": m + 1})
            rows[-1] |= {"data_mean": m + 1, "data_min": m - 3, "data_max": m + 3}
    summary = pd.DataFrame(rows)
    figures.plot_lab_fit(summary, load_data(DATA_FILE), ARM_DATA, ARM_TITLES, {}, folder)


def _write_results(name: str, folder: Path) -> None:
    """Small saved results for one experiment, its figures and its report pages."""
    cfg = yaml.safe_load((ROOT / "configs" / "experiment" / f"{name}.yaml").read_text())
    exp = cfg["experiment"]
    arms = list(exp["arms"])
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    folder.mkdir(parents=True)
    if exp.get("kind") == "lab":
        _lab(cfg, folder, rng)
        return
    sweep = exp.get("sweep") or {}
    design = sweep.get("design", "none")
    analysis = exp.get("analysis") or {}
    outputs = list(analysis.get("outputs") or an.MAIN_OUTPUTS)
    pairs = [tuple(p) for p in analysis.get("compare") or []]
    points = _points(sweep, rng)
    params = [c for c in points.columns if isinstance(c, str)]
    ts = _timeseries(cfg, points, rng)
    ts.to_parquet(folder / "timeseries.parquet")
    per_run = an.end_of_run(ts)
    summary = an.summary_table(per_run, ["arm"] if len(points) == 1 else ["arm", "point", *params])
    summary.to_csv(folder / "summary.csv", index=False)
    if pairs:
        by = ("point",) if design in ("none", "grid", "list") else ()
        an.paired_differences(per_run, pairs, outputs, by=by).to_csv(folder / "differences.csv", index=False)
    default = [f.default for f in dataclasses.fields(ExperimentConfig) if f.name == "metrics_to_plot"]
    wanted = exp.get("metrics_to_plot") or (default[0] if default and isinstance(default[0], list) else None)
    wanted = wanted or ExperimentConfig().metrics_to_plot
    metrics = [m for m in wanted if m in ts.columns]
    if len(points) == 1 and metrics:
        figures.plot_metrics_over_time(ts, metrics, folder, arms=arms)
    elif len(params) == 1 and design in ("grid", "list"):
        figures.plot_response(summary, params[0], list(dict.fromkeys([*outputs, *metrics])), folder, arms)
    if design in ("none", "grid", "list"):
        curve = an.standard_error_curve(per_run, outputs, pairs)
        figures.plot_sufficiency(curve, outputs, folder, arms)
    if analysis.get("conditions") is not None:
        from sim.sweep.conditions import analyse_conditions, parse_conditions

        spec = parse_conditions(analysis["conditions"], arms, list(an.metric_names(ts)), design, "conditions")
        found = analyse_conditions(points[params], per_run, spec, folder)
        figures.plot_conditions_map(
            found.points, found.winners, found.importance, found.default_values, spec.arms, folder
        )
    if design in ("sobol", "morris"):
        for arm in arms:
            idx = _sensitivity(sweep, outputs, rng)
            figures.plot_sensitivity(
                idx, design, folder, f"sensitivity_{arm}", title=f"under {arm}", arm=arm, arms=arms
            )
    plan = SimpleNamespace(arms=arms, points=points[params] if params else points, spec=SimpleNamespace(design=design))
    tables = _details(ts, rng)
    details._draw(folder, details.panels(plan), lambda t: tables[t], arms)
    (folder / "config.yaml").write_text(yaml.safe_dump({"experiment": exp, "steps": STEPS}))
    plan_json = {"experiment": name, "arms": exp["arms"], "parameters": params, "design": design, "replications": REPS}
    (folder / "plan.json").write_text(json.dumps(plan_json))
    build_report(folder)


def _colour(artist: Any) -> str | None:
    """An artist's drawn colour as hex RGB (the edge of a hollow marker or hatched bar)."""
    if isinstance(artist, matplotlib.lines.Line2D):
        return to_hex(artist.get_color())
    if isinstance(artist, matplotlib.patches.Patch):
        face = to_rgba(artist.get_facecolor())
        return to_hex(artist.get_edgecolor() if face[:3] == (1.0, 1.0, 1.0) or face[3] == 0 else face)
    if isinstance(artist, matplotlib.collections.Collection):
        faces = artist.get_facecolors()
        use = faces if len(faces) and faces[0][3] > 0 else artist.get_edgecolors()
        return to_hex(use[0]) if len(use) else None
    return None


def _record(fig: matplotlib.figure.Figure) -> dict[str, Any]:
    axes = [ax for ax in fig.axes if ax.get_visible()]
    legends = [*fig.legends, *(ax.get_legend() for ax in axes if ax.get_legend() is not None)]
    gids: dict[str, set[str]] = {}
    for ax in axes:
        for artist in ax.get_children():
            gid = artist.get_gid()
            if gid and (c := _colour(artist)) is not None:
                gids.setdefault(gid, set()).add(c)
    return {
        "labels": [t for ax in axes for t in (ax.get_xlabel(), ax.get_ylabel()) if t],
        "legend": [t.get_text() for lg in legends for t in lg.get_texts()],
        "ylims": [(ax.get_ylabel(), ax.get_ylim()) for ax in axes],
        "gids": gids,
    }


def render(name: str, root: Path) -> dict[str, dict[str, Any]]:
    """Write one experiment's small results, figures and pages; per figure stem, what was drawn."""
    drawn: dict[str, dict[str, Any]] = {}
    original = matplotlib.figure.Figure.savefig

    def savefig(self: matplotlib.figure.Figure, fname: Any, *args: Any, **kwargs: Any) -> None:
        # Rendered at a low resolution, and the SVG left out, to keep the test fast: the layout and
        # every label are the same as at full size.
        if str(fname).endswith(".png"):
            original(self, fname, *args, **{**kwargs, "dpi": 24})
            drawn[Path(fname).stem] = _record(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(matplotlib.figure.Figure, "savefig", savefig)
        _write_results(name, root / name)
    return drawn


IDENTIFIER = re.compile(r"\b[A-Za-z]+(?:[_.][A-Za-z0-9]+)+\b")


def code_names(drawn: dict[str, dict[str, Any]]) -> list[str]:
    """Axis labels and legend entries that are (or contain) a config key or a column name."""
    bad = []
    for stem, rec in drawn.items():
        for text in [*rec["labels"], *rec["legend"]]:
            tokens = {text.strip(), *IDENTIFIER.findall(text)}
            if tokens & FORBIDDEN or any("_" in t for t in tokens):
                bad.append(f"{stem}: {text!r}")
    return bad


def colour_problems(drawn: dict[str, dict[str, Any]]) -> list[str]:
    """Arms drawn in more than one colour, two arms in one colour, differences not in neutral colours."""
    colours: dict[str, set[str]] = {}
    for rec in drawn.values():
        for gid, cs in rec["gids"].items():
            colours.setdefault(gid, set()).update(cs)
    arms = {g: c for g, c in colours.items() if g.startswith("arm:")}
    bad = [f"{gid} drawn in {sorted(cs)}" for gid, cs in arms.items() if len(cs) != 1]
    firsts = [next(iter(c)) for c in arms.values()]
    if len(firsts) <= 8 and len(set(firsts)) != len(firsts):  # the palette has eight colours
        bad.append(f"two arms share a colour: {arms}")
    for gid, cs in colours.items():
        if gid.startswith("pair:"):
            bad += [f"difference {gid} drawn in {c}, not a neutral colour" for c in cs if len(set(to_rgba(c)[:3])) != 1]
    return bad


def limit_problems(drawn: dict[str, dict[str, Any]]) -> list[str]:
    """Panels of one figure with the same y label (the same quantity) but different y limits."""
    bad = []
    for stem, rec in drawn.items():
        by_label: dict[str, set[tuple[float, float]]] = {}
        for label, lim in rec["ylims"]:
            if label:
                by_label.setdefault(label, set()).add(tuple(np.round(lim, 9)))
        bad += [
            f"{stem}: panels of {label!r} have y limits {sorted(lims)}"
            for label, lims in by_label.items()
            if len(lims) > 1
        ]
    return bad


# --- the pages ------------------------------------------------------------------------------------

SCIENTIFIC = re.compile(r"\b\d+(?:\.\d+)?[eE][-+]?\d+\b")
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z*])")
NUMBER_IN_PARENS = re.compile(r"\(([-+]?£?[\d,.]+%?)")


def _prose(md: str) -> str:
    """The parts of report.md a reader reads as text (not the setup, provenance or run log)."""
    keep = []
    section = ""
    for line in md.split("<!-- sim report")[0].splitlines():
        if line.startswith("## "):
            section = line[3:]
        if section in ("Setup", "How to reproduce", "Provenance", "Glossary") or line.startswith("!["):
            continue
        keep.append(re.sub(r"\]\([^)]*\)", "]", line))  # link targets are addresses, not prose
    return "\n".join(keep)


def page_problems(text: str) -> list[str]:
    """Scientific notation, sentences comparing equal numbers, and 'clearly' on negligible differences."""
    problems = [f"scientific notation: {m.group(0)!r}" for m in SCIENTIFIC.finditer(text)]
    titles = {e.title.lower(): e.key for e in load_glossary().entries("Measures")}
    for sentence in SENTENCE.split(text.replace("\n", " ")):
        low = sentence.lower()
        if ("highest" in low and "lowest" in low) or (" higher than " in low or " lower than " in low):
            shown = NUMBER_IN_PARENS.findall(sentence)
            if len(shown) >= 2 and shown[0] == shown[1]:
                problems.append(f"compares equal numbers: {sentence.strip()!r}")
        if "clearly" in low:
            named = [key for title, key in titles.items() if title in low]
            for key in named:
                m = measure(key)
                for value in re.findall(r"([\d.]+) percentage point", sentence):
                    if float(value) / 100 < m.smallest:
                        problems.append(f"'clearly' on a negligible difference: {sentence.strip()!r}")
    return problems


def test_the_page_scan_finds_what_it_looks_for() -> None:
    bad = (
        "Gaming was highest under switch (0.1%) and lowest under never (0.1%). The difference was -5.1e-05. "
        "Pro-social activity was clearly higher, by 0.3 percentage points."
    )
    found = page_problems(bad)
    assert any("scientific" in p for p in found)
    assert any("equal numbers" in p for p in found)
    assert any("clearly" in p for p in found)
    assert not page_problems("Pro-social activity was highest under a (45.3%) and lowest under b (40.1%).")


def page_checks(page: Path) -> list[str]:
    """A generated report.md (and its HTML twin): the scan, and the answer right after the question."""
    md = page.read_text()
    problems = page_problems(_prose(md))
    html_text = re.sub(r"<[^>]+>", " ", (page.parent / "report.html").read_text().split("<h2>Setup")[0])
    problems += [f"HTML: scientific notation {m.group(0)!r}" for m in SCIENTIFIC.finditer(html_text)]
    sections = re.findall(r"^## (.+)$", md, flags=re.M)
    if sections[:2] != ["Question", "Answer"]:
        problems.append(f"the page does not open with its answer: {sections[:3]}")
    elif "glossary.md#" not in md.split("## Answer", 1)[1].split("## ", 1)[0]:
        problems.append("the answer does not link its measures to the glossary")
    return problems


def answer_text(folder: Path) -> str:
    return " ".join(s.text for s in collect(folder).answer)


# What a student asked of particular pages (issue 18).
PAGE_QUESTIONS = {
    # Payment against no payment, in words with units, never the config key.
    "payment": lambda text: (
        "with no payment for volunteering" in text and "per hour" in text and "payment_per_hour" not in text
    ),
    # The difference in each regime period of the switching run.
    "regime_switch": lambda text: "averaged over each regime period" in text and "(under targets)" in text,
}


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_catalogue_figures_and_pages(name: str, tmp_path: Path) -> None:
    """Every figure of the experiment, drawn from small saved results, and its generated page."""
    drawn = render(name, tmp_path)
    wanted = yaml.safe_load((ROOT / "experiments" / name / "reference.yaml").read_text())["figures"]
    assert set(wanted) <= set(drawn), f"figures not drawn: {sorted(set(wanted) - set(drawn))}"
    assert not code_names(drawn), "code names shown to readers:\n" + "\n".join(code_names(drawn))
    assert not colour_problems(drawn), colour_problems(drawn)
    assert not limit_problems(drawn), limit_problems(drawn)
    page = tmp_path / name / "report.md"
    if name != "public_goods_lab":  # the lab's page is built by its own command (tests/test_report.py)
        assert not page_checks(page), page_checks(page)
    if name in PAGE_QUESTIONS:
        assert PAGE_QUESTIONS[name](answer_text(tmp_path / name)), answer_text(tmp_path / name)


# --- the words ------------------------------------------------------------------------------------


def test_words_follow_the_glossary() -> None:
    pro, cost = measure("prosocial_rate"), measure("public_cost")
    assert pro.smallest == pytest.approx(0.01) and pro.better == "higher" and pro.unit == "% of citizens"
    assert pro.value(0.4567) == "45.7%" and cost.value(24.1) == "£24.10"
    assert reading(pro, 0.004, 0.002, 0.006).startswith("negligible")  # clear, but below what matters
    assert reading(pro, 0.05, 0.01, 0.09) == "higher: better"
    assert reading(measure("gaming_share"), 0.05, 0.01, 0.09) == "higher: worse"
    assert reading(pro, 0.05, -0.01, 0.09).startswith("within noise")
    assert (
        compare(measure("gaming_share"), [("switch", 0.001), ("never", 0.0012)])
        == "equal under switch and never (0.1%)"
    )
    assert "about the same" in compare(pro, [("a", 0.451), ("b", 0.455)])
    assert number(-5.1e-05) == "-0.0001" and "e" not in number(1.23e-07) and number(1234567.0) == "1,234,567"


def test_glossary_directions_agree_with_the_analysis() -> None:
    """The analysis's lower-is-better set (scenario discovery) and the glossary say the same."""
    for key in an.LOWER_IS_BETTER:
        assert measure(key).better == "lower", key
    shown = {c for c in COLUMNS if c not in ("step", "regime")}
    missing = [c for c in shown if not measure(c).unit]
    assert not missing, f"measures without a unit in docs/glossary.md: {missing}"


# --- one place ------------------------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


# The proposal explorer draws its own live charts of a proposal's impact (not of saved results).
OWN_CHARTS = {"app/charts.py"}


def test_figures_are_drawn_in_sim_present_only() -> None:
    sim = ROOT / "sim"
    for path in sim.rglob("*.py"):
        rel = path.relative_to(sim).as_posix()
        imports = _imports(path)
        if not rel.startswith("present/") and rel not in OWN_CHARTS:
            assert not any(i.split(".")[0] == "matplotlib" for i in imports), f"{rel} draws figures"
        if rel.startswith("sweep/") and rel != "sweep/report.py":
            assert not any(i.startswith("sim.present") for i in imports), f"{rel} imports sim.present"
        if rel.startswith("present/"):
            assert not imports & {"sim.sweep.report", "sim.sweep.engine", "sim.catalogue", "sim.lab"}, rel


# --- the README's answer --------------------------------------------------------------------------


def test_readme_gets_its_answer_under_the_question(tmp_path: Path) -> None:
    from sim.catalogue import ANSWER_BEGIN, ANSWER_END, BEGIN, END, update_readme

    readme = tmp_path / "README.md"
    readme.write_text(f"# `x`\n\n**Question.** Does it?\n\nWhy it matters.\n\n{BEGIN}\nold\n{END}\n")
    answer = f"{ANSWER_BEGIN}\n\n**Answer (from the reference run).** It does.\n\n{ANSWER_END}"
    update_readme(readme, f"{BEGIN}\nnew\n{END}", answer)
    update_readme(readme, f"{BEGIN}\nnew\n{END}", answer.replace("It does", "It does not"))
    text = readme.read_text()
    assert text.count(ANSWER_BEGIN) == 1 and "It does not." in text and "It does." not in text
    assert text.index("**Question.**") < text.index(ANSWER_BEGIN) < text.index("Why it matters.")
    assert "\nnew\n" in text and "old" not in text


def test_glossary_shown_as_line_is_parsed_and_kept_out_of_the_text() -> None:
    from sim.glossary import parse_glossary

    g = parse_glossary(
        "# G\n## Measures\n### `x` — X\n\nWhat x is.\n\n"
        "*Shown as* % of citizens; *better* lower; *smallest difference that matters* 0.5 percentage points.\n"
    )
    e = g.get("x")
    assert (e.unit, e.better, e.smallest, e.text) == ("% of citizens", "lower", "0.5 percentage points", "What x is.")
