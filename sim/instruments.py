"""The instruments in force in a month: one frozen object the centre sets and everything else reads.

A regime is a named preset of instruments (``sim.config.PRESETS``, mirrored by
``configs/regime/*.yaml``). The centre's phase (``SocialProductivityModel.centre_sets_regime``)
builds an :class:`Instruments` from the config at month 0 and replaces it at each scheduled
switch; the citizens', services' and forums' phases, the rules and the metrics read only its
fields and observed behaviour, never ``label`` (the preset's name, kept for the output tables).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sim.config import INSTRUMENT_KEYS, PRESETS, RegimeConfig, switchable_keys


@dataclass(frozen=True)
class Instruments:
    """Every instrument and lever of the regime in force (the fields of ``RegimeConfig`` but ``switches``).

    ``label`` is the name of the preset last switched to, or of the configured one: a label for
    tables and plots. Instruments set to ``None`` in the config hold the preset's value here.
    """

    label: str
    objective_setter: str
    observation: str
    league_table: bool
    guarantee_monitoring_rate: float
    guarantee_monitoring_error: float
    partnership_standard: str
    commitment_enforcement: float
    verification_rate: float
    partnership_pay: float
    measured_domains: tuple[str, ...]
    target_level: float
    ratchet: bool
    ratchet_rate: float
    reward_strength: float
    reward_cap: float
    sanction_strength: float
    audit_rate: float
    audit_detection: float
    audit_penalty: float
    guarantee_level: float
    payment_per_hour: float
    recognition: float
    negotiation_interval: int
    participation_support: float
    participation_base: float
    participation_deprivation_barrier: float
    commitment_ambition: float
    objective_ambition: float
    partnership_commitment: float
    forum_information: float

    @classmethod
    def from_config(cls, regime: RegimeConfig) -> Instruments:
        """The instruments configured for month 0: the preset of ``regime.name`` under the config's values."""
        values: dict[str, Any] = {k: getattr(regime, k) for k in switchable_keys()}
        for key in INSTRUMENT_KEYS:
            if values[key] is None:
                values[key] = PRESETS[regime.name][key]
        if regime.commitment_reward is not None:  # the deprecated alias of the old paid contract
            values["commitment_enforcement"] = regime.commitment_reward
            values["partnership_pay"] = regime.commitment_reward
        values["measured_domains"] = tuple(values["measured_domains"])
        return cls(label=regime.name, **values)

    def with_preset(self, name: str) -> Instruments:
        """These instruments switched to preset ``name`` (its instruments; levers keep their values)."""
        return dataclasses.replace(self, label=name, **PRESETS[name])

    def with_values(self, values: dict[str, Any]) -> Instruments:
        """These instruments with some instruments or levers set (validated by ``sim.config``)."""
        changed = dict(values)
        if "measured_domains" in changed:
            changed["measured_domains"] = tuple(changed["measured_domains"])
        for key, value in changed.items():
            if isinstance(getattr(self, key), float) and not isinstance(value, bool):
                changed[key] = float(value)  # a whole number given for a rate, e.g. payment_per_hour: 5
        return dataclasses.replace(self, **changed)

    def off(self) -> Instruments:
        """No performance management and no payment or recognition: the burn-in's levers from the status quo."""
        return dataclasses.replace(self, payment_per_hour=0.0, recognition=0.0)
