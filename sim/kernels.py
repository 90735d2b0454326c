"""Compiled kernels of the fused driver (``driver=fused``): one pass over the citizens per phase.

The numpy path (``driver=vectorised``) calls each citizen rule of ``sim/rules`` as a chain of
array operations, some 60 passes over the citizen arrays a month. Here the same rules run as
one loop over the citizens per phase, compiled by numba, each citizen's arithmetic written out
as the rules do it: the same IEEE-754 operations (``+ - * /``, comparisons, min/max as numpy's
``maximum``/``minimum``/``clip``/``fmax`` define them) in the same order, so every citizen's new
state has the same bits as on the numpy path. The neighbourhood mean adds the contacts in
numpy's pairwise order (``sim.rules.network.neighbour_mean``) for the same reason.

While they pass over the citizens the kernels also add up what the month's metrics and the
services need (per-community sums in index order, which is ``np.bincount``'s order, and
population totals), so no further pass is made for them.

Random numbers: none are drawn here. The model draws them from its named streams as arrays,
exactly as the numpy path does (same streams, same calls, same order), and passes them in: the
two drivers consume the same random numbers, which makes step-by-step comparison possible.

Compile settings, for results that do not depend on the CPU: no ``fastmath`` (so no
reassociation and no fused multiply-add contraction), no SVML (``NUMBA_DISABLE_INTEL_SVML``),
no ``parallel``; the target is numba's generic x86-64 CPU (``NUMBA_CPU_NAME=generic``) so that
the on-disk cache made on one machine is valid on any other. Both are set here unless the user
set them first (they must be set before numba is imported). Compiled code is cached on disk
(``cache=True``) next to this module in ``__pycache__``, or under ``NUMBA_CACHE_DIR`` when set:
the first process compiles (a few seconds), every later one loads it (``docs/performance.md``).
This module imports no Mesa.
"""

from __future__ import annotations

import os

# Before numba is imported: a portable compile target and no Intel SVML (see the docstring).
os.environ.setdefault("NUMBA_CPU_NAME", "generic")
os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")

import numba
import numpy as np

from sim.rules._types import BoolArray, FloatArray, IntArray

