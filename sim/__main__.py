"""Command line: ``python -m sim [COMMAND] [HYDRA OVERRIDES...]``.

Commands:
    experiment   (default) run a named experiment, a sweep of arms x points x replications:
                 ``python -m sim`` runs the main job, ``python -m sim experiment=NAME key=value ...``
                 another one. Its folder (``outputs/NAME/sweep-<id>``) depends only on what the
                 sweep computes, so running the same command again resumes it: finished runs are
                 kept, the rest run. ``--dry-run`` lists the planned runs and their status without
                 running any. See docs/sweeps.md.
    run          one simulation: ``python -m sim run regime=negotiated steps=240 seed=7``;
                 Hydra's ``--multirun`` works here (``python -m sim run -m seed=1,2,3``), with any
                 launcher (``hydra/launcher=joblib``, ``hydra/launcher=submitit_local``/``submitit_slurm``).
    app          the proposal explorer in the browser: ``python -m sim app [--host 127.0.0.1] [--port 8765]``
                 (see docs/app.md).
    rerun        rerun a saved run folder from its own config.yaml and check that the new time series is
                 identical to the saved one: ``python -m sim rerun outputs/runs/<folder>`` prints
                 "identical" (exit 0) or the first difference (exit 1), and warns when the package,
                 dependency versions or git revision differ from the saved provenance (docs/reliability.md).
    report       rebuild report.html and report.md of a saved experiment folder from its files, running
                 nothing: ``python -m sim report outputs/main/sweep-<id>``; a single run's folder
                 (``outputs/runs/<folder>``) gets its own report the same way (docs/reports.md).
    analyse      rerun the analysis and figures of a saved sweep from its runs, running no simulation:
                 ``python -m sim analyse outputs/NAME/latest`` (for a sweep run with
                 ``experiment.analysis.enabled=false``, or after changing the analysis code).
    catalogue    remake the committed reference outputs of the experiment catalogue (experiments/NAME/):
                 ``python -m sim catalogue [NAME ...]`` runs each experiment at its reference size and
                 rewrites its reference/ folder and the generated part of its README (experiments/README.md).

Both are Hydra applications over the same configs (``configs/``): every Hydra flag works
(``--cfg job``, ``--help``). A bad value stops the command before any work with one line
naming the key and what is allowed, and exit code 2 (add ``--debug`` or set ``SIM_DEBUG=1`` for a traceback).
An experiment whose runs raised exits with code 1 after writing everything else.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Any

COMMANDS = ("experiment", "run", "app", "rerun", "report", "analyse", "catalogue")

# Answered before anything heavy is imported, so that ``python -m sim --help`` is instant; Hydra's
# own help (the whole composed config) stays one flag away: ``python -m sim --hydra-help``/``--cfg job``.
HELP = """usage: python -m sim [COMMAND] [OPTIONS] [key=value ...]

Commands:
  experiment  (default) run an experiment: arms x sweep points x replications, resumable
              python -m sim experiment=sensitivity experiment.replications=3
  run         one simulation:            python -m sim run regime=negotiated steps=240 seed=7
  analyse     redo a sweep's analysis:   python -m sim analyse outputs/NAME/latest
  report      rebuild a folder's report: python -m sim report outputs/NAME/latest
  rerun       check a run reproduces:    python -m sim rerun outputs/runs/FOLDER
  app         the proposal explorer:     python -m sim app [--host H] [--port P]
  catalogue   remake the committed reference outputs (slow): python -m sim catalogue [NAME ...]

Options:
  --dry-run            list an experiment's planned runs and their status; run nothing
  --verbose            show Mesa's per-month log lines and dask's INFO lines (quiet by default)
  --config-dir DIR     also look for configs (DIR/experiment/NAME.yaml) in DIR
  --debug              tracebacks on errors (or SIM_DEBUG=1)
  -m, --multirun       Hydra multirun of the run command (python -m sim run -m seed=1,2,3)
  --cfg job            print the composed config; --hydra-help for Hydra's own help

