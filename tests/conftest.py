"""Shared fixtures: small, fast configurations and a runner of seeded replications."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.model import SocialProductivityModel
from sim.signals import sigint_as

# Debian's Chromium (or the one SIM_CHROMIUM names), launched by Playwright, which cannot download
# its own browser here; `make test` installs it when missing (scripts/ensure-browser.sh).
CHROMIUM = (
    os.environ.get("SIM_CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
    or "/usr/bin/chromium"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def interrupt_after_first_run(
    args: list[str], cwd: Path, env: dict[str, str], sig: signal.Signals = signal.SIGINT
) -> tuple[int, str]:
    """Start ``python -m sim ARGS`` in ``cwd``, send ``sig`` to its process group once a run is saved.

    The sweep starts with SIGINT at its default, as a terminal's foreground job has it, in a
    session of its own, and gets the signal as a terminal's Ctrl-C sends it: to the whole group.
    A test run started in the background of a non-interactive shell (``make test &``) inherits
    SIGINT ignored, and Python leaves an inherited SIG_IGN ignored, in itself and in its children
    (the POSIX rule for background jobs): the sweep would then never see the Ctrl-C and run to its end.

    Returns:
        Its exit status and standard error.
    """
    with sigint_as(signal.default_int_handler):  # a handler is reset to the default in the child
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 240
        while not list(cwd.glob("outputs/main/*/runs/*.parquet")) and time.monotonic() < deadline:
            time.sleep(0.1)
        os.killpg(proc.pid, sig)
        _, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode, err


def sim_cli(*args: str, cwd: Path, debug_env: bool = False, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sim ARGS`` as a user would (SIM_DEBUG only if asked for)."""
    env = {k: v for k, v in os.environ.items() if k != "SIM_DEBUG"}
    if debug_env:
        env["SIM_DEBUG"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout
    )


def small_overrides(*extra: str) -> list[str]:
    """A small population that still has enough communities and cases for every metric."""
    return ["population.n_citizens=600", "population.n_communities=8", "output.save=false", *extra]


def run_ts(overrides: list[str]) -> pd.DataFrame:
    """Run one simulation from overrides and return its time series."""
    model = SocialProductivityModel(sim.load_config(overrides))
    model.run()
    return model.timeseries()


@pytest.fixture
def run_seeds() -> Callable[[list[str], int], pd.DataFrame]:
    """Run the same overrides on seeds 0..n-1 and stack the series with a 'seed' column."""

    def _run(overrides: list[str], n: int) -> pd.DataFrame:
        frames = []
        for seed in range(n):
            ts = run_ts(["output.save=false", f"seed={seed}", *overrides])
            ts["seed"] = seed
            frames.append(ts)
        return pd.concat(frames, ignore_index=True)

    return _run


def xdist_group_names(item: pytest.Item) -> str:
    """The item's xdist groups as pytest-xdist names them (sorted, joined by ``_``); empty if none."""
    names = {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
    return "_".join(sorted(names))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep ``--dist loadgroup`` grouping under pytest 9.2, whose structured node ids drop xdist's suffix.

    pytest-xdist 3.8 tells the scheduler an item's group by appending ``@group`` to ``item._nodeid``;
    pytest 9.2 reads the node id from ``item._id`` instead, so every group was silently split across
    the workers (pytest-dev/pytest-xdist#1386): each worker built the validation panels, and the
    browser tests of the `app-browser` group ran side by side. On the workers of a loadgroup run
    (``config.option.loadgroup``, set by xdist), give the id the suffix xdist meant; a no-op where
    pytest or xdist already carries it.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        group = xdist_group_names(item)
        if group and not item.nodeid.endswith(f"@{group}"):
            from _pytest.nodeid import NodeId  # pytest >= 9.2, the only versions that get here

            item._id = NodeId.parse(f"{item.nodeid}@{group}")  # type: ignore[attr-defined]
