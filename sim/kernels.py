"""Compiled kernels of the fused driver (``driver=fused``): one pass over the citizens per phase.

The numpy path (``driver=vectorised``) calls each citizen rule of ``sim/rules`` as a chain of
array operations, some 60 passes over the citizen arrays a month. Here the same rules run as
one loop over the citizens per phase, compiled by numba, each citizen's arithmetic written out
as the rules do it: the same IEEE-754 operations (``+ - * /``, comparisons, min/max as numpy's
``maximum``/``minimum``/``clip``/``fmax`` define them) in the same order, so every citizen's new
state has the same bits as on the numpy path. The neighbourhood mean adds the contacts in
numpy's pairwise order (``sim.rules.network.neighbour_mean``) for the same reason.

While they pass over the citizens the kernels also add up what the month's metrics and the
services need (per-community sums in index order, which is ``np.bincount``'s order, and the
population's counts of active and motivated citizens). Population means of floats are not
summed in citizen order there: ``citizen_means`` adds them in numpy's pairwise order, as
``sim.metrics.citizen_figures`` takes them with numpy on the other drivers, so that every metric
has the numpy path's bits.

Random numbers: none are drawn here. The model draws them from its named streams as arrays,
exactly as the numpy path does (same streams, same calls, same order), and passes them in: the
two drivers consume the same random numbers, which makes step-by-step comparison possible. The
citizens' standard normals are numpy's too, made faster: ``sim.normals`` draws the stream's raw
words and :func:`normals_in_place` runs numpy's ziggurat on them (the same numbers, and the
stream left where numpy leaves it); large draws of uniforms and raw words are numpy's PCG64
numbers made four steps of its recurrence at a time (:func:`pcg64_fill`, through ``sim.pcg64``),
from the stream's own state, which is then left where numpy leaves it.

Compile settings, for results that do not depend on the CPU: no ``fastmath`` (so no
reassociation and no fused multiply-add contraction), no SVML (``NUMBA_DISABLE_INTEL_SVML``),
threads only where they cannot change a result (below); the target is numba's generic x86-64
CPU (``NUMBA_CPU_NAME=generic``) so that the on-disk cache made on one machine is valid on any
other. Both are set here unless the user
set them first (they must be set before numba is imported). Compiled code is cached on disk
(``cache=True``) next to this module in ``__pycache__``, or under ``NUMBA_CACHE_DIR`` when set:
the first process compiles (a few seconds), every later one loads it (``docs/performance.md``).

Threads (``kernel_threads`` in the config): ``decide``, ``adapt`` and ``citizen_means`` have
``_threaded`` twins (``parallel=True``) that run ranges of citizens on several threads. The ranges
are cut at community boundaries (:func:`community_bounds`), so every per-community sum is still
added by one thread in index order; counts are integers; and the pairwise sums are cut at numpy's
own halvings (:func:`_leaves`). No floating-point value is reduced across threads, so the results
have the same bits whatever the number of threads (``tests/test_fused.py``).

This module imports no Mesa.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Before numba is imported: a portable compile target and no Intel SVML (see the docstring).
os.environ.setdefault("NUMBA_CPU_NAME", "generic")
os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")
# The threaded kernels' layer: one that survives a fork, TBB (a dependency), else numba's
# workqueue; GNU OpenMP hangs a forked child. workqueue is not safe for concurrent calls from
# several threads, so call_threaded takes a lock; it also wakes its threads slowly (0.1-0.25 ms a
# parallel region on a 2-core VM, against 4-40 us for TBB), which undoes the threads' gain below
# about 10^6 citizens.
os.environ.setdefault("NUMBA_THREADING_LAYER", "forksafe")


import sim.tbb_library  # noqa: F401  (loads pip's TBB before numba: sim/tbb_library.py)

# isort: split

import numba
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from sim.rules import forum as forum_rules
from sim.rules import portable
from sim.rules._types import BoolArray, FloatArray, IntArray

# The totals the decide kernel adds up, in the order of its ``totals`` output.
# Only counts: a sum of floats taken in citizen order would differ from numpy's pairwise mean in
# the last bits, so the metrics' means are taken in numpy's order (``citizen_means``).
DECIDE_TOTALS = ("prosocial_active", "volunteering_active", "caring_active")
# The counts the adapt kernel makes, in order.
ADAPT_TOTALS = ("motivated", "motivated_volunteering_active")
# The rows of the adapt kernel's per-community context (the model's names for them).
ADAPT_CONTEXT = (
    "ask",
    "partnership_effect",
    "goals",
    "control",
    "experience",
    "success",
    "made",
    "kept",
    "exposure",
    "assurance",
)

# Small helpers are inlined by numba itself ("always"): left as calls, LLVM did not inline them
# and a month's decisions ran several times slower. The kernels release the interpreter lock
# (nogil): with kernel_threads, the model draws the adapt phase's random numbers on another
# thread meanwhile (sim.model.draw_thread).
_JIT = {"cache": True, "fastmath": False, "error_model": "numpy", "boundscheck": False, "nogil": True}
# The threaded twins' parallelism: their prange loop only. numba would also run each array
# allocation (np.zeros) as a parallel region of its own, and each region wakes the threads
# (about 0.3 ms a time on a 2-core VM, more than a small kernel's whole pass).
_PRANGE_ONLY = {
    "prange": True,
    "numpy": False,
    "reduction": False,
    "setitem": False,
    "comprehension": False,
    "stencil": False,
    "fusion": False,
    "inplace_binop": False,
}


@numba.njit(inline="always", **_JIT)
def _maximum(a: float, b: float) -> float:
    """``np.maximum`` of two floats: NaN if either is NaN, else the larger (the first on ties).

    One select, no branch: numpy's own rule (``a >= b or isnan(a) ? a : b``), which a branch
    per citizen on random values would make several times slower (mispredictions).
    """
    return a if (a >= b or a != a) else b


@numba.njit(inline="always", **_JIT)
def _minimum(a: float, b: float) -> float:
    """``np.minimum`` of two floats: NaN if either is NaN, else the smaller (the first on ties)."""
    return a if (a <= b or a != a) else b


@numba.njit(inline="always", **_JIT)
def _clip(x: float, lo: float, hi: float) -> float:
    """``np.clip`` of a float (``minimum(maximum(x, lo), hi)``, NaN stays NaN)."""
    return _minimum(_maximum(x, lo), hi)


@numba.njit(inline="always", **_JIT)
def _clip_branchless(x: float, lo: float, hi: float) -> float:
    """:func:`_clip` for bounds that are never NaN, as two selects (``maxsd``, ``minsd``), never a branch.

    numba's ``max`` and ``min`` of two floats are selects: ``max(x, lo)`` is ``lo if lo > x else x``
    and ``min(y, hi)`` is ``hi if hi < y else y``. For bounds that are not NaN these are numpy's
    ``maximum(x, lo)`` and ``minimum(y, hi)`` to the bit: a NaN ``x`` compares false and stays,
    a tie keeps ``x`` (so a signed zero keeps its sign), as numpy keeps its first argument
    (``tests/test_fused.py`` checks every pair of special values). :func:`_clip`'s two-test form
    was compiled to branches, mispredicted where random per-citizen values are clipped: the
    decide and adapt kernels were 5-12 % and 11-18 % faster with this one (same bits), and a run
    under the negotiated regime 1.3 % with it in the forums' per-citizen kernels too. In the
    services kernel only the case histogram's bins use it (1-3 % faster; up to 18 % in a month
    under targets): with it in the kernel's three per-evaluation clips too, the kernel was 7 % slower.
    """
    return min(max(x, lo), hi)


@numba.njit(inline="always", **_JIT)
def _fmax(a: float, b: float) -> float:
    """``np.fmax``: the larger of two floats, ignoring a NaN (NaN only if both are)."""
    return a if (a >= b or b != b) else b


# Citizens whose contacts the decide kernel gathers ahead of the arithmetic.
_CHUNK = 512
# numpy sums up to this many terms with eight running partial sums, longer runs by halving.
_PAIRWISE_BLOCK = 128


@numba.njit(**_JIT)
def _pairwise_block(buf: FloatArray, lo: int, m: int) -> float:
    """Sum of ``buf[lo:lo+m]``, ``m <= 128``, in numpy's order (``pairwise_sum`` in umath's loops)."""
    if m < 8:
        acc = buf[lo]
        for j in range(lo + 1, lo + m):
            acc += buf[j]
        return acc
    whole = m - m % 8
    r0, r1, r2, r3 = buf[lo], buf[lo + 1], buf[lo + 2], buf[lo + 3]
    r4, r5, r6, r7 = buf[lo + 4], buf[lo + 5], buf[lo + 6], buf[lo + 7]
    for i in range(8, whole, 8):
        r0 += buf[lo + i]
        r1 += buf[lo + i + 1]
        r2 += buf[lo + i + 2]
        r3 += buf[lo + i + 3]
        r4 += buf[lo + i + 4]
        r5 += buf[lo + i + 5]
        r6 += buf[lo + i + 6]
        r7 += buf[lo + i + 7]
    acc = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(whole, m):
        acc += buf[lo + i]
    return acc


@numba.njit(**_JIT)
def _pairwise_long(buf: FloatArray, lo: int, m: int) -> float:
    """Pairwise sum of more than a block of terms: numpy halves the run (at a multiple of 8) until blocks remain.

    The halving walks an explicit stack rather than recursing: numba's on-disk cache cannot
    hold recursive functions (numba issue 6061).
    """
    depth = 64
    s_lo = np.empty(depth, dtype=np.int64)
    s_m = np.empty(depth, dtype=np.int64)
    s_state = np.empty(depth, dtype=np.int64)
    values = np.empty(depth)
    sp, vp = 0, 0
    s_lo[0], s_m[0], s_state[0] = lo, m, 0
    sp = 1
    while sp > 0:
        top = sp - 1
        n_top = s_m[top]
        if n_top <= _PAIRWISE_BLOCK:
            values[vp] = _pairwise_block(buf, s_lo[top], n_top)
            vp += 1
            sp -= 1
            continue
        h = n_top // 2
        h -= h % 8
        if s_state[top] == 0:  # the left half first
            s_state[top] = 1
            s_lo[sp], s_m[sp], s_state[sp] = s_lo[top], h, 0
            sp += 1
        elif s_state[top] == 1:  # then the right half
            s_state[top] = 2
            s_lo[sp], s_m[sp], s_state[sp] = s_lo[top] + h, n_top - h, 0
            sp += 1
        else:  # both done: left + right
            vp -= 1
            values[vp - 1] = values[vp - 1] + values[vp]
            sp -= 1
    return values[0]


@numba.njit(**_JIT)
def _pairwise(buf: FloatArray, lo: int, m: int) -> float:
    """Sum of ``buf[lo:lo+m]`` in numpy's pairwise order, for any ``m >= 1``."""
    if m <= _PAIRWISE_BLOCK:
        return _pairwise_block(buf, lo, m)
    return _pairwise_long(buf, lo, m)


@numba.njit(inline="always", **_JIT)
def _neighbour_mean(values: FloatArray, contacts: IntArray, i: int, k: int, buf: FloatArray) -> float:
    """Row ``i`` of ``sim.rules.network.neighbour_mean``: its contacts' values summed in numpy's order, over k.

    numpy starts the sum at +0.0 (the ``+ 0.0`` on the first term); up to a block it keeps eight
    running partial sums, which are written out here so that they stay in registers. The contacts
    are read as unsigned indices: they are never negative (``sim.rules.network.build_contacts``
    draws them in ``[0, N)``), and numba wraps a signed index read from an array round with
    extra instructions on every access (a sixth of the decide kernel's time at 10^5 citizens).
    """
    if k < 8:
        acc = values[np.uintp(contacts[i, 0])] + 0.0
        for j in range(1, k):
            acc += values[np.uintp(contacts[i, j])]
        return acc / k
    if k <= _PAIRWISE_BLOCK:
        r0 = values[np.uintp(contacts[i, 0])] + 0.0
        r1, r2, r3 = (
            values[np.uintp(contacts[i, 1])],
            values[np.uintp(contacts[i, 2])],
            values[np.uintp(contacts[i, 3])],
        )
        r4, r5 = values[np.uintp(contacts[i, 4])], values[np.uintp(contacts[i, 5])]
        r6, r7 = values[np.uintp(contacts[i, 6])], values[np.uintp(contacts[i, 7])]
        whole = k - k % 8
        for j in range(8, whole, 8):
            r0 += values[np.uintp(contacts[i, j])]
            r1 += values[np.uintp(contacts[i, j + 1])]
            r2 += values[np.uintp(contacts[i, j + 2])]
            r3 += values[np.uintp(contacts[i, j + 3])]
            r4 += values[np.uintp(contacts[i, j + 4])]
            r5 += values[np.uintp(contacts[i, j + 5])]
            r6 += values[np.uintp(contacts[i, j + 6])]
            r7 += values[np.uintp(contacts[i, j + 7])]
        acc = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        for j in range(whole, k):
            acc += values[np.uintp(contacts[i, j])]
        return acc / k
    for j in range(k):
        buf[j] = values[np.uintp(contacts[i, j])]
    buf[0] = buf[0] + 0.0
    return _pairwise_long(buf, 0, k) / k


@numba.njit(**_JIT)
def neighbour_mean(values: FloatArray, contacts: IntArray) -> FloatArray:
    """``sim.rules.network.neighbour_mean`` as the decide kernel computes it, row by row."""
    n, k = contacts.shape
    out = np.empty(n)
    buf = np.empty(max(k, 1))
    for i in range(n):
        out[i] = _neighbour_mean(values, contacts, i, k, buf)
    return out


@numba.njit(inline="always", **_JIT)
def _decide_range(
    chunk: int,
    realised_last: FloatArray,
    contacts: IntArray,
    community: IntArray,
    coop_type: IntArray,
    belief: FloatArray,
    motivation: FloatArray,
    commitment: FloatArray,
    budget: FloatArray,
    forum_hours: FloatArray,
    own_need: FloatArray,
    efficacy: FloatArray,
    engaged: BoolArray,
    care_opportunity: FloatArray,
    noise: FloatArray,
    type_base: FloatArray,
    type_slope: FloatArray,
    consts: FloatArray,
    threshold: float,
    pressure_by_community: FloatArray,
    new_belief: FloatArray,
    new_share: FloatArray,
    new_volunteering: FloatArray,
    new_caring: FloatArray,
    new_self_reliance: FloatArray,
    new_realised: FloatArray,
    sums: FloatArray,
    met_committed: FloatArray,
    counts: IntArray,
) -> None:
    """The decide kernel's pass over a range of citizens, writing into the caller's arrays.

    Every per-citizen array is the range's slice, except ``realised_last``, which contacts'
    indices (``contacts``' rows of the range) read whole; a loop from 0 lets the compiler see
    that no index is negative (numba's wraparound of negative indices is otherwise a quarter of
    the instructions). The six results go to the ``new_`` slices; ``sums`` holds the four
    per-community sums as rows (realised, self-reliance share, citizens with a commitment,
    commitment met), added in index order and kept in registers while the community stays the
    same. The commitment met of the range's committed citizens is compacted from the start of
    ``met_committed``, and ``counts[chunk]`` gets the counts (``DECIDE_TOTALS``, then the number
    committed). Ranges that start and end at community boundaries touch disjoint entries of
    ``sums``, so they may run at the same time (:func:`decide_threaded`).
    """
    n = community.shape[0]
    k = contacts.shape[1]
    persistence, commitment_pressure, motivation_weight, antisocial = consts[0], consts[1], consts[2], consts[3]
    norm_premium, contribution_noise, crowd_paid, price_term = consts[4], consts[5], consts[6], consts[7]
    self_reliance_share, volunteer_share = consts[8], consts[9]
    n_prosocial = n_volunteering = n_caring = 0
    buf = np.empty(max(k, 1))
    n_types = type_base.shape[0]
    effective_scale = 1.0 - antisocial
    observed_chunk = np.empty(_CHUNK)
    c_run, realised_run, self_reliance_run, committed_run, met_run = -1, 0.0, 0.0, 0.0, 0.0
    n_committed = 0
    for i in range(n):
        # What contacts gave last month, gathered a chunk of citizens ahead: a loop of gathers
        # alone keeps many loads in flight, where interleaved with the arithmetic below it
        # waited on each (three times slower).
        if i % _CHUNK == 0:
            for j in range(i, min(n, i + _CHUNK)):
                observed_chunk[j - i] = _neighbour_mean(realised_last, contacts, j, k, buf)
        observed = observed_chunk[i % _CHUNK]
        b = persistence * belief[i] + (1.0 - persistence) * observed
        pledge = commitment[i]
        committed = 0.0 if pledge != pledge else 1.0
        pressure = _clip_branchless(pressure_by_community[community[i]] + committed * commitment_pressure, 0.0, 1.0)
        t = min(max(coop_type[i], 0), n_types - 1)
        own = type_base[t] + type_slope[t] * b + motivation_weight * (motivation[i] - 0.5)
        effective = pressure * effective_scale
        aim = _fmax(b + norm_premium, pledge)
        pulled = own + effective * _maximum(0.0, aim - own)
        pushed = pulled - antisocial * _maximum(0.0, pulled - _fmax(b, pledge))
        s = _clip_branchless(pushed + contribution_noise * noise[i], 0.0, 1.0)
        willingness = _maximum(0.0, 1.0 - crowd_paid * motivation[i] + price_term)
        hours = _maximum(0.0, budget[i] - forum_hours[i])
        sr = hours * self_reliance_share * own_need[i] * efficacy[i]
        free = hours - sr
        prosocial = s * free
        vol_fraction = _clip_branchless(volunteer_share * willingness, 0.0, 1.0) * (1.0 if engaged[i] else 0.0)
        vol = prosocial * vol_fraction
        care = prosocial * (1.0 - vol_fraction) * care_opportunity[i]
        r = _clip_branchless((vol + care) / free, 0.0, 1.0) if free > 0 else 0.0
        new_belief[i] = b
        new_share[i] = s
        new_volunteering[i] = vol
        new_caring[i] = care
        new_self_reliance[i] = sr
        new_realised[i] = r
        # Per-community sums in index order, kept in registers while the community stays the
        # same (citizens are grouped by community): the same additions in the same order.
        c = community[i]
        if c != c_run:
            if c_run >= 0:
                sums[0, c_run], sums[1, c_run] = realised_run, self_reliance_run
                sums[2, c_run], sums[3, c_run] = committed_run, met_run
            c_run, realised_run, self_reliance_run = c, sums[0, c], sums[1, c]
            committed_run, met_run = sums[2, c], sums[3, c]
        realised_run += r
        self_reliance_run += sr / budget[i] if budget[i] > 0 else 0.0
        # commitment_met, then nan_to_num: 0 without a commitment (a select, not a branch).
        met = _minimum(1.0, s / pledge) if pledge > 0 else 1.0
        committed_run += committed
        met_run += met if committed > 0 else 0.0
        # Stored for every citizen, kept for the committed (no branch on the random commitments).
        met_committed[n_committed] = met
        n_committed += int(committed > 0)
        # Counted without branches (integers, exact): the comparisons are random per citizen.
        n_prosocial += int(vol + care >= threshold)
        n_volunteering += int(vol >= threshold)
        n_caring += int(care >= threshold)
    if c_run >= 0:
        sums[0, c_run], sums[1, c_run] = realised_run, self_reliance_run
        sums[2, c_run], sums[3, c_run] = committed_run, met_run
    counts[chunk, 0], counts[chunk, 1], counts[chunk, 2] = n_prosocial, n_volunteering, n_caring
    counts[chunk, 3] = n_committed