Common overrides:
  experiment=NAME | experiment=./mine.yaml   a packaged experiment, or your own file
  hydra.searchpath=[file://DIR]              Hydra's way to add config folders
  experiment.replications=N  experiment.backend=serial|processes|dask  experiment.workers=N
  'experiment.arms={a: ["regime=targets"], b: ["regime=negotiated"]}'   replace the arms
  ~experiment.arms.NAME                      drop one arm
  experiment.sweep={design: sobol, samples: 64, parameters: {regime.audit_rate: [0, 0.3]}}
  experiment.sweep.parameters.regime.audit_rate=[0,0.3]            one swept range
  experiment.analysis.enabled=false          runs only; python -m sim analyse FOLDER later
  population.n_citizens=N  steps=N  burn_in=N  seed=N  regime=targets|negotiated|functioning|none

Docs: README.md ("Running"), docs/tutorial.md, docs/api.md, docs/sweeps.md, docs/parameters.md
"""


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


# Hydra's flags that take the next argument as their value (``--cfg job``, ``-cn NAME`` ...).
_FLAGS_WITH_VALUE = frozenset(
    {"-c", "--cfg", "-p", "--package", "-cp", "--config-path", "-cn", "--config-name", "-cd", "--config-dir",
     "--experimental-rerun"}
)  # fmt: skip


def _overrides(argv: list[str], deletions: bool = False) -> list[str]:
    """The key=value overrides among Hydra's arguments (flags such as -m are left out); with ``~key`` if asked."""
    # The experiment's composition needs the deletions too: the sweep folder's id is computed
    # from it and must equal the job's, or a folder would not be recognised as the same sweep's.
    return [
        a
        for a in argv
        if ("=" in a or (deletions and a.startswith("~"))) and not a.startswith("-") and not a.startswith("hydra")
    ]


def _check_arguments(args: list[str]) -> None:
    """Refuse an argument that is neither a flag nor key=value (e.g. ``steps`` alone), with one line."""
    after_flag = False
    for a in args:
        if after_flag:
            after_flag = False
            continue
        if a.startswith("-"):
            after_flag = a in _FLAGS_WITH_VALUE
            continue
        if "=" not in a and not a.startswith("~"):  # ~key deletes a key (Hydra's grammar)
            _fail(f"argument {a!r} is not key=value; allowed: key=value overrides, e.g. steps=240 (docs/parameters.md)")


def _is_sweep(override: str) -> bool:
    """Whether Hydra reads an override as a --multirun sweep (``seed=1,2``, ``range(3)``), not a list value."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        return bool(OverridesParser.create().parse_overrides([override])[0].is_sweep_override())
    except Exception:  # a malformed override: let the precheck name it
        return False


def _precheck(overrides: list[str], multirun: bool = False) -> object:
    """Compose and validate once before Hydra starts, so bad input gets one clear line; return the config.

    Scalar, list and mapping values are all checked here; only a --multirun sweep value (``seed=1,2``)
    is left to the job, which checks one value at a time. The experiment block is checked too, so
    that ``run experiment.replications=-3`` is refused like the same option of an experiment.
    """
    from sim.config import ConfigError, compose_checked, to_sim_config
    from sim.sweep.plan import experiment_of

    swept = [o for o in overrides if multirun and _is_sweep(o)]
    try:
        cfg = compose_checked([o for o in overrides if o not in swept])
        checked = to_sim_config(cfg)
        experiment_of(cfg)
        return checked
    except ConfigError as exc:
        if os.environ.get("SIM_DEBUG"):
            raise
        _fail(str(exc))
        raise  # unreachable: _fail exits


def _check_output_dir(directory: str) -> None:
    """Fail early, with one line, if ``output.dir`` cannot hold run folders (not a folder, not writable)."""
    path = Path(directory).absolute()
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        _fail(f"output.dir={directory!r} cannot be created: {probe} is a file; allowed: a writable folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        _fail(f"output.dir={directory!r} is not writable ({probe}); allowed: a writable folder")


def _rerun(args: list[str]) -> None:
    """``python -m sim rerun RUN_FOLDER``: rerun a saved run and compare its tables with the saved ones."""
    from sim.config import ConfigError
    from sim.runner import rerun

    if len(args) != 1 or args[0].startswith("-") or "=" in args[0]:
        _fail("usage: python -m sim rerun RUN_FOLDER (a folder written by `python -m sim run` or sim.run)")
    try:
        report = rerun(args[0])
    except (ConfigError, FileNotFoundError, OSError, ValueError) as exc:  # RunFolderError is a ValueError
        if os.environ.get("SIM_DEBUG"):
            raise
        _fail(f"rerun {args[0]}: {exc}")
        return
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if report.identical:
        print(f"identical: {report.rows} rows of timeseries.parquet reproduced exactly ({args[0]})")
        return
    print(f"different: {report.difference}", file=sys.stderr)
    sys.exit(1)


def _report(args: list[str]) -> None:
    """``python -m sim report FOLDER``: rebuild the folder's report.html and report.md from its saved files."""
    from sim.present.report import build_report

    if len(args) != 1 or args[0].startswith("-") or "=" in args[0]:
        _fail(
            "usage: python -m sim report FOLDER (an experiment's or a run's output folder, e.g. outputs/main/sweep-ID)"
        )
    try:
        written = build_report(args[0])
    except (FileNotFoundError, OSError, ValueError, KeyError) as exc:
        if os.environ.get("SIM_DEBUG"):
            raise
        _fail(f"report {args[0]}: {exc}")
        return
    print(f"report: {written[0]}")
    for path in written[1:]:
        print(f"  {path}")


def _analyse(args: list[str]) -> None:
    """``python -m sim analyse FOLDER``: redo a sweep's tables, figures and report from its saved runs."""
    from sim.api import analyse_folder

    if len(args) != 1 or args[0].startswith("-") or "=" in args[0]:
        _fail("usage: python -m sim analyse FOLDER (a sweep folder, e.g. outputs/main/latest)")
    try:
        res = analyse_folder(args[0])
    except (FileNotFoundError, OSError, ValueError, KeyError) as exc:  # ConfigError, SweepError are ValueErrors
        if os.environ.get("SIM_DEBUG"):
            raise
        _fail(f"analyse {args[0]}: {exc}")
        return
    if res.warnings:
        print(f"{len(res.warnings)} warning(s), e.g.: {res.warnings[0]}", file=sys.stderr)
    print(f"analysis of {args[0]}: {len(res.per_run)} runs with results")
    for path in dict.fromkeys([*res.files, *res.figures]):
        print(f"  {path}")


def _experiment_precheck(overrides: list[str]) -> tuple[object, str]:
    """Compose the experiment, validate its sweep, analysis and backend options; return it and its folder.

    Only cheap checks happen here (no arm is composed); each sweep point is validated against its
    arm by the job before any run starts.
    """
    from omegaconf import OmegaConf

    from sim.config import ConfigError, compose_checked
    from sim.sweep.backends import check_dask_options
    from sim.sweep.plan import check_effective, default_folder, experiment_of, sweep_id
    from sim.sweep.report import parse_analysis
    from sim.sweep.spec import check_arms, parse_sweep
    from sim.sweep.store import check_folder

    try:
        cfg = compose_checked(overrides)
        if OmegaConf.select(cfg, "experiment.kind", default="simulation") == "lab":
            # A lab experiment reruns whole (about a second); its folder is new each time unless given.
            return cfg, str(OmegaConf.select(cfg, "experiment.folder", default="") or "")
        exp = experiment_of(cfg)
        if not exp.arms:
            raise ConfigError("experiment.arms is empty; an experiment needs at least one arm")
        spec = parse_sweep(exp.sweep)
        check_arms(spec, exp.arms)
        check_effective(overrides, exp, spec.names)
        parse_analysis(exp.analysis, list(exp.arms), spec)
        check_dask_options(exp.dask or {})
        folder = default_folder(cfg)
        # Before Hydra writes .hydra/ into it: a folder that cannot be one, or another experiment's.
        check_folder(folder, str(exp.name), sweep_id(cfg))
        return cfg, str(folder)
    except ConfigError as exc:
        if os.environ.get("SIM_DEBUG"):
            raise
        _fail(str(exc))
        raise  # unreachable: _fail exits


def _dry_run(overrides: list[str]) -> None:
    """List the planned runs, their count and their status in the sweep folder; run nothing."""
    import pandas as pd

    from sim.config import ConfigError
    from sim.sweep import build_plan, dry_run_table

    cfg, folder = _experiment_precheck(overrides)
    if _select(cfg, "experiment.kind") == "lab":
        _fail("--dry-run lists the runs of simulation experiments; this one is a lab experiment")
    try:
        plan = build_plan(cfg, overrides)
    except ConfigError as exc:
        if os.environ.get("SIM_DEBUG"):
            raise
        _fail(str(exc))
        return
    table = dry_run_table(plan, folder)
    counts = table.drop_duplicates("key")["status"].value_counts()
    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200):
        print(table.to_string(index=False))
    print(f"experiment '{plan.name}': {plan.describe()}")
    print("status: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("done", "failed", "to run")) + " (distinct runs)")
    print(f"folder: {folder}")
    print("dry run: nothing was run")


def _quiet_logs() -> None:
    """Keep Mesa's one INFO line per month ("Step 1 at time 1.0") and dask's INFO lines out of the output.

    Mesa logs under ``MESA``; left at INFO it grows the log by a line a month (hundreds of MB at
    the longest horizons). A level set on purpose, e.g. ``hydra.verbose=MESA`` (DEBUG), is kept.
    dask.distributed logged some 30 INFO lines of its scheduler and workers starting and stopping
    for a four-run sweep on the dask backend, around the sweep's own lines; its warnings still show.
    Its level is read from dask's config (``DASK_LOGGING__DISTRIBUTED``) when distributed is first
    imported, here and in the workers; a value set by the user is kept. ``--verbose`` shows both.
    """
    import logging

    if os.environ.get("SIM_VERBOSE"):
        return
    logger = logging.getLogger("MESA")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")


# The block edits (``experiment.arms={...}``, ``~experiment.sweep`` ...) the job applies to Hydra's config.
_EDITS: list[tuple[str, str, Any]] = []


def _job_config(cfg: Any) -> Any:
    """Hydra's composed config with the block edits applied, and the configs' origins recorded."""
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    from sim.config import apply_edits, record_origin

    runtime = HydraConfig.get().runtime
    record_origin(
        OmegaConf.to_container(runtime.choices) or {},  # type: ignore[arg-type]
        [(str(s.provider), f"{s.schema}://{s.path}") for s in runtime.config_sources],
    )
    return apply_edits(cfg, _EDITS) if _EDITS else cfg


# Folders that existed before Hydra started (output.dir and the folders it makes under it),
# so that a job refused after Hydra has made its folder can remove exactly what this command made.
_EXISTED: set[Path] = set()


def _snapshot(*paths: str) -> None:
    """Remember which of these folders, and of output.dir's own entries, exist before Hydra starts."""
    for root in paths:
        base = Path(root).absolute()
        if base.exists():
            _EXISTED.add(base)
            if base.is_dir():
                _EXISTED.update(p.absolute() for p in base.iterdir())


def _discard_job_folder(folder: Path) -> None:
    """Remove what Hydra wrote for a job that was refused (``.hydra/`` and the log), never anything else.

    The folder itself and its parents go only if they are then empty and did not exist before
    this command, so a refused command leaves the file system as it found it.
    """
    import shutil

    folder = folder.absolute()
    if not folder.is_dir() or folder in _EXISTED:  # a sweep folder being resumed keeps its files
        return
    shutil.rmtree(folder / ".hydra", ignore_errors=True)
    for log in folder.glob("*.log"):
        log.unlink(missing_ok=True)
    stop = Path.cwd().absolute()
    p = folder
    while p != stop and p != p.parent and p not in _EXISTED:
        try:
            p.rmdir()  # only if empty
        except OSError:
            break
        p = p.parent


def _refuse_in_job(message: str, folder: Path) -> None:
    """A refusal inside a Hydra job: tidy the job's folder, then the one line and exit 2."""
    _discard_job_folder(folder)
    _fail(message)


def _run_job(cfg: object) -> None:
    from hydra.core.hydra_config import HydraConfig

    from sim.config import ConfigError
    from sim.runner import run

    _quiet_logs()
    folder = Path(HydraConfig.get().runtime.output_dir)
    try:
        result = run(_job_config(cfg), folder=folder)
    except ConfigError as exc:
        if os.environ.get("SIM_DEBUG"):
            raise
        _refuse_in_job(str(exc), folder)
        return
    except OSError as exc:  # sim.runner.RunWriteError: disk full, no permission; nothing partial is left
        if os.environ.get("SIM_DEBUG"):
            raise
        print(f"error: {exc.strerror or exc}", file=sys.stderr)
        sys.exit(1)
    print(f"run folder: {result.path}")
    keys = ("prosocial_rate", "gaming_share", "trust_mean", "reported_outcome", "true_outcome")
    print("end-of-run (mean of the last 12 months): " + ", ".join(f"{k}={result.summary[k]:.3f}" for k in keys))


def _experiment_job(cfg: object) -> None:
    from hydra.core.hydra_config import HydraConfig

    from sim.config import ConfigError
    from sim.runner import run_experiment
    from sim.sweep.store import SweepError

    _quiet_logs()
    hc = HydraConfig.get()
    # Each arm is composed from the same overrides (which select the experiment file and its
    # deltas) plus the arm's own.
    try:
        cfg = _job_config(cfg)
        result = run_experiment(cfg, list(hc.overrides.task), Path(hc.runtime.output_dir))
    except ConfigError as exc:  # nothing has run: leave no folder behind
        if os.environ.get("SIM_DEBUG"):
            raise
        _refuse_in_job(str(exc), Path(hc.runtime.output_dir))
        return
    except SweepError as exc:
        if os.environ.get("SIM_DEBUG"):
            raise
        # A full disk or an interruption (exit 1, 130) is not a bad input (exit 2).
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(getattr(exc, "exit_code", 2))
    except OSError as exc:  # the analysis could not write its files: the runs are kept
        if os.environ.get("SIM_DEBUG"):
            raise
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        print(
            f"error: cannot write the experiment's files in {hc.runtime.output_dir}: {reason}; "
            "free space or restore write permission, then run the same command again",
            file=sys.stderr,
        )
        sys.exit(1)
    stats = getattr(result, "stats", None)
    name = _select(cfg, "experiment.name") or result.folder.parent.name
    if stats is not None:
        print(
            f"experiment '{name}': {stats.planned} runs planned, {stats.already_done} already done, "
            f"{stats.ran} run now, {stats.failed} failed, in {result.seconds:.1f} s"
        )
    else:
        n_runs = result.timeseries.groupby(["arm", "replication"]).ngroups
        print(f"experiment '{name}': {n_runs} runs in {result.seconds:.1f} s")
    warnings = getattr(result, "warnings", [])
    analysis_off = _select(cfg, "experiment.analysis.enabled") is False
    if analysis_off:
        print(f"analysis off (experiment.analysis.enabled=false); later: python -m sim analyse {result.folder}")
    elif warnings:
        print(f"{len(warnings)} warning(s), e.g.: {warnings[0]}", file=sys.stderr)
        print(f"  all warnings: {result.folder / 'report.md'}", file=sys.stderr)
    print(f"output folder: {result.folder}")
    files = getattr(result, "files", []) or (
        [] if analysis_off else [result.folder / "timeseries.parquet", result.folder / "summary.csv"]
    )
    for path in dict.fromkeys([*files, *result.figures]):
        print(f"  {path}")
    if stats is not None and stats.failed:
        print(
            f"error: {stats.failed} run(s) failed (tracebacks and configs in {result.folder / 'failed'}); "
            "run the same command again to retry them",
            file=sys.stderr,
        )
        sys.exit(1)


def _select_attr(obj: object, key: str) -> object:
    """A dotted attribute of a config object, None if absent."""
    for part in key.split("."):
        obj = getattr(obj, part, None)
    return obj


def _select(cfg: object, key: str) -> object:
    """``OmegaConf.select`` for a DictConfig, None otherwise."""
    from omegaconf import OmegaConf

    return OmegaConf.select(cfg, key, default=None) if OmegaConf.is_config(cfg) else None


def _split_flags(args: list[str]) -> tuple[list[str], list[str]]:
    """Hydra's flags (with their values) and the overrides, each in their order."""
    flags: list[str] = []
    overrides: list[str] = []
    after_flag = False
    for a in args:
        if after_flag:
            flags.append(a)
            after_flag = False
        elif a.startswith("-"):
            flags.append(a)
            after_flag = a in _FLAGS_WITH_VALUE
        else:
            overrides.append(a)
    return flags, overrides


def _take_search_path(args: list[str]) -> list[str]:
    """Take ``--config-dir DIR`` (``-cd``) and ``hydra.searchpath=[...]`` out of the arguments into the search path.

    Every composition of this process (the checks, each arm, the Hydra job) then sees the same
    folders, in Hydra's order: the packaged configs first, then these.
    """
    from sim.config import ConfigError, _parse_list_value, set_search_path

    rest: list[str] = []
    entries: list[str] = []
    it = iter(args)
    for a in it:
        if a in ("--config-dir", "-cd"):
            value = next(it, None)
            if value is None:
                _fail(f"{a} needs a folder: python -m sim {a} DIR experiment=NAME")
            entries.append(str(value))
        elif a.startswith("--config-dir="):
            entries.append(a.split("=", 1)[1])
        elif a.startswith("hydra.searchpath="):
            try:
                entries += _parse_list_value(a.split("=", 1)[1])
            except Exception:  # Hydra's parser raises its own exceptions for a malformed list
                _fail(f"malformed override {a!r}; allowed: hydra.searchpath=[file:///absolute/dir,pkg://module]")
        else:
            rest.append(a)
    if entries:
        try:
            set_search_path(entries)
        except ConfigError as exc:
            _fail(str(exc))
    return rest


def _verbose_logs() -> None:
    """``--verbose``: Mesa's per-month INFO lines and dask's, here and in the workers (which read SIM_VERBOSE)."""
    import logging

    os.environ["SIM_VERBOSE"] = "1"
    logging.getLogger("MESA").setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m sim`` and the ``sim`` script."""
    args = list(sys.argv[1:] if argv is None else argv)
    first = args[0] if args else ""
    if first in ("experiment", "run", "") or first.startswith(("-", "~")) or "=" in first:
        if any(a in ("--help", "-h") for a in args):
            print(HELP, end="")  # before any heavy import: answers at once
            return
        args = ["--help" if a == "--hydra-help" else a for a in args]
    original = list(args)
    if "--debug" in args:  # tracebacks for every error (as SIM_DEBUG=1); Hydra never sees the flag
        args = [a for a in args if a != "--debug"]
        os.environ["SIM_DEBUG"] = "1"
    if "--verbose" in args:
        args = [a for a in args if a != "--verbose"]
        _verbose_logs()
    explicit_command = bool(args) and args[0] in COMMANDS
    command = args.pop(0) if explicit_command else "experiment"
    if command == "rerun":
        _rerun(args)
        return
    if command == "report":
        _report(args)
        return
    if command == "analyse":
        _analyse(args)
        return
    if command == "catalogue":
        from sim.catalogue import main as catalogue_main

        sys.exit(catalogue_main(args))
    if command == "app":  # the proposal explorer (a web app, no Hydra): python -m sim app [--host H] [--port P]
        from sim.app import main as app_main

        app_main(args)
        return
    import hydra

    from sim.config import ConfigError, config_dir, prepare_overrides, register_configs, search_path

    dry_run = "--dry-run" in args
    args = [a for a in args if a != "--dry-run"]
    if not explicit_command and args and not args[0].startswith(("-", "~")) and "=" not in args[0]:
        _fail(f"unknown command {args[0]!r}; commands: {', '.join(COMMANDS)} (or key=value overrides)")
    if dry_run and command != "experiment":
        _fail("--dry-run is an option of the experiment command: python -m sim experiment=NAME --dry-run")
    args = _take_search_path(args)
    _check_arguments(args)
    multirun = any(a in ("-m", "--multirun") for a in args)
    checked = _precheck(_overrides(args), multirun)
    out_dir = str(_select_attr(checked, "output.dir"))  # never empty: the precheck refuses that
    if not any(a.startswith("hydra.run.dir=") for a in args):
        _check_output_dir(out_dir)
    _snapshot(out_dir)
    folder, folder_is_explicit = "", False
    if command == "experiment" and not multirun:
        if dry_run:
            _dry_run(_overrides(args, deletions=True))
            return
        cfg, folder = _experiment_precheck(_overrides(args, deletions=True))
        folder_is_explicit = bool(folder) and bool(_select(cfg, "experiment.folder"))
        if folder:
            _snapshot(folder)
        if _select(cfg, "experiment.backend") == "processes" and _select(cfg, "experiment.kind") != "lab":
            from sim.sweep.backends import prestart

            # The workers start (about a second each) while Hydra composes the job and it plans the arms.
            threads = _select(cfg, "kernel_threads")  # 0 (every core) is a value, not a missing one
            prestart(int(_select(cfg, "experiment.workers") or 0), 1 if threads is None else int(threads))
    # Hydra gets what it composes as the checks did: experiment files by name, block replacements
    # and deletions applied by the job (Hydra would merge them), the search path as one override.
    flags, overrides = _split_flags(args)
    try:
        hydra_side, edits = prepare_overrides(overrides)
    except ConfigError as exc:
        _fail(str(exc))
        return
    _EDITS[:] = edits
    args = [*flags, *hydra_side]
    if search_path():
        args.append("hydra.searchpath=[" + ",".join(f"'{e}'" for e in search_path()) + "]")
    from sim.sweep import engine

    engine.RESUME_COMMAND = "python -m sim " + shlex.join(original)
    register_configs()
    if not any(a.startswith("hydra.run.dir=") for a in args):
        stamp = "${now:%Y%m%d-%H%M%S-%f}"
        if command == "run":
            args.append(f"hydra.run.dir=${{output.dir}}/runs/{stamp}-${{regime.name}}-seed${{seed}}")
            args.append(f"hydra.sweep.dir=${{output.dir}}/multirun/{stamp}")
        elif folder:
            # The sweep folder: the same experiment (and code) always goes to the same folder,
            # so the same command resumes it.
            name = Path(folder).name
            explicit = "${experiment.folder}"
            default = f"${{output.dir}}/${{experiment.name}}/{name}"
            args.append(f"hydra.run.dir={explicit if folder_is_explicit else default}")
        else:
            args.append(f"hydra.run.dir=${{output.dir}}/${{experiment.name}}/{stamp}")
    job = _run_job if command == "run" else _experiment_job
    sys.argv = [f"sim {command}", *args]
    app = hydra.main(config_path=str(config_dir()), config_name="config", version_base="1.3")(job)
    app()


if __name__ == "__main__":
    main()
