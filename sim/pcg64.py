"""numpy's uniforms and raw words from a PCG64 stream, the same numbers made faster.

``Generator.random`` and ``BitGenerator.random_raw`` make PCG64's numbers one at a time, each
step of its 128-bit recurrence waiting for the one before: about 1.5 ns a number here. The fused
driver draws about 30,000 case uniforms a month at 2,000 citizens and 90,000 from 9,000 citizens
on (five per case, at most 300 cases a service), and a uniform and two raw words per citizen.

:func:`random` and :func:`random_raw` make the same numbers with ``sim.kernels.pcg64_fill``, four
steps of the recurrence at a time (about 0.85 ns a number), and leave the stream in the state
numpy leaves it in: its state is read, and written back advanced, through numpy's public
``bit_generator.state``. Below :data:`FAST_FROM` numbers numpy's own call is quicker, and is used.
Any bit generator other than PCG64 also gets numpy's own call.

``tests/unit/test_pcg64.py`` compares numbers and the stream's state with numpy's, over sizes and
seeds. The random numbers are still drawn from the model's named streams: the same draw, made faster.

This module imports no Mesa.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from sim import kernels
from sim.rules._types import FloatArray

# Reading and writing the stream's state costs about 4 us a call; numpy's own call is quicker below this.
FAST_FROM = 6144
_LOW = (1 << 64) - 1


def _fill(bits: np.random.PCG64, out: FloatArray, raw: bool) -> None:
    """Fill ``out`` (flat, float64) with the stream's next numbers and advance the stream past them."""
    state = bits.state
    pcg = state["state"]
    value, inc = pcg["state"], pcg["inc"]
    high, low = kernels.pcg64_fill(
        out, np.uint64(value >> 64), np.uint64(value & _LOW), np.uint64(inc >> 64), np.uint64(inc & _LOW), raw
    )
    pcg["state"] = (int(high) << 64) | int(low)
    bits.state = state  # has_uint32 and uinteger as they were: random and random_raw leave them alone


def random(gen: np.random.Generator, size: int | tuple[int, ...]) -> FloatArray:
    """``gen.random(size)``: the same numbers, in the same (C) order, and the stream left in the same state."""
    bits = gen.bit_generator
    count = math.prod(size) if isinstance(size, tuple) else operator.index(size)
    if type(bits) is not np.random.PCG64 or count < FAST_FROM:
        return gen.random(size)
    out = np.empty(size)
    _fill(bits, out.reshape(-1), raw=False)
    return out


def random_raw(bits: np.random.BitGenerator, n: int) -> np.ndarray:
    """``bits.random_raw(n)``: the same uint64 words, and the stream left in the same state."""
    if type(bits) is not np.random.PCG64 or n < FAST_FROM:
        return bits.random_raw(n)
    out = np.empty(n)
    _fill(bits, out, raw=True)
    return out.view(np.uint64)
