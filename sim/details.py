"""A run's detail tables: what the monthly time series cannot show.

Three small tables per run, each the raw material of one figure of the reports:

- ``indicator_histogram``: how case indicator values fall around the standard (0; a case
  passes at >= 0), in bins of 0.1 on [-2, 2), counted over every recorded month and kept apart
  by the regime in force. ``recorded`` counts the records (cases turned away are not recorded);
  ``true`` counts every case's true value. Moved records land just above the standard, so
  gaming shows as a spike in the bin [0, 0.1) of ``recorded`` that ``true`` does not have (Bevan
  & Hood 2006, the ambulance response-time picture). ``recorded_total`` and ``true_total``
  count all values, inside the range or not, so shares are of all records.
- ``services``: per service, its recorded pass rate against its true pass rate and lived
  outcome, averaged over the run's last 12 months (the end-of-run window of every summary).
- ``communities``: per community, its deprivation with its lived outcome, pro-social activity,
  trust and participation, averaged over the same months (the equity picture).

Nothing here feeds back into the model; :class:`DetailRecorder` only reads its state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.metrics import SUMMARY_WINDOW, by_community
from sim.rules import coproduction as cp
from sim.rules._types import BoolArray, FloatArray, IntArray

if TYPE_CHECKING:
    from sim.model import SocialProductivityModel

DETAIL_TABLES: tuple[str, ...] = ("indicator_histogram", "services", "communities")
BINS_PER_UNIT = 10  # bins of 0.1 (an exact reciprocal, so bin edges fall exactly on tenths)
HALF_RANGE = 2  # the histogram covers [-2, 2) around the standard
N_BINS = 2 * HALF_RANGE * BINS_PER_UNIT

SERVICE_SUMS = ("reported_passes", "kept", "true_passes", "cases", "lived_outcome", "gaming_share")
COMMUNITY_MEANS = (
    "lived_outcome",
    "prosocial_rate",
    "volunteering_rate",
    "caring_rate",
    "trust_mean",
    "motivation_mean",
    "participation_rate",
    "social_capital",
)


def bin_counts(values: FloatArray, keep: BoolArray | None = None) -> IntArray:
    """Counts of ``values`` (those with ``keep``, if given) in the bins; values outside [-2, 2) are not counted.

    Bins are shifted by one so that everything below the range falls in an underflow bin 0 and
    everything above it in an overflow bin, both dropped; a value not kept goes to bin 0 too.
    """
    shifted = values * BINS_PER_UNIT
    shifted += HALF_RANGE * BINS_PER_UNIT + 1
    np.clip(shifted, 0, N_BINS + 1, out=shifted)
    index = shifted.astype(np.intp)  # truncation is the floor here: every value is >= 0
    if keep is not None:
        index *= keep
    counts: IntArray = np.bincount(index, minlength=N_BINS + 2)[1:-1]
    return counts


def bin_edges() -> tuple[FloatArray, FloatArray]:
    """The bins' lower and upper edges."""
    lo = (np.arange(N_BINS) - HALF_RANGE * BINS_PER_UNIT) / BINS_PER_UNIT
    return lo, lo + 1.0 / BINS_PER_UNIT


def community_rate(flags: FloatArray, community: IntArray, size: FloatArray) -> FloatArray:
    """Share of each community's citizens with the flag (0 for an empty community)."""
    sums = np.bincount(community, weights=flags, minlength=size.shape[0])
    return np.divide(sums, size, out=np.zeros_like(sums), where=size > 0)


@dataclass
class Histogram:
    """Counts of one regime's case values around the standard."""

    recorded: IntArray = field(default_factory=lambda: np.zeros(N_BINS, np.int64))
    true: IntArray = field(default_factory=lambda: np.zeros(N_BINS, np.int64))
    recorded_total: int = 0
    true_total: int = 0
    months: int = 0

    def add(self, recorded: FloatArray, kept: BoolArray, true: FloatArray) -> None:
        """Count one month's records (the cases kept) and every case's true value."""
        self.recorded += bin_counts(recorded, kept)
        self.true += bin_counts(true)
        self.recorded_total += int(np.count_nonzero(kept))
        self.true_total += true.size
        self.months += 1

    def add_counts(self, counts: IntArray, recorded_total: int, true_total: int) -> None:
        """Add one month already counted by the fused driver's services kernel.

        ``counts`` is (2, N_BINS + 2): kept records and true values, with the underflow and
        overflow bins at both ends (dropped here, as :func:`bin_counts` drops them).
        """
        self.recorded += counts[0, 1:-1]
        self.true += counts[1, 1:-1]
        self.recorded_total += recorded_total
        self.true_total += true_total
        self.months += 1


