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
from sim.sweep.conditions import shares
from tests._proportions import wilson_textbook


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


def test_conditions_sentence_carries_each_share_interval(tmp_path: Path) -> None:
    ref = tmp_path / "conditions" / "reference"
    ref.mkdir(parents=True)
    rows = [("negotiated", 40), ("negotiated_unpaid", 8), ("targets", 50), ("tie", 30)]
    table = shares(
        pd.DataFrame(
            {"point": range(128), "measure": "true_outcome", "winner": [r for r, k in rows for _ in range(k)]}
        ),
        ["negotiated", "negotiated_unpaid", "targets"],
    )
    table.to_csv(ref / "conditions_share.csv", index=False)
    verdict, text = _conditions_share("true_outcome", ("negotiated", "negotiated_unpaid"))(tmp_path)
    # A group's interval is that of its summed wins (48 of 128), not a sum of its arms' bounds.

    def wilson(k: int, n: int) -> str:
        low, high = wilson_textbook(k, n)
        return f"{100 * low:.0f} to {100 * high:.0f}%"

    assert verdict == DEPENDS
    assert f"won by negotiated/negotiated_unpaid at 38% (95% interval {wilson(48, 128)}) of the sampled places" in text
    assert f"by other presets at 39% ({wilson(50, 128)}), ties 23% ({wilson(30, 128)}); of 128 places" in text
    # No other preset wins anywhere: supported, and the sentence says how much they could still win unseen.
    table = shares(
        pd.DataFrame({"point": range(128), "measure": "true_outcome", "winner": ["negotiated"] * 98 + ["tie"] * 30}),
        ["negotiated", "targets"],
    )
    table.to_csv(ref / "conditions_share.csv", index=False)
    verdict, text = _conditions_share("true_outcome", ("negotiated",))(tmp_path)
    assert verdict == SUPPORTED and f"by other presets at 0% ({wilson(0, 128)})" in text and "0 to 3%" in text
    # A table without intervals (an older reference, or a design they do not hold for): the shares alone.
    table.drop(columns=["share_low", "share_high"]).to_csv(ref / "conditions_share.csv", index=False)
    assert "interval" not in _conditions_share("true_outcome", ("negotiated",))(tmp_path)[1]


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
