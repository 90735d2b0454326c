"""The CPU-independent elementary functions (sim.rules.portable) against Python's math module."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.rules import portable


def ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in units in the last place between two arrays of finite doubles of one sign."""
    return np.abs(np.asarray(a, dtype=np.float64).view(np.int64) - np.asarray(b, dtype=np.float64).view(np.int64))


def test_exp_is_within_one_ulp_of_math_exp_over_its_whole_range() -> None:
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(-745.0, 709.7, 50_000), rng.uniform(-3.0, 3.0, 50_000), rng.normal(0, 1e-9, 500)])
    expected = np.array([math.exp(v) for v in x])
    assert ulps(portable.exp(x), expected).max() <= 1


def test_log_is_within_one_ulp_of_math_log_over_its_whole_range() -> None:
    rng = np.random.default_rng(8)
    x = np.concatenate([np.exp(rng.uniform(-740.0, 709.0, 50_000)), rng.uniform(0.0, 3.0, 50_000), [5e-324, 1e-310]])
    x = x[x > 0]
    expected = np.array([math.log(v) for v in x])
    assert ulps(portable.log(x), expected).max() <= 1


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-745.0, max_value=709.0))
def test_exp_matches_math_on_any_double(x: float) -> None:
    assert ulps(portable.exp(np.array([x])), np.array([math.exp(x)]))[0] <= 1


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=5e-324, max_value=1.7e308))
def test_log_matches_math_on_any_double(x: float) -> None:
    assert ulps(portable.log(np.array([x])), np.array([math.log(x)]))[0] <= 1


def test_special_values_follow_ieee_without_floating_point_errors() -> None:
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        e = portable.exp(np.array([np.nan, np.inf, -np.inf, 710.0, -746.0, 0.0]))
        g = portable.log(np.array([0.0, -1.0, np.nan, np.inf, 1.0]))
        s = portable.sigmoid(np.array([-800.0, 0.0, 800.0]))
    assert np.isnan(e[0]) and e[1] == np.inf and e[2] == 0.0 and e[3] == np.inf and e[4] == 0.0 and e[5] == 1.0
    assert g[0] == -np.inf and np.isnan(g[1]) and np.isnan(g[2]) and g[3] == np.inf and g[4] == 0.0
    assert s.tolist() == [0.0, 0.5, 1.0]


def test_power_logit_dot_and_correlation_agree_with_numpy() -> None:
    rng = np.random.default_rng(9)
    x = rng.uniform(1e-3, 5.0, 1000)
    for y in (-1.0, 1.0, 2.0, 0.5, 0.0, -0.5, -3.0, 1.7):
        np.testing.assert_allclose(portable.power(x, y), x**y, rtol=1e-13)
    assert np.array_equal(portable.power(x, -1.0), 1.0 / x)  # the default CES exponent: one exact division
    u = rng.uniform(1e-12, 1 - 1e-12, 1000)
    np.testing.assert_allclose(portable.logit(u), np.log(u) - np.log1p(-u), rtol=1e-9, atol=1e-12)
    a, b = rng.normal(size=1000), rng.normal(size=1000)
    assert math.isclose(portable.dot(a, b), float(np.dot(a, b)), rel_tol=1e-12)
    assert math.isclose(portable.correlation(a, b), float(np.corrcoef(a, b)[0, 1]), rel_tol=1e-12)


def test_no_simd_dependent_numpy_function_is_left_in_the_models_arithmetic() -> None:
    """numpy's exp/log/log1p/power/dot/corrcoef pick CPU-specific code: the model must not call them."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "sim"
    files = [*root.glob("rules/*.py"), root / "model.py", root / "state.py", root / "metrics.py", root / "details.py"]
    pattern = re.compile(
        r"np\.(exp|expm1|log|log1p|log2|log10|power|tanh|sinh|cosh|dot|matmul|corrcoef|cov)\("
        r"|\s@\s"
        r"|[\w)\]]\s*\*\*\s*(?!2\b)[\w(.-]"  # x ** y other than a square (numpy's one exact power)
    )
    offenders = [
        f"{path.name}:{i}: {line.strip()}"
        for path in files
        if path.name != "portable.py"
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line) and not line.lstrip().startswith("#")
    ]
    assert offenders == []