@numba.njit(**_JIT)
def _count_totals(counts: IntArray, k: int) -> FloatArray:
    """The first ``k`` counts summed over the ranges (integers: exact in any order), as floats."""
    totals = np.zeros(k)
    for j in range(k):
        total = 0
        for r in range(counts.shape[0]):
            total += counts[r, j]
        totals[j] = float(total)
    return totals


@numba.njit(**_JIT)
def _decide_pressure(social_capital: FloatArray, consts: FloatArray) -> FloatArray:
    """Peer pressure per community, as ``SocialProductivityModel.citizens_decide`` computes it with numpy.

    On the other drivers: (base + slope * social capital) + recognition, clipped to [0, 1].
    """
    pressure_base, pressure_social_capital, recognition = consts[10], consts[11], consts[12]
    pressure_by_community = np.empty(social_capital.shape[0])
    for c in range(social_capital.shape[0]):
        pressure_by_community[c] = _clip(
            pressure_base + pressure_social_capital * social_capital[c] + recognition, 0.0, 1.0
        )
    return pressure_by_community


@numba.njit(**_JIT)
def _decide_outputs(n: int) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """The decide kernel's six per-citizen results, as separate arrays.

    Not rows of one block: at 10^6 citizens a (6, N) block is 48 MB, above the 32 MiB up to which
    glibc reuses freed memory, so it was mapped afresh and its pages faulted in every month (a
    month at 10^6 took 0.110 s against 0.082 s now); and a block stays alive while any one of its
    rows is still referenced, where the model replaces each citizen array on its own.
    """
    return np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n)


@numba.njit(**_JIT)
def _decide_results(
    out: tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray],
    sums: FloatArray,
    size: FloatArray,
    met_committed: FloatArray,
    n_committed: int,
    totals: FloatArray,
) -> tuple[FloatArray, ...]:
    """The decide kernel's returns from its passes' arrays (see :func:`decide`)."""
    n_communities = size.shape[0]
    realised_c, self_reliance_c, committed_c, met_c = sums[0].copy(), sums[1].copy(), sums[2].copy(), sums[3].copy()
    kept_or_zero = np.empty(n_communities)
    # The sums over the community sizes: sim.rules.community.community_mean's divide (0 where empty).
    for c in range(n_communities):
        realised_c[c] = realised_c[c] / size[c] if size[c] > 0 else 0.0
        self_reliance_c[c] = self_reliance_c[c] / size[c] if size[c] > 0 else 0.0
        met_c[c] = met_c[c] / committed_c[c]  # the share kept; 0/0 is NaN where no one committed
        kept_or_zero[c] = _nan_to_num(met_c[c])
    # numpy's mean of the committed citizens' values: their pairwise sum from 0.0, over their number.
    kept_mean = (0.0 + _pairwise(met_committed, 0, n_committed)) / n_committed if n_committed > 0 else math.nan
    return (
        out[0],
        out[1],
        out[2],
        out[3],
        out[4],
        out[5],
        realised_c,
        self_reliance_c,
        totals,
        committed_c,
        met_c,
        kept_or_zero,
        kept_mean,
    )


@numba.njit(**_JIT)
def decide(
    realised_last: FloatArray,
    contacts: IntArray,
    community: IntArray,
    coop_type: IntArray,
    belief: FloatArray,
    motivation: FloatArray,
    commitment: FloatArray,
    budget: FloatArray,
    forum_hours: FloatArray,
    own_need: FloatArray,
    efficacy: FloatArray,
    engaged: BoolArray,
    care_opportunity: FloatArray,
    social_capital: FloatArray,
    size: FloatArray,
    noise: FloatArray,
    type_base: FloatArray,
    type_slope: FloatArray,
    consts: FloatArray,
    threshold: float,
) -> tuple[FloatArray, ...]:
    """``sim.rules.citizen.decide`` for every citizen, in one pass, plus the month's citizen totals.

    Args:
        realised_last: last month's realised share of every citizen.
        contacts: (N, k) contacts.
        community: each citizen's community.
        coop_type: cooperation type (table index, clipped to the table as ``np.take(mode="clip")``).
        belief: last month's belief.
        motivation: intrinsic motivation.
        commitment: committed share, NaN where none.
        budget: discretionary hours (before last month's forum hours come out).
        forum_hours: hours spent in last month's forum round.
        own_need: mean need.
        efficacy: self-efficacy.
        engaged: asked to volunteer.
        care_opportunity: care needed in the network.
        social_capital: per community, its social capital (peer pressure grows with it).
        size: per community, its number of citizens (as floats, ``CommunityState.size``).
        noise: the month's standard normal draws from the ``citizens`` stream.
        type_base: per type, the contribution intercept.
        type_slope: per type, the slope on the belief.
        consts: belief_persistence, commitment_pressure, motivation_weight, antisocial_pressure,
            norm_premium, contribution_noise, willingness (the payment multiplier's constant part
            ``crowd_out * paid``), price term (``price_effect * payment``), self_reliance_share,
            volunteer_share, peer_pressure_base, peer_pressure_social_capital, recognition.
        threshold: hours at or above which a citizen counts as active (the metrics').

    Returns:
        belief, share, volunteering, caring, self_reliance, realised (per citizen); per community
        the means of realised and of self-reliance hours over the (undiminished) budget (0 for a
        community without citizens, as ``sim.rules.community.community_mean``); the month's
        totals (in the order of ``DECIDE_TOTALS``); per community the citizens with a commitment
        and the share of it they kept: the sum of how far each met it
        (``sim.rules.negotiation.commitment_met`` of the new share, in ``np.bincount``'s order)
        over their number, NaN where none committed (0/0, as the model divides the bincounts),
        and the same through ``np.nan_to_num`` (as the services' objectives read it);
        and the mean of ``commitment_met`` over all the citizens with a commitment, in citizen
        order and numpy's pairwise order (``sim.metrics.commitment_share``'s mean; NaN if none).

    """
    n = community.shape[0]
    out = _decide_outputs(n)
    sums = np.zeros((4, size.shape[0]))
    met_committed = np.empty(n)  # commitment_met of the citizens with a commitment, in citizen order
    counts = np.zeros((1, 4), dtype=np.int64)
    _decide_range(
        0, realised_last, contacts, community, coop_type, belief, motivation, commitment, budget,
        forum_hours, own_need, efficacy, engaged, care_opportunity, noise, type_base, type_slope, consts,
        threshold, _decide_pressure(social_capital, consts), out[0], out[1], out[2], out[3], out[4], out[5],
        sums, met_committed, counts,
    )  # fmt: skip
    return _decide_results(out, sums, size, met_committed, counts[0, 3], _count_totals(counts, 3))


@numba.njit(parallel=_PRANGE_ONLY, **_JIT)
def decide_threaded(
    realised_last: FloatArray,
    contacts: IntArray,
    community: IntArray,
    coop_type: IntArray,
    belief: FloatArray,
    motivation: FloatArray,
    commitment: FloatArray,
    budget: FloatArray,
    forum_hours: FloatArray,
    own_need: FloatArray,
    efficacy: FloatArray,
    engaged: BoolArray,
    care_opportunity: FloatArray,
    social_capital: FloatArray,
    size: FloatArray,
    noise: FloatArray,
    type_base: FloatArray,
    type_slope: FloatArray,
    consts: FloatArray,
    threshold: float,
    bounds: IntArray,
) -> tuple[FloatArray, ...]:
    """:func:`decide` on several threads, with the same bits: its ranges of citizens run in parallel.

    ``bounds`` (from :func:`community_bounds`) splits the citizens at community boundaries, so
    each community's sums are added by one range, in index order, as in :func:`decide`; the
    committed citizens' values are then put back in citizen order before numpy's pairwise mean,
    and the counts are integers. Nothing is reduced across threads in floating point.
    """
    n = community.shape[0]
    n_ranges = bounds.shape[0] - 1
    out = _decide_outputs(n)
    sums = np.zeros((4, size.shape[0]))
    met_committed = np.empty(n)
    counts = np.zeros((n_ranges, 4), dtype=np.int64)
    pressure = _decide_pressure(social_capital, consts)
    for r in numba.prange(n_ranges):
        lo, hi = bounds[r], bounds[r + 1]
        _decide_range(
            r, realised_last, contacts[lo:hi], community[lo:hi], coop_type[lo:hi], belief[lo:hi],
            motivation[lo:hi], commitment[lo:hi], budget[lo:hi], forum_hours[lo:hi], own_need[lo:hi],
            efficacy[lo:hi], engaged[lo:hi], care_opportunity[lo:hi], noise[lo:hi], type_base, type_slope,
            consts, threshold, pressure, out[0][lo:hi], out[1][lo:hi], out[2][lo:hi], out[3][lo:hi],
            out[4][lo:hi], out[5][lo:hi], sums, met_committed[lo:hi], counts,
        )  # fmt: skip
    # Each range compacted its committed citizens from its own start: close the gaps, in order.
    n_committed = counts[0, 3]
    for r in range(1, n_ranges):
        for j in range(counts[r, 3]):
            met_committed[n_committed + j] = met_committed[bounds[r] + j]
        n_committed += counts[r, 3]
    return _decide_results(out, sums, size, met_committed, n_committed, _count_totals(counts, 3))


@numba.njit(inline="always", **_JIT)
def _adapt_range(
    chunk: int,
    community: IntArray,
    engaged: BoolArray,
    participated: BoolArray,
    motivation: FloatArray,
    motivation_trait: FloatArray,
    trust: FloatArray,
    trust_trait: FloatArray,
    efficacy: FloatArray,
    volunteering: FloatArray,
    by_community: FloatArray,
    u_engage: FloatArray,
    experience_noise: FloatArray,
    consts: FloatArray,
    threshold: float,
    motivated_level: float,
    new_engaged: BoolArray,
    new_motivation: FloatArray,
    new_trust: FloatArray,
    new_efficacy: FloatArray,
    counts: IntArray,
) -> None:
    """The adapt kernel's pass over a range of citizens, writing into the caller's arrays.

    Every per-citizen array is the range's slice (a loop from 0, as in :func:`_decide_range`);
    ``by_community`` is whole. ``counts[chunk]`` gets the counts of ``ADAPT_TOTALS``. Each
    citizen's update reads only its own state and its community's context, so ranges may run at
    the same time (:func:`adapt_threaded`).
    """
    n = community.shape[0]
    recognition, voice_weight, exit_p, m_gain, m_loss = consts[0], consts[1], consts[2], consts[3], consts[4]
    reversion, t_gain, t_loss, a_gain = consts[5], consts[6], consts[7], consts[8]
    noise_sd, eff_rate, partnership_support, join_current = consts[9], consts[10], consts[11], consts[12]
    n_motivated = n_motivated_volunteering = 0
    c_run = -1
    ask = p_effect = goals = control_c = experience = success = made = kept = exposure = assurance = 0.0
    for i in range(n):
        c = community[i]
        if c != c_run:  # the community's context, read again only when it changes (citizens are grouped)
            c_run = c
            ask, p_effect, goals = by_community[0, c], by_community[1, c], by_community[2, c]
            control_c, experience, success = by_community[3, c], by_community[4, c], by_community[5, c]
            made, kept = by_community[6, c], by_community[7, c]
            exposure, assurance = by_community[8, c], by_community[9, c]
        eng = engaged[i]
        e = 1.0 if eng else 0.0
        voice = (1.0 if participated[i] else 0.0) * voice_weight
        support = _clip_branchless(recognition + voice + e * (partnership_support * p_effect + goals), 0.0, 1.0)
        control = _clip_branchless(e * control_c, 0.0, 1.0)
        z = noise_sd * experience_noise[i]
        felt = _clip_branchless(experience + z, 0.0, 1.0)
        u = u_engage[i]
        t0 = trust[i]
        willing = (1.0 - join_current) * trust_trait[i] + join_current * t0
        new_engaged[i] = ((not eng) and (u < ask * willing)) or (eng and (u >= exit_p))
        m0 = motivation[i]
        m = m0 + m_gain * support * (1.0 - m0) - m_loss * control * m0
        m = m + reversion * (motivation_trait[i] - m0)
        m = _clip_branchless(m, 0.0, 1.0)
        new_motivation[i] = m
        gap = felt - t0
        rate = t_gain if gap > 0 else t_loss
        t = t0 + rate * gap
        t = t + t_gain * made * kept * (1.0 - t)
        t = t - t_loss * made * (1.0 - kept) * t
        t = t - t_loss * _clip_branchless(exposure, 0.0, 1.0) * t
        t = t + a_gain * assurance * (1.0 - t)
        t = _clip_branchless(t, 0.0, 1.0)
        new_trust[i] = t
        f0 = efficacy[i]
        new_efficacy[i] = _clip_branchless(f0 + eff_rate * (_clip_branchless(success + z, 0.0, 1.0) - f0), 0.0, 1.0)
        # Counted without branches (integers, exact).
        motivated = m >= motivated_level
        n_motivated += int(motivated)
        n_motivated_volunteering += int(motivated & (volunteering[i] >= threshold))
    counts[chunk, 0], counts[chunk, 1] = n_motivated, n_motivated_volunteering


