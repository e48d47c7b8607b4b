"""Professions: automatic harvest with levels and XP (rules.md §1 "Professions").

Each tick, after moving, a live agent harvests the resource it stands on (herb, ore, tree,
crystal) or, when it stands on none, a fish 4-adjacent to it (north, south, east, west first).
The tile depletes and regrows like foliage (per-material probabilities in
:data:`~metammo.constants.REGROW_P`).

=============  ===========  ===================================  ====  =====
profession     tile         gives                                XP    bonus
=============  ===========  ===================================  ====  =====
fishing        fish (adj.)  ration                               30
herbalism      herb         potion                               30
prospecting    ore          5 whetstones                         15    wand
carving        tree         5 arrows                             15    spear
alchemy        crystal      5 runes                              15    bow
=============  ===========  ===================================  ====  =====

The bonus weapon comes with probability 2.5%. Items are level 1, or ``min(1 + tool level, 10)``
with the profession's tool held (rod, gloves, pickaxe, axe, chisel). With progression on (the
full config), XP follows the shared curve (:data:`~metammo.constants.XP_TO_LEVEL`); a new level
is an ``Event.LEVEL_UP`` whose target is the :class:`~metammo.constants.Skill`.
"""

from __future__ import annotations

from numba import njit

from metammo.constants import (
    EQUIP_SLOT,
    HARVEST_AMMO,
    HARVEST_BONUS,
    HARVEST_BONUS_P,
    HARVEST_ITEM,
    HARVEST_SKILL,
    HARVEST_XP,
    MAX_LEVEL,
    MOVE_DELTA,
    STACKABLE,
    TOOL,
    EquipSlot,
    Event,
    Material,
)
from metammo.systems.common import gain_xp, uniform
from metammo.systems.items import receive
from metammo.systems.resources import deplete

_FISH = int(Material.FISH)
_HELD = int(EquipSlot.HELD)
_HARVEST = int(Event.HARVEST)


@njit(cache=True)
def _harvest_tile(material, r, c):
    """(row, col) of the tile agent position (r, c) harvests, or (-1, -1)."""
    if HARVEST_SKILL[material[r, c]] >= 0 and material[r, c] != _FISH:
        return r, c
    for m in range(1, 5):
        rr, cc = r + MOVE_DELTA[m, 0], c + MOVE_DELTA[m, 1]
        if material[rr, cc] == _FISH:
            return rr, cc
    return -1, -1


@njit(cache=True)
def harvest_level(ent, inv, i, skill):
    """Level of what agent ``i`` harvests with ``skill``: 1, or 1 + the held tool's level."""
    for s in range(inv.item.shape[1]):
        item = inv.item[i, s]
        if inv.equipped[i, s] and EQUIP_SLOT[item] == _HELD and item == TOOL[skill]:
            return min(1 + inv.level[i, s], MAX_LEVEL)
    return 1


@njit(cache=True)
def harvest(ent, inv, tiles, events, rng, p, tick):
    """Phase: every live agent harvests where it stands (see the module docstring)."""
    for i in range(p.num_agents):
        if not ent.alive[i]:
            continue
        r, c = _harvest_tile(tiles.material, ent.row[i], ent.col[i])
        if r < 0:
            continue
        m = tiles.material[r, c]
        skill = HARVEST_SKILL[m]
        deplete(tiles, rng, r, c, tick)
        level = harvest_level(ent, inv, i, skill)
        item = HARVEST_ITEM[m]
        receive(inv, events, i, -1, item, level, HARVEST_AMMO if STACKABLE[item] else 1, _HARVEST)
        if HARVEST_BONUS[m] != 0 and uniform(rng) < HARVEST_BONUS_P:
            receive(inv, events, i, -1, HARVEST_BONUS[m], level, 1, _HARVEST)
        if p.progression:
            gain_xp(ent, events, i, skill, HARVEST_XP[m])
