"""Per-episode scalars the compiled systems read, gathered once per episode from the config."""

from __future__ import annotations

import math
from typing import NamedTuple

from metammo.config import Config
from metammo.constants import NPC_SPAWN_FRACTION
from metammo.state import playable_bounds


class Params(NamedTuple):
    """Flat, numba-friendly view of a :class:`~metammo.config.Config` for one episode.

    Its fields are Python ints, bools and floats whatever the config (:func:`params` converts
    them), so every episode's Params has the same numba type: the env calls its kernels with
    types fixed once (:mod:`metammo.kernels`)."""

    num_agents: int
    grid_size: int
    vision: int
    lo: int  # first playable row/column
    hi: int  # one past the last playable row/column
    horizon: int
    resources: bool
    combat: bool
    npcs: bool
    fog: bool
    comm: bool
    progression: bool
    items: bool
    professions: bool
    market: bool
    exclusive: bool
    friendly_fire: bool
    reach: int
    immunity: int
    npc_count: int
    npc_per_tick: int
    food_loss: int
    water_loss: int
    starvation: int
    regen: int
    fog_onset: int
    fog_speed: float
    fog_final_size: int


def params(cfg: Config) -> Params:
    """The :class:`Params` of ``cfg``."""
    s, t = cfg.shape, cfg.tunables
    lo, hi = playable_bounds(cfg)
    return Params(
        num_agents=int(s.num_agents), grid_size=int(s.grid_size), vision=int(s.vision), lo=int(lo), hi=int(hi),
        horizon=int(t.horizon), resources=bool(t.resources), combat=bool(t.combat), npcs=bool(t.npcs),
        fog=bool(t.fog), comm=bool(t.comm), progression=bool(t.progression), items=bool(t.items), professions=bool(t.professions),
        market=bool(t.market), exclusive=bool(t.exclusive_tiles), friendly_fire=bool(t.friendly_fire),
        reach=int(t.attack_reach), immunity=int(t.spawn_immunity), npc_count=int(t.npc_count),
        npc_per_tick=max(1, math.ceil(t.npc_count * NPC_SPAWN_FRACTION)),
        food_loss=int(t.food_depletion), water_loss=int(t.water_depletion),
        starvation=int(t.starvation_damage), regen=int(t.health_regen), fog_onset=int(t.fog_onset),
        fog_speed=float(t.fog_speed), fog_final_size=int(t.fog_final_size),
    )
