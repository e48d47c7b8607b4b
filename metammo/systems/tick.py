"""One tick of the engine's systems, in their documented order, as a single compiled call.

The order (DESIGN.md "Data through one tick"): decode actions -> NPC decisions -> attacks ->
moves -> upkeep (aging, fog, food/water/health, regrowth) -> deaths -> NPC population. The
minigame update and the observations follow in :meth:`metammo.env.Env.step`. Running the
systems inside one compiled function pays numba's argument unboxing once per tick instead of
once per system. The full config's systems (use/equip, market, give) join between decoding and
attacks.
"""

from __future__ import annotations

from numba import njit

from metammo.actions import decode
from metammo.systems.combat import combat
from metammo.systems.fog import fog
from metammo.systems.lifecycle import age, deaths
from metammo.systems.movement import movement
from metammo.systems.npc import npc_decide, npc_population
from metammo.systems.resources import regrowth, resources


@njit(cache=True)
def tick(actions, obs, ids, offsets, ent, tiles, events, rng, p, t):
    """Advance the world from tick ``t - 1`` to ``t`` with the agents' validated ``actions``."""
    events.num_log[0] = 0  # the log holds this tick's events only
    decode(actions, obs, ids, offsets, ent, events)
    npc_decide(ent, tiles, rng, p)
    combat(ent, events, rng, p, t)
    movement(ent, tiles, events, rng, p)
    age(ent, p)
    fog(ent, events, p, t)
    resources(ent, tiles, events, rng, p, t)
    regrowth(tiles, t)
    deaths(ent, tiles, events, p)
    npc_population(ent, tiles, rng, p)
