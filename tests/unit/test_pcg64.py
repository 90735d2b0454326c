"""``sim.pcg64`` against numpy's ``Generator.random`` and ``BitGenerator.random_raw``, bit for bit.

The same numbers, in the same order, and the stream left in the state numpy leaves it in (so the
stream's next draws agree too), for every size, including each remainder of the four-lane loop.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import kernels, pcg64


@pytest.fixture
def fills(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes the compiled kernel filled: proof that a check ran the fast path, not numpy's call."""
    sizes: list[int] = []
    real = kernels.pcg64_fill

    def counted(out: np.ndarray, *args: object) -> tuple[np.uint64, np.uint64]:
        sizes.append(out.shape[0])
        return real(out, *args)

    monkeypatch.setattr(kernels, "pcg64_fill", counted)
    return sizes


def same_state(a: np.random.Generator, b: np.random.Generator) -> bool:
    return bool(a.bit_generator.state == b.bit_generator.state)


def check_random(seed: int, size: int | tuple[int, ...], skip: int = 0) -> None:
    expected_gen, got_gen = np.random.default_rng(seed), np.random.default_rng(seed)
    expected_gen.random(skip), got_gen.random(skip)
    expected, got = expected_gen.random(size), pcg64.random(got_gen, size)
    assert got.dtype == np.float64 and got.shape == expected.shape
    assert np.array_equal(expected.view(np.uint64), got.view(np.uint64)), (seed, size)
    assert same_state(expected_gen, got_gen), (seed, size)
    assert got_gen.random(3).tolist() == expected_gen.random(3).tolist()


def check_raw(seed: int, n: int) -> None:
    expected_bits = np.random.default_rng(seed).bit_generator
    got_bits = np.random.default_rng(seed).bit_generator
    expected, got = expected_bits.random_raw(n), pcg64.random_raw(got_bits, n)
    assert got.dtype == np.uint64 and got.shape == (n,)
    assert np.array_equal(expected, got), (seed, n)
    assert expected_bits.state == got_bits.state, (seed, n)


@given(seed=st.integers(0, 2**63), n=st.integers(pcg64.FAST_FROM, 40_000), skip=st.integers(0, 5))
@settings(max_examples=150, deadline=None)
def test_same_uniforms_and_stream_state_as_numpy(seed: int, n: int, skip: int) -> None:
    check_random(seed, n, skip)


@given(seed=st.integers(0, 2**63), n=st.integers(pcg64.FAST_FROM, 40_000))
@settings(max_examples=150, deadline=None)
def test_same_raw_words_and_stream_state_as_numpy(seed: int, n: int) -> None:
    check_raw(seed, n)


@pytest.mark.parametrize("extra", range(9))
def test_every_remainder_of_the_four_lanes_on_the_fast_path(extra: int, fills: list[int]) -> None:
    n = pcg64.FAST_FROM + extra
    check_random(11, n)
    check_random(12, (5, n // 5 + 1))  # the services' case draw: rows in numpy's C order
    check_raw(13, n)
    assert fills == [n, 5 * (n // 5 + 1), n]


@pytest.mark.parametrize("n", range(10))
@pytest.mark.parametrize("raw", [False, True])
def test_the_kernel_itself_at_sizes_below_the_threshold(n: int, raw: bool) -> None:
    """Sizes 0 to 9 (every exit of the kernel) on the kernel directly: the wrappers send them to numpy."""
    bits = np.random.default_rng(2026).bit_generator
    pcg = bits.state["state"]
    low = (1 << 64) - 1
    out = np.empty(n)
    high, low_half = kernels.pcg64_fill(
        out,
        np.uint64(pcg["state"] >> 64),
        np.uint64(pcg["state"] & low),
        np.uint64(pcg["inc"] >> 64),
        np.uint64(pcg["inc"] & low),
        raw,
    )
    words = bits.random_raw(n)
    expected = words if raw else (words >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53)
    got = out.view(np.uint64) if raw else out
    assert np.array_equal(expected, got)
    assert (int(high) << 64) | int(low_half) == bits.state["state"]["state"]


def test_a_buffered_32_bit_half_word_is_kept(fills: list[int]) -> None:
    """numpy keeps half a word after a 32-bit draw; ``random`` leaves it for the next 32-bit draw."""
    expected_gen, got_gen = np.random.default_rng(5), np.random.default_rng(5)
    for gen in (expected_gen, got_gen):
        gen.integers(0, 10, size=3, dtype=np.uint32)
    assert got_gen.bit_generator.state["has_uint32"] == 1
    expected, got = expected_gen.random(10_000), pcg64.random(got_gen, 10_000)
    assert np.array_equal(expected, got) and same_state(expected_gen, got_gen)
    assert np.array_equal(
        expected_gen.integers(0, 2**32, size=3, dtype=np.uint32), got_gen.integers(0, 2**32, size=3, dtype=np.uint32)
    )
    assert fills == [10_000]


def test_a_numpy_integer_size_is_a_size(fills: list[int]) -> None:
    check_random(21, np.int64(pcg64.FAST_FROM + 1))
    assert fills == [pcg64.FAST_FROM + 1]


def test_small_draws_and_other_bit_generators_get_numpys_own_call(fills: list[int]) -> None:
    check_random(3, pcg64.FAST_FROM - 1)
    check_raw(3, 0)
    expected = np.random.Generator(np.random.MT19937(3)).random(10_000)
    got = pcg64.random(np.random.Generator(np.random.MT19937(3)), 10_000)
    assert np.array_equal(expected, got)
    assert fills == []
