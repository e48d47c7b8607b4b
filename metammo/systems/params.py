"""Per-episode scalars the compiled systems read, gathered once per episode from the config."""

from __future__ import annotations

import math
from typing import NamedTuple

from metammo.config import Config
from metammo.constants import NPC_SPAWN_FRACTION
from metammo.state import playable_bounds


class Params(NamedTuple):
    """Flat, numba-friendly view of a :class:`~metammo.config.Config` for one episode.

    Its fields are Python ints, bools and floats whatever the config (the config's own checks
    and :func:`params`' conversions see to it), so every episode's Params has the same numba
    type: the env calls its kernels with types fixed once (:mod:`metammo.kernels`)."""

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
        num_agents=s.num_agents, grid_size=s.grid_size, vision=s.vision, lo=lo, hi=hi,
        horizon=t.horizon, resources=t.resources, combat=t.combat, npcs=t.npcs, fog=t.fog,
        comm=t.comm, items=t.items, professions=t.professions, market=t.market, exclusive=t.exclusive_tiles, friendly_fire=t.friendly_fire,
        reach=t.attack_reach, immunity=t.spawn_immunity, npc_count=t.npc_count,
        npc_per_tick=max(1, math.ceil(t.npc_count * NPC_SPAWN_FRACTION)),
        food_loss=t.food_depletion, water_loss=t.water_depletion,
        starvation=t.starvation_damage, regen=t.health_regen, fog_onset=t.fog_onset,
        fog_speed=float(t.fog_speed), fog_final_size=t.fog_final_size,
    )
