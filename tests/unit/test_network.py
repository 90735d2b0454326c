"""The social network (sim/rules/network.py)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.rules.network import CONTACT_DTYPE, build_contacts

uniform = st.floats(0.0, 1.0, exclude_max=True, allow_nan=False)


def layout(sizes: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Citizens sorted by community: (community of each citizen, community start, community size)."""
    size = np.asarray(sizes, dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(size)[:-1]]).astype(np.int64)
    community = np.repeat(np.arange(size.shape[0]), size)
    return community, start, size


@st.composite
def networks(draw, within=None):
    sizes = draw(st.lists(st.integers(0, 12), min_size=1, max_size=6).filter(lambda s: sum(s) > 0))
    community, start, size = layout(sizes)
    n = community.shape[0]
    k = draw(st.integers(1, 8))
    u_local = draw(hnp.arrays(np.float64, (n, k), elements=uniform))
    u_pick = draw(hnp.arrays(np.float64, (n, k), elements=uniform))
    share = draw(st.floats(0, 1)) if within is None else within
    return community, start, size, u_local, u_pick, share


@settings(deadline=None, max_examples=100)
@given(net=networks())
def test_contacts_shape_range_and_never_self(net):
    community, start, size, u_local, u_pick, share = net
    contacts = build_contacts(community, start, size, u_local, u_pick, share)
    n, k = u_local.shape
    assert contacts.shape == (n, k)
    assert contacts.dtype == CONTACT_DTYPE == np.int32
    assert np.all((contacts >= 0) & (contacts < n))
    if n > 1:
        assert not np.any(contacts == np.arange(n)[:, None])
    else:
        assert np.all(contacts == 0)


@settings(deadline=None, max_examples=100)
@given(net=networks(within=1.0))
def test_within_share_one_keeps_contacts_in_community(net):
    community, start, size, u_local, u_pick, share = net
    contacts = build_contacts(community, start, size, u_local, u_pick, share)
    not_alone = size[community] > 1
    assert np.all(community[contacts[not_alone]] == community[not_alone][:, None])


def test_within_share_zero_spreads_contacts_across_communities():
    community, start, size = layout([50] * 10)
    n, k = community.shape[0], 8
    rng = np.random.default_rng(5)
    contacts = build_contacts(community, start, size, rng.random((n, k)), rng.random((n, k)), 0.0)
    same = community[contacts] == community[:, None]
    # Uniform over everyone else: expected share in one's own community is 49/499.
    assert abs(same.mean() - 49 / 499) < 0.02
    # Each citizen's contacts reach many communities, and every community is reached.
    assert np.mean([len(set(community[row])) for row in contacts]) > 5
    assert set(community[contacts].ravel()) == set(range(10))


def test_within_share_mix():
    community, start, size = layout([100] * 5)
    n, k = community.shape[0], 10
    rng = np.random.default_rng(9)
    contacts = build_contacts(community, start, size, rng.random((n, k)), rng.random((n, k)), 0.9)
    same = (community[contacts] == community[:, None]).mean()
    assert abs(same - (0.9 + 0.1 * 99 / 499)) < 0.02


def test_local_contacts_cover_the_whole_community():
    community, start, size = layout([4, 6])
    n, k = community.shape[0], 400
    rng = np.random.default_rng(1)
    contacts = build_contacts(community, start, size, rng.random((n, k)), rng.random((n, k)), 1.0)
    for i in range(n):
        others = set(range(start[community[i]], start[community[i]] + size[community[i]])) - {i}
        assert set(contacts[i]) == others


def test_alone_in_community_looks_outside_and_single_citizen_sees_itself():
    community, start, size = layout([1, 3])
    rng = np.random.default_rng(2)
    contacts = build_contacts(community, start, size, rng.random((4, 5)), rng.random((4, 5)), 1.0)
    assert np.all(contacts[0] != 0)
    community, start, size = layout([1])
    np.testing.assert_array_equal(build_contacts(community, start, size, np.zeros((1, 3)), np.zeros((1, 3)), 0.5), 0)
