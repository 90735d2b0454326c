"""Service: a Mesa agent viewing one public service (a community and a domain)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from sim.config import DOMAINS
from sim.rules.coproduction import ACTIVITIES

if TYPE_CHECKING:
    from sim.model import SocialProductivityModel


class Service(mesa.Agent):
    """One service. Its state lives in ``model.services``; its rules run vectorised over all services.

    Args:
        model: the model.
        index: the service's row in the service arrays.

    """

    model: SocialProductivityModel

    def __init__(self, model: SocialProductivityModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def community(self) -> int:
        """Index of the community served."""
        return int(self.model.services.community[self.index])

    @property
    def domain(self) -> str:
        """Education, safety or health."""
        return DOMAINS[int(self.model.services.domain[self.index])]

    @property
    def ethos(self) -> float:
        """Weight its managers put on real outcomes rather than incentives."""
        return float(self.model.services.ethos[self.index])

    @property
    def allocation(self) -> dict[str, float]:
        """Current capacity shares by activity."""
        return {a: float(v) for a, v in zip(ACTIVITIES, self.model.services.shares[self.index], strict=True)}

    @property
    def reported_outcome(self) -> float:
        """Last month's recorded share of cases meeting the standard (NaN if no cases)."""
        return float(self.model.services.reported[self.index])

    @property
    def true_outcome(self) -> float:
        """Last month's outcome people lived with."""
        return float(self.model.services.lived[self.index])
