"""Command line: ``python -m sim [COMMAND] [HYDRA OVERRIDES...]``.

Commands:
    experiment   (default) run a named experiment: ``python -m sim`` runs the main job,
                 ``python -m sim experiment=NAME key=value ...`` another one.
    run          one simulation: ``python -m sim run regime=negotiated steps=240 seed=7``;
                 Hydra's ``--multirun`` works here (``python -m sim run -m seed=1,2,3``).

Both are Hydra applications over the same configs (``configs/``): every Hydra flag works
(``--cfg job``, ``--help``). A bad value stops the command before any work with one line
naming the key and what is allowed, and exit code 2 (set ``SIM_DEBUG=1`` for a traceback).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

COMMANDS = ("experiment", "run")


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def _overrides(argv: list[str]) -> list[str]:
    """The key=value overrides among Hydra's arguments (flags such as -m are left out)."""
    return [a for a in argv if "=" in a and not a.startswith("-") and not a.startswith("hydra")]


def _precheck(overrides: list[str]) -> None:
    """Compose and validate once before Hydra starts, so bad input gets one clear line."""
    from sim.config import ConfigError, load_config

    swept = [o for o in overrides if "," in o.split("=", 1)[1]]
    try:
        # A --multirun sweep value like seed=1,2 is checked one value at a time by the job itself.
        load_config([o for o in overrides if o not in swept])
    except ConfigError as exc:
        if os.environ.get("SIM_DEBUG"):
            raise
        _fail(str(exc))


def _run_job(cfg: object) -> None:
    from hydra.core.hydra_config import HydraConfig

    from sim.config import ConfigError
    from sim.runner import run

    try:
        result = run(cfg, folder=Path(HydraConfig.get().runtime.output_dir))
    except ConfigError as exc:
        _fail(str(exc))
        return
    print(f"run folder: {result.path}")
    keys = ("prosocial_rate", "gaming_share", "trust_mean", "reported_outcome", "true_outcome")
    print("end-of-run (mean of the last 12 months): " + ", ".join(f"{k}={result.summary[k]:.3f}" for k in keys))


def _experiment_job(cfg: object) -> None:
    from hydra.core.hydra_config import HydraConfig

    from sim.runner import run_experiment

    hc = HydraConfig.get()
    # Each arm is composed from the same overrides (which select the experiment file and its
    # deltas) plus the arm's own.
    result = run_experiment(cfg, list(hc.overrides.task), Path(hc.runtime.output_dir))
    n_runs = result.timeseries.groupby(["arm", "replication"]).ngroups
    print(f"experiment '{result.folder.parent.name}': {n_runs} runs in {result.seconds:.1f} s")
    print(f"output folder: {result.folder}")
    for path in [result.folder / "timeseries.parquet", result.folder / "summary.csv", *result.figures]:
        print(f"  {path}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m sim`` and the ``sim`` script."""
    import hydra

    from sim.config import config_dir, register_configs

    args = list(sys.argv[1:] if argv is None else argv)
    command = args.pop(0) if args and args[0] in COMMANDS else "experiment"
    if args and not args[0].startswith("-") and "=" not in args[0]:
        _fail(f"unknown command {args[0]!r}; commands: {', '.join(COMMANDS)} (or key=value overrides)")
    _precheck(_overrides(args))
    register_configs()
    if not any(a.startswith("hydra.run.dir=") for a in args):
        stamp = "${now:%Y%m%d-%H%M%S-%f}"
        if command == "run":
            args.append(f"hydra.run.dir=${{output.dir}}/runs/{stamp}-${{regime.name}}-seed${{seed}}")
            args.append(f"hydra.sweep.dir=${{output.dir}}/multirun/{stamp}")
        else:
            args.append(f"hydra.run.dir=${{output.dir}}/${{experiment.name}}/{stamp}")
    job = _run_job if command == "run" else _experiment_job
    sys.argv = [f"sim {command}", *args]
    app = hydra.main(config_path=str(config_dir()), config_name="config", version_base="1.3")(job)
    app()


if __name__ == "__main__":
    main()
