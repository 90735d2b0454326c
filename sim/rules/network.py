"""The social network: a fixed number of observed contacts per citizen, mostly local.

Citizens are stored sorted by community, so each community is a contiguous index range and a
within-community contact is drawn from that range. The network is a dense (N, k) index array
(a CSR matrix whose rows all have k entries), stored column-major so that each contact slot is
one contiguous index vector: the neighbourhood mean is k vectorised gathers and a fixed
summation tree, never a Python loop over citizens.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.rules._types import ContactArray, FloatArray, IntArray

# The contacts' index type: 32 bits hold any population the config allows (10^7), and the
# gather of contacts, the month's largest memory traffic, reads half as many bytes as with int64
# (the fused decide kernel at 10^6 citizens: 135 ms a month with int64, 87 ms with int32).
CONTACT_DTYPE = np.int32
# numpy sums up to this many terms with eight running partial sums, longer runs by halving.
_PAIRWISE_BLOCK = 128


def build_contacts(
    community: IntArray,
    community_start: IntArray,
    community_size: IntArray,
    u_local: FloatArray,
    u_pick: FloatArray,
    within_share: float,
) -> ContactArray:
    """Contacts of each citizen, shape (N, k), from uniform draws of that shape.

    A contact is local with probability ``within_share`` (if the community has anyone else),
    otherwise drawn from the whole population; a citizen never observes itself unless alone.
    The result is column-major (each contact slot contiguous), the layout
    :func:`neighbour_mean` gathers fastest; it is built in blocks of citizens that fit in cache.
    Indices are 32-bit (``CONTACT_DTYPE``): half the memory traffic of the month's largest array.
    """
    n = community.shape[0]
    if n > np.iinfo(CONTACT_DTYPE).max:
        raise ValueError(f"{n} citizens: contacts are 32-bit indices, so at most {np.iinfo(CONTACT_DTYPE).max}")
    contacts = np.empty(u_local.shape, dtype=CONTACT_DTYPE, order="F")
    for lo in range(0, n, _BLOCK):
        hi = min(n, lo + _BLOCK)
        contacts[lo:hi] = _contacts_block(
            np.arange(lo, hi)[:, None],
            community_size[community[lo:hi]][:, None],
            community_start[community[lo:hi]][:, None],
            u_local[lo:hi],
            u_pick[lo:hi],
            within_share,
            n,
        )
    return contacts


_BLOCK = 16384  # citizens per block when building the network


def _contacts_block(
    own: IntArray, size: IntArray, start: IntArray, u_local: FloatArray, u_pick: FloatArray, within_share: float, n: int
) -> IntArray:
    local = (u_local < within_share) & (size > 1)
    pick_local = start + np.minimum((u_pick * (size - 1)).astype(np.int64), size - 2)
    # Skip over oneself: indices at or past one's own slot shift up by one.
    pick_local += pick_local >= own
    pick_global = np.minimum((u_pick * (n - 1)).astype(np.int64), max(n - 2, 0))
    if n > 1:
        pick_global += pick_global >= own
    else:
        pick_global[:] = 0
    return np.where(local, pick_local, pick_global)


def neighbour_mean(values: FloatArray, contacts: ContactArray) -> FloatArray:
    """Mean of ``values`` over each row's contacts: bit-identical to ``values[contacts].mean(axis=1)``.

    The gather runs one contact slot at a time (a contiguous index column when ``contacts`` is
    column-major, as the model stores it) and the k gathered vectors are added in the order of
    numpy's pairwise summation, which ``mean`` uses along a row, so the result matches the
    row-wise mean to the last bit while touching only a few length-n vectors at a time.

    Args:
        values: a value per citizen, shape (N,).
        contacts: indices into ``values``, shape (n, k) with k >= 1.

    Returns:
        Shape (n,).

    """
    k = contacts.shape[1]
    if k == 0:
        empty: FloatArray = values[contacts].mean(axis=1)
        return empty
    slots = contacts.T
    # numpy starts a sum at +0.0; adding it to the first term gives the same bits for any tree.
    first = values + 0.0

    def gather(j: int) -> FloatArray:
        column: FloatArray = np.take(first if j == 0 else values, slots[j], mode="clip")
        return column

    mean: FloatArray = _pairwise(gather, 0, k) / k
    return mean


def _pairwise(gather: Callable[[int], FloatArray], lo: int, m: int) -> FloatArray:
    """Sum of gathered vectors lo..lo+m-1 in numpy's pairwise order (``pairwise_sum`` in umath)."""
    if m < 8:
        acc = gather(lo)
        for j in range(lo + 1, lo + m):
            acc += gather(j)
        return acc
    if m <= _PAIRWISE_BLOCK:
        whole = m - m % 8

        def partial(j: int) -> FloatArray:
            acc = gather(lo + j)
            for i in range(j + 8, whole, 8):
                acc += gather(lo + i)
            return acc

        def pair(a: int, b: int) -> FloatArray:
            acc = partial(a)
            acc += partial(b)
            return acc

        left = pair(0, 1)
        left += pair(2, 3)
        right = pair(4, 5)
        right += pair(6, 7)
        left += right
        for i in range(whole, m):
            left += gather(lo + i)
        return left
    half = m // 2
    half -= half % 8
    acc = _pairwise(gather, lo, half)
    acc += _pairwise(gather, lo + half, m - half)
    return acc
