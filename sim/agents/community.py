"""Community: a Mesa agent viewing one community's stocks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from sim.model import SocialProductivityModel


class Community(mesa.Agent):
    """One community. Its state lives in ``model.communities_state``.

    Args:
        model: the model.
        index: the community's row in the community arrays.

    """

    model: SocialProductivityModel

    def __init__(self, model: SocialProductivityModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def deprivation(self) -> float:
        """Deprivation in [0, 1]."""
        return float(self.model.communities_state.deprivation[self.index])

    @property
    def n_citizens(self) -> int:
        """Number of residents."""
        return int(self.model.communities_state.size[self.index])

    @property
    def social_capital(self) -> float:
        """Stock of social capital in [0, 1]."""
        return float(self.model.communities_state.social_capital[self.index])

    @property
    def participation(self) -> float:
        """Share of residents in the latest forum round."""
        return float(self.model.communities_state.participation[self.index])

    @property
    def services(self) -> list[int]:
        """Indices of the services serving this community."""
        return [int(i) for i in (self.model.services.community == self.index).nonzero()[0]]
