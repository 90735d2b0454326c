"""The experiment catalogue: ``experiments/NAME/`` for every named experiment.

Each folder holds a README (the question, how to run it, how long it takes, what to look at and
what it found), ``reference.yaml`` (the size its reference outputs are made at and their key
figures) and ``reference/``: small committed outputs, the experiment's result tables
(:func:`reference_tables`), its key figures (PNG) and ``reference.json`` (command, runs, seconds,
revision). ``python -m sim catalogue [NAME ...]`` remakes them; ``tests/test_catalogue.py`` runs
every experiment again at its reference size and checks that each committed table agrees with the
fresh one (:func:`check_against_reference`): exactly where this machine's SIMD features are those
recorded in ``reference.json`` (or ``SIM_REPRO_EXACT=1``), and otherwise within the seed-to-seed
interval each row reports (``sim.reproducibility``), so a change that moves a result is noticed
and its reference is regenerated on purpose.

The parts of a README between :data:`BEGIN` and :data:`END` are written by the command from the
reference outputs (never by hand): the timing, and what it found, read from the numbers.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.config import config_dir
from sim.provenance import cpu_features, git_revision
from sim.reproducibility import exact_comparison

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "experiments"
REFERENCE_SPEC = "reference.yaml"
REFERENCE_DIR = "reference"
BEGIN = "<!-- catalogue:begin: written by `python -m sim catalogue`; edit outside these markers -->"
END = "<!-- catalogue:end -->"
# The answer to the experiment's question, right under it at the top of the README.
ANSWER_BEGIN = "<!-- answer:begin: written by `python -m sim catalogue` from the reference run -->"
ANSWER_END = "<!-- answer:end -->"
GLOSSARY_FROM_README = "../../docs/glossary.md"
# On a machine with the recorded SIMD features a fresh table must equal the reference exactly
# (the seeds are common and fixed and the arithmetic CPU-independent). Elsewhere every value with
# an interval must lie within max(ABS_TOL, the half-width of its row's 95 % interval across seeds),
# with the same labels and replication counts; values with no interval are compared only exactly.
ABS_TOL = 1e-9
# Columns that carry their own interval half-width (the interval across seeds or bootstrap samples).
INTERVAL_COLUMNS = {
    "mean": "ci",
    "ci_low": "ci",
    "ci_high": "ci",
    "mean_a": "ci",
    "mean_b": "ci",
    "diff": "ci",
    "S1": "S1_conf",
    "ST": "ST_conf",
    "mu_star": "mu_star_conf",
}
SPEC_KEYS = ("overrides", "ci_overrides", "figures")
# The reduced-size check tables of an experiment with ci_overrides (inside reference/).
CI_DIR = "ci"
# Result tables a reference keeps beside its summary, where the experiment writes them.
EXTRA_TABLES = (
    "differences.csv",
    "scenario_rules.csv",
    "fit.csv",
    "sensitivity_sobol.csv",
    "sensitivity_morris.csv",
    # Where each arm wins (sim.sweep.conditions): share won, PRIM and tree rules, importances,
    # the winner at every point, and the tree's reading at the defaults.
    "conditions_share.csv",
    "conditions_rules.csv",
    "conditions_importance.csv",
    "conditions_winners.csv",
    "conditions_defaults.csv",
)


class CatalogueError(ValueError):
    """A catalogue entry is malformed or missing (naming the file and what is allowed)."""


@dataclass
class Entry:
    """One experiment of the catalogue.

    Attributes:
        name: the experiment's name (``configs/experiment/NAME.yaml``).
        folder: ``experiments/NAME``.
        overrides: what the reference run adds to the experiment (a reduced size), possibly nothing.
        figures: the stems of the key figures copied into ``reference/``.
        ci_overrides: what the test suite's check adds on top of ``overrides`` (a smaller size, so
            that ``make test`` stays short); empty: the suite reruns the reference itself.

    """

    name: str
    folder: Path
    overrides: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    ci_overrides: list[str] = field(default_factory=list)

    @property
    def reference(self) -> Path:
        """The folder of committed reference outputs."""
        return self.folder / REFERENCE_DIR

    @property
    def ci_reference(self) -> Path:
        """The folder of the reduced-size check tables (only used with ``ci_overrides``)."""
        return self.reference / CI_DIR

    def command(self, *, ci: bool = False) -> list[str]:
        """The reference run's command line (after ``python -m sim``); ``ci``: the suite's reduced check."""
        return [f"experiment={self.name}", *self.overrides, *(self.ci_overrides if ci else [])]


def experiment_names() -> list[str]:
    """Every named experiment (``configs/experiment/*.yaml``)."""
    return sorted(p.stem for p in (config_dir() / "experiment").glob("*.yaml"))


def load_entry(name: str, root: Path = CATALOGUE) -> Entry:
    """Read ``experiments/NAME/reference.yaml``.

    Raises:
        CatalogueError: the experiment, its folder or its reference.yaml is missing or malformed.

    """
    names = experiment_names()
    if name not in names:
        raise CatalogueError(f"{name!r} is not a named experiment; allowed: {', '.join(names)}")
    folder = root / name
    spec_file = folder / REFERENCE_SPEC
    if not spec_file.is_file():
        raise CatalogueError(
            f"{spec_file} is missing: every experiment needs its catalogue folder (see {root}/README.md)"
        )
    raw = yaml.safe_load(spec_file.read_text()) or {}
    if not isinstance(raw, dict):
        raise CatalogueError(f"{spec_file}: a mapping with keys {', '.join(SPEC_KEYS)}")
    for key in raw:
        if key not in SPEC_KEYS:
            raise CatalogueError(f"{spec_file}: unknown key {key!r}; allowed: {', '.join(SPEC_KEYS)}")
    for key in SPEC_KEYS:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise CatalogueError(f"{spec_file}: {key} must be a list of strings, got {value!r}")
    for o in [*raw.get("overrides", []), *raw.get("ci_overrides", [])]:
        if "=" not in o or o.split("=", 1)[0].lstrip("+~") in ("experiment", "experiment.folder"):
            raise CatalogueError(f"{spec_file}: override {o!r}: allowed: key=value, not the experiment or its folder")
    return Entry(
        name,
        folder,
        list(raw.get("overrides", [])),
        list(raw.get("figures", [])),
        list(raw.get("ci_overrides", [])),
    )


def entries(names: Sequence[str] | None = None, root: Path = CATALOGUE) -> list[Entry]:
    """The catalogue's entries (all experiments by default)."""
    return [load_entry(n, root) for n in (names or experiment_names())]


def run_reference(entry: Entry, folder: Path, *, extra: Sequence[str] = (), ci: bool = False) -> float:
    """Run the experiment at its reference size (or the suite's reduced one) into ``folder``, in a fresh process.

    Returns:
        The wall time in seconds.

    Raises:
        RuntimeError: the run failed (its stderr is in the message).

    """
    args = [*entry.command(ci=ci), f"experiment.folder={folder}", "experiment.progress=false", *extra]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"python -m sim {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds


# --- comparing a fresh summary with the committed one ---------------------------------------------


def compare_summaries(
    reference: pd.DataFrame, fresh: pd.DataFrame, limit: int = 10, *, exact: bool = True
) -> list[str]:
    """Where a fresh table disagrees with the reference (empty if it agrees).

    The float columns are the values (means, interval bounds, indices, swept values); every other
    column (arm, point, metric, replication counts, rules in words ...) labels a row and must match
    exactly. Rows are matched on those labels, or by position where the labels do not identify a
    row. With ``exact`` every value must be equal (NaN equals NaN); without it (a machine with
    other SIMD features), each value of :data:`INTERVAL_COLUMNS` must lie within its row's interval
    half-width, and the other float columns (test statistics, fit figures) are not compared.
    """
    if list(reference.columns) != list(fresh.columns):
        return [f"columns differ: reference {list(reference.columns)}, fresh {list(fresh.columns)}"]
    values = [c for c in reference.columns if pd.api.types.is_float_dtype(reference[c])]
    keys = [c for c in reference.columns if c not in values]
    out: list[str] = []
    if keys and not reference.duplicated(keys).any():
        ref, new = reference.set_index(keys), fresh.set_index(keys)
        missing, extra = ref.index.difference(new.index), new.index.difference(ref.index)
        out += [f"row {k} is missing from the fresh table" for k in missing[:limit]]
        out += [f"row {k} is new in the fresh table" for k in extra[:limit]]
        both = ref.index.intersection(new.index)
        ref, new = ref.loc[both], new.loc[both]
    else:
        if len(reference) != len(fresh) or not reference[keys].equals(fresh[keys]):
            return [f"rows differ: reference has {len(reference)}, fresh {len(fresh)}, or their labels differ"]
        ref, new = reference, fresh
    for col in values:
        a, b = ref[col].to_numpy(dtype=float), new[col].to_numpy(dtype=float)
        if exact:
            tol = np.zeros_like(a)
        elif col in INTERVAL_COLUMNS and _half_width(ref, INTERVAL_COLUMNS[col]) is not None:
            tol = np.maximum(ABS_TOL, np.nan_to_num(_half_width(ref, INTERVAL_COLUMNS[col])))
        elif col.startswith("data_") or "." in col:
            tol = np.zeros_like(a)  # copied data and swept config values: no arithmetic, so always exact
        else:
            continue
        bad = ~((np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= tol))
        for i in np.flatnonzero(bad)[:limit]:
            out.append(f"{col} at {ref.index[i]}: reference {a[i]!r}, fresh {b[i]!r} (tolerance {tol[i]:.2g})")
    return out[:limit]


# --- writing the reference outputs and the README ------------------------------------------------


POOLED_SUMMARY = "summary_by_arm.csv"
SAMPLED_DESIGNS = ("lhs", "sobol", "morris")


def reference_tables(results: Path) -> dict[str, Path | pd.DataFrame]:
    """The result tables an experiment's reference keeps, by file name: a file to copy, or a table to write.

    ``summary.csv`` for one design point or a grid (one row per arm, point and metric); for a
    sampled design (LHS, Sobol', Morris), whose summary has a row per sampled point (megabytes),
    ``summary_by_arm.csv``: per arm and metric, the mean over all its runs with a 95 % interval,
    from ``run_summary.parquet``. Beside it whichever of ``differences.csv``,
    ``scenario_rules.csv``, ``fit.csv`` and ``sensitivity_sobol.csv`` / ``sensitivity_morris.csv``
    (the indices with their intervals) the experiment wrote.
    """
    plan = json.loads((results / "plan.json").read_text()) if (results / "plan.json").is_file() else {}
    out: dict[str, Path | pd.DataFrame] = {}
    if plan.get("design") in SAMPLED_DESIGNS:
        from sim.sweep.analysis import summary_table

        out[POOLED_SUMMARY] = summary_table(pd.read_parquet(results / "run_summary.parquet"), ["arm"])
    else:
        out["summary.csv"] = results / "summary.csv"
    out.update({name: results / name for name in EXTRA_TABLES if (results / name).is_file()})
    if plan.get("design") in SAMPLED_DESIGNS and (results / "differences_pooled.csv").is_file():
        # Per point, a sampled design's differences are as large as its summary: keep the pooled ones.
        out.pop("differences.csv", None)
        out["differences_pooled.csv"] = results / "differences_pooled.csv"
    return out


def read_table(path: Path) -> pd.DataFrame:
    """A reference table (pandas 3 reads floats back exactly as written)."""
    return pd.read_csv(path)


def write_tables(results: Path, folder: Path) -> list[Path]:
    """Empty ``folder`` and write the result tables of ``results`` (:func:`reference_tables`) into it."""
    if folder.is_dir():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    written = []
    for name, table in reference_tables(results).items():
        if isinstance(table, Path):
            written.append(Path(shutil.copy2(table, folder / name)))
        else:
            table.to_csv(folder / name, index=False)
            written.append(folder / name)
    return written


def copy_reference(entry: Entry, results: Path) -> list[Path]:
    """Write the reference tables (:func:`reference_tables`) and the key figures (PNG) into ``reference/``.

    The figures' own CSVs stay in the experiment's output folder, so the committed outputs stay
    small; the numbers the README quotes from them are in its text.
    """
    ref = entry.reference
    written = write_tables(results, ref)
    for stem in entry.figures:
        src = results / f"{stem}.png"
        if not src.is_file():
            raise CatalogueError(f"{entry.folder / REFERENCE_SPEC}: figure {stem!r} was not written ({src} missing)")
        written.append(compact_png(Path(shutil.copy2(src, ref / src.name))))
    return written


# Above this size a committed key figure is stored with a 256-colour palette (the figures use a
# handful of colours, so nothing visible is lost) to keep reference folders small.
PNG_COMPACT_BYTES = 300_000


def compact_png(path: Path) -> Path:
    """Re-save a large PNG with an adaptive 256-colour palette, in place; small ones are left alone."""
    if path.stat().st_size <= PNG_COMPACT_BYTES:
        return path
    from PIL import Image

    with Image.open(path) as image:
        palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    palette.save(path, optimize=True)
    return path


def check_against_reference(entry: Entry, results: Path, *, ci: bool = False) -> list[str]:
    """Compare a fresh run's tables with the committed ones; the disagreements (empty if none).

    With ``ci``, the committed tables are the reduced-size ones in ``reference/ci/``.

    Every table the reference keeps must be written again and agree (:func:`compare_summaries`):
    exactly where this machine's SIMD features are the recorded ones (or ``SIM_REPRO_EXACT=1``),
    otherwise within the seed-to-seed intervals.
    """
    folder = entry.ci_reference if ci else entry.reference
    info_path = folder / "reference.json"
    info = json.loads(info_path.read_text()) if info_path.is_file() else {}
    exact = exact_comparison(info.get("cpu"))
    fresh = reference_tables(results)
    committed = sorted(p.name for p in folder.glob("*.csv"))
    if not committed:
        return [f"{folder} holds no table: run python -m sim catalogue {'--ci ' if ci else ''}{entry.name}"]
    problems = []
    for name in committed:
        if name not in fresh:
            problems.append(f"{name}: the fresh run did not write it")
            continue
        table = fresh[name]
        new = read_table(table) if isinstance(table, Path) else _round_trip(table)
        problems += [f"{name}: {p}" for p in compare_summaries(read_table(folder / name), new, exact=exact)]
    return problems


def _half_width(table: pd.DataFrame, source: str) -> np.ndarray | None:
    """The per-row interval half-width named by ``source`` ('ci' for ci_low/ci_high, or a conf column)."""
    if source == "ci":
        if "ci_low" not in table or "ci_high" not in table:
            return None
        return (table["ci_high"].to_numpy(dtype=float) - table["ci_low"].to_numpy(dtype=float)) / 2.0
    return table[source].to_numpy(dtype=float) if source in table else None


def _round_trip(table: pd.DataFrame) -> pd.DataFrame:
    """A table as it reads back from CSV (so fresh and committed tables have the same dtypes)."""
    import io

    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    buffer.seek(0)
    return pd.read_csv(buffer)


def findings(entry: Entry, results: Path) -> list[str]:
    """'What it found', as Markdown read from the results (the report's own sentences and tables)."""
    from sim.present.report import (
        FIT_HEADER,
        FIT_INTRO,
        SMALLEST_NOTE,
        collect,
        fit_rows,
        headline_table,
        markdown_table,
    )

    c = collect(results)
    lines: list[str] = []
    if len(c.headline):
        lines += [f"Headline comparisons (end of run, paired on common seeds, 95 % intervals). {SMALLEST_NOTE}", ""]
        lines += markdown_table(*headline_table(c))
    if len(c.fit):
        lines += [FIT_INTRO, "", *markdown_table(FIT_HEADER, fit_rows(c))]
    for figure in c.figures:
        if figure.stem not in entry.figures:
            continue
        lines += [f"**{figure.title}** ([figure](reference/{figure.stem}.png)):", ""]
        if figure.how:
            lines += [f"*How to read it.* {figure.how}", ""]
        lines += [" ".join(s.text for s in figure.sentences), ""]
    for s in c.scenarios:
        lines += [f"- {s.text}"]
    if c.scenarios:
        lines.append("")
    return lines


def answer_section(results: Path) -> str:
    """The README's answer to its question, from the reference run's numbers (between the answer markers).

    The first use of each measure links to its glossary entry.
    """
    from sim.present.report import collect
    from sim.present.words import GlossaryLinks

    c = collect(results)
    links = GlossaryLinks(GLOSSARY_FROM_README, c.measures, lambda text, url: f"[{text}]({url})")
    text = " ".join(s.text for s in c.answer) or "The reference run gives no comparison to answer it with."
    return "\n".join([ANSWER_BEGIN, "", f"**Answer (from the reference run).** {links.link(text)}", "", ANSWER_END])


def generated_section(entry: Entry, results: Path, info: dict[str, Any]) -> str:
    """The README's generated part: how long the reference run took, what it found, the reference files."""
    command = " ".join(["python -m sim", *entry.command()])
    size = "at a reduced size: " + ", ".join(f"`{o}`" for o in entry.overrides) if entry.overrides else "at full size"
    lines = [
        BEGIN,
        "",
        "## How long it takes",
        "",
        f"The reference run ({size}) made {info['runs']} runs in {info['seconds']:.0f} s on the 2-core "
        f"development machine ({info['date']}, revision {info['git_revision'][:10]}):",
        "",
        "```",
        command,
        "```",
        "",
        "## What it found",
        "",
        f"From the reference run ({size}). Every number below is read by the report's own code from that "
        "run's files: the tables kept in [`reference/`](reference/), and the CSVs of the figures, which stay "
        "in the run's output folder.",
        "",
        *findings(entry, results),
        "## Reference outputs",
        "",
        *[
            f"- [`{p.name}`](reference/{p.name})"
            for p in sorted(entry.reference.iterdir())
            if p.name not in ("reference.json", CI_DIR)
        ],
        "",
        *_check_sentences(entry),
        "",
        END,
    ]
    return "\n".join(lines)


def _check_sentences(entry: Entry) -> list[str]:
    """How the test suite checks this reference (the README's last paragraph)."""
    rule = (
        "requires every value of every table to be equal on a machine with the SIMD features recorded in "
        "`reference.json`, and elsewhere each mean and interval bound to lie within its row's 95 % interval "
        "half-width ([reliability](../../docs/reliability.md))"
    )
    regenerate = (
        f"When a change to the model moves them on purpose, regenerate with `python -m sim catalogue {entry.name}` "
        "and say why in the commit."
    )
    if not entry.ci_overrides:
        return [f"`tests/test_catalogue.py` runs the command above again and {rule}. {regenerate}"]
    reduced = " ".join(["python -m sim", *entry.command(ci=True)])
    return [
        "`tests/test_catalogue.py` keeps `make test` short by rerunning this experiment at a reduced size, "
        f"`{reduced}`, against the tables in [`reference/ci/`](reference/ci/); it {rule}. "
        f"`python -m sim catalogue --check {entry.name}` reruns the full-size command above and checks the "
        f"tables here the same way. {regenerate}"
    ]


def update_readme(readme: Path, section: str, answer: str | None = None) -> None:
    """Replace the generated parts of a README (between the markers), keeping the hand-written rest.

    The answer (if given) replaces the one between the answer markers; a README without them gets
    it right after the paragraph that states the question (``**Question.** ...``).

    Raises:
        CatalogueError: the README is missing or lacks the markers.

    """
    if not readme.is_file():
        raise CatalogueError(
            f"{readme} is missing: write its question and how to read it, with the markers {BEGIN!r} and {END!r}"
        )
    text = readme.read_text()
    pattern = re.compile(re.escape(BEGIN.split(":", 2)[0]) + r":begin.*?" + re.escape(END), flags=re.S)
    if not pattern.search(text):
        raise CatalogueError(f"{readme} lacks the markers {BEGIN!r} ... {END!r} where the generated part goes")
    text = pattern.sub(lambda _: section, text, count=1)
    if answer is not None:
        answers = re.compile(
            re.escape(ANSWER_BEGIN.split(":", 1)[0]) + r":begin.*?" + re.escape(ANSWER_END), flags=re.S
        )
        if answers.search(text):
            text = answers.sub(lambda _: answer, text, count=1)
        else:
            question = re.search(r"^\*\*Question\.\*\*.*?(?:\n\s*\n|\Z)", text, flags=re.M | re.S)
            if question is None:
                raise CatalogueError(f"{readme} has no '**Question.**' paragraph to put the answer under")
            text = text[: question.end()] + answer + "\n\n" + text[question.end() :]
    readme.write_text(text)


def make_reference(entry: Entry, revision: str) -> dict[str, Any]:
    """Run one experiment at its reference size, copy its reference outputs and update its README.

    Args:
        entry: the experiment.
        revision: the code's git revision (taken before any reference is rewritten).

    """
    with tempfile.TemporaryDirectory(prefix=f"catalogue-{entry.name}-") as tmp:
        results = Path(tmp) / entry.name
        seconds = run_reference(entry, results)
        copy_reference(entry, results)
        runs = len(list((results / "runs").glob("*.parquet"))) if (results / "runs").is_dir() else _lab_runs(results)
        info = {
            "experiment": entry.name,
            "command": " ".join(["python -m sim", *entry.command()]),
            "overrides": entry.overrides,
            "runs": runs,
            "seconds": round(seconds, 1),
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "git_revision": revision,
            "cpu": cpu_features(),
        }
        (entry.reference / "reference.json").write_text(json.dumps(info, indent=2) + "\n")
        update_readme(entry.folder / "README.md", generated_section(entry, results, info), answer_section(results))
    if entry.ci_overrides:
        make_ci_reference(entry, revision)
    return info


def make_ci_reference(entry: Entry, revision: str) -> dict[str, Any]:
    """Run the suite's reduced-size check of one experiment and write its tables to ``reference/ci/``.

    Only tables are kept (no figures, no README text): they exist so that ``tests/test_catalogue.py``
    can check the experiment in a minute or two.
    """
    with tempfile.TemporaryDirectory(prefix=f"catalogue-ci-{entry.name}-") as tmp:
        results = Path(tmp) / entry.name
        seconds = run_reference(entry, results, ci=True)
        ci = entry.ci_reference
        write_tables(results, ci)
        info = {
            "experiment": entry.name,
            "command": " ".join(["python -m sim", *entry.command(ci=True)]),
            "seconds": round(seconds, 1),
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "git_revision": revision,
            "cpu": cpu_features(),
        }
        (ci / "reference.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def check_full_size(entry: Entry) -> list[str]:
    """Rerun the full-size reference command and compare its tables with ``reference/`` (the disagreements)."""
    with tempfile.TemporaryDirectory(prefix=f"catalogue-check-{entry.name}-") as tmp:
        results = Path(tmp) / entry.name
        run_reference(entry, results)
        return check_against_reference(entry, results)


def _lab_runs(results: Path) -> int:
    ts = pd.read_parquet(results / "timeseries.parquet", columns=["arm", "replication"])
    return int(ts.drop_duplicates().shape[0])


CATALOGUE_USAGE = (
    "usage: python -m sim catalogue [--ci | --check | --ledger] [NAME ...]\n"
    "  (no option)  remake the full-size reference outputs and README sections, and the reduced-size\n"
    "               check tables of experiments with ci_overrides (all experiments by default)\n"
    "  --ci         remake only the reduced-size check tables (reference/ci/)\n"
    "  --check      rerun the full-size references and compare them with reference/ (exit 1 on a difference)\n"
    "  --ledger     rewrite only the hypothesis ledger in experiments/README.md from the committed references\n"
    "  (remaking references also rewrites the ledger)"
)


def main(args: list[str]) -> int:
    """``python -m sim catalogue [--ci | --check] [NAME ...]``: remake or check the reference outputs."""
    options = [a for a in args if a.startswith("-")]
    names = [a for a in args if not a.startswith("-")]
    if options in (["-h"], ["--help"]):
        print(CATALOGUE_USAGE)
        return 0
    if len(options) > 1 or (options and options[0] not in ("--ci", "--check", "--ledger")):
        print(
            f"error: unknown option {' '.join(options)!r}; allowed: --ci, --check or --ledger\n{CATALOGUE_USAGE}",
            file=sys.stderr,
        )
        return 2
    mode = options[0] if options else ""
    if mode == "--ledger":
        if names:
            print("error: --ledger takes no experiment names (it reads every committed reference)", file=sys.stderr)
            return 2
        return _write_ledger()
    try:
        chosen = entries(names or None)
    except CatalogueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    revision = git_revision()  # before this command rewrites any tracked file
    failed = 0
    for entry in chosen:
        if mode == "--check":
            problems = check_full_size(entry)
            failed += bool(problems)
            print(
                f"{entry.name}: "
                + ("agrees with reference/" if not problems else "DIFFERS:\n  " + "\n  ".join(problems))
            )
        elif mode == "--ci":
            if not entry.ci_overrides:
                print(f"{entry.name}: no ci_overrides; the suite reruns the full reference")
                continue
            info = make_ci_reference(entry, revision)
            print(f"{entry.name}: reduced check in {info['seconds']} s -> {entry.ci_reference}")
        else:
            info = make_reference(entry, revision)
            print(f"{entry.name}: {info['runs']} runs in {info['seconds']} s -> {entry.reference}")
    if mode == "":
        _write_ledger()
    return 1 if failed else 0


def _write_ledger() -> int:
    """Rewrite the hypothesis ledger (sim.ledger) from the committed references; the exit code."""
    from sim.ledger import LedgerError, update_ledger

    try:
        changed = update_ledger()
    except LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"ledger in {CATALOGUE / 'README.md'}: {'rewritten' if changed else 'unchanged'}")
    return 0
