"""One tick of the engine's systems, in their documented order, as a single compiled call.

The order (DESIGN.md "Data through one tick"; rules.md §1 "Tick order" for the full config):
decode actions -> NPC decisions -> use/equip -> buy -> give -> destroy -> equipment stats ->
attacks -> moves -> sell -> upkeep (aging, fog, food/water/health, harvest, regrowth) -> deaths
and loot -> NPC population -> market view. The minigame update and the observations follow in
:meth:`metammo.env.Env.step`. Running the systems inside one compiled function pays numba's
argument unboxing once per tick instead of once per system.

DEVIATION: Neural MMO 2.1 harvests at the pre-move position; here upkeep (eating, drinking,
harvesting) happens where the agent stands after moving, so what it sees is what it gets.
"""

from __future__ import annotations

from numba import njit

from metammo.actions import decode
from metammo.systems.combat import combat
from metammo.systems.fog import fog
from metammo.systems.items import destroy, gear, give, use
from metammo.systems.lifecycle import age, deaths
from metammo.systems.market import buy, market_view, sell
from metammo.systems.movement import movement
from metammo.systems.npc import npc_decide, npc_population
from metammo.systems.professions import harvest
from metammo.systems.resources import regrowth, resources


@njit(cache=True)
def tick(actions, obs, ids, offsets, ent, tiles, inv, market, events, rng, p, t):
    """Advance the world from tick ``t - 1`` to ``t`` with the agents' validated ``actions``."""
    events.num_log[0] = 0  # the log holds this tick's events only
    decode(actions, obs, ids, offsets, ent, events)
    npc_decide(ent, tiles, rng, p)
    if p.items:
        use(actions, ent, inv, events, p, t)
        if p.market:
            buy(actions, ent, inv, market, events, rng, p, t)
        give(actions, ids, ent, inv, events, p, t)
        destroy(actions, ent, inv, events, p)
        gear(ent, inv, p)
    combat(ent, inv, events, rng, p, t)
    movement(ent, tiles, events, rng, p)
    if p.market:
        sell(actions, ent, inv, events, p, t)
    age(ent, p)
    fog(ent, events, p, t)
    resources(ent, tiles, events, rng, p, t)
    if p.professions:
        harvest(ent, inv, tiles, events, rng, p, t)
    regrowth(tiles, t)
    deaths(ent, inv, tiles, events, rng, p)
    npc_population(ent, tiles, rng, p)
    if p.market:
        market_view(inv, market, t)
