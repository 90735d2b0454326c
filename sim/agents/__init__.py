"""Mesa agents: thin views onto one row of the model's arrays (one file per agent kind)."""

from sim.agents.citizen import Citizen
from sim.agents.community import Community
from sim.agents.service import Service

__all__ = ["Citizen", "Community", "Service"]
