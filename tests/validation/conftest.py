"""Fixtures of the validation suite: the runs behind every finding, made once per session.

Every test that reads them is in the xdist group ``validation``, so under ``-n 2 --dist loadgroup``
one worker makes them once, and the arms `panels` and `pattern_panels` share (`none`, `targets` on
the same seeds) run once (``scripts/validate.py`` caches each arm within the process).

The findings themselves live in ``scripts/validate.py`` (which also writes docs/validation.md),
so the report and these tests share one definition of each statistic and criterion.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


@cache
def load_script(name: str) -> ModuleType:
    """Import ``scripts/<name>.py`` as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"sim_scripts_{name}", SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def validate() -> ModuleType:
    return load_script("validate")


@pytest.fixture(scope="session")
def calibrate() -> ModuleType:
    return load_script("calibrate")


# The arms the tests read: `none_2h` (the survey mapping's sensitivity) is in the report only.
TESTED_ARMS = ("none", "targets", "paid")


@pytest.fixture(scope="session")
def panels(validate: ModuleType) -> dict[str, pd.DataFrame]:
    """Full model at the packaged defaults on 10 common seeds: `none`, `targets`, `none` + small payment."""
    return validate.full_model_panels(arms=TESTED_ARMS)


@pytest.fixture(scope="session")
def lab_curves(validate: ModuleType) -> dict[str, pd.DataFrame]:
    """The public_goods_lab experiment's arms, 10 replications each: mean contribution per period."""
    return validate.lab_curves(validate.lab_panel())


@pytest.fixture(scope="session")
def pattern_panels(validate: ModuleType) -> dict[str, pd.DataFrame]:
    """The issue-14 pattern arms on the common seeds, and who attended each forum round (scripts/validate.py)."""
    return validate.pattern_panels()
