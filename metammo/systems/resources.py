"""Food, water, health regeneration and starvation; depletion and regrowth of tiles.

Rules (rules.md §1 "Resources"): food and water fall by a fixed amount per tick; standing on
foliage refills food (the tile becomes scrub and regrows with p = 0.025 per tick); being
4-adjacent to water refills water (water never depletes). Health regenerates while food and
water are both above half and falls for each of them at zero.

Regrowth is drawn once, when a tile is depleted, as a geometric delay with the tile's per-tick
probability: the same distribution as a per-tick coin flip, at one draw per depletion instead
of one per depleted tile per tick.
"""

from __future__ import annotations

import math

from numba import njit

from metammo.constants import (
    DEPLETED,
    FOOD_MAX,
    HEALTH_MAX,
    REGEN_THRESHOLD,
    REGROW_P,
    RESTORED,
    WATER_MAX,
    Event,
    Material,
)
from metammo.systems.common import emit, uniform

_FOLIAGE = int(Material.FOLIAGE)
_WATER = int(Material.WATER)
_EAT, _DRINK, _STARVE = int(Event.EAT), int(Event.DRINK), int(Event.STARVE)


@njit(cache=True)
def deplete(tiles, rng, r, c, tick):
    """Turn tile (r, c) into its depleted form and schedule its regrowth."""
    m = tiles.material[r, c]
    tiles.material[r, c] = DEPLETED[m]
    p = REGROW_P[DEPLETED[m]]
    delay = 1 + int(math.log(1.0 - uniform(rng)) / math.log(1.0 - p))
    k = tiles.num_regrow[0]
    tiles.regrow_row[k] = r
    tiles.regrow_col[k] = c
    tiles.regrow_tick[k] = min(tick + delay, 2**31 - 1)
    tiles.num_regrow[0] = k + 1


@njit(cache=True)
def next_to_water(material, r, c):
    """True when a 4-neighbour of (r, c) is water."""
    return (
        (material[r - 1, c] == _WATER)
        | (material[r + 1, c] == _WATER)
        | (material[r, c - 1] == _WATER)
        | (material[r, c + 1] == _WATER)
    )


@njit(cache=True)
def resources(ent, tiles, events, rng, p, tick):
    """Phase: food and water loss, eating, drinking, regeneration and starvation of agents."""
    if not p.resources:
        return
    for i in range(p.num_agents):
        if not ent.alive[i]:
            continue
        r, c = ent.row[i], ent.col[i]
        food = max(ent.food[i] - p.food_loss, 0)
        water = max(ent.water[i] - p.water_loss, 0)
        if tiles.material[r, c] == _FOLIAGE:
            food = FOOD_MAX
            deplete(tiles, rng, r, c, tick)
            emit(events, _EAT, i, -1, 0)
        if next_to_water(tiles.material, r, c):
            water = WATER_MAX
            emit(events, _DRINK, i, -1, 0)
        ent.food[i] = food
        ent.water[i] = water
        damage = (p.starvation if food == 0 else 0) + (p.starvation if water == 0 else 0)
        if damage > 0:
            ent.health[i] -= damage
            emit(events, _STARVE, i, -1, damage)
        elif food > REGEN_THRESHOLD and water > REGEN_THRESHOLD and ent.health[i] > 0:
            # a lethal hit earlier this tick stands: deaths come at the end of the tick
            ent.health[i] = min(ent.health[i] + p.regen, HEALTH_MAX)


@njit(cache=True)
def regrowth(tiles, tick):
    """Phase: depleted tiles whose regrowth tick has come return to their full material."""
    k = 0
    while k < tiles.num_regrow[0]:
        if tiles.regrow_tick[k] <= tick:
            r, c = tiles.regrow_row[k], tiles.regrow_col[k]
            tiles.material[r, c] = RESTORED[tiles.material[r, c]]
            last = tiles.num_regrow[0] - 1
            tiles.regrow_row[k] = tiles.regrow_row[last]
            tiles.regrow_col[k] = tiles.regrow_col[last]
            tiles.regrow_tick[k] = tiles.regrow_tick[last]
            tiles.num_regrow[0] = last
        else:
            k += 1

