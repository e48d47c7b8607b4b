"""Enumerations and balance tables of the engine.

Every number a system uses lives here, in an array indexed by an ``IntEnum`` or as a named
constant, with the row's source in a comment. Sources: ``rules.md`` §1 (Neural MMO 2.1
defaults). Deviations from the reference are marked ``DEVIATION`` with the reason.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Material(IntEnum):
    """Tile materials (rules.md §1, "Materials"). Values are the codes stored in tile arrays."""

    VOID = 0
    WATER = 1
    GRASS = 2
    SCRUB = 3
    FOLIAGE = 4
    STONE = 5
    SLAG = 6
    ORE = 7
    STUMP = 8
    TREE = 9
    FRAGMENT = 10
    CRYSTAL = 11
    WEEDS = 12
    HERB = 13
    OCEAN = 14
    FISH = 15


NUM_MATERIALS = len(Material)

#: PASSABLE[m] is True when an entity may stand on material m (rules.md §1: impassable are
#: void, water, stone, ocean, fish).
PASSABLE = np.ones(NUM_MATERIALS, dtype=np.bool_)
PASSABLE[[Material.VOID, Material.WATER, Material.STONE, Material.OCEAN, Material.FISH]] = False

#: DEPLETED[m] is the material m turns into when harvested; m itself when it does not deplete.
DEPLETED = np.arange(NUM_MATERIALS, dtype=np.uint8)
#: RESTORED[m] is the material a depleted tile m regrows into; m itself when m is not depleted.
RESTORED = np.arange(NUM_MATERIALS, dtype=np.uint8)
#: REGROW_P[m] is the per-tick probability that depleted material m regrows (rules.md §1 and
#: the professions table).
REGROW_P = np.zeros(NUM_MATERIALS, dtype=np.float64)
for _full, _empty, _p in (
    (Material.FOLIAGE, Material.SCRUB, 0.025),  # food source
    (Material.ORE, Material.SLAG, 0.10),  # prospecting
    (Material.TREE, Material.STUMP, 0.105),  # carving
    (Material.CRYSTAL, Material.FRAGMENT, 0.10),  # alchemy
    (Material.HERB, Material.WEEDS, 0.02),  # herbalism
    (Material.FISH, Material.OCEAN, 0.02),  # fishing
):
    DEPLETED[_full] = _empty
    RESTORED[_empty] = _full
    REGROW_P[_empty] = _p


class Style(IntEnum):
    """Combat styles (rules.md §1, "Combat")."""

    MELEE = 0
    RANGE = 1
    MAGE = 2


NUM_STYLES = len(Style)

#: COUNTERS[a] is the style that style a counters: mage > melee > range > mage.
COUNTERS = np.array([Style.RANGE, Style.MAGE, Style.MELEE], dtype=np.int64)


class Kind(IntEnum):
    """Entity kinds. NPC kinds follow danger (rules.md §1, "NPCs")."""

    NONE = 0  # empty slot (used in observations only)
    AGENT = 1
    PASSIVE = 2  # wanders
    NEUTRAL = 3  # fights back when attacked
    HOSTILE = 4  # chases the nearest visible agent


class Move(IntEnum):
    """Move head choices. 0 is the no-op so that an all-masked head still has a valid choice."""

    STAY = 0
    NORTH = 1
    SOUTH = 2
    EAST = 3
    WEST = 4


NUM_MOVES = len(Move)
#: MOVE_DELTA[m] = (d_row, d_col) of move m; north is up (row - 1).
MOVE_DELTA = np.array([[0, 0], [-1, 0], [1, 0], [0, 1], [0, -1]], dtype=np.int64)


class Event(IntEnum):
    """Per-tick event types counted per entity (rules.md §1 "Tasks", events counted per agent).

    The full config adds harvest, equip, consume, ... in its own issue.
    """

    EAT = 0  # stood on foliage and refilled food
    DRINK = 1  # was next to water and refilled water
    SCORE_HIT = 2  # landed an attack (value: damage)
    DAMAGED = 3  # was hit (value: damage)
    PLAYER_KILL = 4  # killed an agent
    NPC_KILL = 5  # killed an NPC
    DEATH = 6  # died (any cause)
    FOG_DAMAGE = 7  # took death-fog damage (value: damage)
    STARVE = 8  # took damage from empty food or water
    LEVEL_UP = 9  # a combat style gained a level (value: new level)
    MOVE = 10  # moved to another tile
    MESSAGE = 11  # sent a communication token


NUM_EVENTS = len(Event)

# --- Resources (rules.md §1, "Resources") -------------------------------------------------
FOOD_MAX = 100
WATER_MAX = 100
HEALTH_MAX = 100
#: Health regained per tick while food and water are both above REGEN_THRESHOLD.
HEALTH_REGEN = 10
REGEN_THRESHOLD = 50

# --- Combat (rules.md §1, "Combat") ---------------------------------------------------------
BASE_OFFENSE = 10
OFFENSE_PER_LEVEL = 5
DEFENSE_PER_LEVEL = 5
COUNTER_MULTIPLIER = 1.5
MIN_DAMAGE_FRACTION = 0.25
XP_PER_ATTACK = 6
#: Ticks an agent stays "in combat" after attacking or being hit.
COMBAT_TICKS = 3
#: ``Entities.combat_tick`` of an entity that has never fought.
COMBAT_NEVER = -(10**6)
MAX_LEVEL = 10
#: XP_TO_LEVEL[l - 1] is the total XP needed for level l (rules.md §1, professions table;
#: Neural MMO uses the same curve for combat styles).
XP_TO_LEVEL = np.array([0, 90, 217, 373, 553, 754, 974, 1212, 1467, 1737], dtype=np.int64)

# --- NPCs (rules.md §1, "NPCs") --------------------------------------------------------------
NPC_HEALTH = 100
NPC_REGEN = 1
#: Danger thresholds: danger >= HOSTILE_DANGER is hostile, >= NEUTRAL_DANGER neutral.
HOSTILE_DANGER = 0.8
NEUTRAL_DANGER = 0.5
#: Fraction of the NPC target spawned per tick, so the population fills in ~10 ticks.
NPC_SPAWN_FRACTION = 0.1
#: Tries to find a free passable tile per NPC spawn before giving up for this tick.
NPC_SPAWN_TRIES = 8

# --- Communication (rules.md §1, "Observation and action": Comm(token of 127)) ---------------
#: Comm head size: 0 is "no message", 1..127 are tokens.
NUM_TOKENS = 128
