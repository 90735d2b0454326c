"""The hypothesis ledger in experiments/README.md is generated from the committed references (sim.ledger)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from sim.catalogue import CATALOGUE
from sim.ledger import (
    CONTRADICTED,
    DEPENDS,
    HYPOTHESES,
    INCONCLUSIVE,
    NOT_RUN,
    SUPPORTED,
    _conditions_share,
    _sided,
    committed_ledger,
    ledger_markdown,
    ledger_rows,
)


def test_committed_ledger_is_the_generated_one() -> None:
    # Regenerated from the committed reference outputs, it must equal the table in the README:
    # a reference remade without rewriting the ledger (python -m sim catalogue --ledger) fails here.
    assert committed_ledger() == ledger_markdown(), "run: python -m sim catalogue --ledger"


def test_one_row_per_hypothesis_with_a_verdict_and_numbers() -> None:
    rows = ledger_rows()
    assert len(rows) == len(HYPOTHESES)
    allowed = {f"**{v}**" for v in (SUPPORTED, CONTRADICTED, DEPENDS, INCONCLUSIVE, NOT_RUN)}
    for row in rows:
        assert row[2] in allowed
        assert row[2] == f"**{NOT_RUN}**" or any(ch.isdigit() for ch in row[3]), row


def test_verdict_follows_the_interval() -> None:
    assert _sided(0.1, 0.3, +1) == SUPPORTED
    assert _sided(-0.3, -0.1, +1) == CONTRADICTED
    assert _sided(-0.1, 0.3, +1) == INCONCLUSIVE
    assert _sided(-0.3, -0.1, -1) == SUPPORTED


def test_conditions_verdict_reads_the_share_table(tmp_path: Path) -> None:
    ref = tmp_path / "conditions" / "reference"
    ref.mkdir(parents=True)
    rows = [("negotiated", 3), ("targets", 2), ("tie", 5)]
    table = pd.DataFrame(
        [{"measure": "true_outcome", "regime": r, "points": k, "of": 10, "share": k / 10} for r, k in rows]
    )
    table.to_csv(ref / "conditions_share.csv", index=False)
    verdict, text = _conditions_share("true_outcome", ("negotiated",))(tmp_path)
    assert verdict == DEPENDS and "30%" in text and "20%" in text
    table.loc[table["regime"] == "targets", ["points", "share"]] = [0, 0.0]
    table.to_csv(ref / "conditions_share.csv", index=False)
    assert _conditions_share("true_outcome", ("negotiated",))(tmp_path)[0] == SUPPORTED
    assert _conditions_share("true_outcome", ("targets",))(tmp_path)[0] == CONTRADICTED


def test_missing_reference_is_said_not_hidden(tmp_path: Path) -> None:
    shutil.copytree(CATALOGUE / "main", tmp_path / "main")
    rows = ledger_rows(tmp_path)
    verdicts = [r[2] for r in rows]
    assert f"**{NOT_RUN}**" in verdicts and f"**{SUPPORTED}**" in verdicts
    missing = next(r for r in rows if r[2] == f"**{NOT_RUN}**")
    assert "is missing: run python -m sim catalogue" in missing[3]


def test_ledger_option_takes_no_names(tmp_path: Path) -> None:
    from tests.conftest import sim_cli

    out = sim_cli("catalogue", "--ledger", "main", cwd=tmp_path)
    assert out.returncode == 2
    assert "--ledger takes no experiment names" in out.stderr and "Traceback" not in out.stderr