class DetailRecorder:
    """Accumulates a run's detail tables month by month (see the module docstring).

    Args:
        window_start: the first month of the end-of-run window (the last 12 months).

    """

    def __init__(self, window_start: int) -> None:
        self.window_start = window_start
        self.histograms: dict[str, Histogram] = {}
        self.service_sums: dict[str, FloatArray] = {}
        self.community_sums: dict[str, FloatArray] = {}
        self.window_months = 0
        self.regime = ""

    def add(self, model: SocialProductivityModel) -> None:
        """Add the month just simulated."""
        month = model.service_month
        assert month is not None
        # Looked up first: setdefault would make (and drop) a new Histogram and its arrays every month.
        regime = model.regime
        histogram = self.histograms.get(regime)
        if histogram is None:
            histogram = self.histograms[regime] = Histogram()
        if model.case_histogram is None:
            histogram.add(month.recorded, month.kept, month.true_value)
        else:  # counted by the fused services kernel as it made the records
            histogram.add_counts(model.case_histogram, model.records_kept, month.true_value.size)
        if model.month < self.window_start:
            return
        self.regime = regime
        self.window_months += 1
        for name, value in self._service_month(model).items():
            self.service_sums[name] = self.service_sums.get(name, 0.0) + value
        for name, value in self._community_month(model).items():
            self.community_sums[name] = self.community_sums.get(name, 0.0) + value

    @staticmethod
    def _service_month(model: SocialProductivityModel) -> dict[str, FloatArray]:
        month, svc = model.service_month, model.services
        assert month is not None
        sums: dict[str, FloatArray]
        if model.config.driver == "fused":  # the same sums in one compiled call
            from sim import kernels  # numba is imported by the fused driver only

            rows = kernels.detail_services(month.n_cases, month.skimmed, month.reported, month.true_rate)
            sums = dict(zip(kernels.DETAIL_SERVICE_SUMS, rows, strict=True))
        else:
            kept = month.n_cases * (1.0 - np.nan_to_num(month.skimmed))
            sums = {
                "reported_passes": np.nan_to_num(month.reported) * kept,
                "kept": kept,
                "true_passes": np.nan_to_num(month.true_rate) * month.n_cases,
                "cases": month.n_cases.astype(np.float64),
            }
        return {
            **sums,
            "lived_outcome": svc.lived.copy(),
            "gaming_share": model.service_shares[:, cp.GAMING].copy(),
        }

    @staticmethod
    def _community_month(model: SocialProductivityModel) -> dict[str, FloatArray]:
        cit, comm, svc = model.citizens, model.communities_state, model.services
        threshold = model.config.citizens.activity_threshold_hours
        n_c = comm.size.shape[0]
        figures: dict[str, FloatArray]
        if model.config.driver == "fused":  # the same sums in one pass over the citizens
            from sim import kernels  # numba is imported by the fused driver only

            rows = kernels.detail_communities(
                svc.community,
                svc.domain,
                svc.lived,
                cit.community,
                cit.volunteering,
                cit.caring,
                cit.trust,
                cit.motivation,
                comm.size,
                float(threshold),
            )
            figures = dict(zip(kernels.DETAIL_COMMUNITY_FIGURES, rows, strict=True))
        else:

            def rate(hours: FloatArray) -> FloatArray:
                return community_rate((hours >= threshold).astype(np.float64), cit.community, comm.size)

            def mean(values: FloatArray) -> FloatArray:
                return community_rate(values, cit.community, comm.size)

            figures = {
                "lived_outcome": by_community(svc.lived, svc.community, svc.domain, n_c),
                "prosocial_rate": rate(cit.volunteering + cit.caring),
                "volunteering_rate": rate(cit.volunteering),
                "caring_rate": rate(cit.caring),
                "trust_mean": mean(cit.trust),
                "motivation_mean": mean(cit.motivation),
            }
        negotiating = model.forums_meet(model.instruments)
        return {
            **figures,
            "participation_rate": comm.participation.copy() if negotiating else np.zeros(n_c),
            "social_capital": comm.social_capital.copy(),
        }

    def tables(self, model: SocialProductivityModel) -> dict[str, pd.DataFrame]:
        """The three tables (empty where the run recorded no month)."""
        lo, hi = bin_edges()
        hist_rows = [
            pd.DataFrame(
                {
                    "regime": regime,
                    "bin_low": lo,
                    "bin_high": hi,
                    "recorded": h.recorded,
                    "true": h.true,
                    "recorded_total": h.recorded_total,
                    "true_total": h.true_total,
                    "months": h.months,
                }
            )
            for regime, h in self.histograms.items()
        ]
        histogram = pd.concat(hist_rows, ignore_index=True) if hist_rows else pd.DataFrame()
        svc, comm = model.services, model.communities_state
        services = pd.DataFrame()
        communities = pd.DataFrame()
        if self.window_months:
            s, m = self.service_sums, self.window_months
            with np.errstate(invalid="ignore", divide="ignore"):
                reported = s["reported_passes"] / s["kept"]
                true_rate = s["true_passes"] / s["cases"]
            services = pd.DataFrame(
                {
                    "service": np.arange(svc.community.shape[0]),
                    "community": svc.community,
                    "domain": svc.domain,
                    "measured": model.measured_domain[svc.domain],
                    "deprivation": comm.deprivation[svc.community],
                    "regime": self.regime,
                    "cases": s["cases"],
                    "reported_rate": reported,
                    "true_rate": true_rate,
                    "lived_outcome": s["lived_outcome"] / m,
                    "gaming_share": s["gaming_share"] / m,
                    "months": m,
                }
            )
            communities = pd.DataFrame(
                {
                    "community": np.arange(comm.size.shape[0]),
                    "deprivation": comm.deprivation,
                    "size": comm.size,
                    "regime": self.regime,
                    **{name: self.community_sums[name] / m for name in COMMUNITY_MEANS},
                    "months": m,
                }
            )
        return {"indicator_histogram": histogram, "services": services, "communities": communities}


def window_start(steps: int) -> int:
    """The first month of a run's end-of-run window."""
    return max(0, steps - SUMMARY_WINDOW)
