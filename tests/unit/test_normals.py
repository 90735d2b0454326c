"""``sim.normals.standard_normal`` against numpy's ``Generator.standard_normal``, bit for bit.

The same numbers, and the generator left where numpy leaves it (the stream's next draws agree),
whatever the size, including draws that reach the ziggurat's wedges and tail (which read more
than one word) and draws where the words run out in the middle of a number.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import kernels
from sim.normals import standard_normal


def assert_same_draw(seed: int, n: int) -> np.ndarray:
    """Check ``standard_normal`` against numpy's call on one seed and size; return its numbers."""
    expected_gen, got_gen = np.random.default_rng(seed), np.random.default_rng(seed)
    expected, got = expected_gen.standard_normal(n), standard_normal(got_gen, n)
    assert got.dtype == np.float64 and got.shape == (n,)
    assert np.array_equal(expected.view(np.uint64), got.view(np.uint64)), (seed, n)
    assert got_gen.bit_generator.state == expected_gen.bit_generator.state, (seed, n)
    assert got_gen.random(3).tolist() == expected_gen.random(3).tolist()
    return got


@given(seed=st.integers(0, 2**63), n=st.integers(0, 5000))
@settings(max_examples=300, deadline=None)
def test_same_numbers_and_stream_position_as_numpy(seed: int, n: int) -> None:
    assert_same_draw(seed, n)


def test_a_million_numbers_through_wedges_and_tail(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every path of the ziggurat is taken, and the words run out mid-number more than once."""
    passes = []
    real = kernels.normals_from_words

    def counted(words: np.ndarray, out: np.ndarray, start: int) -> tuple[int, int]:
        passes.append(start)
        return real(words, out, start)

    monkeypatch.setattr(kernels, "normals_from_words", counted)
    n = 1_000_000
    numbers = assert_same_draw(20261130, n)
    one_word_each = np.random.default_rng(20261130)
    one_word_each.bit_generator.random_raw(n)
    numpy_gen = np.random.default_rng(20261130)
    numpy_gen.standard_normal(n)
    assert numpy_gen.bit_generator.state != one_word_each.bit_generator.state  # wedges and tail read more
    assert (np.abs(numbers) > kernels.ziggurat_nor_r).sum() > 100  # only the tail gives these
    assert len(passes) >= 2  # the words ran out mid-number: later passes took over


def test_the_stream_continues_between_calls_as_numpy_does() -> None:
    expected_gen, got_gen = np.random.default_rng(7), np.random.default_rng(7)
    for n in (2000, 1, 0, 333, 2000):
        expected, got = expected_gen.standard_normal(n), standard_normal(got_gen, n)
        assert np.array_equal(expected.view(np.uint64), got.view(np.uint64))


def test_other_bit_generators_get_numpys_own_call() -> None:
    expected = np.random.Generator(np.random.MT19937(3)).standard_normal(1000)
    got = standard_normal(np.random.Generator(np.random.MT19937(3)), 1000)
    assert np.array_equal(expected.view(np.uint64), got.view(np.uint64))


def test_the_packaged_ziggurat_tables_are_numpys_as_numba_ships_them() -> None:
    """``sim/ziggurat_tables.npz`` holds numpy's ziggurat tables; numba's (private) copy must agree."""
    constants = pytest.importorskip("numba.np.random._constants")
    pairs = ((kernels._KI, constants.ki_double), (kernels._WI, constants.wi_double), (kernels._FI, constants.fi_double))
    for ours, theirs in pairs:
        assert np.array_equal(ours.view(np.uint64), np.asarray(theirs, dtype=ours.dtype).view(np.uint64))
    assert kernels.ziggurat_nor_r == constants.ziggurat_nor_r
    assert kernels.ziggurat_nor_inv_r == constants.ziggurat_nor_inv_r
    assert kernels._KI.shape == kernels._WI.shape == kernels._FI.shape == (256,)
