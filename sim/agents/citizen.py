"""Citizen: a Mesa agent that reads and writes one row of the citizen arrays."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from sim.config import COOPERATION_TYPES

if TYPE_CHECKING:
    from sim.model import SocialProductivityModel


class Citizen(mesa.Agent):
    """One citizen. Its state lives in ``model.citizens``; this object is a view and a driver.

    Args:
        model: the model.
        index: the citizen's row in the citizen arrays.

    """

    model: SocialProductivityModel

    def __init__(self, model: SocialProductivityModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    def decide(self) -> None:
        """This month's contribution and time use, by the shared rules on a one-row slice."""
        self.model.decide_citizens(slice(self.index, self.index + 1))

    def adapt(self) -> None:
        """This month's engagement, motivation, trust and efficacy updates."""
        self.model.adapt_citizens(slice(self.index, self.index + 1))

    @property
    def community(self) -> int:
        """Index of the citizen's community."""
        return int(self.model.citizens.community[self.index])

    @property
    def cooperation_type(self) -> str:
        """Conditional cooperator, free rider or other."""
        return COOPERATION_TYPES[int(self.model.citizens.coop_type[self.index])]

    @property
    def motivation(self) -> float:
        """Intrinsic pro-social motivation in [0, 1]."""
        return float(self.model.citizens.motivation[self.index])

    @property
    def trust(self) -> float:
        """Trust in local services in [0, 1]."""
        return float(self.model.citizens.trust[self.index])

    @property
    def volunteering_hours(self) -> float:
        """Formal volunteering this month (hours)."""
        return float(self.model.citizens.volunteering[self.index])

    @property
    def caring_hours(self) -> float:
        """Informal caring this month (hours)."""
        return float(self.model.citizens.caring[self.index])

    @property
    def self_reliance_hours(self) -> float:
        """Time on own needs this month (hours)."""
        return float(self.model.citizens.self_reliance[self.index])
