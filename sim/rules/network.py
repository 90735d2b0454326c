"""The social network: a fixed number of observed contacts per citizen, mostly local.

Citizens are stored sorted by community, so each community is a contiguous index range and a
within-community contact is drawn from that range. The network is a dense (N, k) index array:
the neighbourhood mean is one gather and one row mean, never a Python loop over citizens.
"""

from __future__ import annotations

import numpy as np

from sim.rules._types import FloatArray, IntArray


def build_contacts(
    community: IntArray,
    community_start: IntArray,
    community_size: IntArray,
    u_local: FloatArray,
    u_pick: FloatArray,
    within_share: float,
) -> IntArray:
    """Contacts of each citizen, shape (N, k), from uniform draws of that shape.

    A contact is local with probability ``within_share`` (if the community has anyone else),
    otherwise drawn from the whole population; a citizen never observes itself unless alone.
    """
    n = community.shape[0]
    own = np.arange(n)[:, None]
    size = community_size[community][:, None]
    start = community_start[community][:, None]
    local = (u_local < within_share) & (size > 1)
    pick_local = start + np.minimum((u_pick * (size - 1)).astype(np.int64), size - 2)
    # Skip over oneself: indices at or past one's own slot shift up by one.
    pick_local = np.where(pick_local >= own, pick_local + 1, pick_local)
    pick_global = np.minimum((u_pick * (n - 1)).astype(np.int64), max(n - 2, 0))
    pick_global = np.where(pick_global >= own, pick_global + 1, pick_global) if n > 1 else np.zeros_like(pick_global)
    return np.where(local, pick_local, pick_global).astype(np.int64)
