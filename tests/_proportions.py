"""Wilson's score interval written out from the textbook formula, to check the code's (SciPy's) against."""

from __future__ import annotations

import math

Z95 = 1.959963984540054  # the standard normal's 97.5 % quantile


def wilson_textbook(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson (1927), as in Agresti & Coull (1998), eq. 2.

    Centre (p + z²/2n) / (1 + z²/n), half-width z / (1 + z²/n) * sqrt(p(1 - p)/n + z²/4n²).
    """
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half
