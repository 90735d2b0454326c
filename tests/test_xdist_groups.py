"""`make test`'s ``-n 2 --dist loadgroup`` keeps each xdist group on one worker (tests/conftest.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SUITE = """
import pytest

pytestmark = pytest.mark.xdist_group("shared")


@pytest.mark.parametrize("i", range(6))
def test_grouped(i):
    pass


@pytest.mark.xdist_group("other")
@pytest.mark.parametrize("i", range(4))
def test_other_group(i):
    pass
"""


def test_each_xdist_group_runs_on_one_worker(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.conftest"]\n')
    (tmp_path / "test_groups.py").write_text(SUITE)
    (tmp_path / "test_ungrouped.py").write_text(
        "import pytest\n\n\n@pytest.mark.parametrize('i', range(6))\ndef test_free(i):\n    pass\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    workers: dict[str, set[str]] = {}
    for worker, test in re.findall(r"\[(gw\d)\] \[[ \d]+%\] PASSED \S+::(\w+)\[", run.stdout):
        workers.setdefault(test, set()).add(worker)
    assert sum(len(w) for w in workers.values()) >= 3, run.stdout
    assert len(workers["test_grouped"]) == 1, workers
    assert len(workers["test_other_group"]) == 1, workers
    # Grouped items carry their group in the node id, as xdist's scheduler reads it.
    assert "test_grouped[0]@shared" in run.stdout and "test_other_group[0]@other" in run.stdout, run.stdout