# The totals the decide kernel adds up, in the order of its ``totals`` output.
DECIDE_TOTALS = (
    "prosocial_active",
    "volunteering_active",
    "caring_active",
    "prosocial_hours",
    "volunteering_hours",
    "caring_hours",
    "self_reliance_share",
)
# The totals the adapt kernel adds up, in order.
ADAPT_TOTALS = ("motivation", "trust", "motivated", "motivated_volunteering_active")
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
# and a month's decisions ran several times slower.
_JIT = {"cache": True, "fastmath": False, "error_model": "numpy", "boundscheck": False}


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
    running partial sums, which are written out here so that they stay in registers.
    """
    if k < 8:
        acc = values[contacts[i, 0]] + 0.0
        for j in range(1, k):
            acc += values[contacts[i, j]]
        return acc / k
    if k <= _PAIRWISE_BLOCK:
        r0 = values[contacts[i, 0]] + 0.0
        r1, r2, r3 = values[contacts[i, 1]], values[contacts[i, 2]], values[contacts[i, 3]]
        r4, r5 = values[contacts[i, 4]], values[contacts[i, 5]]
        r6, r7 = values[contacts[i, 6]], values[contacts[i, 7]]
        whole = k - k % 8
        for j in range(8, whole, 8):
            r0 += values[contacts[i, j]]
            r1 += values[contacts[i, j + 1]]
            r2 += values[contacts[i, j + 2]]
            r3 += values[contacts[i, j + 3]]
            r4 += values[contacts[i, j + 4]]
            r5 += values[contacts[i, j + 5]]
            r6 += values[contacts[i, j + 6]]
            r7 += values[contacts[i, j + 7]]
        acc = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        for j in range(whole, k):
            acc += values[contacts[i, j]]
        return acc / k
    for j in range(k):
        buf[j] = values[contacts[i, j]]
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
    pressure_by_community: FloatArray,
    noise: FloatArray,
    type_base: FloatArray,
    type_slope: FloatArray,
    consts: FloatArray,
    threshold: float,
    n_communities: int,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
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
        pressure_by_community: peer pressure per community (clipped, as the model computes it).
        noise: the month's standard normal draws from the ``citizens`` stream.
        type_base: per type, the contribution intercept.
        type_slope: per type, the slope on the belief.
        consts: belief_persistence, commitment_pressure, motivation_weight, antisocial_pressure,
            norm_premium, contribution_noise, willingness (the payment multiplier's constant part
            ``crowd_out * paid``), price term (``price_effect * payment``), self_reliance_share,
            volunteer_share.
        threshold: hours at or above which a citizen counts as active (the metrics').
        n_communities: number of communities.

    Returns:
        belief, share, volunteering, caring, self_reliance, realised (per citizen); per community
        the sums of realised and of self-reliance hours over the (undiminished) budget; and the
        month's totals (in the order of ``DECIDE_TOTALS``).

    """
    n = community.shape[0]
    k = contacts.shape[1]
    persistence, commitment_pressure, motivation_weight, antisocial = consts[0], consts[1], consts[2], consts[3]
    norm_premium, contribution_noise, crowd_paid, price_term = consts[4], consts[5], consts[6], consts[7]
    self_reliance_share, volunteer_share = consts[8], consts[9]
    new_belief = np.empty(n)
    share = np.empty(n)
    volunteering = np.empty(n)
    caring = np.empty(n)
    self_reliance = np.empty(n)
    realised = np.empty(n)
    realised_c = np.zeros(n_communities)
    self_reliance_c = np.zeros(n_communities)
    n_prosocial = n_volunteering = n_caring = 0.0
    prosocial_hours = volunteering_hours = caring_hours = self_reliance_total = 0.0
    buf = np.empty(max(k, 1))
    n_types = type_base.shape[0]
    effective_scale = 1.0 - antisocial
    observed_chunk = np.empty(_CHUNK)
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
        pressure = _clip(pressure_by_community[community[i]] + committed * commitment_pressure, 0.0, 1.0)
        t = min(max(coop_type[i], 0), n_types - 1)
        own = type_base[t] + type_slope[t] * b + motivation_weight * (motivation[i] - 0.5)
        effective = pressure * effective_scale
        aim = _fmax(b + norm_premium, pledge)
        pulled = own + effective * _maximum(0.0, aim - own)
        pushed = pulled - antisocial * _maximum(0.0, pulled - _fmax(b, pledge))
        s = _clip(pushed + contribution_noise * noise[i], 0.0, 1.0)
        willingness = _maximum(0.0, 1.0 - crowd_paid * motivation[i] + price_term)
        hours = _maximum(0.0, budget[i] - forum_hours[i])
        sr = hours * self_reliance_share * own_need[i] * efficacy[i]
        free = hours - sr
        prosocial = s * free
        vol_fraction = _clip(volunteer_share * willingness, 0.0, 1.0) * (1.0 if engaged[i] else 0.0)
        vol = prosocial * vol_fraction
        care = prosocial * (1.0 - vol_fraction) * care_opportunity[i]
        r = _clip((vol + care) / free, 0.0, 1.0) if free > 0 else 0.0
        new_belief[i] = b
        share[i] = s
        volunteering[i] = vol
        caring[i] = care
        self_reliance[i] = sr
        realised[i] = r
        c = community[i]
        realised_c[c] += r
        sr_share = sr / budget[i] if budget[i] > 0 else 0.0
        self_reliance_c[c] += sr_share
        given = vol + care
        if given >= threshold:
            n_prosocial += 1.0
        if vol >= threshold:
            n_volunteering += 1.0
        if care >= threshold:
            n_caring += 1.0
        prosocial_hours += given
        volunteering_hours += vol
        caring_hours += care
        self_reliance_total += sr_share
    # Sums kept in locals (registers) during the loop, in the order of DECIDE_TOTALS.
    totals = np.array(
        [
            n_prosocial,
            n_volunteering,
            n_caring,
            prosocial_hours,
            volunteering_hours,
            caring_hours,
            self_reliance_total,
        ]
    )
    return new_belief, share, volunteering, caring, self_reliance, realised, realised_c, self_reliance_c, totals