@numba.njit(**_JIT)
def adapt(
    community: IntArray,
    engaged: BoolArray,
    participated: BoolArray,
    motivation: FloatArray,
    motivation_trait: FloatArray,
    trust: FloatArray,
    trust_trait: FloatArray,
    efficacy: FloatArray,
    volunteering: FloatArray,
    by_community: FloatArray,
    u_engage: FloatArray,
    experience_noise: FloatArray,
    consts: FloatArray,
    threshold: float,
    motivated_level: float,
) -> tuple[BoolArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """``sim.rules.citizen.adapt`` (with the model's support and control) for every citizen, in one pass.

    Args:
        community: each citizen's community.
        engaged: asked to volunteer (before this month's update).
        participated: took part in the forum round in force.
        motivation: intrinsic motivation.
        motivation_trait: each citizen's own level.
        trust: trust.
        trust_trait: each citizen's stable trust disposition.
        efficacy: self-efficacy.
        volunteering: this month's volunteering hours (for the motivated volunteers' total).
        by_community: (10, C) rows ask, partnership_effect, goals, control, experience, success,
            made, kept, exposure, assurance (the model's per-community context).
        u_engage: the month's uniforms from the ``engagement`` stream.
        experience_noise: the month's standard normals from the ``experience`` stream.
        consts: recognition, voice_weight, engagement_exit, motivation_gain, motivation_loss,
            motivation_reversion, trust_gain, trust_loss, assurance_gain, trust_experience_noise,
            efficacy_rate, partnership_support, join_current_trust.
        threshold: hours at or above which a citizen counts as active.
        motivated_level: motivation at or above which a citizen counts as motivated.

    Returns:
        engaged, motivation, trust, efficacy (per citizen) and the totals (in the order of ``ADAPT_TOTALS``).

    """
    n = community.shape[0]
    engaged_out = np.empty(n, dtype=np.bool_)
    out = (np.empty(n), np.empty(n), np.empty(n))  # separate arrays, as _decide_outputs says why
    counts = np.zeros((1, 2), dtype=np.int64)
    _adapt_range(
        0, community, engaged, participated, motivation, motivation_trait, trust, trust_trait, efficacy,
        volunteering, by_community, u_engage, experience_noise, consts, threshold, motivated_level,
        engaged_out, out[0], out[1], out[2], counts,
    )  # fmt: skip
    return engaged_out, out[0], out[1], out[2], _count_totals(counts, 2)  # ADAPT_TOTALS


@numba.njit(parallel=_PRANGE_ONLY, **_JIT)
def adapt_threaded(
    community: IntArray,
    engaged: BoolArray,
    participated: BoolArray,
    motivation: FloatArray,
    motivation_trait: FloatArray,
    trust: FloatArray,
    trust_trait: FloatArray,
    efficacy: FloatArray,
    volunteering: FloatArray,
    by_community: FloatArray,
    u_engage: FloatArray,
    experience_noise: FloatArray,
    consts: FloatArray,
    threshold: float,
    motivated_level: float,
    bounds: IntArray,
) -> tuple[BoolArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """:func:`adapt` on several threads over the ranges ``bounds`` (:func:`community_bounds`), with the same bits."""
    n = community.shape[0]
    n_ranges = bounds.shape[0] - 1
    engaged_out = np.empty(n, dtype=np.bool_)
    out = (np.empty(n), np.empty(n), np.empty(n))
    counts = np.zeros((n_ranges, 2), dtype=np.int64)
    for r in numba.prange(n_ranges):
        lo, hi = bounds[r], bounds[r + 1]
        _adapt_range(
            r, community[lo:hi], engaged[lo:hi], participated[lo:hi], motivation[lo:hi],
            motivation_trait[lo:hi], trust[lo:hi], trust_trait[lo:hi], efficacy[lo:hi], volunteering[lo:hi],
            by_community, u_engage[lo:hi], experience_noise[lo:hi], consts, threshold, motivated_level,
            engaged_out[lo:hi], out[0][lo:hi], out[1][lo:hi], out[2][lo:hi], counts,
        )  # fmt: skip
    return engaged_out, out[0], out[1], out[2], _count_totals(counts, 2)


@numba.njit(**_JIT)
def social_capital(social_capital: FloatArray, prosocial_share: FloatArray, growth: float, decay: float) -> FloatArray:
    """``sim.rules.community.update_social_capital`` of every community: the same operations in the same order."""
    out = np.empty(social_capital.shape[0])
    for c in range(out.shape[0]):
        sc = social_capital[c]
        out[c] = _clip(sc + growth * prosocial_share[c] * (1.0 - sc) - decay * sc, 0.0, 1.0)
    return out


# ---------------------------------------------------------------------- services
# fdlibm's constants, as in sim.rules.portable (e_exp.c, e_log.c).
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_P1 = 1.66666666666666019037e-01
_P2 = -2.77777777770155933842e-03
_P3 = 6.61375632143793436117e-05
_P4 = -1.65339022054652515390e-06
_P5 = 4.13813679705723846039e-08
_EXP_OVERFLOW = 7.09782712893383973096e02
_EXP_UNDERFLOW = -7.45133219101941108420e02
# 1.5 * 2^52: v + this - this is v rounded to the nearest integer, ties to even (rint), for |v| < 2^51.
_ROUND_MAGIC = 6755399441055744.0
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_SQRT_HALF = 0.70710678118654752440
_EPS = 1e-6  # sim.rules.coproduction.EPS


@intrinsic
def _float_bits(typingctx: Any, x: Any) -> Any:
    """The IEEE-754 bits of a float64 as an int64 (a bit cast: no conversion, no rounding)."""
    if x != types.float64:
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return types.int64(types.float64), codegen


@intrinsic
def _bits_float(typingctx: Any, b: Any) -> Any:
    """The float64 whose IEEE-754 bits are the int64 ``b`` (the inverse bit cast)."""
    if b != types.int64:
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.int64), codegen


@numba.njit(inline="always", **_JIT)
def _exp(x: float) -> float:
    """``sim.rules.portable.exp`` of one float: the same operations in the same order, the same bits.

    One exception, with the same result: the rounding of ``x / ln 2`` to an integer ``k`` adds and
    subtracts 1.5 * 2^52 instead of calling ``rint``, which the generic x86-64 target (without
    SSE4.1's ``roundsd``) compiled to a libm call, some 3,000 calls a month in the services kernel.
    Here ``|x / ln 2| < 1,076``, so the sum lies where floats are the integers, and the addition
    rounds to the nearest, ties to even, as ``rint`` does; the subtraction is exact. The one
    difference is a zero's sign: ``rint`` gives -0.0 for ``x`` in [-ln(2)/2, -0.0], this +0.0. For
    ``x`` other than -0.0 that changes nothing below (``x - 0.0 == x + 0.0 == x``); for ``x = -0.0``
    it flips the signs of ``hi``, ``r``, ``c`` and intermediate zeros of ``y``, and ``1.0 - y`` is
    1.0 either way. ``tests/test_fused.py`` compares the bits with ``portable.exp``, ties and -0.0 included.
    """
    if x != x:
        return x
    if x > _EXP_OVERFLOW:
        return math.inf
    if x < _EXP_UNDERFLOW:
        return 0.0
    k = (x * _INV_LN2 + _ROUND_MAGIC) - _ROUND_MAGIC
    hi = x - k * _LN2_HI
    lo = k * _LN2_LO
    r = hi - lo
    t = r * r
    c = t * _P5
    c += _P4
    c *= t
    c += _P3
    c *= t
    c += _P2
    c *= t
    c += _P1
    c *= t
    c = r - c
    y = r * c
    y /= 2.0 - c
    y = lo - y
    y -= hi
    y = 1.0 - y
    e = int(k)
    if -1022 <= e <= 1023:
        # ldexp(y, e) is y * 2**e rounded once (exact unless subnormal or overflowing); so is the
        # product with 2**e built from its bits, without ldexp's libm call.
        return y * _bits_float((e + 1023) << 52)
    return math.ldexp(y, e)  # exact but for the one rounding of a subnormal result, as numpy's


@numba.njit(inline="always", **_JIT)
def _log_tail(m: float, k: float) -> float:
    """The fdlibm log from the normalised ``m`` in [0.5, 1) and exponent ``k`` of ``x = m * 2**k``."""
    # One select, no branch: on random values a branch here was mispredicted half the time.
    low = m < _SQRT_HALF
    m = m * 2.0 if low else m
    k = k - 1.0 if low else k
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * _LG6
    t1 += _LG4
    t1 *= w
    t1 += _LG2
    t1 *= w
    t2 = w * _LG7
    t2 += _LG5
    t2 *= w
    t2 += _LG3
    t2 *= w
    t2 += _LG1
    t2 *= z
    t2 += t1
    hfsq = f * f
    hfsq *= 0.5
    t2 += hfsq
    t2 *= s
    t1 = k * _LN2_LO
    t2 += t1
    t2 = hfsq - t2
    t2 -= f
    out = k * _LN2_HI
    out -= t2
    return out


@numba.njit(**_JIT)
def _log_unusual(x: float) -> float:
    """``_log`` of a float that is not positive, normal and finite (NaN, negative, zero, subnormal, inf)."""
    if x != x or x < 0.0:
        return math.nan
    if x == 0.0:
        return -math.inf
    if x == math.inf:
        return math.inf
    m, e = math.frexp(x)
    return _log_tail(m, float(e))


# The bits of the positive normal finite floats, as int64: [smallest normal, +inf).
_NORMAL_LO = 0x0010000000000000
_NORMAL_HI = 0x7FF0000000000000


@numba.njit(inline="always", **_JIT)
def _log(x: float) -> float:
    """``sim.rules.portable.log`` of one float: the same operations in the same order.

    For a positive normal float, frexp's ``m`` and ``e`` are read off its bits (the same values
    frexp returns, without its libm call, which cost more than the rest of the logarithm).
    """
    b = _float_bits(x)
    if b < _NORMAL_LO or b >= _NORMAL_HI:  # negative (sign bit set), zero, subnormal, inf or NaN
        return _log_unusual(x)
    return _log_normal(x)


@numba.njit(inline="always", **_JIT)
def _is_normal(x: float) -> bool:
    """Whether ``x`` is a positive, normal, finite float (the floats ``_log_normal`` takes)."""
    b = _float_bits(x)
    return (b >= _NORMAL_LO) & (b < _NORMAL_HI)


@numba.njit(inline="always", **_JIT)
def _log_normal(x: float) -> float:
    """``_log`` of a positive, normal, finite float, without a branch (a loop of them vectorises)."""
    b = _float_bits(x)
    m = _bits_float((b & 0x000FFFFFFFFFFFFF) | 0x3FE0000000000000)
    return _log_tail(m, float(((b >> 52) & 0x7FF) - 1022))


@numba.njit(inline="always", **_JIT)
def _power(x: float, y: float) -> float:
    """``sim.rules.portable.power`` of one float."""
    if y == 1.0:
        return x
    if y == -1.0:
        return 1.0 / x
    if y == 2.0:
        return x * x
    if y == 0.5:
        return math.sqrt(x)
    if y == 0.0:
        return 1.0
    return _exp(y * _log(x))


# Rows of the services kernel's per-service conditions (sim.rules.management.ServiceConditions).
SERVICE_CONDITIONS = (
    "capacity",
    "citizen_input",
    "deprivation",
    "shock",
    "ethos",
    "objective_set",
    "objective",
    "accountability",
    "league_table",
    "observe_forum",
    "forum_sees",
    "perception_error",
    "inspected",
    "functioning_error",
    "partnership_paid",
    "partnership_required",
    "partnership_level",
    "theatre",
    "verified",
    "verification_error",
    "theatre_penalty",
    "commitments",
    "audited",
)
CONDITION_ROW = {name: row for row, name in enumerate(SERVICE_CONDITIONS)}  # each condition's row, by name
# The service constants it reads (sim.rules.management.ServiceParams; ratchet as 0/1).
SERVICE_PARAMS = (
    "functioning_weight",
    "task_spillover",
    "partnership_boost",
    "service_weight",
    "ces_rho",
    "outcome_intercept",
    "outcome_slope",
    "deprivation_effect",
    "measured_weight",
    "manipulation_cost",
    "cream_skim_share",
    "cream_skim_max",
    "cream_skim_harm",
    "near_miss_window",
    "landing_width",
    "slack_value",
    "reward_strength",
    "reward_cap",
    "sanction_strength",
    "audit_detection",
    "audit_penalty",
    "guarantee_level",
    "ratchet",
    "ratchet_rate",
    "commitment_enforcement",
    "partnership_pay",
)
# Rows of its per-service results for the allocation in force (sim.rules.management.ServiceMonth).
SERVICE_RESULTS = (
    "p_measured",
    "p_unmeasured",
    "lived_outcome",
    "reported",
    "true_rate",
    "n_cases",
    "skimmed",
    "found_share",
    "commitment_kept",
    "payoff",
    "payment",
)
_F, _M, _U, _P, _G, _S = 0, 1, 2, 3, 4, 5  # sim.rules.coproduction's activity columns


@numba.njit(inline="always", **_JIT)
def _bin(value: float, bins_per_unit: float, half_range: float, n_bins: int) -> int:
    """``sim.details.bin_counts``'s bin of one value: the same operations (scale, shift, clip, truncate)."""
    shifted = value * bins_per_unit
    shifted += half_range * bins_per_unit + 1
    return int(_clip_branchless(shifted, 0.0, n_bins + 1.0))


@numba.njit(inline="always", **_JIT)
def _ces(service_input: float, citizen_input: float, weight: float, rho: float, inv_rho: float) -> float:
    """``sim.rules.coproduction.ces`` of one service."""
    s = _maximum(service_input, _EPS)
    k = _maximum(citizen_input, _EPS)
    return _power(weight * _power(s, rho) + (1.0 - weight) * _power(k, rho), inv_rho)


@numba.njit(**_JIT)
def _distinct(values: FloatArray, slots: FloatArray, slot_of: IntArray) -> int:
    """Put the distinct floats of ``values`` (by their bits) in ``slots``, the first at 0; return how many.

    ``slot_of[i]`` is the slot of ``values[i]``; slots past the count are filled with the first value.
    """
    n = 0
    for i in range(values.shape[0]):
        slot_of[i] = -1
        for v in range(n):
            if _float_bits(slots[v]) == _float_bits(values[i]):
                slot_of[i] = v
        if slot_of[i] < 0:
            slots[n] = values[i]
            slot_of[i] = n
            n += 1
    for v in range(n, slots.shape[0]):
        slots[v] = slots[0]
    return n


@numba.njit(**_JIT)
def services(
    shares: FloatArray,
    cond: FloatArray,
    n_cases_s: IntArray,
    case_noise: FloatArray,
    u_move: FloatArray,
    u_land: FloatArray,
    u_skim: FloatArray,
    u_detect: FloatArray,
    params: FloatArray,
    partnership_commitment: FloatArray,
    size: float,
    rate: float,
    max_shift: float,
    bunching_window: float,
    bins_per_unit: float,
    half_range: float,
    n_bins: int,
) -> tuple[FloatArray, FloatArray, BoolArray, FloatArray, FloatArray, IntArray, IntArray]:
    """A month of every service: the allocation in force and six trials, then the managers' learning.

    ``sim.rules.management.service_months`` of the allocation in force and its
    ``trial_allocation`` s, and ``learn_shares``, in one call: per service, the same operations
    in the same order (the portable ``exp`` and ``log`` included), one case at a time.

    Args:
        shares: (S, 6) allocation in force.
        cond: (len(SERVICE_CONDITIONS), S) the month's conditions.
        n_cases_s: (S,) each service's cases this month (the cases are grouped by service, in order).
        case_noise: each case's logistic noise (``indicators.case_noise``).
        u_move: uniforms: a near miss is moved.
        u_land: uniforms: where a moved record lands.
        u_skim: uniforms: a hard case is turned away.
        u_detect: uniforms: an audit finds a moved record.
        params: the constants of ``SERVICE_PARAMS``.
        partnership_commitment: per service, the partnership level in ``service_commitment_kept``.
        size: the share a trial moves (``services.exploration``).
        rate: learning rate.
        max_shift: most a share moves in a month.
        bunching_window: the metrics' bunching window (``services.bunching_window``).
        bins_per_unit: the detail histogram's bins per unit (``sim.details.BINS_PER_UNIT``).
        half_range: its half range (``sim.details.HALF_RANGE``).
        n_bins: its number of bins (``sim.details.N_BINS``).

    Returns:
        (len(SERVICE_RESULTS), S) results of the allocation in force; per case the record, the
        kept flag and the true value; the learned (S, 6) allocation; the records kept in
        ``[0, window)`` and in ``[-window, 0)`` (``bunching_ratio``'s counts) and all records kept; and the month's
        (2, n_bins + 2) histogram counts of kept records and of true values, under- and
        overflow bins at both ends (``sim.details.bin_counts`` before it drops them).

    """
    n_s = shares.shape[0]
    n_a = shares.shape[1]
    total_cases = case_noise.shape[0]
    fw, spill, boost, w, rho = params[0], params[1], params[2], params[3], params[4]
    intercept, slope, dep_effect, mw, manip_cost = params[5], params[6], params[7], params[8], params[9]
    css, cs_max, cs_harm, window, landing = params[10], params[11], params[12], params[13], params[14]
    slack_value, rs, reward_cap, ss, detection = params[15], params[16], params[17], params[18], params[19]
    audit_penalty, guarantee_level, ratchet, ratchet_rate = params[20], params[21], params[22], params[23]
    enforcement, partnership_pay_rate = params[24], params[25]
    inv_rho = 1.0 / rho
    level = max(guarantee_level, 1e-9)
    # Where each service's cases start: the running total of the counts (integers, exact).
    case_start = np.empty(n_s + 1, dtype=np.int64)
    case_start[0] = 0
    for s in range(n_s):
        case_start[s + 1] = case_start[s] + n_cases_s[s]
    results = np.empty((len(SERVICE_RESULTS), n_s))
    recorded_out = np.empty(total_cases)
    kept_out = np.empty(total_cases, dtype=np.bool_)
    true_out = np.empty(total_cases)
    trial_payoffs = np.empty((n_a, n_s))
    counts = np.zeros(3, dtype=np.int64)
    hist = np.zeros((2, n_bins + 2), dtype=np.int64)
    n_e = n_a + 1  # evaluations: 0 the allocation in force, a > 0 the trial of activity a - 1
    rows = np.empty((n_e, n_a))
    logit = np.empty(n_e)  # per evaluation: logit_m, the true value of a case without its noise
    move_e = np.empty(n_e)
    skim_e = np.empty(n_e)
    p_m_e = np.empty(n_e)
    p_u_e = np.empty(n_e)
    lived_e = np.empty(n_e)
    produced_m = np.empty(n_e)  # per evaluation: CES production, then its logarithm
    produced_u = np.empty(n_e)
    # Per evaluation, the distinct values of move and skim it uses (trials that leave the gaming
    # share alone share them), and the counts over its cases.
    move_of = np.empty(n_e, dtype=np.int64)
    skim_of = np.empty(n_e, dtype=np.int64)
    moves = np.empty(n_e)
    skims = np.empty(n_e)
    moved_n = np.empty(n_e, dtype=np.int64)  # band cases moved, with a record at or above the standard
    found_band = np.empty(n_e, dtype=np.int64)  # band cases moved and found by an audit
    skimmed_n = np.empty(n_e, dtype=np.int64)  # tail cases turned away
    amb_kept = np.empty(n_e, dtype=np.int64)
    amb_rec = np.empty(n_e, dtype=np.int64)
    amb_true = np.empty(n_e, dtype=np.int64)
    amb_found = np.empty(n_e, dtype=np.int64)
    ambiguous = np.empty(total_cases, dtype=np.uintp)  # unsigned: indexing by it needs no wraparound code
    for s in range(n_s):
        cap, k_raw, dep, shock = cond[0, s], cond[1, s], cond[2, s], cond[3, s]
        # 1. Each evaluation's own figures (per service, not per case), in three loops: the inputs
        # and the production, then the logarithms, then the logits and their logistic. Each value
        # is made by the same operations as one evaluation at a time would make it; apart, the
        # fourteen logarithms and exponentials (each a chain of dependent operations) overlap.
        e_m_prev = e_u_prev = k_prev = math.nan
        for a in range(n_e):
            for j in range(n_a):
                rows[a, j] = shares[s, j] if a == 0 else (1.0 - size) * shares[s, j]
            if a > 0:
                rows[a, a - 1] += size
            base = fw * rows[a, _F]
            e_m = cap * (base + rows[a, _M] + spill * rows[a, _U])
            e_u = cap * (base + rows[a, _U] + spill * rows[a, _M])
            partnership = rows[a, _P]
            k = k_raw * (1.0 + boost * (partnership / (partnership + 0.1)))
            effort = rows[a, _G] * cap / manip_cost
            move_e[a] = _clip(effort * (1.0 - css), 0.0, 1.0)
            skim_e[a] = cs_max * _clip(effort * css, 0.0, 1.0)
            # Two trials that move only the gaming and slack shares have the same inputs: the same
            # production (equal floats give equal results; NaN never compares equal, so is redone).
            if a > 0 and e_m == e_m_prev and e_u == e_u_prev and k == k_prev:
                produced_m[a], produced_u[a] = produced_m[a - 1], produced_u[a - 1]
            else:
                produced_m[a] = _maximum(_ces(e_m, k, w, rho, inv_rho), _EPS)
                produced_u[a] = _maximum(_ces(e_u, k, w, rho, inv_rho), _EPS)
                e_m_prev, e_u_prev, k_prev = e_m, e_u, k
        for a in range(n_e):
            produced_m[a] = _log(produced_m[a])
            produced_u[a] = _log(produced_u[a])
        for a in range(n_e):
            logit_m = intercept + slope * produced_m[a] - dep_effect * dep + shock
            logit_u = intercept + slope * produced_u[a] - dep_effect * dep + shock
            logit_u = logit_u - cs_harm * skim_e[a]
            p_m = 1.0 / (1.0 + _exp(-logit_m))
            p_u = 1.0 / (1.0 + _exp(-logit_u))
            logit[a] = logit_m
            p_m_e[a], p_u_e[a], lived_e[a] = p_m, p_u, mw * p_m + (1.0 - mw) * p_u
        # 2. The cases, once for all seven evaluations. A case's true value is logit + noise, and
        # float addition is monotone: a case whose value is at or above the standard under the
        # lowest logit is so under all, one below -window under the highest logit is below it under
        # all, and so on. Such cases are counted once per distinct move or skim (an integer count,
        # exact); the few between (and all, if a logit is NaN or the window negative) are
        # evaluated under each evaluation as sim.rules.indicators does, one by one.
        n_moves = _distinct(move_e, moves, move_of)
        n_skims = _distinct(skim_e, skims, skim_of)
        low_logit = high_logit = logit[0]
        for a in range(1, n_e):
            low_logit = _minimum(low_logit, logit[a])
            high_logit = _maximum(high_logit, logit[a])
        if not window >= 0.0 or n_moves > 3 or n_skims > 3:
            # The regions are not ordered so, or more distinct values than the three slots below
            # (neither happens under the model's rules): every case one by one.
            low_logit = math.nan
        logit_0, move_0, skim_0 = logit[0], move_e[0], skim_e[0]
        move_1, move_2, skim_1, skim_2 = moves[1], moves[2], skims[1], skims[2]
        lo, hi = case_start[s], case_start[s + 1]
        n_pass = n_amb = 0
        moved_0 = moved_1 = moved_2 = found_0 = found_1 = found_2 = skimmed_0 = skimmed_1 = skimmed_2 = 0
        above = below = kept_n = 0
        # Counted without branches, in locals (integer counts, exact): the conditions are random
        # per case, and branches on them were mispredicted about half the time.
        # The service's cases as slices, looped from 0: the compiler then sees that no index is
        # negative (numba's wraparound of negative indices was a fifth of the loop's instructions).
        noise_s, move_s, skim_s, land_s, detect_s = (
            case_noise[lo:hi],
            u_move[lo:hi],
            u_skim[lo:hi],
            u_land[lo:hi],
            u_detect[lo:hi],
        )
        recorded_s, kept_s, true_s = recorded_out[lo:hi], kept_out[lo:hi], true_out[lo:hi]
        for j in range(hi - lo):
            noise = noise_s[j]
            um, us = move_s[j], skim_s[j]
            # The records of the allocation in force, and what the metrics and details count of them.
            tv = logit_0 + noise
            manipulated = (tv < 0.0) & (tv >= -window) & (um < move_0)
            rec = land_s[j] * landing if manipulated else tv
            kept = not ((tv < -window) & (us < skim_0))
            recorded_s[j] = rec
            kept_s[j] = kept
            true_s[j] = tv
            # sim.rules.indicators.bunching_ratio's counts, over the records kept.
            above += int(kept & (rec >= 0.0) & (rec < bunching_window))
            below += int(kept & (rec < 0.0) & (rec >= -bunching_window))
            kept_n += int(kept)
            # sim.details.bin_counts: bins shifted by one, under- and overflow in the end bins.
            hist[0, _bin(rec, bins_per_unit, half_range, n_bins) if kept else 0] += 1
            hist[1, _bin(tv, bins_per_unit, half_range, n_bins)] += 1
            # The case under every evaluation.
            tv_low, tv_high = low_logit + noise, high_logit + noise
            passes = tv_low >= 0.0
            tail = tv_high < -window
            band = (tv_low >= -window) & (tv_high < 0.0)
            landed = band & (land_s[j] * landing >= 0.0)
            detected = band & (detect_s[j] < detection)
            n_pass += int(passes)
            moved_0 += int(landed & (um < move_0))
            moved_1 += int(landed & (um < move_1))
            moved_2 += int(landed & (um < move_2))
            found_0 += int(detected & (um < move_0))
            found_1 += int(detected & (um < move_1))
            found_2 += int(detected & (um < move_2))
            skimmed_0 += int(tail & (us < skim_0))
            skimmed_1 += int(tail & (us < skim_1))
            skimmed_2 += int(tail & (us < skim_2))
            ambiguous[n_amb] = np.uintp(lo + j)
            n_amb += int(not (passes | tail | band))
        counts[0] += above
        counts[1] += below
        counts[2] += kept_n
        moved_n[0], moved_n[1], moved_n[2] = moved_0, moved_1, moved_2
        found_band[0], found_band[1], found_band[2] = found_0, found_1, found_2
        skimmed_n[0], skimmed_n[1], skimmed_n[2] = skimmed_0, skimmed_1, skimmed_2
        for a in range(n_e):
            logit_m, move, skim = logit[a], move_e[a], skim_e[a]
            kept_i = rec_i = true_i = found_i = 0
            for j in range(n_amb):
                c = ambiguous[j]
                tv = logit_m + case_noise[c]
                manipulated = (tv < 0.0) & (tv >= -window) & (u_move[c] < move)
                rec = u_land[c] * landing if manipulated else tv
                kept = not ((tv < -window) & (u_skim[c] < skim))
                kept_i += int(kept)
                rec_i += int(kept & (rec >= 0.0))
                true_i += int(tv >= 0.0)
                found_i += int(manipulated & (u_detect[c] < detection))
            amb_kept[a], amb_rec[a], amb_true[a], amb_found[a] = kept_i, rec_i, true_i, found_i
        # 3. Each evaluation's payoff (sim.rules.indicators.service_rates and management.incentive).
        for a in range(n_e):
            n_cases_i = hi - lo
            # Cases at or above the standard under every evaluation are kept, recorded as they are
            # and pass; band cases are kept; tail cases are kept unless turned away.
            n_kept_i = (n_cases_i - n_amb) - skimmed_n[skim_of[a]] + amb_kept[a]
            rec_pass_i = n_pass + moved_n[move_of[a]] + amb_rec[a]
            true_pass_i = n_pass + amb_true[a]
            found_i = found_band[move_of[a]] + amb_found[a]
            p_m, p_u, lived = p_m_e[a], p_u_e[a], lived_e[a]
            partnership = rows[a, _P]
            ethos = cond[4, s]
            n_cases = float(hi - lo)
            n_kept, rec_pass, true_pass, found = float(n_kept_i), float(rec_pass_i), float(true_pass_i), float(found_i)
            reported = rec_pass / n_kept
            true_rate = true_pass / n_cases
            skimmed = 1.0 - n_kept / n_cases
            found_share = found / n_kept
            functioning = rows[a, _F]
            kept_p = _minimum(1.0, partnership / _maximum(partnership_commitment[s], 1e-9))
            kept_f = _minimum(1.0, functioning / level)
            # sim.rules.management.incentive
            objective_set, objective, accountability = cond[5, s], cond[6, s], cond[7, s]
            league_table, observe_forum, forum_sees, perception_error = cond[8, s], cond[9, s], cond[10, s], cond[11, s]
            inspected, functioning_error, p_paid, p_required = cond[12, s], cond[13, s], cond[14, s], cond[15, s]
            p_level, theatre, verified, verification_error = cond[16, s], cond[17, s], cond[18, s], cond[19, s]
            theatre_penalty, commitments, audited = cond[20, s], cond[21, s], cond[22, s]
            r = objective if reported != reported else reported
            found_n = 0.0 if found_share != found_share else found_share
            perceived = forum_sees * _clip(lived + perception_error, 0.0, 1.0) + (1.0 - forum_sees) * r
            observed = observe_forum * perceived + (1.0 - observe_forum) * r
            gap = observed - objective
            over = _maximum(0.0, r - objective)
            weight = objective_set * accountability
            league = league_table * (ss * _maximum(0.0, -gap) + (ss * ratchet_rate * over if ratchet > 0 else 0.0))
            rewarded = _minimum(gap, reward_cap)
            outcome = weight * (rs * rewarded - league) - audited * audit_penalty * found_n
            seen_functioning = functioning + functioning_error
            guarantee = -inspected * ss * _maximum(0.0, guarantee_level - seen_functioning) / level
            owed = _maximum(p_level, 1e-9)
            claimed = _minimum(1.0, (partnership + theatre * _maximum(0.0, p_level - partnership)) / owed)
            measured = _minimum(1.0, _maximum(0.0, partnership + verification_error) / owed)
            met = verified * measured + (1.0 - verified) * claimed
            theatre_found = verified * _maximum(0.0, claimed - measured)
            partnership_pay = p_paid * partnership_pay_rate * met
            partnership_sanction = p_required * ss * (1.0 - met)
            partnership_sanction = partnership_sanction + theatre_penalty * theatre_found
            commitment_pay = commitments * enforcement * _minimum(1.0, functioning / level)
            paid = weight * rs * _maximum(0.0, rewarded) + partnership_pay + commitment_pay
            incentive = outcome + guarantee + partnership_pay - partnership_sanction + commitment_pay
            payoff = ethos * lived + (1.0 - ethos) * (incentive + slack_value * math.sqrt(rows[a, _S]))
            if a > 0:
                trial_payoffs[a - 1, s] = payoff
                continue
            results[0, s], results[1, s], results[2, s], results[3, s] = p_m, p_u, lived, reported
            results[4, s], results[5, s], results[6, s], results[7, s] = true_rate, n_cases, skimmed, found_share
            results[8, s], results[9, s], results[10, s] = kept_p * kept_f, payoff, paid
    # sim.rules.management.learn_shares and project_shares.
    floor = 1e-3  # sim.rules.management.SHARE_FLOOR
    room = 1.0 - n_a * floor
    learned = np.empty((n_s, n_a))
    advantage = np.empty(n_a)
    moved = np.empty(n_a)
    for s in range(n_s):
        payoff = results[9, s]
        mean = 0.0
        for j in range(n_a):
            advantage[j] = (trial_payoffs[j, s] - payoff) / size
        mean = advantage[0]
        for j in range(1, n_a):
            mean += advantage[j]
        mean = mean / n_a
        total = 0.0
        for j in range(n_a):
            moved[j] = _maximum(shares[s, j] + rate * (advantage[j] - mean), floor) - floor  # the excess
        total = moved[0]
        for j in range(1, n_a):
            total += moved[j]
        biggest = 0.0
        for j in range(n_a):
            projected = floor + (moved[j] * room / total if total > 0 else room / n_a)
            moved[j] = projected - shares[s, j]
            biggest = _maximum(biggest, abs(moved[j])) if j > 0 else abs(moved[j])
        scale = _minimum(1.0, max_shift / _maximum(biggest, 1e-12))
        for j in range(n_a):
            learned[s, j] = shares[s, j] + moved[j] * scale
    return results, recorded_out, kept_out, true_out, learned, counts, hist


# ---------------------------------------------------------------------- the month's service metrics
# What service_metrics returns, in order (names of sim.metrics' columns, and the parts of the costs).
SERVICE_METRICS = (
    "staffed_weight",
    "monitoring",
    "payments",
    "true_outcome",
    "reported_outcome",
    "true_measured_outcome",
    "social_capital",
    "gaming_share",
    "functioning_share",
    "partnership_share",
    "outcome_work_share",
    "slack_share",
    "measured_work_share",
    "unmeasured_work_share",
    "indicator_true_corr",
    "equity_gap",
    "participation_rate",
    "service_commitment_kept",
    "true_unmeasured_outcome",
    "skimmed_share",
    "target_level",
    "audits",
    "inspections",
)
# The cost constants it reads (sim.config's costs section, and services.cases_per_citizen), in order.
SERVICE_METRIC_COSTS = (
    "audit_cost",
    "audit_cost_per_case",
    "cases_per_citizen",
    "inspection_cost",
    "inspection_cost_per_citizen",
    "reward_cost",
    "reward_cost_per_citizen",
)


def service_metric_costs(cfg: Any) -> FloatArray:
    """The values of ``SERVICE_METRIC_COSTS`` in a run's config, in order (``cases_per_citizen`` is a services key)."""
    return np.array(
        [float(getattr(cfg.services if n == "cases_per_citizen" else cfg.costs, n)) for n in SERVICE_METRIC_COSTS]
    )


@numba.njit(**_JIT)
def _sum(buf: FloatArray, m: int) -> float:
    """``np.sum`` of ``buf[:m]`` (0.0 when empty), in numpy's pairwise order."""
    return _pairwise(buf, 0, m) if m > 0 else 0.0


# The citizen means citizen_means returns, in order (names of sim.metrics' columns, and the total).
CITIZEN_MEANS = (
    "prosocial_hours",
    "self_reliance",
    "motivation_mean",
    "trust_mean",
    "volunteering_hours",
    "caring_hours",
    "volunteering_total",
)


@numba.njit(**_JIT)
def _mean(values: FloatArray) -> float:
    """``np.mean`` of a contiguous float array: numpy's pairwise sum from its identity 0.0, over the count."""
    return (0.0 + _pairwise(values, 0, values.shape[0])) / values.shape[0]


@numba.njit(**_JIT)
def citizen_means(
    volunteering: FloatArray,
    caring: FloatArray,
    self_reliance: FloatArray,
    budget: FloatArray,
    motivation: FloatArray,
    trust: FloatArray,
) -> FloatArray:
    """The month's means over the citizens (``CITIZEN_MEANS``) as ``sim.metrics.citizen_figures`` takes them with numpy.

    Each is numpy's ``mean`` of a contiguous array (``np.add.reduce`` adds the whole array
    pairwise, starting from 0.0, then divides by the count), so the same bits; one call in place
    of seven numpy reductions and two temporary arrays a month. Not for an empty population.

    Args:
        volunteering: per citizen, this month's volunteering hours.
        caring: per citizen, caring hours.
        self_reliance: per citizen, hours spent on own needs.
        budget: per citizen, discretionary hours (the self-reliance share is 0 where none).
        motivation: per citizen.
        trust: per citizen.

    Returns:
        The means of ``CITIZEN_MEANS``, and last the total volunteering hours.

    """
    n = volunteering.shape[0]
    buf = np.empty(n)
    out = np.empty(len(CITIZEN_MEANS))
    for i in range(n):
        buf[i] = volunteering[i] + caring[i]
    out[0] = _mean(buf)
    for i in range(n):
        b = budget[i]
        buf[i] = self_reliance[i] / b if b > 0 else 0.0  # sim.metrics.self_reliance
    out[1] = _mean(buf)
    out[2] = _mean(motivation)
    out[3] = _mean(trust)
    total = 0.0 + _pairwise(volunteering, 0, n)
    out[4] = total / n
    out[5] = _mean(caring)
    out[6] = total
    return out


@numba.njit(**_JIT)
def _leaves(m: int) -> IntArray:
    """The first two halvings numpy makes of a pairwise sum of ``m`` terms, as four (start, length) leaves.

    A half of at most a block is not halved again: its leaf has the whole half and the next leaf
    is empty (length 0). Summing each leaf with :func:`_pairwise` and adding them back as the
    halvings do (:func:`_join_leaves`) gives numpy's sum to the last bit.
    """
    leaves = np.zeros((4, 2), dtype=np.int64)
    if m <= _PAIRWISE_BLOCK:
        leaves[0, 1] = m
        return leaves
    h = m // 2
    h -= h % 8
    for side in range(2):
        lo, length = (0, h) if side == 0 else (h, m - h)
        if length <= _PAIRWISE_BLOCK:
            leaves[2 * side, 0], leaves[2 * side, 1] = lo, length
        else:
            h2 = length // 2
            h2 -= h2 % 8
            leaves[2 * side, 0], leaves[2 * side, 1] = lo, h2
            leaves[2 * side + 1, 0], leaves[2 * side + 1, 1] = lo + h2, length - h2
    return leaves


@numba.njit(**_JIT)
def _join_leaves(partial: FloatArray, leaves: IntArray) -> float:
    """The sums of :func:`_leaves`' leaves added back in numpy's pairwise order."""
    left = partial[0] + partial[1] if leaves[1, 1] > 0 else partial[0]
    if leaves[2, 1] == 0:  # a single block: never halved
        return left
    right = partial[2] + partial[3] if leaves[3, 1] > 0 else partial[2]
    return left + right


@numba.njit(parallel=_PRANGE_ONLY, **_JIT)
def citizen_means_threaded(
    volunteering: FloatArray,
    caring: FloatArray,
    self_reliance: FloatArray,
    budget: FloatArray,
    motivation: FloatArray,
    trust: FloatArray,
) -> FloatArray:
    """:func:`citizen_means` on several threads, with the same bits, in one parallel region.

    Each of the six pairwise sums is cut at numpy's first two halvings into four leaves, summed
    as 24 tasks (a derived array's task fills its own leaf first) and joined in numpy's order
    (:func:`_leaves`, :func:`_join_leaves`).
    """
    n = volunteering.shape[0]
    prosocial = np.empty(n)
    share = np.empty(n)
    leaves = _leaves(n)
    partial = np.zeros((6, 4))
    for task in numba.prange(24):
        a, leaf = task // 4, task % 4
        lo, length = leaves[leaf, 0], leaves[leaf, 1]
        if length > 0:
            if a == 0:
                for i in range(lo, lo + length):
                    prosocial[i] = volunteering[i] + caring[i]
                partial[a, leaf] = _pairwise(prosocial, lo, length)
            elif a == 1:
                for i in range(lo, lo + length):
                    b = budget[i]
                    share[i] = self_reliance[i] / b if b > 0 else 0.0  # sim.metrics.self_reliance
                partial[a, leaf] = _pairwise(share, lo, length)
            elif a == 2:
                partial[a, leaf] = _pairwise(motivation, lo, length)
            elif a == 3:
                partial[a, leaf] = _pairwise(trust, lo, length)
            elif a == 4:
                partial[a, leaf] = _pairwise(volunteering, lo, length)
            else:
                partial[a, leaf] = _pairwise(caring, lo, length)
    out = np.empty(len(CITIZEN_MEANS))
    for a in range(4):
        out[a] = (0.0 + _join_leaves(partial[a], leaves)) / n
    total = 0.0 + _join_leaves(partial[4], leaves)
    out[4] = total / n
    out[5] = (0.0 + _join_leaves(partial[5], leaves)) / n
    out[6] = total
    return out


def community_bounds(community: IntArray, ranges: int) -> IntArray:
    """Cut the citizens into at most ``ranges`` ranges of about equal size, at community boundaries.

    The threaded kernels run one range per task. Cutting only where a community starts keeps each
    community's sums in one range, added in index order, so the results have the bits of the
    one-thread kernels. Citizens are grouped by community (``sim.state.init_communities`` sorts
    them); if they were not, the whole population is one range.

    Args:
        community: each citizen's community.
        ranges: the most ranges wanted (a few per thread balances the threads' loads).

    Returns:
        The ranges' starts followed by the population size, strictly increasing.
    """
    n = int(community.shape[0])
    whole = np.array([0, n], dtype=np.int64)
    if n == 0 or ranges <= 1:
        return whole
    changes = np.flatnonzero(community[1:] != community[:-1]) + 1
    if changes.shape[0] + 1 != np.unique(community).shape[0]:  # a community in two places
        return whole
    starts = np.concatenate(([0], changes, [n]))
    cuts = starts[np.searchsorted(starts, np.arange(1, ranges) * (n / ranges))]
    return np.unique(np.concatenate(([0], cuts, [n]))).astype(np.int64)


# The threaded twins that take the model's ranges of citizens as their last argument (the
# citizen means cut their sums at numpy's halvings instead).
RANGED = ("decide", "adapt")
# The fewest citizens a range of a threaded kernel gets: below it, a thread's start costs more
# than its share of the pass.
MIN_RANGE = 16_384
# Ranges per thread: a few, so that threads finishing early take another.
RANGES_PER_THREAD = 4
_THREADED_CALL = threading.Lock()


def thread_count(asked: int) -> int:
    """The threads a threaded kernel runs on: ``asked`` (0: all), at most the ones numba started."""
    available = int(numba.config.NUMBA_NUM_THREADS)
    return available if asked == 0 else min(asked, available)


def citizen_ranges(community: IntArray, threads: int) -> IntArray | None:
    """The ranges the threaded citizen kernels split the population into, or None to run on one thread.

    None with one thread, and where the population is too small for more than one range of
    ``MIN_RANGE`` citizens (or not grouped by community: :func:`community_bounds`).
    """
    if threads <= 1:
        return None
    bounds = community_bounds(community, min(RANGES_PER_THREAD * threads, community.shape[0] // MIN_RANGE))
    return bounds if bounds.shape[0] > 2 else None


def call_threaded(kernel: Callable[..., Any], threads: int, *args: Any) -> Any:
    """Call a threaded kernel on ``threads`` threads, one call at a time in the process.

    numba's thread count is set per calling thread, and its workqueue layer cannot take calls
    from two threads at once, so callers from several threads (a server's) wait their turn.
    """
    with _THREADED_CALL:
        numba.set_num_threads(threads)
        return kernel(*args)


@numba.njit(**_JIT)
def _weighted_mean(values: FloatArray, weights: FloatArray, prod: FloatArray, kept: FloatArray) -> float:
    """``sim.metrics.weighted_mean``: over values not NaN with weight > 0, ``dot(v, w) / sum(w)``, NaN if no weight."""
    m = 0
    for i in range(values.shape[0]):
        v, w = values[i], weights[i]
        if v == v and w > 0:
            prod[m] = v * w
            kept[m] = w
            m += 1
    w_sum = _sum(kept, m)
    return _sum(prod, m) / w_sum if w_sum > 0 else math.nan


@numba.njit(**_JIT)
def _weighted_share(column: FloatArray, weights: FloatArray, w_sum: float, prod: FloatArray) -> float:
    """``sim.metrics.weighted_share`` of one column (``w_sum`` is ``weights.sum()``)."""
    if w_sum <= 0:
        return math.nan
    n = column.shape[0]
    for i in range(n):
        prod[i] = column[i] * weights[i]
    return _sum(prod, n) / w_sum


@numba.njit(**_JIT)
def _dot(a: FloatArray, b: FloatArray, prod: FloatArray) -> float:
    """``sim.rules.portable.dot``: the elementwise products summed pairwise."""
    n = a.shape[0]
    for i in range(n):
        prod[i] = a[i] * b[i]
    return _sum(prod, n)


@numba.njit(**_JIT)
def _correlation(reported: FloatArray, lived: FloatArray) -> float:
    """``sim.metrics.indicator_true_corr``: Pearson's r over services with both values, without BLAS."""
    n = reported.shape[0]
    r = np.empty(n)
    t = np.empty(n)
    m = 0
    for i in range(n):
        if reported[i] == reported[i] and lived[i] == lived[i]:
            r[m], t[m] = reported[i], lived[i]
            m += 1
    if m < 3:
        return math.nan
    if r[:m].max() - r[:m].min() == 0 or t[:m].max() - t[:m].min() == 0:  # np.ptp
        return math.nan
    r_mean = _sum(r, m) / m
    t_mean = _sum(t, m) / m
    dr = np.empty(m)
    dt = np.empty(m)
    for i in range(m):
        dr[i] = r[i] - r_mean
        dt[i] = t[i] - t_mean
    prod = np.empty(m)
    scale = math.sqrt(_dot(dr, dr, prod) * _dot(dt, dt, prod))
    if scale == 0.0:
        return math.nan
    return min(1.0, max(-1.0, _dot(dr, dt, prod) / scale))


@numba.njit(**_JIT)
def _lived_by_community(service_community: IntArray, domain: IntArray, lived: FloatArray, n_c: int) -> FloatArray:
    """``sim.metrics.by_community`` of the services' lived outcome, with numpy's bits.

    Per community, numpy's mean over its three domains (over axis 1: ``((a + b) + c) / 3``), a
    domain without a service counted as 0.
    """
    by_domain = np.zeros((n_c, 3))
    for s in range(service_community.shape[0]):
        by_domain[service_community[s], domain[s]] = lived[s]
    out = np.empty(n_c)
    for c in range(n_c):
        out[c] = ((by_domain[c, 0] + by_domain[c, 1]) + by_domain[c, 2]) / 3.0
    return out


@numba.njit(**_JIT)
def _equity_gap(outcome: FloatArray, deprivation: FloatArray, size: FloatArray) -> float:
    """``sim.metrics.equity_gap``: the least deprived fifth's mean outcome minus the most deprived fifth's."""
    keep = size > 0
    out, dep, n = outcome[keep], deprivation[keep], size[keep]
    if out.shape[0] == 0:
        return math.nan
    order = np.argsort(dep, kind="mergesort")  # numpy's "stable"
    k = max(1, math.ceil(out.shape[0] / 5))
    prod = np.empty(k)
    w = np.empty(k)
    for j in range(k):
        i = order[j]
        prod[j], w[j] = out[i] * n[i], n[i]
    least = _sum(prod, k) / _sum(w, k)
    for j in range(k):
        i = order[out.shape[0] - k + j]
        prod[j], w[j] = out[i] * n[i], n[i]
    return least - _sum(prod, k) / _sum(w, k)


@numba.njit(**_JIT)
def service_metrics(
    shares: FloatArray,
    capacity: FloatArray,
    service_community: IntArray,
    domain: IntArray,
    size: FloatArray,
    deprivation: FloatArray,
    lived: FloatArray,
    reported: FloatArray,
    n_cases: FloatArray,
    true_rate: FloatArray,
    p_unmeasured: FloatArray,
    skimmed: FloatArray,
    target: FloatArray,
    audited: FloatArray,
    inspected: FloatArray,
    payment: FloatArray,
    commitment_kept: FloatArray,
    social_capital: FloatArray,
    participation: FloatArray,
    costs: FloatArray,
    forums: bool,
    targeted: bool,
) -> FloatArray:
    """The month's metrics over services and communities (``SERVICE_METRICS``), in one call.

    ``sim.metrics.collect_metrics``'s service and community figures with the same operations in
    the same order (the sums pairwise as numpy adds), so they are the same bits; one call in
    place of some hundred small numpy calls a month.

    Args:
        shares: (S, 6) allocation in force this month.
        capacity: per service, its staff capacity.
        service_community: per service, its community.
        domain: per service, its domain.
        size: per community, its citizens.
        deprivation: per community.
        lived: per service, the lived outcome.
        reported: per service, the recorded pass rate (NaN without kept cases).
        n_cases: per service, the month's cases.
        true_rate: per service, the true pass rate.
        p_unmeasured: per service, the unmeasured outcome.
        skimmed: per service, the share of cases turned away.
        target: per service, the central target.
        audited: per service, 1 if audited this month.
        inspected: per service, 1 if inspected this month.
        payment: per service, the payoff paid out.
        commitment_kept: per service, NaN where no forum commitment is in force.
        social_capital: per community.
        participation: per community.
        costs: the constants of ``SERVICE_METRIC_COSTS``.
        forums: whether forums meet (else participation is 0).
        targeted: whether any service is under a central target (else the target level is NaN).

    Returns:
        The figures of ``SERVICE_METRICS``.

    """
    n_s = capacity.shape[0]
    n_c = size.shape[0]
    audit_cost, audit_per_case, cases_per_citizen = costs[0], costs[1], costs[2]
    inspection_cost, inspection_per_citizen, reward_cost, reward_per_citizen = costs[3], costs[4], costs[5], costs[6]
    prod = np.empty(max(n_s, n_c))
    kept = np.empty(max(n_s, n_c))
    served = np.empty(n_s)
    weight = np.empty(n_s)
    other = np.empty(n_s)
    for s in range(n_s):
        served[s] = size[service_community[s]]
        weight[s] = capacity[s] * served[s]
    w_sum = _sum(weight, n_s)
    out = np.empty(len(SERVICE_METRICS))
    out[0] = w_sum
    for s in range(n_s):
        other[s] = audit_cost + audit_per_case * (cases_per_citizen * served[s])
    monitoring = _dot(audited, other, prod)
    for s in range(n_s):
        other[s] = inspection_cost + inspection_per_citizen * served[s]
    out[1] = monitoring + _dot(inspected, other, prod)
    for s in range(n_s):
        other[s] = reward_cost + reward_per_citizen * served[s]
    out[2] = _dot(payment, other, prod)
    out[3] = _weighted_mean(lived, served, prod, kept)
    out[4] = _weighted_mean(reported, n_cases, prod, kept)
    out[5] = _weighted_mean(true_rate, n_cases, prod, kept)
    out[6] = _weighted_mean(social_capital, size, prod, kept)
    out[7] = _weighted_share(shares[:, _G], weight, w_sum, prod)
    out[8] = _weighted_share(shares[:, _F], weight, w_sum, prod)
    out[9] = _weighted_share(shares[:, _P], weight, w_sum, prod)
    for s in range(n_s):
        other[s] = shares[s, _M] + shares[s, _U]
    out[10] = _weighted_share(other, weight, w_sum, prod)
    out[11] = _weighted_share(shares[:, _S], weight, w_sum, prod)
    out[12] = _weighted_share(shares[:, _M], weight, w_sum, prod)
    out[13] = _weighted_share(shares[:, _U], weight, w_sum, prod)
    out[14] = _correlation(reported, lived)
    out[15] = _equity_gap(_lived_by_community(service_community, domain, lived, n_c), deprivation, size)
    out[16] = _weighted_mean(participation, size, prod, kept) if forums else 0.0
    m = 0
    for s in range(n_s):
        if commitment_kept[s] == commitment_kept[s]:
            kept[m] = commitment_kept[s]
            m += 1
    out[17] = _sum(kept, m) / m if m > 0 else math.nan
    out[18] = _weighted_mean(p_unmeasured, served, prod, kept)
    out[19] = _weighted_mean(skimmed, n_cases, prod, kept)
    out[20] = _weighted_mean(target, weight, prod, kept) if targeted else math.nan
    out[21] = _sum_any(audited)
    out[22] = _sum_any(inspected)
    return out


@numba.njit(**_JIT)
def _sum_any(values: FloatArray) -> float:
    """Sum of 0/1 values (a count: exact in any order)."""
    total = 0.0
    for v in values:
        total += v
    return total


# ---------------------------------------------------------------------- the detail tables' month
# What detail_services and detail_communities return, in order (sim.details.DetailRecorder's keys).
DETAIL_SERVICE_SUMS = ("reported_passes", "kept", "true_passes", "cases")
DETAIL_COMMUNITY_FIGURES = (
    "lived_outcome",
    "prosocial_rate",
    "volunteering_rate",
    "caring_rate",
    "trust_mean",
    "motivation_mean",
)


@numba.njit(**_JIT)
def detail_services(
    n_cases: FloatArray, skimmed: FloatArray, reported: FloatArray, true_rate: FloatArray
) -> FloatArray:
    """(len(DETAIL_SERVICE_SUMS), S): ``DetailRecorder._service_month``'s sums, the same operations.

    A month's records kept (cases times the share not turned away), the recorded passes among them
    and the true passes, NaN rates read as 0 (``np.nan_to_num``), and the cases.
    """
    n_s = n_cases.shape[0]
    out = np.empty((len(DETAIL_SERVICE_SUMS), n_s))
    for s in range(n_s):
        cases = n_cases[s]
        kept = cases * (1.0 - _nan_to_num(skimmed[s]))
        out[0, s] = _nan_to_num(reported[s]) * kept
        out[1, s] = kept
        out[2, s] = _nan_to_num(true_rate[s]) * cases
        out[3, s] = cases
    return out


@numba.njit(**_JIT)
def detail_communities(
    service_community: IntArray,
    domain: IntArray,
    lived: FloatArray,
    community: IntArray,
    volunteering: FloatArray,
    caring: FloatArray,
    trust: FloatArray,
    motivation: FloatArray,
    size: FloatArray,
    threshold: float,
) -> FloatArray:
    """(len(DETAIL_COMMUNITY_FIGURES), C): ``DetailRecorder._community_month``'s per-community figures.

    The lived outcome over the three domains (:func:`_lived_by_community`); then one pass over
    the citizens in place of five ``np.bincount`` s: the same sums (``bincount`` adds each
    citizen's weight to its community's total in index order, from 0.0; the rates' weights are
    0.0 or 1.0, so their totals are exact), divided by the community's size (0 for an empty
    community, as ``sim.details.community_rate``).
    """
    n_c = size.shape[0]
    out = np.zeros((len(DETAIL_COMMUNITY_FIGURES), n_c))
    out[0] = _lived_by_community(service_community, domain, lived, n_c)
    # Kept in registers while the community stays the same (citizens are grouped by community):
    # the same additions in the same order.
    c_run, prosocial, volunteers, carers, trust_sum, motivation_sum = -1, 0.0, 0.0, 0.0, 0.0, 0.0
    for i in range(community.shape[0]):
        c = community[i]
        if c != c_run:
            if c_run >= 0:
                out[1, c_run], out[2, c_run], out[3, c_run] = prosocial, volunteers, carers
                out[4, c_run], out[5, c_run] = trust_sum, motivation_sum
            c_run, prosocial, volunteers, carers = c, out[1, c], out[2, c], out[3, c]
            trust_sum, motivation_sum = out[4, c], out[5, c]
        vol, care = volunteering[i], caring[i]
        prosocial += 1.0 if vol + care >= threshold else 0.0
        volunteers += 1.0 if vol >= threshold else 0.0
        carers += 1.0 if care >= threshold else 0.0
        trust_sum += trust[i]
        motivation_sum += motivation[i]
    if c_run >= 0:
        out[1, c_run], out[2, c_run], out[3, c_run] = prosocial, volunteers, carers
        out[4, c_run], out[5, c_run] = trust_sum, motivation_sum
    for c in range(n_c):
        for r in range(1, len(DETAIL_COMMUNITY_FIGURES)):
            out[r, c] = out[r, c] / size[c] if size[c] > 0 else 0.0
    return out


# ---------------------------------------------------------------------- what citizens met
# The constants adapt_context reads (sim.config's citizens section, and two more), in order.
ADAPT_CONTEXT_PARAMS = (
    "functioning_norm",
    "ask_base",
    "ask_partnership",
    "goal_support",
    "control_targets",
    "control_figures",
    "control_payment",
    "paid",
    "audit_exposure",
    "drift_sensitivity",
    "guarantee_level",
)
_FLOAT_MAX = 1.7976931348623157e308  # np.nan_to_num's value for +inf


@numba.njit(inline="always", **_JIT)
def _nan_to_num(x: float) -> float:
    """``np.nan_to_num`` of one float: NaN to 0, infinities to the largest finite floats."""
    if x != x:
        return 0.0
    if x == math.inf:
        return _FLOAT_MAX
    if x == -math.inf:
        return -_FLOAT_MAX
    return x


@numba.njit(**_JIT)
def adapt_context(
    shares: FloatArray,
    capacity: FloatArray,
    service_community: IntArray,
    domain: IntArray,
    lived: FloatArray,
    reported: FloatArray,
    p_measured: FloatArray,
    agreement: FloatArray,
    commitment_kept: FloatArray,
    found_share: FloatArray,
    audited: FloatArray,
    inspected: FloatArray,
    functioning_seen: FloatArray,
    objective_set: FloatArray,
    objective: FloatArray,
    league_table: FloatArray,
    observe_forum: FloatArray,
    forum_information: FloatArray,
    params: FloatArray,
) -> FloatArray:
    """What citizens met in their community's services this month: the adapt kernel's (10, C) context.

    ``SocialProductivityModel.citizens_adapt``'s per-community context (rows ``ADAPT_CONTEXT``),
    with the same operations in the same order, in one pass over the services: each community's
    value is the mean over its three domains, ``((a + b) + c) / 3`` as numpy's mean over them.

    Args:
        shares: (S, 6) allocation in force this month.
        capacity: per service, its staff capacity.
        service_community: per service, its community.
        domain: per service, its domain.
        lived: per service, the lived outcome.
        reported: per service, the recorded pass rate (NaN without records).
        p_measured: per service, the measured outcome.
        agreement: per service, 1 where a forum agreement is in force.
        commitment_kept: per service, the share of its commitments kept (NaN without one).
        found_share: per service, the share of records an audit found moved.
        audited: per service, 1 if audited.
        inspected: per service, 1 if inspected.
        functioning_seen: per service, the functioning share an inspection saw.
        objective_set: per service, the month's objective in force and observed (0/1).
        objective: per service, its level.
        league_table: per service, 1 under a league table.
        observe_forum: per service, 1 where a forum observes performance.
        forum_information: per community, the forum's legitimacy.
        params: the constants of ``ADAPT_CONTEXT_PARAMS``.

    Returns:
        (10, C): per community ask, partnership effect, goals, control, experience, success,
        made, kept, exposure, assurance.

    """
    n_s = capacity.shape[0]
    n_c = forum_information.shape[0]
    norm, ask_base, ask_partnership, goal_support = params[0], params[1], params[2], params[3]
    control_targets, control_figures, control_payment, paid = params[4], params[5], params[6], params[7]
    audit_exposure, drift_sensitivity, guarantee_level = params[8], params[9], params[10]
    # Per service, the ten values taken to the communities (then averaged over the domains).
    n_v = 10
    by_comm = np.zeros((n_v, n_c, 3))
    for s in range(n_s):
        c, d = service_community[s], domain[s]
        forum_made = agreement[s] * forum_information[c]
        published = objective_set[s] * league_table[s]
        standard_kept = _minimum(1.0, p_measured[s] / _maximum(objective[s], 1e-9))
        made = _minimum(1.0, forum_made + published)
        promised = forum_made + published
        kept = (
            (forum_made * _nan_to_num(commitment_kept[s]) + published * standard_kept) / promised
            if promised > 0
            else 0.0
        )
        rep = lived[s] if reported[s] != reported[s] else reported[s]
        found = _clip(audit_exposure * _nan_to_num(found_share[s]), 0.0, 1.0)
        met = 1.0 if functioning_seen[s] >= guarantee_level else 0.0
        by_comm[0, c, d] = shares[s, _P]
        by_comm[1, c, d] = _minimum(1.0, shares[s, _F] * capacity[s] / norm)
        by_comm[2, c, d] = lived[s]
        by_comm[3, c, d] = shares[s, _G] + _maximum(0.0, shares[s, _M] - shares[s, _U])
        by_comm[4, c, d] = objective_set[s] * (1.0 - observe_forum[s])
        by_comm[5, c, d] = made
        by_comm[6, c, d] = made * kept
        by_comm[7, c, d] = audited[s] * found + drift_sensitivity * published * _maximum(0.0, rep - lived[s])
        by_comm[8, c, d] = audited[s] * (1.0 - found) + inspected[s] * met
        by_comm[9, c, d] = objective_set[s]
    mean = np.empty((n_v, n_c))
    for v in range(n_v):
        for c in range(n_c):
            mean[v, c] = ((by_comm[v, c, 0] + by_comm[v, c, 1]) + by_comm[v, c, 2]) / 3.0
    out = np.empty((len(ADAPT_CONTEXT), n_c))
    for c in range(n_c):
        partnership_c, functioning_c, lived_c = mean[0, c], mean[1, c], mean[2, c]
        made_c = mean[5, c]
        out[0, c] = _clip(ask_base + ask_partnership * partnership_c, 0.0, 1.0)
        out[1, c] = partnership_c / (partnership_c + 0.1)
        out[2, c] = goal_support * mean[9, c]
        out[3, c] = control_targets * mean[3, c] + control_figures * mean[4, c] + control_payment * paid
        out[4, c] = 0.5 * functioning_c + 0.5 * lived_c
        out[5, c] = lived_c
        out[6, c] = made_c
        out[7, c] = mean[6, c] / made_c if made_c > 0 else 0.0
        out[8, c] = mean[7, c]
        out[9, c] = _clip(mean[8, c], 0.0, 1.0)
    return out


# ---------------------------------------------------------------------- the services' conditions
# The constants service_conditions reads, in order (config and instruments in force; 0/1 for flags).
CONDITION_PARAMS = (
    "citizen_input_scale",
    "social_capital_weight",
    "shock_sd",
    "large_shock_prob",
    "large_shock_size",
    "shock_persistence",
    "audited_by_indicator",
    "audit_rate",
    "guarantee_monitoring_rate",
    "guarantee_monitoring_error",
    "forums_meet",
    "noise_sd_one_squared",
    "noise_floor_squared",
    "partnership_commitment",
    "partnership_owed",
    "theatre_max",
    "deterrence",
    "verification_rate",
    "verification_miss",
    "verification_error",
    "league_table",
    "observe_forum",
    "partnership_paid",
    "partnership_required",
    "theatre_penalty",
)


@numba.njit(**_JIT)
def service_conditions(
    service_community: IntArray,
    capacity: FloatArray,
    ethos: FloatArray,
    shock: FloatArray,
    agreement: FloatArray,
    partnership_committed: FloatArray,
    prosocial_c: FloatArray,
    self_reliance_c: FloatArray,
    social_capital: FloatArray,
    deprivation: FloatArray,
    attenders: FloatArray,
    forum_information: FloatArray,
    objective_set: FloatArray,
    objective: FloatArray,
    accountability: FloatArray,
    z_shock: FloatArray,
    u_large: FloatArray,
    u_cases: tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray],
    u_audit: FloatArray,
    u_inspect: FloatArray,
    z_inspect: FloatArray,
    z_perception: FloatArray,
    u_check: FloatArray,
    u_verify: FloatArray,
    z_check: FloatArray,
    params: FloatArray,
) -> tuple[FloatArray, FloatArray, BoolArray, FloatArray, FloatArray, float]:
    """The month's conditions of every service (``SERVICE_CONDITIONS``), from the month's draws, in one call.

    ``SocialProductivityModel.services_act``'s numpy path builds them with some sixty array
    operations; here the same operations in the same order, service by service (the same bits).
    ``u_cases`` is clipped to ``[1e-12, 1 - 1e-12]`` in place, as the numpy path clips it.

    Args:
        service_community: per service, its community.
        capacity: per service.
        ethos: per service.
        shock: per service, last month's outcome shock.
        agreement: per service, 1 where a forum agreement is in force.
        partnership_committed: per service, the bargained partnership share.
        prosocial_c: per community, the mean realised pro-social share.
        self_reliance_c: per community, the mean self-reliance share.
        social_capital: per community.
        deprivation: per community.
        attenders: per community, the latest forum round's attenders.
        forum_information: per community, the forum's legitimacy.
        objective_set: per service (``SocialProductivityModel.objectives``).
        objective: per service.
        accountability: per service.
        z_shock: normal draws for the shocks (``shocks`` stream).
        u_large: uniform draws per community for large shocks (``shocks``).
        u_cases: five arrays of a uniform draw per case (``cases``): case noise, move, land, skim,
            detect. Separate arrays, not one (5, cases) block: glibc maps a block over 32 MiB (at
            about a million cases) afresh at each allocation, so its pages were faulted in again
            every month.
        u_audit: uniforms (``audits``).
        u_inspect: uniforms (``inspections``).
        z_inspect: normals (``inspections``).
        z_perception: normals (``forum_perception``).
        u_check: uniforms (``verification``): a commitment is checked.
        u_verify: uniforms (``verification``): the check misses.
        z_check: normals (``verification``): measurement error.
        params: the constants of ``CONDITION_PARAMS``.

    Returns:
        The (len(SERVICE_CONDITIONS), S) conditions, the new shocks, the large-shock flag per
        community, the functioning error, each case's logistic noise, and the commitments checked.

    """
    n_s = capacity.shape[0]
    n_c = prosocial_c.shape[0]
    scale, sc_weight, shock_sd, large_prob, large_size, persistence = (
        params[0],
        params[1],
        params[2],
        params[3],
        params[4],
        params[5],
    )
    by_indicator_flag, audit_rate, inspect_rate, inspect_error = params[6], params[7], params[8], params[9]
    forums_meet, sd_one_sq, floor_sq, commitment_level = params[10], params[11], params[12], params[13]
    owed, theatre_max, deterrence, verification_rate = params[14], params[15], params[16], params[17]
    miss, verification_error, league, observe_forum = params[18], params[19], params[20], params[21]
    paid, required, theatre_penalty = params[22], params[23], params[24]
    k_raw = np.empty(n_c)
    large_shock = np.empty(n_c, dtype=np.bool_)
    for c in range(n_c):
        k_raw[c] = (prosocial_c[c] + 0.5 * self_reliance_c[c]) / scale + sc_weight * social_capital[c]
        large_shock[c] = u_large[c] < large_prob
    cond = np.empty((len(SERVICE_CONDITIONS), n_s))
    new_shock = np.empty(n_s)
    functioning_error = np.empty(n_s)
    checked_total = 0.0
    for s in range(n_s):
        c = service_community[s]
        large = large_size * (1.0 if large_shock[c] else 0.0)
        new_shock[s] = persistence * shock[s] + shock_sd * z_shock[s] - large
        audited = (1.0 if u_audit[s] < audit_rate else 0.0) * (objective_set[s] * by_indicator_flag)
        inspected = 1.0 if u_inspect[s] < inspect_rate else 0.0
        error = (inspect_error * z_inspect[s]) * inspected
        functioning_error[s] = error
        a = attenders[c]
        sees = (1.0 if a > 0 else 0.0) * forums_meet
        sd = math.sqrt(sd_one_sq / _maximum(a, 1.0) + floor_sq)
        bargained = (agreement[s] > 0) and (partnership_committed[s] > 0)
        theatre = owed * (theatre_max * _clip((1.0 - ethos[s]) - deterrence, 0.0, 1.0))
        checked = owed * (1.0 if u_check[s] < verification_rate else 0.0)
        checked_total += checked
        cond[0, s] = capacity[s]
        cond[1, s] = k_raw[c]
        cond[2, s] = deprivation[c]
        cond[3, s] = new_shock[s]
        cond[4, s] = ethos[s]
        cond[5, s] = objective_set[s]
        cond[6, s] = objective[s]
        cond[7, s] = accountability[s]
        cond[8, s] = league
        cond[9, s] = observe_forum
        cond[10, s] = sees
        cond[11, s] = sees * sd * z_perception[s]
        cond[12, s] = inspected
        cond[13, s] = error
        cond[14, s] = paid
        cond[15, s] = required
        cond[16, s] = partnership_committed[s] if bargained else commitment_level
        cond[17, s] = theatre
        cond[18, s] = checked * (1.0 if u_verify[s] >= miss else 0.0)
        cond[19, s] = verification_error * z_check[s]
        cond[20, s] = theatre_penalty
        cond[21, s] = agreement[s] * forum_information[c]
        cond[22, s] = audited
    n_cases = u_cases[0].shape[0]
    for r in range(5):
        row = u_cases[r]
        # numpy's uniforms fall outside the clip's range about twice in 10^12 draws: look first
        # (a read-only pass), and clip only a row that needs it (the same values either way).
        outside = False
        for i in range(n_cases):
            outside |= (row[i] < 1e-12) | (row[i] > 1.0 - 1e-12)
        if outside:
            for i in range(n_cases):
                row[i] = _clip(row[i], 1e-12, 1.0 - 1e-12)
    noise = np.empty(n_cases)
    # Clipped uniforms give odds in [1e-12, 1e12], all normal floats: checked in one pass, then
    # their logarithms in a loop without branches (four times faster than one by one with _log).
    normal = True
    for i in range(n_cases):
        u = u_cases[0][i]
        odds = u / (1.0 - u)
        noise[i] = odds
        normal &= _is_normal(odds)
    if normal:
        for i in range(n_cases):
            noise[i] = _log_normal(noise[i])
    else:
        for i in range(n_cases):
            noise[i] = _log(noise[i])
    return cond, new_shock, large_shock, functioning_error, noise, checked_total


# ------------------------------------------------------------------ forums (sim.rules.forum)
# The forum phase (``SocialProductivityModel.forums_negotiate``) on the fused driver: the rules
# of ``sim/rules/forum.py`` (attendance, perception, the Nash bargain on its grid, commitments and
# hours) in two compiled calls, the same operations in the same order: ``forum_inputs`` gives the
# bits of ``personal_experience`` and ``resources_index`` (with the median budget), ``forum_round``
# those of ``forum_round``. The numpy rules stay the oracle (the other drivers call them;
# tests/unit/test_forum_kernel.py compares).

# The scalars of the forum round kernel, in the order of its ``params`` argument.
FORUM_PARAMS = (
    "attend_mode",  # 0: nobody attends, 1: everyone, 2: the logistic (attend_base in (0, 1))
    "logit_base",  # log(base / (1 - base)) + log(1 + support_lift * support), as the rule adds them
    "resources_slope",  # (1 - support_equalise * support) * attend_resources
    "attend_efficacy",
    "attend_trust",
    "noise_sd_one_squared",
    "noise_floor_squared",
    "bias_weight",
    "unbiased_weight",  # 1 - bias_weight
    "contribution_reach",
    "quorum",
    "min_attenders",  # max(1, min_attenders)
    "partnership_max",
    "outcome_gain",
    "citizen_value",
    "citizen_outside",
    "service_value",
    "ethos_weight",
    "ethos_free_weight",  # 1 - ethos_weight
    "service_cost",
    "service_outside",
    "alpha",  # clip(citizen_power, 0, 1)
    "one_minus_alpha",
    "staff_hours_meeting",
    "staff_hours_attender",
    "citizen_hours",
)
_TINY = 2.2250738585072014e-308  # np.finfo(np.float64).tiny: the bargain's floor under a surplus


@numba.njit(**_JIT)
def personal_experience_kernel(
    lived_by_community: FloatArray, need: FloatArray, community: IntArray, weight: float
) -> FloatArray:
    """``sim.rules.forum.personal_experience`` (its sums in citizen order, as ``np.bincount`` adds).

    Args:
        lived_by_community: (C, 3) lived outcome of each community's service per domain.
        need: (N, 3) need per citizen and domain.
        community: (N,) each citizen's community.
        weight: ``need_experience``.

    Returns:
        (N, 3) each resident's experience.
    """
    n, n_d = need.shape
    n_c = lived_by_community.shape[0]
    residents = np.zeros(n_c)
    need_sum = np.zeros((n_c, n_d))
    for i in range(n):
        c = community[i]
        residents[c] += 1.0
        for d in range(n_d):
            need_sum[c, d] += need[i, d]
    for c in range(n_c):
        residents[c] = _maximum(residents[c], 1.0)
        for d in range(n_d):
            need_sum[c, d] = need_sum[c, d] / residents[c]  # now the community's mean need
    out = np.empty((n, n_d))
    for i in range(n):
        c = community[i]
        for d in range(n_d):
            out[i, d] = _clip_branchless(lived_by_community[c, d] - weight * (need[i, d] - need_sum[c, d]), 0.0, 1.0)
    return out


@numba.njit(**_JIT)
def forum_inputs_kernel(
    lived_by_community: FloatArray,
    need: FloatArray,
    community: IntArray,
    weight: float,
    budget: FloatArray,
    budget_ref: float,
    deprivation: FloatArray,
    own_need: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """What the forum reads of the citizens: ``personal_experience`` and ``resources_index`` (same bits).

    Args:
        lived_by_community: (C, 3) lived outcome of each community's service per domain.
        need: (N, 3) need per citizen and domain.
        community: (N,) each citizen's community.
        weight: ``need_experience``.
        budget: (N,) discretionary hours.
        budget_ref: the reference budget (the model's median budget).
        deprivation: (C,) per community.
        own_need: (N,) mean need across domains.

    Returns:
        (N, 3) experience and (N,) resources.
    """
    experience = personal_experience_kernel(lived_by_community, need, community, weight)
    n = budget.shape[0]
    resources = np.empty(n)
    twice = 2.0 * budget_ref
    for i in range(n):
        time_ = _clip_branchless(budget[i] / twice, 0.0, 1.0) if budget_ref > 0 else 0.0
        mean_resources = (time_ + (1.0 - deprivation[community[i]]) + (1.0 - own_need[i])) / 3.0
        resources[i] = _clip_branchless(mean_resources, 0.0, 1.0)
    return experience, resources


@numba.njit(**_JIT)
def _bargain_one(
    perceived: float,
    need: float,
    reach: float,
    spare: float,
    ethos: float,
    unit: FloatArray,
    ee: FloatArray,
    cost_c: FloatArray,
    params: FloatArray,
    scratch: FloatArray,
) -> tuple[bool, float, float, float, float, float]:
    """``sim.rules.forum._bargain_block`` for one service; ``scratch`` is a (3, K * K) buffer.

    Returns:
        feasible, partnership, contribution, gain, surplus_citizens, surplus_service.
    """
    p_max_param, outcome_gain, citizen_value, citizen_outside = params[12], params[13], params[14], params[15]
    service_value, ethos_weight, ethos_free, service_cost = params[16], params[17], params[18], params[19]
    service_outside, alpha, one_minus_alpha = params[20], params[21], params[22]
    k = unit.shape[0]
    p_max = _clip(_minimum(p_max_param, spare), 0.0, 1.0)
    headroom = _clip(1.0 - perceived, 0.0, 1.0)
    v_s = service_value * (ethos_free + ethos_weight * ethos)
    c_need = citizen_value * need
    # First the surpluses of the deals both sides gain from, packed in grid order, then their
    # logarithms in a loop without branches when all are normal floats (the usual case).
    x_c, x_s, at = scratch[0], scratch[1], scratch[2]
    n_ok = 0
    normal = True
    for i in range(k):
        pp = p_max * unit[i]
        cost_s = service_cost * (pp * pp)
        for j in range(k):
            e_eff = ee[j] * reach
            total = pp + e_eff
            ces = 2.0 * pp * e_eff / (total if total > 0 else 1.0) if total > 0 else 0.0
            gain = headroom * _minimum(1.0, outcome_gain * ces)
            s_c = c_need * gain - cost_c[j] - citizen_outside
            s_s = v_s * gain - cost_s - service_outside
            if s_c > 0 and s_s > 0:
                a = _maximum(s_c, _TINY)
                b = _maximum(s_s, _TINY)
                x_c[n_ok] = a
                x_s[n_ok] = b
                at[n_ok] = i * k + j
                n_ok += 1
                normal &= _is_normal(a) & _is_normal(b)
    if n_ok == 0:  # every score is -inf: np.isfinite fails at np.argmax's first point
        return False, 0.0, 0.0, 0.0, 0.0, 0.0
    if normal:
        for m in range(n_ok):
            x_c[m] = alpha * _log_normal(x_c[m]) + one_minus_alpha * _log_normal(x_s[m])
    else:
        for m in range(n_ok):
            x_c[m] = alpha * _log(x_c[m]) + one_minus_alpha * _log(x_s[m])
    # np.argmax over the grid's scores (-inf at the deals left out, which are never the first
    # maximum while any deal is in: a score is finite, +inf or NaN): the first maximum, or the
    # first NaN.
    top = x_c[0]
    best = 0
    if top == top:
        for m in range(1, n_ok):
            x = x_c[m]
            if not x <= top:
                top = x
                best = m
                if x != x:
                    break
    best = int(at[best])
    if not (top == top and abs(top) < math.inf):  # np.isfinite: no deal has both surpluses positive
        return False, 0.0, 0.0, 0.0, 0.0, 0.0
    i, j = best // k, best % k
    # The chosen deal's values, by the same operations as in the grid.
    pp = p_max * unit[i]
    e_eff = ee[j] * reach
    total = pp + e_eff
    ces = 2.0 * pp * e_eff / total if total > 0 else 0.0
    gain = headroom * _minimum(1.0, outcome_gain * ces)
    s_c = c_need * gain - cost_c[j] - citizen_outside
    s_s = v_s * gain - service_cost * (pp * pp) - service_outside
    return True, pp, ee[j], gain, s_c, s_s


@numba.njit(**_JIT)
def forum_round_kernel(
    trust: FloatArray,
    efficacy: FloatArray,
    resources: FloatArray,
    share: FloatArray,
    need: FloatArray,
    experience: FloatArray,
    community_of_citizen: IntArray,
    service_community: IntArray,
    service_domain: IntArray,
    spare: FloatArray,
    ethos: FloatArray,
    prior: FloatArray,
    due_communities: BoolArray,
    u_attend: FloatArray,
    z_perception: FloatArray,
    unit: FloatArray,
    ee: FloatArray,
    cost_c: FloatArray,
    params: FloatArray,
) -> tuple[Any, ...]:
    """``sim.rules.forum.forum_round`` in one pass over the citizens and one over the services.

    Args:
        trust: (N,) per citizen (``ForumCitizens``).
        efficacy: (N,).
        resources: (N,).
        share: (N,).
        need: (N, 3) per citizen and domain.
        experience: (N, 3).
        community_of_citizen: (N,) each citizen's community.
        service_community: (S,) each service's community.
        service_domain: (S,) each service's domain.
        spare: (S,) per service (``ForumServices``).
        ethos: (S,).
        prior: (S,).
        due_communities: (C,) which communities meet.
        u_attend: (N,) the attendance draws.
        z_perception: (S,) the perception draws.
        unit: the grid's (K,) points in [0, 1] (``np.linspace(0, 1, K)``).
        ee: (K,) the attenders' contribution per grid point (``contribution_max * unit``).
        cost_c: (K,) their cost (``citizen_cost * ee**2``).
        params: the scalars of ``FORUM_PARAMS``.

    Returns:
        The arrays of ``sim.rules.forum.ForumRound``, in its field order.
    """
    attend_mode, logit_base, resources_slope, attend_efficacy, attend_trust = (
        params[0],
        params[1],
        params[2],
        params[3],
        params[4],
    )
    sd_one_sq, floor_sq, bias, unbiased, reach_per_turnout = params[5], params[6], params[7], params[8], params[9]
    quorum, min_attenders = params[10], params[11]
    staff_meeting, staff_attender, hours = params[23], params[24], params[25]
    n, n_d = need.shape
    n_c = due_communities.shape[0]
    n_s = service_community.shape[0]
    k = unit.shape[0]

    # Citizens: who attends, and the per-community sums (citizen order, as np.bincount adds).
    prob = np.empty(n)
    attended = np.empty(n, dtype=np.bool_)
    citizen_hours = np.empty(n)
    residents = np.zeros(n_c)
    attenders = np.zeros(n_c)
    exp_all = np.zeros((n_c, n_d))
    exp_att = np.zeros((n_c, n_d))
    need_att = np.zeros((n_c, n_d))
    for i in range(n):
        if attend_mode == 2.0:
            logit = logit_base + resources_slope * (resources[i] - 0.5)
            logit += attend_efficacy * (efficacy[i] - 0.5)
            logit += attend_trust * (trust[i] - 0.5)
            prob[i] = 1.0 / (1.0 + _exp(-logit))
        else:
            prob[i] = attend_mode
        c = community_of_citizen[i]
        went = (u_attend[i] < prob[i]) and due_communities[c]
        attended[i] = went
        w = 1.0 if went else 0.0
        citizen_hours[i] = w * hours
        residents[c] += 1.0
        attenders[c] += w
        for d in range(n_d):
            exp_all[c, d] += experience[i, d]
            exp_att[c, d] += experience[i, d] * w
            need_att[c, d] += need[i, d] * w
    turnout = np.zeros(n_c)
    for c in range(n_c):
        if residents[c] > 0:
            turnout[c] = attenders[c] / residents[c]

    # Services: the forum's reading, the quorum, and the bargain where a quorate forum met.
    due_s = np.empty(n_s, dtype=np.bool_)
    perceived = np.empty(n_s)
    in_force = np.zeros(n_s, dtype=np.bool_)
    objective = np.empty(n_s)
    ambition = np.zeros(n_s)
    partnership = np.zeros(n_s)
    contribution = np.zeros(n_s)
    surplus_c = np.zeros(n_s)
    surplus_s = np.zeros(n_s)
    staff = np.empty(n_s)
    extra_c = np.zeros(n_c)
    deals_c = np.zeros(n_c)
    scratch = np.empty((3, k * k))
    for s in range(n_s):
        c = service_community[s]
        d = service_domain[s]
        n_att = attenders[c]
        n_res = residents[c]
        due = due_communities[c]
        due_s[s] = due
        reading = prior[s]
        if due and n_att > 0:
            comm_mean = exp_all[c, d] / n_res if n_res > 0 else prior[s]
            att_mean = exp_att[c, d] / n_att
            sd = math.sqrt(sd_one_sq / _maximum(n_att, 1.0) + floor_sq)
            reading = _clip(bias * _nan_to_num(att_mean) + unbiased * comm_mean + sd * z_perception[s], 0.0, 1.0)
        perceived[s] = reading
        reach = _minimum(1.0, turnout[c] * reach_per_turnout)
        if (turnout[c] >= quorum) and (n_att >= min_attenders) and due:
            att_need = need_att[c, d] / n_att if n_att > 0 else 0.0
            ok, p_deal, e_deal, gain, sur_c, sur_s = _bargain_one(
                reading, att_need, reach, spare[s], ethos[s], unit, ee, cost_c, params, scratch
            )
            in_force[s] = ok
            partnership[s] = p_deal
            contribution[s] = e_deal
            ambition[s] = gain
            surplus_c[s] = sur_c
            surplus_s[s] = sur_s
        objective[s] = _clip(reading + ambition[s], 0.0, 1.0)
        staff[s] = staff_meeting + staff_attender * n_att if due else 0.0
        extra_c[c] += contribution[s]
        deals_c[c] += 1.0 if in_force[s] else 0.0

    # Citizens again: each attender commits to the extras agreed in their community.
    committed = np.empty(n, dtype=np.bool_)
    commitment = np.empty(n)
    for i in range(n):
        c = community_of_citizen[i]
        made = attended[i] and deals_c[c] > 0
        committed[i] = made
        commitment[i] = _minimum(1.0, share[i] + extra_c[c]) if made else share[i]
    return (
        attended,
        prob,
        attenders,
        turnout,
        due_s,
        perceived,
        in_force,
        objective,
        ambition,
        partnership,
        contribution,
        commitment,
        committed,
        surplus_c,
        surplus_s,
        citizen_hours,
        staff,
    )


def median(values: FloatArray) -> float:
    """``float(np.median(values))`` of a 1-d float array, by numpy's own steps without its overhead.

    ``np.median`` partitions (the middle one or two and the last, where a NaN would sort), takes
    the mean of the middle one or two, and gives NaN if the last is NaN; the same here, in a
    third of the time (its Python layers cost more than the partition at 2,000 citizens).
    """
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[0]
    if n == 0:
        return float(np.median(values))  # NaN, with numpy's warning
    h = n // 2
    middle = slice(h - 1, h + 1) if n % 2 == 0 else slice(h, h + 1)
    part = np.partition(values, [*range(middle.start, middle.stop), -1])
    if np.isnan(part[-1]):
        return math.nan
    return float(part[middle].mean())


def _floats(a: FloatArray) -> FloatArray:
    """``a`` as the kernels take it: C-contiguous float64 (no copy when it is already)."""
    return np.ascontiguousarray(a, dtype=np.float64)


def _ints(a: IntArray) -> IntArray:
    """``a`` as C-contiguous int64 (no copy when it is already)."""
    return np.ascontiguousarray(a, dtype=np.int64)


def forum_inputs(
    lived_by_community: FloatArray,
    need: FloatArray,
    community: IntArray,
    budget: FloatArray,
    deprivation: FloatArray,
    own_need: FloatArray,
    p: forum_rules.ForumParams,
) -> tuple[FloatArray, FloatArray]:
    """``forum.personal_experience`` and ``forum.resources_index`` (median budget as reference) in one call.

    The median is numpy's (:func:`median`); the rest is ``forum_inputs_kernel``.

    Args:
        lived_by_community: (C, 3) lived outcome of each community's service per domain.
        need: (N, 3) need per citizen and domain.
        community: (N,) each citizen's community.
        budget: (N,) discretionary hours.
        deprivation: (C,) per community.
        own_need: (N,) mean need across domains.
        p: the forum constants (``need_experience`` is read).

    Returns:
        (N, 3) each resident's experience and (N,) each citizen's resources index.
    """
    experience, resources = forum_inputs_kernel(
        _floats(lived_by_community),
        _floats(need),
        _ints(community),
        float(p.need_experience),
        _floats(budget),
        median(budget),
        _floats(deprivation),
        _floats(own_need),
    )
    return experience, resources


def forum_params(p: forum_rules.ForumParams, support: float) -> FloatArray:
    """The scalars of ``FORUM_PARAMS`` for one round, each computed as the numpy rules compute it.

    Args:
        p: the forum constants.
        support: participation support this round.
    """
    base = float(np.clip(p.attend_base, 0.0, 1.0))
    logistic = not (base <= 0.0 or base >= 1.0)  # as the rule tests it (NaN goes to the logistic)
    alpha = float(np.clip(p.citizen_power, 0.0, 1.0))
    values = {
        "attend_mode": 2.0 if logistic else float(base >= 1.0),
        "logit_base": (
            float(portable.log(base / (1.0 - base)) + portable.log(1.0 + p.support_lift * support)) if logistic else 0.0
        ),
        "resources_slope": (1.0 - p.support_equalise * support) * p.attend_resources,
        "attend_efficacy": p.attend_efficacy,
        "attend_trust": p.attend_trust,
        "noise_sd_one_squared": p.noise_sd_one**2,
        "noise_floor_squared": p.noise_floor**2,
        "bias_weight": p.bias_weight,
        "unbiased_weight": 1.0 - p.bias_weight,
        "contribution_reach": p.contribution_reach,
        "quorum": p.quorum,
        "min_attenders": max(1, p.min_attenders),
        "partnership_max": p.partnership_max,
        "outcome_gain": p.outcome_gain,
        "citizen_value": p.citizen_value,
        "citizen_outside": p.citizen_outside,
        "service_value": p.service_value,
        "ethos_weight": p.ethos_weight,
        "ethos_free_weight": 1.0 - p.ethos_weight,
        "service_cost": p.service_cost,
        "service_outside": p.service_outside,
        "alpha": alpha,
        "one_minus_alpha": 1.0 - alpha,
        "staff_hours_meeting": p.staff_hours_meeting,
        "staff_hours_attender": p.staff_hours_attender,
        "citizen_hours": p.citizen_hours,
    }
    return np.array([float(values[name]) for name in FORUM_PARAMS])


def _forum_grid(p: forum_rules.ForumParams) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The bargaining grid's points in [0, 1], the attenders' contribution and its cost at each (as the rule)."""
    k = max(2, int(p.grid_points))
    unit = np.linspace(0.0, 1.0, k)
    ee = p.contribution_max * unit
    return unit, ee, p.citizen_cost * ee**2


# The last round's constants and what was made of them (forum_params, _forum_grid): a run keeps
# one ForumParams and one support level for long stretches, and the scalar logarithms and the
# grid cost more than a whole round's kernel. Compared by identity, which costs nothing; one
# tuple, replaced whole, so that concurrent callers never mix two rounds' entries.
_forum_memo: tuple[Any, Any, tuple[FloatArray, ...]] = (None, None, ())


def _forum_constants(p: forum_rules.ForumParams, support: float) -> tuple[FloatArray, ...]:
    """``(params, unit, ee, cost_c)`` for a round, from the memo when the constants are the last round's."""
    global _forum_memo
    memo_p, memo_support, constants = _forum_memo
    if memo_p is not p or memo_support != support:
        constants = (forum_params(p, support), *_forum_grid(p))
        _forum_memo = (p, support, constants)
    return constants


def forum_round(
    p: forum_rules.ForumParams,
    citizens: forum_rules.ForumCitizens,
    services: forum_rules.ForumServices,
    community_of_citizen: IntArray,
    due_communities: BoolArray,
    draws: forum_rules.ForumDraws,
    support: float = 0.0,
) -> forum_rules.ForumRound:
    """``sim.rules.forum.forum_round`` (same arguments, same bits) in one compiled call (``forum_round_kernel``).

    The bargaining grid's per-point constants (``unit``, the attenders' contribution and its cost)
    are made here by the rule's own numpy operations and passed in.
    """
    params, unit, ee, cost_c = _forum_constants(p, support)
    out = forum_round_kernel(
        _floats(citizens.trust),
        _floats(citizens.efficacy),
        _floats(citizens.resources),
        _floats(citizens.share),
        _floats(citizens.need),
        _floats(citizens.experience),
        _ints(community_of_citizen),
        _ints(services.community),
        _ints(services.domain),
        _floats(services.spare),
        _floats(services.ethos),
        _floats(services.prior),
        np.ascontiguousarray(due_communities, dtype=np.bool_),
        _floats(draws.attend),
        _floats(draws.perception),
        unit,
        ee,
        cost_c,
        params,
    )
    return forum_rules.ForumRound(*out)


# ---------------------------------------------------------------- numpy's PCG64 numbers, four at a time
# PCG64 (numpy/random/src/pcg64/pcg64.h): a 128-bit linear congruential state, new = state * M + inc
# modulo 2^128, and each word is the XSL-RR output of the new state. numpy makes one word at a time,
# and each step waits for the previous one (about 1.5 ns a word here). Four steps of the recurrence
# are again one affine step, state * M^4 + inc * (M^3 + M^2 + M + 1), so four lanes started at four
# consecutive states make the same words, in the same order, as four chains that do not wait for
# each other (about 0.85 ns a word). Integer arithmetic modulo 2^128 is exact: numpy's words on any CPU.
_TO_DOUBLE = 1.0 / 9007199254740992.0  # PCG64's next_double: the top 53 bits times 2^-53
_PCG64_MULTIPLIER_HIGH = np.uint64(0x2360ED051FC65DA4)  # PCG_DEFAULT_MULTIPLIER_128
_PCG64_MULTIPLIER_LOW = np.uint64(0x4385DF649FCCF645)


@intrinsic
def _affine128(typingctx: Any, x_high: Any, x_low: Any, a_high: Any, a_low: Any, c_high: Any, c_low: Any) -> Any:
    """``x * a + c`` modulo 2^128, each number as its (high, low) uint64 halves (LLVM's i128 arithmetic)."""
    u64 = types.uint64
    if any(t != u64 for t in (x_high, x_low, a_high, a_low, c_high, c_low)):
        return None
    result = types.UniTuple(u64, 2)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        i128, i64 = ir.IntType(128), ir.IntType(64)
        half = ir.Constant(i128, 64)

        def joined(high: Any, low: Any) -> Any:
            return builder.or_(builder.shl(builder.zext(high, i128), half), builder.zext(low, i128))

        value = builder.add(builder.mul(joined(args[0], args[1]), joined(args[2], args[3])), joined(args[4], args[5]))
        high = builder.trunc(builder.lshr(value, half), i64)
        return context.make_tuple(builder, result, [high, builder.trunc(value, i64)])

    return result(u64, u64, u64, u64, u64, u64), codegen


@numba.njit(inline="always", **_JIT)
def _xsl_rr(high: np.uint64, low: np.uint64) -> np.uint64:
    """PCG64's output of a state: its halves' xor, rotated right by the state's top six bits."""
    x = high ^ low
    r = high >> np.uint64(58)
    return (x >> r) | (x << ((np.uint64(64) - r) & np.uint64(63)))


@numba.njit(inline="always", **_JIT)
def _double(word: np.uint64) -> float:
    """PCG64's next_double of a word: its top 53 bits times 2^-53 (exact: below 2^53)."""
    return float(np.int64(word >> np.uint64(11))) * _TO_DOUBLE


@numba.njit(inline="always", **_JIT)
def _pcg64_store(out: FloatArray, k: int, high: np.uint64, low: np.uint64, raw: bool) -> None:
    word = _xsl_rr(high, low)
    if raw:  # the word's bits in a float64 slot (a bit cast): the caller reads the array as uint64
        out[k] = _bits_float(np.int64(word))
    else:
        out[k] = _double(word)


@numba.njit(**_JIT)
def pcg64_fill(
    out: FloatArray, state_high: np.uint64, state_low: np.uint64, inc_high: np.uint64, inc_low: np.uint64, raw: bool
) -> tuple[np.uint64, np.uint64]:
    """Fill ``out`` with a PCG64 stream's next numbers, as numpy makes them, and return its new state.

    Args:
        out: the numbers, in order: ``Generator.random``'s doubles, or (``raw``) the bits of
            ``BitGenerator.random_raw``'s words, for the caller to read as uint64.
        state_high: the stream's state, high half (``bit_generator.state["state"]["state"] >> 64``).
        state_low: its low half.
        inc_high: the stream's increment, high half.
        inc_low: its low half.
        raw: raw words instead of doubles.

    Returns:
        The state after the last number, as (high, low) halves: where numpy would leave the stream.
    """
    n = out.shape[0]
    if n == 0:
        return state_high, state_low
    m_high, m_low = _PCG64_MULTIPLIER_HIGH, _PCG64_MULTIPLIER_LOW
    zero = np.uint64(0)
    # The four-step map: M^2 and inc * (M + 1), then M^4 and inc * (M + 1) * (M^2 + 1).
    m2_high, m2_low = _affine128(m_high, m_low, m_high, m_low, zero, zero)
    c2_high, c2_low = _affine128(inc_high, inc_low, m_high, m_low, inc_high, inc_low)
    m4_high, m4_low = _affine128(m2_high, m2_low, m2_high, m2_low, zero, zero)
    c4_high, c4_low = _affine128(c2_high, c2_low, m2_high, m2_low, c2_high, c2_low)
    # The lanes start at the states of numbers 0 to 3.
    h0, l0 = _affine128(state_high, state_low, m_high, m_low, inc_high, inc_low)
    h1, l1 = _affine128(h0, l0, m_high, m_low, inc_high, inc_low)
    h2, l2 = _affine128(h1, l1, m_high, m_low, inc_high, inc_low)
    h3, l3 = _affine128(h2, l2, m_high, m_low, inc_high, inc_low)
    k = 0
    while k + 4 < n:  # strictly: one to four numbers are left for the end, the last one's state with them
        _pcg64_store(out, k, h0, l0, raw)
        _pcg64_store(out, k + 1, h1, l1, raw)
        _pcg64_store(out, k + 2, h2, l2, raw)
        _pcg64_store(out, k + 3, h3, l3, raw)
        h0, l0 = _affine128(h0, l0, m4_high, m4_low, c4_high, c4_low)
        h1, l1 = _affine128(h1, l1, m4_high, m4_low, c4_high, c4_low)
        h2, l2 = _affine128(h2, l2, m4_high, m4_low, c4_high, c4_low)
        h3, l3 = _affine128(h3, l3, m4_high, m4_low, c4_high, c4_low)
        k += 4
    _pcg64_store(out, k, h0, l0, raw)
    if k + 1 == n:
        return h0, l0
    _pcg64_store(out, k + 1, h1, l1, raw)
    if k + 2 == n:
        return h1, l1
    _pcg64_store(out, k + 2, h2, l2, raw)
    if k + 3 == n:
        return h2, l2
    _pcg64_store(out, k + 3, h3, l3, raw)
    return h3, l3


# ---------------------------------------------------------------- numpy's standard normals, from raw words
# numpy's ziggurat tables (numpy/random/src/distributions/ziggurat_constants.h: ki_double, wi_double,
# fi_double), kept with the package (sim/ziggurat_tables.npz, copied from numba's numpy-compatible
# Generator, whose module is private); tests/unit/test_normals.py checks the numbers they give.
with np.load(Path(__file__).with_name("ziggurat_tables.npz")) as _tables:
    _KI = np.ascontiguousarray(_tables["ki"], dtype=np.uint64)
    _WI = np.ascontiguousarray(_tables["wi"], dtype=np.float64)
    _FI = np.ascontiguousarray(_tables["fi"], dtype=np.float64)
ziggurat_nor_r = 3.6541528853610087963519472518  # ZIGGURAT_NOR_R
ziggurat_nor_inv_r = 0.27366123732975827203338247596  # ZIGGURAT_NOR_INV_R


@numba.njit(inline="always", **_JIT)
def _ziggurat_try(r: np.uint64) -> tuple[int, np.uint64, float]:
    """One word's try of numpy's ziggurat: its layer, the 52 bits compared with ``ki``, and the signed candidate."""
    idx = np.intp(r & np.uint64(0xFF))
    r >>= np.uint64(8)
    rabs = (r >> np.uint64(1)) & np.uint64(0x000FFFFFFFFFFFFF)
    x = float(np.int64(rabs)) * _WI[idx]  # rabs < 2^52: exact, by the signed conversion (_double)
    # numpy negates x on a set sign bit; times -1.0 is the same float, without a branch that the
    # generic target mispredicted half the time (three times slower).
    x *= 1.0 - 2.0 * float(np.int64(r & np.uint64(1)))
    return idx, rabs, x


@numba.njit(**_JIT)
def _ziggurat_number(words: np.ndarray, p: int) -> tuple[float, int, bool]:
    """The ziggurat of numpy's ``random_standard_normal`` on ``words`` from position ``p``, word by word.

    The whole algorithm, for the about 1 % of numbers whose first word is not accepted at once
    (:func:`_ziggurat` takes the rest in its own loop). A rejected try in a wedge or the tail
    starts again with the next word, as numpy does.

    Returns:
        ``(number, next, ok)``: the normal, the position after its last word, and whether the
        words sufficed (if not, the number is 0.0 and the caller draws more words).
    """
    ki, fi = _KI, _FI  # frozen into the compiled code
    m = words.shape[0]
    one, eight = np.uint64(1), np.uint64(8)
    while True:
        if p >= m:
            return 0.0, p, False
        idx, rabs, x = _ziggurat_try(words[p])
        p += 1
        if rabs < ki[idx]:
            return x, p, True
        if idx == 0:  # the tail, by Marsaglia's method on two more words at a time
            while True:
                if p + 2 > m:
                    return 0.0, p, False
                xx = -ziggurat_nor_inv_r * np.log1p(-_double(words[p]))
                yy = -np.log1p(-_double(words[p + 1]))
                p += 2
                if yy + yy > xx * xx:
                    tail = ziggurat_nor_r + xx
                    return (-tail if ((rabs >> eight) & one) == one else tail), p, True
        else:  # a wedge: one more word decides
            if p >= m:
                return 0.0, p, False
            u = _double(words[p])
            p += 1
            if (fi[idx - 1] - fi[idx]) * u + fi[idx] < np.exp(-0.5 * x * x):
                return x, p, True


@numba.njit(inline="always", **_JIT)
def _ziggurat(words: np.ndarray, out: FloatArray, start: int) -> tuple[int, int]:
    """Fill ``out[start:]`` with numpy's ziggurat normals made from ``words``, in order.

    A number whose first word is accepted (about 99 %) is made in this loop; any other is made by
    :func:`_ziggurat_number` from the same word on. The rare paths (``exp``, ``log1p``, retries)
    kept in this loop made it keep its counters on the stack: 28-30 % slower.

    Args:
        words: the stream's next raw 64-bit words (uint64), as ``random_raw`` gives them.
        out: the numbers; those before ``start`` are already made.
        start: the first number to make.

    Returns:
        ``(made, used)``: the numbers now made (``out[:made]``) and the words they used. If the
        words ran out in the middle of a number, ``made`` is that number's index and ``used`` the
        position of its first word: the caller passes the words from ``used`` on again, followed
        by newly drawn ones.
    """
    ki = _KI  # frozen into the compiled code
    n, m = out.shape[0], words.shape[0]
    p = 0
    i = start
    while i < n:
        if p >= m:
            return i, p
        idx, rabs, x = _ziggurat_try(words[np.uintp(p)])  # unsigned indices: no code for negative ones
        if rabs < ki[idx]:
            out[np.uintp(i)] = x
            p += 1
        else:
            x, p_next, ok = _ziggurat_number(words, p)
            if not ok:
                return i, p
            out[np.uintp(i)] = x
            p = p_next
        i += 1
    return n, p


@numba.njit(**_JIT)
def normals_in_place(words: np.ndarray) -> tuple[int, int]:
    """:func:`_ziggurat` from ``words`` into the same memory, read as float64 (numbers start at 0).

    Number ``i`` reads words from position ``i`` on before it is written at ``i``, so no word is
    overwritten before it is read; the caller copies the words from ``used`` on before writing
    more. One array instead of two: a second array of a million numbers, made and freed each
    month, was given back to the system and faulted in again every time. The float view is made
    here rather than passed in, so that the compiler sees both as the same memory.
    """
    return _ziggurat(words, words.view(np.float64), 0)


@numba.njit(**_JIT)
def normals_from_words(words: np.ndarray, out: FloatArray, start: int) -> tuple[int, int]:
    """:func:`_ziggurat` from ``words`` into ``out[start:]`` (separate memory)."""
    return _ziggurat(words, out, start)


# The kernels the fused driver calls (each compiled, or loaded from the cache, on first use).
ENTRY_POINTS = (
    decide,
    adapt,
    social_capital,
    adapt_context,
    service_conditions,
    services,
    service_metrics,
    citizen_means,
    detail_services,
    detail_communities,
    forum_inputs_kernel,
    forum_round_kernel,
    normals_in_place,
    normals_from_words,
    pcg64_fill,
)
