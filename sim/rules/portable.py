"""Elementary functions that give the same bits on every x86-64 CPU (and any IEEE-754 machine).

numpy picks a SIMD implementation of ``exp``, ``log``, ``log1p`` and ``power`` when the program
starts, by the CPU it finds: on CPUs with AVX-512 it runs its own (or Intel SVML's) vectorised
code, elsewhere the C library's. Both are accurate to about one unit in the last place, but not
to the same last bit, and the model's threshold decisions (a case passes the standard or not, a
citizen engages or not) carry such a difference into visibly different tables within a few months
(``docs/reliability.md``, "Portable reproducibility"). Likewise ``np.dot`` and ``np.corrcoef`` go
through the BLAS library, whose kernels (and so its order of summation) are chosen per CPU.

The functions here are built only from operations that IEEE 754 defines to the last bit
(``+ - * /``, ``sqrt``, ``rint``, ``frexp``, ``ldexp``, comparisons) in a fixed order, so every CPU
gives the same result; numpy never fuses them into FMA instructions across ufunc calls. The
algorithms and coefficients are those of fdlibm (Sun Microsystems, 1993: ``e_exp.c``,
``e_log.c``), whose error is below one unit in the last place; the tests check them against
Python's ``math`` module. They cost a few array passes more than numpy's own, which matters only
on the per-case arrays (``docs/performance.md``).
"""

from __future__ import annotations

import numpy as np

from sim.rules._types import FloatArray

# fdlibm e_exp.c
_LN2_HI = 6.93147180369123816490e-01  # the high bits of ln 2: k * _LN2_HI is exact for |k| < 2**11
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_P1 = 1.66666666666666019037e-01
_P2 = -2.77777777770155933842e-03
_P3 = 6.61375632143793436117e-05
_P4 = -1.65339022054652515390e-06
_P5 = 4.13813679705723846039e-08
_EXP_OVERFLOW = 7.09782712893383973096e02  # above this exp(x) is inf
_EXP_UNDERFLOW = -7.45133219101941108420e02  # below this exp(x) is 0

# fdlibm e_log.c
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_SQRT_HALF = 0.70710678118654752440


def exp(x: FloatArray | float) -> FloatArray:
    """``e**x``, elementwise, bit-identical on every IEEE-754 machine (error < 1 ulp)."""
    x = np.asarray(x, dtype=np.float64)
    in_range = x.size == 0 or bool((x.min() >= _EXP_UNDERFLOW) & (x.max() <= _EXP_OVERFLOW))
    # Clipping keeps k small; NaN stays NaN (and makes in_range False, so the fix-ups below run).
    xc = x if in_range else np.clip(x, _EXP_UNDERFLOW - 1.0, _EXP_OVERFLOW + 1.0)
    k = np.rint(xc * _INV_LN2)
    hi = xc - k * _LN2_HI
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
    np.subtract(r, c, out=c)  # c = r - t * (P1 + t * (P2 + ...))
    y = r * c
    y /= 2.0 - c
    np.subtract(lo, y, out=y)
    y -= hi
    np.subtract(1.0, y, out=y)  # y = 1 - ((lo - r * c / (2 - c)) - hi)
    ki = (k if in_range else np.nan_to_num(k)).astype(np.int64)
    if in_range and (ki.size == 0 or ki.max() < 1000):  # 2**k cannot overflow on its own
        return np.ldexp(y, ki)
    half = ki // 2
    # Two exact halves, so that 2**k does not overflow before the product does (x near 709.78).
    with np.errstate(over="ignore"):  # only above _EXP_OVERFLOW, where the result is inf anyway
        out: FloatArray = np.ldexp(np.ldexp(y, half), ki - half)
    if in_range:
        return out
    out = np.where(x > _EXP_OVERFLOW, np.inf, out)
    return np.where(x < _EXP_UNDERFLOW, 0.0, out)


def log(x: FloatArray | float) -> FloatArray:
    """Natural logarithm, elementwise, bit-identical on every IEEE-754 machine (error < 1 ulp).

    ``log(0) = -inf``, ``log(inf) = inf``, negative arguments and NaN give NaN (no warning).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0:  # a scalar: the same arithmetic on a one-element array
        return log(x.reshape(1)).reshape(())
    positive_finite = x.size == 0 or bool((x.min() > 0.0) & (x.max() < np.inf))  # False with any NaN
    m, e = np.frexp(x if positive_finite else np.where((x > 0.0) & (x < np.inf), x, 1.0))  # exact
    low = m < _SQRT_HALF
    m[low] *= 2.0  # now in [sqrt(1/2), sqrt(2)); exact
    k = e.astype(np.float64)
    k -= low
    f = m
    f -= 1.0  # exact (Sterbenz)
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * _LG6
    t1 += _LG4
    t1 *= w
    t1 += _LG2
    t1 *= w  # w * (LG2 + w * (LG4 + w * LG6))
    t2 = w * _LG7
    t2 += _LG5
    t2 *= w
    t2 += _LG3
    t2 *= w
    t2 += _LG1
    t2 *= z  # z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)))
    t2 += t1  # r
    hfsq = f * f
    hfsq *= 0.5
    t2 += hfsq
    t2 *= s
    t1 = k * _LN2_LO
    t2 += t1  # s * (hfsq + r) + k * LN2_LO
    np.subtract(hfsq, t2, out=t2)
    t2 -= f
    out = k * _LN2_HI
    out -= t2  # k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f)
    if positive_finite:
        return out
    out = np.where(x == 0.0, -np.inf, out)
    out = np.where(x == np.inf, np.inf, out)
    return np.where((x < 0.0) | np.isnan(x), np.nan, out)


def logit(p: FloatArray) -> FloatArray:
    """``log(p / (1 - p))``: the standard logistic quantile of a uniform draw in (0, 1)."""
    return log(p / (1.0 - p))


def sigmoid(x: FloatArray) -> FloatArray:
    """Logistic function ``1 / (1 + e**-x)``."""
    return 1.0 / (1.0 + exp(-np.asarray(x, dtype=np.float64)))


def power(x: FloatArray, y: float) -> FloatArray:
    """``x**y`` for ``x >= 0`` and a scalar exponent; exact operations for y in {-1, 1, 2, 0.5}.

    Other exponents go through ``exp(y * log(x))``, within a few ulp of the exact power for the
    moderate exponents the model uses.
    """
    x = np.asarray(x, dtype=np.float64)
    if y == 1.0:
        return x.copy()
    if y == -1.0:
        return 1.0 / x
    if y == 2.0:
        return x * x
    if y == 0.5:
        return np.sqrt(x)
    if y == 0.0:
        return np.ones_like(x)
    return exp(y * log(x))


def dot(a: FloatArray, b: FloatArray) -> float:
    """Inner product of two vectors by numpy's pairwise sum, not the CPU-dependent BLAS kernels."""
    return float(np.sum(np.multiply(a, b)))


def correlation(a: FloatArray, b: FloatArray) -> float:
    """Pearson correlation of two vectors of equal length (at least two), without BLAS; NaN without variation."""
    da = a - a.sum() / a.size
    db = b - b.sum() / b.size
    scale = float(np.sqrt(dot(da, da) * dot(db, db)))
    if scale == 0.0:  # no variation (or variation that underflows): no correlation to speak of
        return float("nan")
    return min(1.0, max(-1.0, dot(da, db) / scale))  # rounding can step just past +-1, as in np.corrcoef