@numba.njit(**_JIT)
def adapt(
    community: IntArray,
    engaged: BoolArray,
    participated: BoolArray,
    motivation: FloatArray,
    motivation_trait: FloatArray,
    trust: FloatArray,
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
        efficacy: self-efficacy.
        volunteering: this month's volunteering hours (for the motivated volunteers' total).
        by_community: (10, C) rows ask, partnership_effect, goals, control, experience, success,
            made, kept, exposure, assurance (the model's per-community context).
        u_engage: the month's uniforms from the ``engagement`` stream.
        experience_noise: the month's standard normals from the ``experience`` stream.
        consts: recognition, voice_weight, engagement_exit, motivation_gain, motivation_loss,
            motivation_reversion, trust_gain, trust_loss, assurance_gain, trust_experience_noise,
            efficacy_rate, partnership_support.
        threshold: hours at or above which a citizen counts as active.
        motivated_level: motivation at or above which a citizen counts as motivated.

    Returns:
        engaged, motivation, trust, efficacy (per citizen) and the totals (in the order of ``ADAPT_TOTALS``).

    """
    n = community.shape[0]
    recognition, voice_weight, exit_p, m_gain, m_loss = consts[0], consts[1], consts[2], consts[3], consts[4]
    reversion, t_gain, t_loss, a_gain = consts[5], consts[6], consts[7], consts[8]
    noise_sd, eff_rate, partnership_support = consts[9], consts[10], consts[11]
    new_engaged = np.empty(n, dtype=np.bool_)
    new_motivation = np.empty(n)
    new_trust = np.empty(n)
    new_efficacy = np.empty(n)
    motivation_total = trust_total = n_motivated = n_motivated_volunteering = 0.0
    for i in range(n):
        c = community[i]
        ask, p_effect, goals, control_c = by_community[0, c], by_community[1, c], by_community[2, c], by_community[3, c]
        experience, success, made = by_community[4, c], by_community[5, c], by_community[6, c]
        kept, exposure, assurance = by_community[7, c], by_community[8, c], by_community[9, c]
        eng = engaged[i]
        e = 1.0 if eng else 0.0
        voice = (1.0 if participated[i] else 0.0) * voice_weight
        support = _clip(recognition + voice + e * (partnership_support * p_effect + goals), 0.0, 1.0)
        control = _clip(e * control_c, 0.0, 1.0)
        z = noise_sd * experience_noise[i]
        felt = _clip(experience + z, 0.0, 1.0)
        u = u_engage[i]
        t0 = trust[i]
        new_engaged[i] = ((not eng) and (u < ask * t0)) or (eng and (u >= exit_p))
        m0 = motivation[i]
        m = m0 + m_gain * support * (1.0 - m0) - m_loss * control * m0
        m = m + reversion * (motivation_trait[i] - m0)
        m = _clip(m, 0.0, 1.0)
        new_motivation[i] = m
        gap = felt - t0
        rate = t_gain if gap > 0 else t_loss
        t = t0 + rate * gap
        t = t + t_gain * made * kept * (1.0 - t)
        t = t - t_loss * made * (1.0 - kept) * t
        t = t - t_loss * _clip(exposure, 0.0, 1.0) * t
        t = t + a_gain * assurance * (1.0 - t)
        t = _clip(t, 0.0, 1.0)
        new_trust[i] = t
        f0 = efficacy[i]
        new_efficacy[i] = _clip(f0 + eff_rate * (_clip(success + z, 0.0, 1.0) - f0), 0.0, 1.0)
        motivation_total += m
        trust_total += t
        if m >= motivated_level:
            n_motivated += 1.0
            if volunteering[i] >= threshold:
                n_motivated_volunteering += 1.0
    totals = np.array([motivation_total, trust_total, n_motivated, n_motivated_volunteering])  # ADAPT_TOTALS
    return new_engaged, new_motivation, new_trust, new_efficacy, totals
